"""The set-up guide: navigation, per-exchange wording, links to the whitelist and the FAQ."""

from __future__ import annotations

import re

import pytest
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from tui.app import KeylinkApp
from tui.content.guide import guide_steps
from tui.screens.faq import FaqScreen, faq_topics
from tui.screens.guide import GuideScreen
from tui.screens.whitelist import WhitelistScreen
from tui.services.exchanges import exchanges
from tui.widgets.choice_row import ChoiceRow
from tui.widgets.step_list import StepList

SIZE = (80, 24)


def _text(screen: GuideScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def test_passphrase_step_only_where_the_exchange_has_one() -> None:
    for info in exchanges().values():
        ids = [s.id for s in guide_steps(info.id)]
        assert ("passphrase" in ids) == info.has_passphrase, info.id
        # Exchange steps come first, then keylink's, then the terminal's.
        sides = [s.side for s in guide_steps(info.id)]
        order = ("exchange", "keylink", "terminal")
        assert sides == sorted(sides, key=order.index)
        assert "keylink" in sides
        assert sides[-1] == "terminal"


def test_wording_follows_the_exchange() -> None:
    bybit = {s.id: s for s in guide_steps("bybit")}
    assert "Connect to Third-Party Applications" in bybit["linked"].body
    assert exchanges()["bybit"].create_button in bybit["create"].body
    assert "passphrase" not in bybit["store"].body
    okx = {s.id: s for s in guide_steps("okx")}
    assert "Linking third-party apps" in okx["linked"].body
    assert "the passphrase" in okx["store"].body
    bitget = {s.id: s for s in guide_steps("bitget")}
    assert "26 characters" in bitget["permissions"].extra


def test_security_notes_and_links_point_somewhere_real() -> None:
    steps = {s.id: s for s in guide_steps("bybit")}
    assert "address" in steps["login"].security  # phishing
    assert "withdraw" in steps["permissions"].security
    assert "one time" in steps["save"].security
    for info in exchanges().values():
        for step in guide_steps(info.id):
            assert step.faq is None or step.faq in faq_topics()
            assert len(step.title) <= 21  # fits the step list beside " 10  " uncut
            Content.from_markup(step.body)  # valid markup
    assert [s.id for s in guide_steps("bybit") if s.whitelist] == ["whitelist"]


@pytest.mark.slow
async def test_next_and_previous_keys_move_the_step() -> None:
    app = KeylinkApp()
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, GuideScreen)
        total = len(screen.steps)
        steps = screen.query_one(StepList)  # the counter is the step list's title
        assert steps.border_title == f"Step 1 of {total}"
        for key, expected in (("n", 1), ("right", 2), ("l", 3), ("p", 2), ("left", 1),
                              ("h", 0), ("p", 0)):
            await pilot.press(key)
            assert screen.step_index == expected, key
        assert not screen.check_action("previous_step", ())
        for _ in range(total + 2):
            await pilot.press("n")
        assert screen.step_index == total - 1
        assert steps.border_title == f"Step {total} of {total}"
        assert _text(screen, "#step-title").startswith(f"{total}. {screen.steps[-1].title}")
        # The step list follows, and moving in it moves the step.
        await pilot.press("up")
        assert screen.query_one(StepList).highlighted == total - 2 == screen.step_index


async def test_exchange_selector_changes_wording_and_keeps_the_step() -> None:
    app = KeylinkApp()
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, GuideScreen)
        select = screen.query_one("#exchange", ChoiceRow)
        assert select.value == "bybit"
        assert select.values == list(exchanges())
        screen.reveal("linked")
        await pilot.pause()
        assert "Connect to Third-Party Applications" in _text(screen, "#step-body")
        assert "type 2" in _text(screen, "#step-extra")
        assert screen.query_one(StepList).border_title == "Step 3 of 10"

        await pilot.press("e")  # next exchange: OKX
        assert screen.exchange_id == "okx" and select.value == "okx"
        assert screen.step.id == "linked"
        assert "Linking third-party apps" in _text(screen, "#step-body")
        assert not screen.query_one("#step-extra").display
        assert screen.query_one(StepList).border_title == "Step 3 of 11"

        # Clicking an exchange in the row works too.
        text = select.render().plain
        await pilot.click(select, offset=(text.index("Binance") + 1, 0))
        await pilot.pause()
        assert screen.exchange_id == "binance" and select.value == "binance"
        assert [s.id for s in screen.steps] == [s.id for s in guide_steps("binance")]

        # A step the new exchange lacks: stay at the same position.
        screen.set_exchange("bitget")
        screen.reveal("passphrase")
        index = screen.step_index
        screen.set_exchange("bybit")
        assert screen.step_index == index and screen.step.id != "passphrase"


async def test_whitelist_key_only_on_the_whitelist_step_and_opens_the_exchange_profile() -> None:
    app = KeylinkApp()
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, GuideScreen)
        assert screen.check_action("open_whitelist", ()) is False
        await pilot.press("w")
        assert app.screen is screen  # not on this step
        screen.set_exchange("bitget")
        screen.reveal("whitelist")
        await pilot.pause()
        assert "open the IP list for Bitget" in _text(screen, "#step-links")
        await pilot.press("w")
        await pilot.pause()
        assert isinstance(app.screen, WhitelistScreen)
        assert app.screen.list_id == "insilico-bitget"
        assert len(app.screen.addresses) == 30
        await pilot.press("escape")
        assert app.screen is screen
        screen.set_exchange("bybit")
        await pilot.press("w")
        await pilot.pause()
        assert isinstance(app.screen, WhitelistScreen)
        assert app.screen.list_id == "insilico-general"


@pytest.mark.parametrize("step_id", ["login", "whitelist", "save"])
async def test_f_opens_the_related_question(step_id: str) -> None:
    app = KeylinkApp()
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, GuideScreen)
        screen.reveal(step_id)
        topic = faq_topics()[screen.step.faq]
        assert topic.question in _text(screen, "#step-links")
        await pilot.press("f")
        await pilot.pause()
        faq = app.screen
        assert isinstance(faq, FaqScreen)
        opened = [c.id for c in faq.query("Collapsible") if not c.collapsed]
        assert opened == [f"topic-{topic.id}"]
        assert faq.focused is faq.query_one(f"#topic-{topic.id} CollapsibleTitle")


async def test_f_is_off_on_a_step_without_a_question() -> None:
    app = KeylinkApp()
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, GuideScreen)
        screen.reveal("confirm")
        assert screen.check_action("related_faq", ()) is False
        await pilot.press("f")
        assert app.screen is screen


def test_only_the_linked_key_is_called_the_safest() -> None:
    # The create step called a keylink-made pair "Safer" and the next step called the linked key
    # "the safest choice": one ranking, said the same way on every step.
    for info in exchanges().values():
        for step in guide_steps(info.id):
            text = " ".join((step.body, step.extra, step.security)).lower()
            if step.id == "linked":
                assert "safest" in text and "key pair" in text, info.id
                continue
            assert "safer" not in text and "safest" not in text, (info.id, step.id)


@pytest.mark.slow
async def test_every_step_fits_at_80x24() -> None:
    app = KeylinkApp()
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, GuideScreen)
        detail = screen.query_one("#step-detail", VerticalScroll)
        for info in exchanges().values():
            screen.set_exchange(info.id)
            for index, step in enumerate(screen.steps):
                screen.go_to_step(index)
                await pilot.pause()
                assert detail.max_scroll_y == 0, (info.id, step.id, detail.virtual_size)


async def test_unknown_exchange_or_step_is_refused() -> None:
    with pytest.raises(KeyError, match="unknown exchange 'kraken'"):
        guide_steps("kraken")
    app = KeylinkApp()
    async with app.run_test(size=SIZE):
        screen = app.screen
        assert isinstance(screen, GuideScreen)
        with pytest.raises(ValueError, match="no step 'passphrase' for bybit"):
            screen.reveal("passphrase")
        assert screen.step_index == 0


def test_choice_row_refuses_an_unknown_value() -> None:
    with pytest.raises(ValueError, match="'kraken' is not one of"):
        ChoiceRow([("bybit", "Bybit")], "kraken")
    row = ChoiceRow([("bybit", "Bybit"), ("okx", "OKX")], "bybit")
    with pytest.raises(ValueError):
        row.value = "kraken"
    assert row.value == "bybit"


async def test_step_numbers_line_up_past_nine() -> None:
    app = KeylinkApp()
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, GuideScreen)
        screen.set_exchange("okx")
        await pilot.pause()
        prompts = list(screen.step_list.labels)
        assert len(prompts) >= 10
        starts = {re.match(r"\s*\d+\s+", p).end() for p in prompts}
        assert len(starts) == 1, prompts  # every title starts in the same column
        assert prompts[9].startswith(" 10  ") and prompts[0].startswith("  1  ")

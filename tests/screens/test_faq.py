"""The FAQ: the six topics, the word filter, Escape, revealing a question."""

from __future__ import annotations

import pytest
from textual.widgets import Collapsible, Static

from tui.app import KeylinkApp
from tui.screens.faq import FaqScreen, FilterInput, faq_topics

SIZE = (80, 24)
TOPICS = ["what-is-key", "trade-safe", "lost-secret", "ip-whitelist", "one-key-per-app",
          "linked-vs-general"]


def _screen(app: KeylinkApp) -> FaqScreen:
    assert isinstance(app.screen, FaqScreen)
    return app.screen


def test_six_topics_of_the_facts() -> None:
    assert list(faq_topics()) == TOPICS
    topic = faq_topics()["trade-safe"]
    assert topic.matches(["WITHDRAW", "official"])  # every word, any case, markup ignored
    assert not topic.matches(["withdraw", "passphrase"])
    assert topic.matches([])


@pytest.mark.slow
async def test_filter_finds_the_words_a_reader_types() -> None:
    # "whitelist" found nothing: the answers say "address list" and "IP restriction".
    app = KeylinkApp(start_screen="faq")
    async with app.run_test(size=SIZE) as pilot:
        screen = _screen(app)
        await pilot.press("slash", *"whitelist")
        shown = screen.visible_topics()
        assert shown and shown[0] == "trade-safe" and "ip-whitelist" in shown
        assert "lost-secret" not in shown
        assert not screen.query_one("#faq-empty", Static).display
        await pilot.press("escape", "slash", *"Allow list")
        assert "ip-whitelist" in screen.visible_topics()


async def test_slash_focuses_the_filter_and_all_words_must_match() -> None:
    app = KeylinkApp(start_screen="faq")
    async with app.run_test(size=SIZE) as pilot:
        screen = _screen(app)
        assert screen.visible_topics() == TOPICS
        await pilot.press("slash")
        assert isinstance(screen.focused, FilterInput)
        await pilot.press(*"IP")
        expected = [t.id for t in faq_topics().values() if t.matches(["ip"])]
        assert screen.visible_topics() == expected and "ip-whitelist" in expected
        await pilot.press(*" stolen")
        assert screen.visible_topics() == ["ip-whitelist"]
        # While filtering, the matches are opened.
        assert not screen.query_one("#topic-ip-whitelist", Collapsible).collapsed
        await pilot.press(*" zebra")
        assert screen.visible_topics() == []
        empty = screen.query_one("#faq-empty", Static)
        assert empty.display and "zebra" in str(empty.render())


@pytest.mark.slow
async def test_escape_clears_the_filter_then_goes_back() -> None:
    app = KeylinkApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        screen = _screen(app)
        await pilot.press("slash", *"secret")
        assert len(screen.visible_topics()) < len(TOPICS)
        await pilot.press("escape")  # in the box: clear and leave it
        assert screen.filter_text == "" and screen.visible_topics() == TOPICS
        assert not isinstance(screen.focused, FilterInput)
        assert app.screen is screen
        # A filter left in place (focus elsewhere) is cleared by the first Escape.
        await pilot.press("slash", *"key", "enter")
        assert not isinstance(screen.focused, FilterInput) and screen.filter_text == "key"
        await pilot.press("escape")
        assert screen.filter_text == "" and app.screen is screen
        await pilot.press("escape")  # no filter: back to the guide
        assert app.current_mode == "guide"


async def test_moving_between_questions_and_opening_all() -> None:
    app = KeylinkApp(start_screen="faq")
    async with app.run_test(size=SIZE) as pilot:
        screen = _screen(app)
        titles = [c.query_one("CollapsibleTitle") for c in screen.query(Collapsible)]
        assert screen.focused is titles[0]
        await pilot.press("down", "j")
        assert screen.focused is titles[2]
        await pilot.press("k")
        assert screen.focused is titles[1]
        await pilot.press("enter")
        assert not screen.query(Collapsible)[1].collapsed
        await pilot.press("a")
        assert all(not c.collapsed for c in screen.query(Collapsible))
        await pilot.pause(0.3)
        # Opening everything keeps the question in focus on screen.
        assert screen.focused is titles[1]
        assert screen.query_one("#faq-topics").region.contains_region(titles[1].region)
        await pilot.press("a")
        assert all(c.collapsed for c in screen.query(Collapsible))


async def test_reveal_opens_one_question_and_clears_the_filter() -> None:
    app = KeylinkApp(start_screen="faq")
    async with app.run_test(size=SIZE) as pilot:
        screen = _screen(app)
        await pilot.press("slash", *"zzz")
        screen.reveal("linked-vs-general")
        await pilot.pause()
        assert screen.filter_text == "" and screen.visible_topics() == TOPICS
        opened = [c.id for c in screen.query(Collapsible) if not c.collapsed]
        assert opened == ["topic-linked-vs-general"]
        with pytest.raises(ValueError, match="no question 'nope'"):
            screen.reveal("nope")

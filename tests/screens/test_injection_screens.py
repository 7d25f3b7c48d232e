"""The injection sweep through the app (see tests/test_injection.py for the payloads): account
names in the table, the form, the confirm dialog, notifications and the report panel; whitelist
file lines and paths; exchange answers and error text from the loopback fake exchange; the FAQ
filter. The app must not crash, must show the text literally, and must run no action."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from rich.text import Text
from textual.content import Content
from textual.widgets import DataTable, Select, Static
from textual.widgets._toast import Toast

from tests.fakes.exchange import FakeExchange
from tests.support.accounts_fixtures import (
    accounts_app,
    keylink_home,
    open_store,
    screen_name,
    unlock,
    vault_home,
    wait_for,
)
from tests.test_injection import PAYLOADS
from tui.app import KeylinkApp
from tui.services.core import paths
from tui.services.core.text import clean
from tui.services.keys.credentials import Credentials
from tui.widgets.report_panel import ReportPanel

__all__ = ["keylink_home", "vault_home"]  # fixtures used by name below

#: Account names must differ (case-insensitively); the long one is cut to stay a sane test.
NAMES = [p if len(p) < 200 else p[:150] + "[/]\x1b]52;c;QQ==\x07" for p in PAYLOADS.values()]


def plain(cell: Any) -> str:
    """A table cell's text; a str cell would be parsed as markup, so it must not be one."""
    assert isinstance(cell, Text | Content), f"outside text drawn as markup: {cell!r}"
    return cell.plain


def static_text(widget: Static) -> str:
    content = widget.content
    if isinstance(content, str):
        # A str given to a Static: safe only when markup is off.
        assert not widget._render_markup, f"outside text parsed as markup: {content!r}"
        return content
    return str(content)


def notifications(app: KeylinkApp) -> list[str]:
    return [n.message for n in app._notifications]


def seed_accounts(fake: FakeExchange) -> list[str]:
    """One Bybit account per name, written as a hand edit would leave them; returns the ids."""
    key = fake.key("bybit")
    store = open_store()
    ids = [store.add(f"plain {i}", "bybit", "custom", Credentials(key.api_key, key.secret),
                     base_url=fake.url).id for i in range(len(NAMES))]
    file = paths.config_dir() / "accounts.json"
    doc = json.loads(file.read_text())
    for item, name in zip(doc["accounts"], NAMES, strict=True):
        item["name"] = name
        # A last check written by something else: its time and summary are outside text too.
        item["last_check"] = {"ok": False, "checked_at": name, "summary": name, "worst": "danger"}
    file.write_text(json.dumps(doc))
    return ids


@pytest.mark.slow  # one of the longest app flows: in the full suite, not the quick lane
async def test_account_names_in_every_place_they_are_drawn(vault_home: Path, fake) -> None:
    seed_accounts(fake)
    app = accounts_app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await unlock(pilot)
        screen = app.screen
        table = screen.query_one("#accounts", DataTable)
        await wait_for(pilot, lambda: table.row_count == len(NAMES))
        shown = [plain(table.get_row_at(i)[0]) for i in range(table.row_count)]
        assert sorted(shown) == sorted(clean(n) for n in NAMES)
        assert "Bybit [main]" in shown and "[/]" in shown and "[@click=app.quit]" in shown
        # Clicking the name that holds an action: nothing runs, the app is still here.
        row = shown.index("[@click=app.quit]")
        table.move_cursor(row=row, animate=False)
        await pilot.pause()
        await pilot.click(table, offset=(3, row + 1 - table.scroll_y))
        await pilot.pause()
        assert app.is_running and app.return_code is None
        for index, name in enumerate(shown):
            table.move_cursor(row=index, animate=False)
            await pilot.pause()
            # The delete question names the account literally.
            await pilot.press("d")
            await wait_for(pilot, lambda: screen_name(pilot) == "ConfirmScreen")
            question = "\n".join(static_text(app.screen.query_one(f"#{part}", Static))
                                  for part in ("title", "message"))
            assert name in question
            await pilot.press("n")
            await wait_for(pilot, lambda: screen_name(pilot) == "AccountsScreen")
        # The edit form's title.
        table.move_cursor(row=shown.index("Sub [2] [/x]"), animate=False)
        await pilot.press("e")
        await wait_for(pilot, lambda: screen_name(pilot) == "EditAccountScreen")
        assert "Sub [2] [/x]" in static_text(app.screen.query_one("#form-title", Static))
        await pilot.press("escape")
        await wait_for(pilot, lambda: screen_name(pilot) == "AccountsScreen")
        # Checking an account shows its name in the progress line.
        target = shown.index("Sub [2] [/x]")
        table.move_cursor(row=target, animate=False)
        await pilot.press("v")
        await wait_for(pilot, lambda: "Sub [2] [/x]" in str(
            screen.query_one(ReportPanel)._border_title or ""), timeout=20)
        assert app.is_running
        # Notifications never parse markup, whoever sends them.
        for name in NAMES[:6]:
            screen.notify(f"{name} is saved.", title=name)
        await wait_for(pilot, lambda: len(app.screen.query(Toast)) >= 6)
        await pilot.pause(0.2)
        assert app.is_running and screen_name(pilot) == "AccountsScreen"
        toasts = [str(toast.render()) for toast in app.screen.query(Toast)]
        assert any("[/] is saved." in toast for toast in toasts)


async def test_exchange_answers_and_errors_are_shown_literally(vault_home: Path, fake) -> None:
    key = fake.key("bybit")
    # The key-info answer carries hostile "addresses" and a hostile note (the address swap).
    key.ips = ("127.0.0.1", *PAYLOADS.values())
    key.label = PAYLOADS["osc52"]
    [first] = [open_store().add("[b]main[/b]", "bybit", "custom",
                                Credentials(key.api_key, key.secret), base_url=fake.url)]
    app = accounts_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await unlock(pilot)
        panel = app.screen.query_one("#report", ReportPanel)

        def panel_text() -> str:
            # Its own headings use markup; the lines holding outside text must not (checked
            # by their being drawn at all: a "[/]" parsed as markup raises).
            return "\n".join(str(s.content) for s in panel.query(Static))

        await pilot.press("v")
        await wait_for(pilot, lambda: "Whitelist" in panel_text(), timeout=20)
        text = panel_text()
        assert is_safe(text)
        assert "[b]main[/b]" in panel._border_title.plain  # shown as typed, not bold
        # Then an error whose text echoes what the exchange was given (Bybit's "Unmatched IP").
        key.ips = ("10.0.0.1",)
        fake.config.client_ip = PAYLOADS["osc-title"] + PAYLOADS["close-tag"]
        await pilot.press("v")
        # Bound to other addresses: "locked", with the address the exchange saw, escaped.
        await wait_for(pilot, lambda: "locked" in panel_text().lower(), timeout=20)
        assert is_safe(panel_text())
        assert app.is_running and screen_name(pilot) == "AccountsScreen"
        assert all(is_safe(n) for n in notifications(app))
        assert open_store().get(first.id).last_check is not None


def is_safe(text: str) -> bool:
    from tui.services.core.text import is_clean

    return is_clean(text.replace("\n", "").replace("\t", ""))


@pytest.mark.slow
async def test_whitelist_lines_and_paths(tmp_path: Path) -> None:
    app = KeylinkApp(start_screen="whitelist")
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        screen = app.screen
        error = screen.query_one("#wl-error", Static)
        for label, payload in PAYLOADS.items():
            bad = tmp_path / f"bad-{label}.txt"
            bad.write_text(f"10.0.0.1\n{payload}\n", encoding="utf-8", errors="surrogatepass")
            screen.load_path(str(bad))
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert error.display and "line 2" in static_text(error)
            assert is_safe(static_text(error))
        # A file whose name is markup and controls loads and is listed under its escaped name.
        odd = tmp_path / "[b]x [@click=app.quit] \x1b]0;t\x07 \u202e.txt"  # no "/" in a name
        odd.write_text("10.0.0.7\n")
        screen.load_path(str(odd))
        await app.workers.wait_for_complete()
        await pilot.pause()
        select = screen.query_one("#profile", Select)
        assert select.value == f"file:{odd}"
        source = static_text(screen.query_one("#wl-source", Static))
        assert clean(str(odd)) in source and is_safe(source)
        assert all(is_safe(n) for n in notifications(app))
        # A path that is markup and controls, which does not exist.
        screen.load_path(PAYLOADS["click"] + PAYLOADS["osc52"] + PAYLOADS["bidi"])
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "no such file" in static_text(error) and is_safe(static_text(error))
        assert app.is_running


@pytest.mark.slow
async def test_the_faq_filter_echoes_markup_literally() -> None:
    app = KeylinkApp(start_screen="faq")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("slash", *"[/] [@click=app.quit]")
        await pilot.pause()
        empty = app.screen.query_one("#faq-empty", Static)
        assert "[/] [@click=app.quit]" in str(empty.content)
        await pilot.click(empty)
        await pilot.pause()
        assert app.is_running and app.return_code is None


@pytest.mark.slow
async def test_the_command_palette_lists_hostile_names_literally(vault_home: Path, fake) -> None:
    from textual.command import CommandPalette
    from textual.widgets import OptionList

    seed_accounts(fake)
    app = accounts_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await unlock(pilot)
        await wait_for(pilot, lambda: app.screen.query_one("#accounts", DataTable).row_count)
        for query in ("", "Verify"):
            app.action_command_palette()
            await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette)
                           and app.screen.query(OptionList))
            await pilot.press(*query)
            options = app.screen.query_one(OptionList)
            await wait_for(pilot, lambda options=options: options.option_count > len(NAMES),
                           timeout=10)
            await pilot.pause(0.3)
            prompts = [str(options.get_option_at_index(i).prompt)
                       for i in range(options.option_count)]
            assert any("Verify Sub [2] [/x]" in p for p in prompts)
            assert all(is_safe(p) for p in prompts)
            await pilot.press("escape")
            await wait_for(pilot, lambda: screen_name(pilot) == "AccountsScreen")
        assert app.is_running

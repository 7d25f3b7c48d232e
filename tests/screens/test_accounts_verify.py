"""Verify from the accounts screen against the fake exchange (real HTTP on 127.0.0.1)."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import DataTable, Select, Static

from tests.fakes.exchange import FakeExchange
from tests.support.accounts_fixtures import (
    accounts_app,
    choose,
    keylink_home,
    open_store,
    screen_name,
    unlock,
    vault_home,
    wait_for,
)
from tui.services.keys.credentials import Credentials
from tui.widgets.report_panel import ReportPanel

__all__ = ["keylink_home", "vault_home"]  # fixtures used by name below


def add_fake_account(fake: FakeExchange, exchange_id: str, name: str, secret: str | None = None):
    key = fake.key(exchange_id)
    return open_store().add(
        name, exchange_id, "custom",
        Credentials(key.api_key, secret or key.secret, key.passphrase),
        base_url=fake.url,
    )


def panel_lines(pilot) -> list[tuple[str, set[str]]]:
    panel = pilot.app.screen_stack[0].query_one("#report", ReportPanel)
    return [(str(s.content), set(s.classes)) for s in panel.query(Static)]


def panel_text(pilot) -> str:
    return "\n".join(text for text, _ in panel_lines(pilot))


async def test_verify_shows_findings_and_saves_the_result(vault_home: Path, fake) -> None:
    fake.key("bybit").ips = ("127.0.0.1", "18.167.89.125")
    fake.key("bybit").permissions = frozenset({"read", "trade", "withdraw"})
    account = add_fake_account(fake, "bybit", "Bybit main")
    async with accounts_app().run_test(size=(100, 40)) as pilot:
        await unlock(pilot)
        await pilot.press("v")
        await wait_for(pilot, lambda: "Findings" in panel_text(pilot), timeout=20)
        lines = panel_lines(pilot)
        text = panel_text(pilot)
        assert "Latency:" in text and "Clock offset:" in text and "Permissions:" in text
        assert "withdraw" in text
        # The withdraw permission is a danger finding, drawn with the danger class ($error).
        dangers = [t for t, classes in lines if "-danger" in classes]
        assert any("withdraw" in t.lower() for t in dangers)
        # A key that can withdraw is never green: the headline takes the danger colour.
        assert any(t.startswith("‼ The key works, but it can withdraw") for t in dangers)
        # Its own mark, not a warning's "!" nor a failure's "✗".
        assert any(t.startswith("‼ ") and "withdraw" in t.lower() for t in dangers[1:])
        # The whitelist diff: the terminal's addresses that the key's entries do not cover.
        assert "Whitelist" in text and "Not covered by the key (19)" in text
        warnings = [t for t, classes in lines if "-warning" in classes]
        assert any("18.167.8.216" in t for t in warnings)
        await wait_for(pilot, lambda: open_store().get(account.id).last_check is not None)
        check = open_store().get(account.id).last_check
        assert check.ok and check.worst == "danger"
        table = pilot.app.screen_stack[0].query_one("#accounts", DataTable)
        # Status second so narrow terminals keep it; a key that can withdraw gets "‼" (danger),
        # not "✓" nor a plain warning's "!".
        assert str(table.get_row_at(0)[1]) == "‼ works"
        assert "read+trade+withdraw" in str(table.get_row_at(0)[-1])
    assert fake.requests  # the call really went over loopback HTTP


async def test_wrong_secret_is_reported_as_a_failed_check(vault_home: Path, fake) -> None:
    account = add_fake_account(fake, "okx", "OKX wrong", secret="F" * 32)
    async with accounts_app().run_test(size=(100, 40)) as pilot:
        await unlock(pilot)
        await pilot.press("v")
        await wait_for(pilot, lambda: "The check failed" in panel_text(pilot), timeout=20)
        assert "Error code 50113" in panel_text(pilot)
        assert "F" * 32 not in panel_text(pilot)
        await wait_for(pilot, lambda: open_store().get(account.id).last_check is not None)
        assert open_store().get(account.id).last_check.ok is False


async def test_verify_all_checks_every_account(vault_home: Path, fake) -> None:
    for exchange_id in ("bybit", "bitget", "binance"):
        fake.key(exchange_id).ips = ("127.0.0.1",)
    accounts = [add_fake_account(fake, ex, f"{ex} one") for ex in ("bybit", "bitget", "binance")]
    async with accounts_app().run_test(size=(100, 40)) as pilot:
        await unlock(pilot)
        await pilot.press("V")
        await wait_for(
            pilot,
            lambda: all(open_store().get(a.id).last_check is not None for a in accounts),
            timeout=30,
        )
        assert all(open_store().get(a.id).last_check.ok for a in accounts)
        assert screen_name(pilot) == "AccountsScreen"


async def test_verify_all_tallies_works_locked_and_failed(vault_home: Path, fake) -> None:
    """A linked key refused for its address counts as locked, not failed, in table and tally."""
    fake.key("okx").ips = ("10.9.9.9",)  # bound elsewhere: OKX answers 50110
    works = add_fake_account(fake, "bybit", "Works")
    locked = open_store().add("Linked", "okx", "custom",
                              Credentials(fake.key("okx").api_key, fake.key("okx").secret,
                                          fake.key("okx").passphrase),
                              base_url=fake.url, whitelist="linked")
    failed = add_fake_account(fake, "bitget", "Broken", secret="f" * 64)
    notes: list[str] = []
    async with accounts_app().run_test(size=(100, 40)) as pilot:
        pilot.app.notify = lambda message, **kw: notes.append(str(message))  # type: ignore
        await unlock(pilot)
        await pilot.press("V")
        ids = (works.id, locked.id, failed.id)
        await wait_for(pilot, lambda: all(open_store().get(i).last_check for i in ids),
                       timeout=30)
        await wait_for(pilot, lambda: any(n.startswith("Checked 3") for n in notes))
        stored = {i: open_store().get(i).last_check for i in ids}
        assert [stored[i].outcome for i in ids] == ["works", "locked", "failed"]
        assert stored[locked.id].summary == "locked: bound to other addresses (50110)"
        assert stored[failed.id].summary == "failed: wrong secret (40009)"
        tally = next(n for n in notes if n.startswith("Checked 3"))
        assert tally.startswith("Checked 3 accounts: 1 works, 1 locked, 1 failed.")
        table = pilot.app.screen_stack[0].query_one("#accounts", DataTable)
        statuses = [str(table.get_row_at(row)[1]) for row in range(3)]
        assert any("locked" in s for s in statuses) and any("failed" in s for s in statuses)


@pytest.mark.slow
async def test_the_ui_keeps_working_during_a_slow_check(vault_home: Path, fake) -> None:
    """A 1.5 s exchange: the screen answers keys meanwhile; deleting the account mid-check is
    handled (the result is not saved for an account that is gone)."""
    fake.config.latency_ms = 1500
    add_fake_account(fake, "bybit", "Slow one")
    async with accounts_app().run_test(size=(100, 40)) as pilot:
        await unlock(pilot)
        await pilot.press("v")
        panel = pilot.app.screen_stack[0].query_one("#report", ReportPanel)
        await wait_for(pilot, lambda: panel.loading)
        await pilot.press("d")
        await wait_for(pilot, lambda: screen_name(pilot) == "ConfirmScreen")
        await pilot.press("y")
        table = pilot.app.screen_stack[0].query_one("#accounts", DataTable)
        await wait_for(pilot, lambda: table.row_count == 0)
        assert panel.loading  # the check is still running: nothing waited for it
        await wait_for(pilot, lambda: not panel.loading, timeout=20)
        assert table.row_count == 0 and open_store().list() == []


@pytest.mark.slow
async def test_the_form_offers_linked_a_profile_or_none(vault_home: Path, fake) -> None:
    account = add_fake_account(fake, "bybit", "Bybit main")
    async with accounts_app().run_test(size=(100, 40)) as pilot:
        await unlock(pilot)
        for label, value in (("Linked", "linked"), ("None", "none"), ("Insilico", None)):
            await pilot.press("e")
            await wait_for(pilot, lambda: screen_name(pilot) == "EditAccountScreen")
            stored_before = open_store().get(account.id).whitelist
            if value is None:  # a shipped profile: any id other than the two special ones
                select = pilot.app.screen.query_one("#whitelist", Select)
                select.focus()
                await pilot.press("enter")
                await pilot.press(*"Insilico")
                await pilot.press("enter")
                await pilot.pause()
                value = str(select.value)
                assert value not in ("linked", "none")
            else:
                await choose(pilot, "whitelist", label, value)
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda v=value: open_store().get(account.id).whitelist == v)
            assert stored_before != value
            await wait_for(pilot, lambda: screen_name(pilot) == "AccountsScreen")


async def test_verify_of_a_key_kept_in_pass_asks_no_vault_passphrase(
    vault_home: Path, pass_store: Path, fake
) -> None:
    """The app's session keeps its secrets in the (locked) vault, the account in pass: v checks
    the key against the exchange without the vault's dialog (pass asks its own GPG agent)."""
    from tui.services.store.accounts import AccountStore
    from tui.services.store.secrets import SecretStore

    fake.key("bybit").ips = ("127.0.0.1",)
    key = fake.key("bybit")
    in_pass = AccountStore(SecretStore.open(choice="pass"))
    account = in_pass.add("Kept in pass", "bybit", "custom",
                          Credentials(key.api_key, key.secret), base_url=fake.url)
    assert account.secret_store == "pass"
    async with accounts_app().run_test(size=(100, 40)) as pilot:
        # No greeting: no account keeps its secret in the vault (test_accounts_pass_kept.py).
        table = pilot.app.screen.query_one("#accounts", DataTable)
        await wait_for(pilot, lambda: table.row_count == 1)
        session = pilot.app.live_session
        assert session.secrets.needs_unlock
        await pilot.press("v")
        # The dialog, if it came, would wait for a person: wait for it or the saved check.
        await wait_for(pilot, lambda: screen_name(pilot) == "UnlockVaultScreen"
                       or in_pass.get(account.id).last_check is not None, timeout=20)
        assert screen_name(pilot) == "AccountsScreen"
        assert in_pass.get(account.id).last_check.outcome == "works"
        await wait_for(pilot, lambda: "works" in panel_text(pilot))
        assert session.secrets.needs_unlock  # never unlocked for it
    assert any(key.api_key in r.headers.values() for r in fake.requests)  # over loopback HTTP

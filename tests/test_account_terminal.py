"""An account belongs to a terminal: stored as an optional field at the end of Account (old
files still read), set by `accounts add --terminal` with that terminal's usual whitelist."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.cli import Cli
from tests.test_cli_accounts import BYBIT_LINES, OKX_LINES, assert_usage_error
from tui.services.keys.credentials import Credentials
from tui.services.store.accounts import AccountStore
from tui.services.store.model import account_from_json, account_json

OLD_ENTRY = {
    "id": "0" * 32, "name": "Old", "exchange": "bybit", "environment": "mainnet",
    "base_url": "https://api.bybit.com", "whitelist": "insilico-general",
    "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
    "secret_ref": "ref-old",
}


def test_an_entry_from_before_terminals_reads_and_writes_back_unchanged() -> None:
    account = account_from_json(dict(OLD_ENTRY))
    assert account.terminal is None
    written = account_json(account)
    assert "terminal" not in written
    assert {k: v for k, v in written.items() if k in OLD_ENTRY} == OLD_ENTRY


def test_the_terminal_round_trips_and_a_bad_one_is_damage() -> None:
    import pytest

    from tui.services.store.model import Damaged

    account = account_from_json({**OLD_ENTRY, "terminal": "gainium"})
    assert account.terminal == "gainium"
    assert account_json(account)["terminal"] == "gainium"
    with pytest.raises(Damaged, match="terminal"):
        account_from_json({**OLD_ENTRY, "terminal": 3})


def test_the_store_keeps_the_terminal(account_store: AccountStore, tmp_path: Path) -> None:
    creds = Credentials("AbCdEfGh1234567890", "S" * 36)
    added = account_store.add("Main", "bybit", "mainnet", creds, terminal="gainium",
                              whitelist="linked")
    assert account_store.get("Main").terminal == "gainium"
    raw = json.loads((tmp_path / "config" / "accounts.json").read_text())
    assert raw["accounts"][0]["terminal"] == "gainium"
    account_store.update(added.id, terminal="veles")
    assert account_store.get("Main").terminal == "veles"


def test_accounts_add_terminal_sets_its_usual_whitelist(cli: Cli) -> None:
    # Gainium on Bybit: the link flow. On OKX too. Insilico on OKX: its general list.
    assert cli("accounts", "add", "G", "--exchange", "bybit", "--terminal", "Gainium",
               stdin=BYBIT_LINES).returncode == 0
    assert cli("accounts", "add", "I", "--exchange", "okx", "--terminal", "insilico",
               stdin=OKX_LINES).returncode == 0
    # An old profile id names its terminal: Insilico, with that list.
    assert cli("accounts", "add", "B", "--exchange", "bybit", "--terminal",
               "insilico-general", "--whitelist", "insilico-general",
               stdin="ZbCdEfGh1234567890\n" + "T" * 36 + "\n").returncode == 0
    listed = {a["name"]: a for a in json.loads(cli("accounts", "list", "--json").stdout)}
    assert (listed["G"]["terminal"], listed["G"]["whitelist"]) == ("gainium", "linked")
    assert (listed["I"]["terminal"], listed["I"]["whitelist"]) == ("insilico",
                                                                   "insilico-general")
    assert (listed["B"]["terminal"], listed["B"]["whitelist"]) == ("insilico",
                                                                   "insilico-general")


def test_accounts_add_refuses_an_unknown_terminal_before_asking_for_secrets(cli: Cli) -> None:
    result = cli("accounts", "add", "X", "--exchange", "bybit", "--terminal", "nope")
    assert_usage_error(result, "unknown terminal 'nope' (known: insilico, gainium")
    result = cli("accounts", "add", "X", "--exchange", "bybit", "--terminal", "veles",
                 "--whitelist", "nope")
    assert_usage_error(result, "unknown whitelist 'nope'")
    assert json.loads(cli("accounts", "list", "--json").stdout) == []

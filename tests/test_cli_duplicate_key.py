"""`keylink accounts add` names the account that holds the same API key already."""

from __future__ import annotations

import json

from tests.support.cli import Cli
from tests.test_cli_accounts import BYBIT_LINES, assert_usage_error


def test_the_same_key_under_a_second_name_needs_allow_duplicate(cli: Cli) -> None:
    # It was stored under two names without a word.
    assert cli("accounts", "add", "Main", "--exchange", "bybit", stdin=BYBIT_LINES).returncode == 0
    again = cli("accounts", "add", "Copy", "--exchange", "bybit", stdin=BYBIT_LINES)
    assert_usage_error(again, "this API key is stored already, as Main")
    assert "--allow-duplicate" in again.stderr
    assert "S" * 36 not in again.stderr + again.stdout
    names = [a["name"] for a in json.loads(cli("accounts", "list", "--json").stdout)]
    assert names == ["Main"]
    # Another exchange's key with the same text is not the same key.
    other = cli("accounts", "add", "Bitget", "--exchange", "bitget",
                stdin=BYBIT_LINES + "Bitget-pass-1\n")
    assert other.returncode == 0, other.stderr
    allowed = cli("accounts", "add", "Copy", "--exchange", "bybit", "--allow-duplicate",
                  stdin=BYBIT_LINES)
    assert allowed.returncode == 0, allowed.stderr
    names = [a["name"] for a in json.loads(cli("accounts", "list", "--json").stdout)]
    assert names == ["Main", "Bitget", "Copy"]

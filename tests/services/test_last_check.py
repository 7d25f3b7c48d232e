"""The stored last check keeps the rights and the refusal's code as fields, so the decisions made
from it (the hand-off gate, the early probe) never read the words of its one-line summary; a
record from before the fields still reads, and is judged as it was."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from tui.services.core.status import CheckStatus, Severity
from tui.services.exchanges.base import ErrorKind
from tui.services.keys.credentials import Credentials
from tui.services.store.accounts import AccountStore
from tui.services.store.model import Damaged, LastCheck, account_from_json
from tui.services.verify.probe import PROBE_CODES
from tui.services.verify.report import ExchangeError, FaultKind, Finding, KeyReport, fault

BYBIT = Credentials("AbCdEfGh1234567890", "S" * 36)


def report(**kw) -> KeyReport:
    base = {"ok": True, "exchange": "bybit", "host": "api.bybit.com", "environment": "mainnet",
            "latency_ms": 40, "clock_offset_ms": 0}
    return KeyReport(**{**base, **kw})


WITHDRAW = report(permissions=frozenset({"withdraw", "read", "trade"}), ip_restricted=False,
                  findings=(Finding(Severity.DANGER, "withdraw-enabled", "can withdraw"),))
UNKNOWN_KEY = report(ok=False, error=ExchangeError("10003", "not known", "",
                                                   ErrorKind.INVALID_KEY))
LOCKED = report(ok=False, error=ExchangeError("10010", "bound", "", ErrorKind.IP_NOT_ALLOWED))
TIMED_OUT = report(ok=False, error=fault(FaultKind.TIMEOUT, "no answer"))


def test_of_keeps_the_rights_and_the_refusal_s_code():
    works = LastCheck.of(WITHDRAW)
    assert (works.permissions, works.error_code) == (("read", "trade", "withdraw"), "")
    assert works.summary.startswith("works; read+trade+withdraw")
    refused = LastCheck.of(UNKNOWN_KEY)
    assert (refused.permissions, refused.error_code) == ((), "10003")
    assert LastCheck.of(LOCKED).error_code == "10010"
    assert LastCheck.of(TIMED_OUT).error_code == "timeout"
    assert type(LastCheck.of(TIMED_OUT).error_code) is str  # the word, not the enum member


def test_the_fields_round_trip_through_the_accounts_file(account_store: AccountStore,
                                                         vault_secrets):
    a = account_store.add("Main", "bybit", "mainnet", BYBIT)
    b = account_store.add("Other", "bybit", "mainnet", BYBIT)
    works, refused = LastCheck.of(WITHDRAW), LastCheck.of(UNKNOWN_KEY)
    account_store.record_check(a.id, works)
    account_store.record_check(b.id, refused)
    stored = json.loads(account_store.path.read_text())["accounts"]
    assert stored[0]["last_check"]["permissions"] == ["read", "trade", "withdraw"]
    assert stored[0]["last_check"]["error_code"] == ""
    assert (stored[1]["last_check"]["permissions"], stored[1]["last_check"]["error_code"]) == (
        [], "10003")
    again = AccountStore(vault_secrets, account_store.dir)
    assert again.get(a.id).last_check == works
    assert again.get(b.id).last_check == refused


def test_a_record_from_before_the_fields_reads_and_is_written_as_it_was(
        account_store: AccountStore, vault_secrets):
    a = account_store.add("Main", "bybit", "mainnet", BYBIT)
    old = LastCheck(ok=False, checked_at="2026-12-01T00:00:00Z",
                    summary="failed: key not found (10003)", worst="error", status="failed")
    account_store.record_check(a.id, old)
    item = json.loads(account_store.path.read_text())["accounts"][0]["last_check"]
    assert "permissions" not in item and "error_code" not in item  # as an older keylink wrote it
    stored = AccountStore(vault_secrets, account_store.dir).get(a.id).last_check
    assert stored == old and stored.permissions is None and stored.error_code is None


def test_keys_a_newer_keylink_adds_to_the_record_are_ignored():
    item = {"id": "a1", "name": "Main", "exchange": "bybit", "environment": "mainnet",
            "base_url": "https://api.bybit.com", "whitelist": "none",
            "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
            "secret_ref": "ref",
            "last_check": {"ok": True, "checked_at": "2026-12-01T00:00:00Z",
                           "summary": "works; read", "worst": "ok", "status": "works",
                           "permissions": ["read"], "error_code": "", "later": {"x": 1}}}
    check = account_from_json(item).last_check
    assert check is not None and (check.permissions, check.error_code) == (("read",), "")


@pytest.mark.parametrize(("key", "value"), [
    ("permissions", "read+trade"), ("permissions", ["read", 3]), ("permissions", {"read": 1}),
    ("error_code", 10003), ("error_code", ["10003"]),
])
def test_fields_of_the_wrong_type_are_damage(key, value):
    item = {"id": "a1", "name": "Main", "exchange": "bybit", "environment": "mainnet",
            "base_url": "https://api.bybit.com", "whitelist": "none",
            "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
            "secret_ref": "ref",
            "last_check": {"ok": False, "checked_at": "2026-12-01T00:00:00Z",
                           "summary": "failed", "worst": "error", key: value}}
    with pytest.raises(Damaged, match="wrong type"):
        account_from_json(item)


def test_decisions_read_the_fields_whatever_the_summary_says():
    bybit = PROBE_CODES["bybit"]
    # New wording of the summary line: the rights and the code are still known.
    works = replace(LastCheck.of(WITHDRAW), summary="works: can read, trade and move funds out")
    assert "withdraw" in works.rights
    refused = replace(LastCheck.of(UNKNOWN_KEY), summary="failed: this host has no such key")
    assert refused.refused_with(bybit)
    # A summary naming a code the refusal did not have decides nothing.
    other = replace(LastCheck.of(LOCKED), summary="locked: bound elsewhere (10003)")
    assert not other.refused_with(bybit)
    assert not LastCheck.of(TIMED_OUT).refused_with(bybit)
    assert not LastCheck.of(WITHDRAW).refused_with(bybit)


def test_a_record_from_before_the_fields_is_read_from_its_summary():
    """The legacy helpers give the decisions keylink made before the fields existed."""
    def old(ok: bool, summary: str, status: str = "") -> LastCheck:
        return LastCheck(ok=ok, checked_at="2026-12-01T00:00:00Z", summary=summary,
                         worst="danger" if ok else "error", status=status)

    bybit = PROBE_CODES["bybit"]
    assert old(True, "works; read+trade+withdraw; no IP binding; 1 problem").rights == {
        "read", "trade", "withdraw"}
    assert old(True, "works; read+trade; IP-bound (2); 1 change").rights == {"read", "trade"}
    assert old(False, "failed: key not found (10003)").rights == frozenset()
    assert old(False, "failed: key not found (10003)").refused_with(bybit)
    assert old(False, "locked: bound to other addresses (10010)", "locked").outcome is (
        CheckStatus.LOCKED)
    assert not old(False, "locked: bound to other addresses (10010)").refused_with(bybit)
    assert not old(False, "failed: timed out").refused_with(bybit)
    assert not old(True, "works; read (10003)").refused_with(bybit)

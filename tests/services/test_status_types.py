"""A check's status and severities are typed (``StrEnum``), and what is written stays the words.

accounts.json and ``keylink verify --json`` are read by scripts and by older keylinks: the types
must not change a byte of either, and a file written before the types existed must read the same.
"""

from __future__ import annotations

import json
from dataclasses import replace
from enum import Enum
from typing import Any

import pytest

from tests.fakes.exchange import FakeExchange
from tui.services.core.status import CheckStatus, Severity
from tui.services.keys.credentials import Credentials
from tui.services.store.accounts import AccountStore
from tui.services.store.model import LastCheck
from tui.services.verify.report import ExchangeError, FaultKind, Finding, KeyReport, worst
from tui.services.verify.run import verify_key


def _plain(value: Any) -> Any:
    """``value`` with every enum member replaced by its plain value, recursively."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


async def _reports(fake: FakeExchange) -> list[KeyReport]:
    """One report of each status, from the loopback fake."""
    key = fake.key("bybit")
    creds = Credentials(key.api_key, key.secret, key.passphrase)
    works = await verify_key("bybit", fake.url, creds, read_timeout=5.0)
    key.ips = ("203.0.113.9",)  # bound elsewhere: the exchange refuses this machine
    locked = await verify_key("bybit", fake.url, creds, read_timeout=5.0)
    failed = await verify_key("bybit", fake.url, Credentials(key.api_key, "wrong" * 8, ""),
                              read_timeout=5.0)
    return [works, locked, failed]


async def test_verify_json_is_the_same_bytes_as_plain_strings(fake):
    reports = await _reports(fake)
    assert [r.status for r in reports] == [CheckStatus.WORKS, CheckStatus.LOCKED,
                                           CheckStatus.FAILED]
    for report in reports:
        data = report.to_json()
        # What the CLI prints: json.dumps of the members is the words, byte for byte.
        assert json.dumps(data, indent=2) == json.dumps(_plain(data), indent=2)
        assert json.loads(json.dumps(data))["status"] == report.status.value
        assert isinstance(report.status, CheckStatus) and isinstance(report.worst, Severity)
        assert all(isinstance(f.severity, Severity) for f in report.findings)


async def test_accounts_json_keeps_its_bytes_with_typed_checks(fake, account_store: AccountStore):
    key = fake.key("bybit")
    account = account_store.add("Main", "bybit", "custom",
                                Credentials(key.api_key, key.secret, key.passphrase),
                                base_url=fake.url)
    for report in await _reports(fake):
        typed = LastCheck.of(report)
        account_store.record_check(account.id, typed)
        written = account_store.path.read_bytes()
        stored = json.loads(written)["accounts"][0]["last_check"]
        assert stored["status"] == report.status.value and type(stored["status"]) is str
        # The same record made of plain strings writes the same file.
        plain = replace(typed, status=typed.status.value if typed.status else "",
                        worst=Severity(typed.worst).value)
        account_store.record_check(account.id, plain)
        assert account_store.path.read_bytes() == written
        # Read back, the stored words give the typed outcome.
        again = account_store.get(account.id).last_check
        assert again is not None and again.outcome is report.status


def test_a_record_from_before_the_status_field_reads_as_typed(account_store: AccountStore):
    old = LastCheck(ok=False, checked_at="2026-01-01T00:00:00Z", summary="failed: timed out",
                    worst="error")
    assert old.outcome is CheckStatus.FAILED
    assert replace(old, ok=True, worst="ok").outcome is CheckStatus.WORKS


def test_an_unknown_severity_is_refused_where_the_finding_is_made():
    assert Finding("warning", "x", "y").severity is Severity.WARNING
    with pytest.raises(ValueError):
        Finding("critical", "x", "y")  # type: ignore[arg-type]
    assert worst([Finding("info", "a", ""), Finding("danger", "b", "")]) is Severity.DANGER
    assert worst([]) is Severity.OK


def test_an_unknown_status_is_refused_where_the_report_is_made():
    error = ExchangeError(FaultKind.TIMEOUT, "slow", kind=FaultKind.TIMEOUT)
    report = KeyReport(ok=False, exchange="bybit", host="h", environment="mainnet",
                       latency_ms=None, clock_offset_ms=None, error=error, status="failed")
    assert report.status is CheckStatus.FAILED
    with pytest.raises(ValueError):
        KeyReport(ok=True, exchange="bybit", host="h", environment="mainnet", latency_ms=None,
                  clock_offset_ms=None, status="fine")  # type: ignore[arg-type]

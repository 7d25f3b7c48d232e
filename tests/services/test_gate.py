"""The hand-off gate's rules on stored checks (issue 19), and KEYLINK_CHECK_MAX_AGE."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from tui.services.core.check_age import check_max_age
from tui.services.handoff.gate import Gate, judge
from tui.services.store.model import Account, LastCheck

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
WEEK = timedelta(days=7)
ACCOUNT = Account(id="a1", name="Main", exchange="bybit", environment="mainnet",
                  base_url="https://api.bybit.com", whitelist="insilico-general",
                  created_at="2026-01-01T00:00:00Z", updated_at="2026-01-01T00:00:00Z",
                  secret_ref="ref")


def checked(days: float, *, status: str = "works", worst: str = "ok",
            summary: str = "works; read+trade; IP-bound (2)") -> Account:
    when = (NOW - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return replace(ACCOUNT, last_check=LastCheck(ok=status == "works", checked_at=when,
                                                 summary=summary, worst=worst, status=status))


def test_the_rules():
    assert judge(ACCOUNT, WEEK, now=NOW).gate is Gate.STALE
    assert judge(ACCOUNT, WEEK, now=NOW).line("Main") == "Main was never checked"
    assert judge(checked(1), WEEK, now=NOW).gate is Gate.OK
    stale = judge(checked(9), WEEK, now=NOW)
    assert stale.gate is Gate.STALE and "9 days ago" in stale.line("Main")
    withdraw = judge(checked(1, worst="danger",
                             summary="works; read+trade+withdraw; no IP binding; 1 problem"),
                     WEEK, now=NOW)
    assert (withdraw.gate, withdraw.finding) == (Gate.RISKY, "the key can withdraw funds")
    failed = judge(checked(30, status="failed", worst="error",
                           summary="failed: wrong secret (10004)"), WEEK, now=NOW)
    assert failed.gate is Gate.RISKY  # risky beats stale
    assert failed.line("Main") == ("Main: its last check failed: wrong secret (10004) "
                                   "(checked 30 days ago)")
    # A key bound to the terminal's addresses is never a failure; an old one is only stale.
    locked = checked(1, status="locked", worst="error",
                     summary="locked: bound to other addresses (10010)")
    assert judge(locked, WEEK, now=NOW).gate is Gate.OK
    assert judge(checked(8, status="locked", worst="error"), WEEK, now=NOW).gate is Gate.STALE
    # A record from before the status field: read from ok.
    old = replace(ACCOUNT, last_check=LastCheck(ok=False, checked_at="2026-12-05T11:00:00Z",
                                                summary="failed: key not found", worst="error"))
    assert judge(old, WEEK, now=NOW).gate is Gate.RISKY
    unreadable = replace(ACCOUNT, last_check=replace(checked(1).last_check, checked_at="soon"))
    assert judge(unreadable, WEEK, now=NOW).gate is Gate.STALE
    hostile = judge(checked(9), WEEK, now=NOW).line("x\x1b[31m\n")
    assert "\x1b" not in hostile and "\n" not in hostile


def test_the_withdraw_right_is_read_from_the_record_not_its_summary_s_words():
    """A change of the summary line's wording must not let a withdraw key through."""
    reworded = replace(checked(1, worst="danger", summary="works: read, trade, move funds out"
                               "; not bound to any address; 1 problem").last_check,
                       permissions=("read", "trade", "withdraw"), error_code="")
    verdict = judge(replace(ACCOUNT, last_check=reworded), WEEK, now=NOW)
    assert (verdict.gate, verdict.finding) == (Gate.RISKY, "the key can withdraw funds")
    # The right alone makes it risky, whatever severity the record was given.
    graded_lower = replace(reworded, worst="warning")
    verdict = judge(replace(ACCOUNT, last_check=graded_lower), WEEK, now=NOW)
    assert (verdict.gate, verdict.finding) == (Gate.RISKY, "the key can withdraw funds")
    # And a summary that names withdraw while the record's rights do not is no finding of it.
    named = replace(checked(1, worst="danger", summary="works; read+trade+withdraw; 1 problem"
                            ).last_check, permissions=("read", "trade"), error_code="")
    verdict = judge(replace(ACCOUNT, last_check=named), WEEK, now=NOW)
    assert verdict.gate is Gate.RISKY and verdict.finding.startswith("its last check found a")
    assert judge(replace(ACCOUNT, last_check=replace(named, worst="ok")), WEEK,
                 now=NOW).gate is Gate.OK


@pytest.mark.parametrize(("summary", "worst", "gate", "finding"), [
    ("works; read+trade+withdraw; no IP binding; 1 problem", "danger", Gate.RISKY,
     "the key can withdraw funds"),
    ("works; read+trade; no IP binding; 1 problem", "danger", Gate.RISKY,
     "its last check found a danger: works; read+trade; no IP binding; 1 problem"),
    ("works; read+trade; IP-bound (2)", "ok", Gate.OK, ""),
])
def test_a_record_from_before_the_rights_field_is_judged_as_before(summary, worst, gate,
                                                                    finding):
    old = checked(1, worst=worst, summary=summary)
    assert old.last_check.permissions is None  # as read from a file written before the field
    verdict = judge(old, WEEK, now=NOW)
    assert (verdict.gate, verdict.finding) == (gate, finding)


@pytest.mark.parametrize(("stamp", "age", "when"), [
    ("2026-12-05T08:00:00Z", timedelta(hours=4), "checked 4 h ago"),
    ("2026-12-05T10:00:00+02:00", timedelta(hours=4), "checked 4 h ago"),  # the same moment
    ("2026-12-05T08:00:00.250Z", timedelta(hours=3, minutes=59, seconds=59.75),
     "checked 3 h ago"),
    ("2026-12-05T08:00:00", timedelta(hours=4), "checked 4 h ago"),  # no zone: UTC
    ("2026-12-05", timedelta(hours=12), "checked 12 h ago"),  # a date alone: its midnight
])
def test_the_check_time_is_read_in_any_iso_form(stamp, age, when):
    """The gate reads the check time with the one shared reader (tui/services/core/times.py):
    keylink writes 2026-12-05T08:00:00Z, and a hand-edited record with an offset or fractions
    is read as the time it says rather than as unknown."""
    account = replace(ACCOUNT, last_check=replace(checked(1).last_check, checked_at=stamp))
    verdict = judge(account, WEEK, now=NOW)
    assert (verdict.gate, verdict.age, verdict.when) == (Gate.OK, age, when)


@pytest.mark.parametrize("stamp", ["2026-12-05T08:00:00ZZ", "", None, 1764921600,
                                   "0001-01-01T00:00:00+01:00"])
def test_a_check_time_that_is_not_a_time_is_unknown(stamp):
    account = replace(ACCOUNT, last_check=replace(checked(1).last_check, checked_at=stamp))
    verdict = judge(account, WEEK, now=NOW)
    assert (verdict.gate, verdict.age) == (Gate.STALE, None)
    assert verdict.line("Main") == "Main: the time of its last check cannot be read"


@pytest.mark.parametrize(("text", "expected"), [
    ("", WEEK), ("3", timedelta(days=3)), ("36h", timedelta(hours=36)),
    ("2w", timedelta(days=14)), ("90m", timedelta(minutes=90)), (" 0.5 ", timedelta(hours=12)),
])
def test_max_age(text, expected):
    assert check_max_age({"KEYLINK_CHECK_MAX_AGE": text}) == expected


@pytest.mark.parametrize("text", ["x", "0", "-1", "inf", "nan", "3y", "\u0661", "1e9"])
def test_bad_max_age(text):
    with pytest.raises(ValueError, match="KEYLINK_CHECK_MAX_AGE"):
        check_max_age({"KEYLINK_CHECK_MAX_AGE": text})

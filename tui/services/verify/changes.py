"""What changed since an account's check before: each change is a finding like any other.

A key is rarely broken at the moment it is linked; it drifts: someone widens its rights, removes
its IP binding, Bybit sets an expiry after a password change, the clock wanders. ``compare`` lists
every such difference between two history entries with a severity (withdraw gained is a danger);
``change_findings`` turns them into report lines; ``drift_finding`` reads the clock offsets of the
whole history. Pure functions: the history file is ``store.history``, the recording the session's.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from tui.services.core.status import CheckStatus, Severity
from tui.services.core.times import parse_utc, utc_stamp
from tui.services.exchanges.base import PERMISSIONS
from tui.services.store.history import Change, HistoryEntry
from tui.services.verify.report import Finding, KeyReport

#: A clock offset this much further from zero than at the check before is worth a warning (ms).
DRIFT_STEP_MS = 500
#: Expiry dates closer than this are the same date (Bybit's deadlineDay counts whole days, so a
#: date computed from it moves by hours from one check to the next).
_SAME_EXPIRY = timedelta(days=1)
#: Rights whose loss stops a terminal (a warning); losing the others is news (info).
_NEEDED = {"trade"}


def entry_of(report: KeyReport, changes: Sequence[Change] = ()) -> HistoryEntry:
    """The summary of a check for the history (no secret: nothing here comes from one)."""
    works = report.status == CheckStatus.WORKS
    return HistoryEntry(
        checked_at=utc_stamp(report.checked_at), status=str(report.status), worst=str(report.worst),
        host=report.host,
        rights=tuple(p for p in (*PERMISSIONS, "unknown") if p in report.permissions),
        ips=tuple(report.ips) if works else None,
        ip_restricted=report.ip_restricted if works else None,
        expires_at=utc_stamp(report.expires_at) if report.expires_at else None,
        expiry_rule=report.expiry_rule, key_kind=report.key_kind, key_type=report.key_type,
        clock_offset_ms=report.clock_offset_ms, changes=tuple(changes))


def _status_severity(before: str, after: str) -> Severity:
    if after == CheckStatus.FAILED:
        return Severity.ERROR
    if before == CheckStatus.FAILED:
        return Severity.INFO
    # works <-> locked: the key's binding, or this machine's address, changed.
    return Severity.WARNING


def _binding(entry: HistoryEntry) -> str:
    if not entry.ip_restricted:
        return "not bound"
    return f"bound ({len(entry.ips)})" if entry.ips else "bound"


def offset_words(ms: int) -> str:
    """A clock offset as changes, the drift warning and the history table give it: "+1.2 s"."""
    return f"{ms / 1000:+.1f} s"


def last_described(entries: Sequence[HistoryEntry]) -> HistoryEntry | None:
    """The newest entry whose check described the key (status works), if any."""
    return next((e for e in reversed(entries) if e.status == CheckStatus.WORKS), None)


def compare(previous: HistoryEntry | None, current: HistoryEntry,
            described: HistoryEntry | None = None) -> tuple[Change, ...]:
    """Every difference that matters between the check before and this one ([] on a first).

    Status, host, key kind and clock are compared with ``previous``; rights, binding, key type
    and expiry with ``described``, the newest check that could read them (default: ``previous``
    if it could), so a right gained while a failed or locked check sat between is still seen.
    """
    if previous is None:
        return ()
    if described is None and previous.status == CheckStatus.WORKS:
        described = previous
    found: list[Change] = []
    if previous.status != current.status:
        found.append(Change("status", previous.status, current.status,
                            _status_severity(previous.status, current.status)))
    if previous.host != current.host:
        found.append(Change("host", previous.host, current.host, Severity.WARNING))
    if previous.key_kind and current.key_kind and previous.key_kind != current.key_kind:
        found.append(Change("key_kind", previous.key_kind, current.key_kind, Severity.INFO))
    if described is not None and current.status == CheckStatus.WORKS:
        found.extend(_key_changes(described, current))
    if previous.clock_offset_ms is not None and current.clock_offset_ms is not None \
            and abs(current.clock_offset_ms) - abs(previous.clock_offset_ms) >= DRIFT_STEP_MS:
        found.append(Change("clock_offset", offset_words(previous.clock_offset_ms),
                            offset_words(current.clock_offset_ms), Severity.WARNING))
    return tuple(found)


def _key_changes(previous: HistoryEntry, current: HistoryEntry) -> list[Change]:
    """What the exchange said about the key, compared between two checks that read it."""
    found: list[Change] = []
    before, after = set(previous.rights), set(current.rights)
    for right in (*PERMISSIONS, "unknown"):
        if right in after and right not in before:
            severity = (Severity.DANGER if right == "withdraw" else Severity.WARNING
                        if right in ("transfer", "unknown") else Severity.INFO)
            found.append(Change("right", None, right, severity))
        elif right in before and right not in after:
            found.append(Change("right", right, None,
                                Severity.WARNING if right in _NEEDED else Severity.INFO))
    if previous.key_type != current.key_type:
        found.append(Change("key_type", previous.key_type, current.key_type,
                            Severity.WARNING))
    if bool(previous.ip_restricted) != bool(current.ip_restricted):
        found.append(Change("binding", _binding(previous), _binding(current),
                            Severity.INFO if current.ip_restricted else Severity.WARNING))
    elif current.ip_restricted and set(previous.ips or ()) != set(current.ips or ()):
        found.append(Change("addresses", ", ".join(previous.ips or ()),
                            ", ".join(current.ips or ()), Severity.WARNING))
    found.extend(_expiry_change(previous, current))
    return found


def _expiry_change(previous: HistoryEntry, current: HistoryEntry) -> list[Change]:
    before, after = parse_utc(previous.expires_at), parse_utc(current.expires_at)
    if before is None and after is None:
        return []
    if before is None:
        return [Change("expiry", None, current.expires_at, Severity.WARNING)]
    if after is None:
        return [Change("expiry", previous.expires_at, None, Severity.INFO)]
    if current.expiry_rule == "okx-idle-14d" == previous.expiry_rule:
        return []  # counted from each check: it moves by itself
    if after < before - _SAME_EXPIRY:
        return [Change("expiry", previous.expires_at, current.expires_at, Severity.WARNING)]
    if after > before + _SAME_EXPIRY:
        return [Change("expiry", previous.expires_at, current.expires_at, Severity.INFO)]
    return []


def change_words(change: Change) -> str:
    """One change in a few words ("status: failed -> works", "the key gained the withdraw
    right"), for the finding and the report's "Since last check" section."""
    b, a = change.before, change.after
    if change.field == "right":
        return f"the key gained the {a} right" if a else f"the key lost the {b} right"
    if change.field == "expiry":
        if b is None:
            return f"an expiry was set: {(a or '')[:10]}"
        if a is None:
            return f"the expiry ({b[:10]}) is gone"
        nearer = change.severity == Severity.WARNING  # a nearer date is the warning one
        return f"the expiry moved {'nearer' if nearer else 'later'}: {b[:10]} -> {a[:10]}"
    names = {"status": "status", "host": "host", "key_kind": "key kind", "key_type": "key type",
             "binding": "IP binding", "addresses": "bound addresses",
             "clock_offset": "clock offset"}
    return f"{names.get(change.field, change.field)}: {b or 'none'} -> {a or 'none'}"


def change_findings(changes: Sequence[Change], since: str | None) -> list[Finding]:
    """One finding per change, code ``changed-<field>``, dated by the check before."""
    when = f"Since the last check ({since[:16].replace('T', ' ')} UTC)" if since \
        else "Since the last check"
    return [Finding(Severity(c.severity), f"changed-{c.field.replace('_', '-')}",
                    f"{when}: {change_words(c)}.") for c in changes]


def drift_finding(offsets: Sequence[int]) -> Finding | None:
    """A warning when the clock offset has grown away from zero over the last three checks.

    ``offsets``: clock offsets of the checks, oldest first (checks without one left out).
    """
    last = [abs(ms) for ms in offsets[-3:]]
    if len(last) < 3 or not (last[0] < last[1] < last[2]):
        return None
    if last[2] - last[0] < DRIFT_STEP_MS:
        return None
    return Finding(Severity.WARNING, "clock-drift",
                   f"This computer's clock drifts: {offset_words(offsets[-3])}, "
                   f"{offset_words(offsets[-2])}, {offset_words(offsets[-1])} at the last three "
                   "checks. "
                   "Turn on network time sync before exchanges start refusing requests.")

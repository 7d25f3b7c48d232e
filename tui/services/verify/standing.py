"""Every account at a glance, from what is on disk: no network, no secret (``keylink status``).

Each account's last check (the newest history entry, else the one-line record in accounts.json
from before the history existed), with days left to its expiry counted from now, the age of the
check, and what changed at it. ``problems`` lists what ``--strict`` fails on: a failed check, a
danger, an expiry within the warning days, a check older than ``KEYLINK_CHECK_MAX_AGE``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tui.services.core.status import CheckStatus, Severity
from tui.services.core.times import age_words, days_left, parse_utc
from tui.services.store.history import Change, HistoryEntry
from tui.services.store.model import Account
from tui.services.verify.expiry import WARN_DAYS, expiry_severity


@dataclass(frozen=True)
class Standing:
    """One account's line."""

    account: Account
    status: str  # works, locked, failed, or "unchecked"
    worst: str
    checked_at: datetime | None
    age: timedelta | None
    stale: bool
    expires_at: datetime | None
    days_left: int | None
    expired: bool
    changes: tuple[Change, ...]
    problems: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"account": self.account.name, "exchange": self.account.exchange,
                "status": self.status, "worst": self.worst,
                "checked_at": self.checked_at.isoformat() if self.checked_at else None,
                "age_seconds": int(self.age.total_seconds()) if self.age is not None else None,
                "stale": self.stale,
                "expires_at": self.expires_at.isoformat() if self.expires_at else None,
                "days_left": self.days_left, "expired": self.expired,
                "changes": [c.to_json() for c in self.changes],
                "problems": list(self.problems)}


def standing_of(account: Account, entries: Sequence[HistoryEntry], now: datetime, *,
                warn_days: int = WARN_DAYS, max_age: timedelta = timedelta(days=7)) -> Standing:
    """The line for ``account`` from its history (oldest first) and its record."""
    last = entries[-1] if entries else None
    record = account.last_check
    if last is not None:
        status, worst, when = last.status, last.worst, last.checked_at
        expires, changes = last.expires_at, last.changes
    elif record is not None:
        status, worst, when = str(record.outcome), record.worst, record.checked_at
        expires, changes = record.expires_at, ()
    else:
        status, worst, when, expires, changes = "unchecked", "", None, None, ()
    checked_at = parse_utc(when)
    age = now - checked_at if checked_at is not None else None
    stale = age is None or age > max_age
    expires_at = parse_utc(expires)
    left = expired = None
    if expires_at is not None:
        left = days_left(expires_at, now)
        expired = expires_at <= now
    problems: list[str] = []
    if account.removing is not None:
        problems.append("its removal was cut short")
    if status == CheckStatus.FAILED:
        problems.append("the last check failed")
    if worst == Severity.DANGER:
        problems.append("the last check found a danger")
    if expired:
        problems.append("the key's expiry date has passed")
    elif expiry_severity(left, False, warn_days) in (Severity.DANGER, Severity.WARNING):
        problems.append(f"the key lapses within {left} day{'s' if left != 1 else ''}")
    if age is None:
        problems.append("never checked")
    elif stale:
        problems.append(f"last checked {age_words(age)} ago (limit {age_words(max_age)})")
    return Standing(account, status, worst, checked_at, age, stale, expires_at, left,
                    bool(expired), tuple(changes), tuple(problems))


def standings(accounts: Sequence[Account], history: Mapping[str, Sequence[HistoryEntry]],
              now: datetime, **kw: Any) -> list[Standing]:
    return [standing_of(a, history.get(a.id, ()), now, **kw) for a in accounts]

"""Time stamps and ages, in one place: writing keylink's time stamps, reading the ISO times
that keylink and the exchanges write, counting the days left to a moment, and saying how old a
check is in words.

Every layer reads these times (the store's files, an exchange's answer, the access log, the
CLI's ``--since``), and each once had its own near-copy of the parser; they drifted apart (one
strict, one lenient, one that crashed on a number). Here there is one reading and one wording.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

_DAY = 86400
#: How every time in keylink's files is written: UTC, to the second, with "Z".
STAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def utc_stamp(moment: datetime | None = None) -> str:
    """``moment`` (aware; default: now) as keylink writes times: ``2026-12-05T07:50:24Z``.
    One writer, so each file's times stay in the one form every reader takes."""
    return (datetime.now(UTC) if moment is None else moment.astimezone(UTC)).strftime(
        STAMP_FORMAT)


def parse_utc(value: object) -> datetime | None:
    """``value`` as an aware time, or None when it is not one.

    Takes any ISO 8601 form ``datetime.fromisoformat`` reads: keylink's own
    ``2026-12-05T07:50:24Z``, an offset (``+02:00``), fractional seconds, a date alone
    (midnight). A time without a zone is UTC (keylink writes only UTC); a zone given is kept.
    None for None, a non-string (a number in a hand-edited file), an empty string, junk, and a
    time that cannot be placed in UTC (year 1 at +01:00): every caller compares or converts
    what it gets, and that one would raise OverflowError there.
    """
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        moment.astimezone(UTC)
    except OverflowError:
        return None
    return moment


def days_left(moment: datetime, now: datetime) -> int:
    """Whole days from ``now`` to ``moment``, rounded up (a lapse in 3 hours is 1 day); 0 once
    it has passed, so no count is ever negative."""
    return max(0, math.ceil((moment - now).total_seconds() / _DAY))


def age_words(age: timedelta | None, *, ago: bool = False, days: str = "d",
              least_minutes: int = 0) -> str:
    """How old something is, rounded down: minutes under an hour, hours under two days, then
    days. "never" for None (nothing to be old).

    The defaults are the short form of tables and status lines ("3 min", "36 h", "12 d").
    A sentence wants ``days="days"``, ``ago=True`` and ``least_minutes=1`` ("5 min ago",
    "9 days ago"; a check a few seconds old reads "1 min ago", not "0 min ago"). A time in
    the future counts as no age at all.
    """
    if age is None:
        return "never"
    seconds = max(0, int(age.total_seconds()))
    if seconds < 3600:
        text = f"{max(least_minutes, seconds // 60)} min"
    elif seconds < 2 * _DAY:
        text = f"{seconds // 3600} h"
    else:
        text = f"{seconds // _DAY} {days}"
    return f"{text} ago" if ago else text

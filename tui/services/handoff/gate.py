"""Whether a key may be handed over, judged from the account's last check (issue 19).

Verify tells the truth about a key; before this, the hand-off ignored it and a key that could
withdraw, or whose secret was wrong, was copied and run with like any other. Every hand-off (the
app's copy keys and checklist, ``keylink copy``, ``exec`` and ``accounts export-key``) asks
:func:`judge` first. Plain data in, a verdict out: no network, no store, so a screen can ask on
its own thread and the CLI before any passphrase is asked for.

The rules:

- the last check ``failed``, found the withdraw right (the record's ``permissions``; only a
  record from before them is read from its summary's words), or found another ``danger``:
  RISKY. The CLI refuses (``--allow-risky`` goes on), the app asks with "No" as the default;
- never checked, or checked longer ago than ``KEYLINK_CHECK_MAX_AGE``: STALE. The CLI warns and
  goes on (``--check`` checks first), the app offers to check now;
- ``locked`` (a key bound to the terminal's addresses) is never a failure: it is the expected
  answer for a linked key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from tui.services.core.status import CheckStatus, Severity
from tui.services.core.text import clean
from tui.services.core.times import age_words, parse_utc

if TYPE_CHECKING:
    from tui.services.store.model import Account, LastCheck


class Gate(StrEnum):
    """What a hand-off does with a key."""

    #: Checked recently, nothing serious found: hand it over.
    OK = "ok"
    #: Never checked, or not recently: say so and hand it over.
    STALE = "stale"
    #: The last check failed or found a danger: refuse unless the user insists.
    RISKY = "risky"


@dataclass(frozen=True)
class Verdict:
    """The gate's answer for one account, with the words every hand-off shows."""

    gate: Gate
    #: "works", "locked", "failed", or "" when never checked.
    status: str
    #: What made it risky ("the key can withdraw funds", "the last check failed: wrong
    #: secret (10004)"); "" otherwise.
    finding: str
    #: How long ago the last check was (None: never, or its time cannot be read).
    age: timedelta | None
    #: The age limit it was judged against.
    max_age: timedelta

    @property
    def when(self) -> str:
        """"checked 3 days ago", "never checked"."""
        if self.status == "":
            return "never checked"
        if self.age is None:
            return "checked at an unknown time"
        return f"checked {_words(self.age)}"

    def line(self, name: str) -> str:
        """One line for the account ``name`` (outside text, cleaned here): what the last check
        said and when. No advice: the CLI and the app each add their own way on."""
        who = clean(name)
        if self.gate is Gate.RISKY:
            return f"{who}: {self.finding} ({self.when})"
        if self.status == "":
            return f"{who} was never checked"
        if self.age is None:
            return f"{who}: the time of its last check cannot be read"
        return (f"{who} was last checked {_words(self.age)} (more than "
                f"{_words(self.max_age, ago=False)}: {self.status} then)")


def _words(age: timedelta, *, ago: bool = True) -> str:
    """"5 min ago", "3 h ago", "9 days ago" (without "ago": "7 days"): an age in a sentence,
    so whole words for days and never "0 min"."""
    return age_words(age, ago=ago, days="days", least_minutes=1)


def _finding(check: LastCheck) -> str:
    """The words for a risky check. The stored record is a summary: its status, worst severity
    and rights decide; its one-line summary only gives the words shown (a failure's names its
    cause, any other danger is quoted)."""
    summary = clean(check.summary)
    if check.outcome is CheckStatus.FAILED:
        cause = summary.removeprefix("failed:").strip() or "no reason recorded"
        return f"its last check failed: {cause}"
    if "withdraw" in check.rights:
        return "the key can withdraw funds"
    return f"its last check found a danger: {summary}"


def judge(account: Account, max_age: timedelta, *, now: datetime | None = None) -> Verdict:
    """The verdict on ``account``'s last check, as of ``now`` (default: the clock)."""
    check = account.last_check
    if check is None:
        return Verdict(Gate.STALE, "", "", None, max_age)
    status = check.outcome
    when = parse_utc(check.checked_at)
    age = None if when is None else (now or datetime.now(UTC)) - when
    if status is CheckStatus.FAILED or (status is not CheckStatus.LOCKED and (
            check.worst == Severity.DANGER or "withdraw" in check.rights)):
        return Verdict(Gate.RISKY, status, _finding(check), age, max_age)
    if age is None or age > max_age:
        return Verdict(Gate.STALE, status, "", age, max_age)
    return Verdict(Gate.OK, status, "", age, max_age)

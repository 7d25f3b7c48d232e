"""The words a check ends with: its status and the severity of each finding, defined once.

They live here, low in the service layer, because three layers read them: ``verify`` writes them,
the account store keeps them in ``accounts.json`` (``LastCheck``) and the screens and the command
line colour and count by them. The store must not import ``verify``; both may import this.

``StrEnum`` members are ``str``s equal to their values, so ``json.dumps`` writes ``"works"``, a
file written before these types existed reads back the same, and a plain string from such a file
compares equal to the member.
"""

from __future__ import annotations

from enum import StrEnum


class CheckStatus(StrEnum):
    """How a check ended."""

    #: The key answered and its settings were read.
    WORKS = "works"
    #: The key exists, but is bound to other addresses or its rights are hidden from this machine.
    LOCKED = "locked"
    #: No verdict: a network fault, a refusal, a bad answer.
    FAILED = "failed"


class Severity(StrEnum):
    """How serious a finding is, from harmless to serious (the order ``worst`` ranks by)."""

    OK = "ok"
    INFO = "info"
    WARNING = "warning"
    #: The check itself failed: no verdict, not a risk to funds.
    ERROR = "error"
    #: Funds are at risk (a key that can withdraw).
    DANGER = "danger"


#: Severities from harmless to serious, for ranking (``worst``).
SEVERITY_ORDER: tuple[Severity, ...] = tuple(Severity)

"""What a check learned, as data: findings, the error that ended it, and the whole ``KeyReport``.

No network and no exchange call here, only the model that the run fills in and the screens, the
command line and ``accounts.json`` read: its JSON form (``keylink verify --json``), its one-line
summary and the short words for each kind of failure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from tui.services.core.status import SEVERITY_ORDER, CheckStatus, Severity
from tui.services.core.text import plural
from tui.services.exchanges.base import PERMISSIONS, ErrorKind
from tui.services.store.history import Change
from tui.services.verify.expiry import WARN_DAYS


@dataclass(frozen=True)
class Finding:
    """One line of the report: how serious, a stable code, and plain words."""

    severity: Severity
    code: str
    message: str

    def __post_init__(self) -> None:
        # A plain "warning" is accepted and stored as the member; an unknown word is refused here
        # rather than written to accounts.json.
        object.__setattr__(self, "severity", Severity(self.severity))

    def to_json(self) -> dict[str, str]:
        return {"severity": self.severity, "code": self.code, "message": self.message}


def worst(findings: Sequence[Finding]) -> Severity:
    """The most serious severity among ``findings`` ("ok" when there are none)."""
    return max((f.severity for f in findings), key=SEVERITY_ORDER.index, default=Severity.OK)


class FaultKind(StrEnum):
    """Codes for failures that happen before an exchange gets to answer (not exchange codes)."""

    TIMEOUT = "timeout"
    CONNECTION_REFUSED = "connection-refused"
    DNS = "dns-failure"
    TLS = "tls-failure"
    NETWORK = "network-error"
    PROTOCOL = "protocol-error"
    HTTP_STATUS = "http-status"
    #: The same words as the exchanges' own codes for these two: one kind however it is told.
    RATE_LIMITED = ErrorKind.RATE_LIMITED.value
    SERVER_ERROR = ErrorKind.SERVER_ERROR.value
    FORBIDDEN = "http-forbidden"
    BODY_TOO_LARGE = "body-too-large"
    NOT_JSON = "not-json"
    CONTENT_TYPE = "wrong-content-type"
    UNEXPECTED = "unexpected-answer"
    BAD_URL = "bad-url"
    BAD_CREDENTIAL = "bad-credential"


@dataclass(frozen=True)
class ExchangeError:
    """Why verification failed: a code (the exchange's or a ``FaultKind``), words, the fix."""

    code: str
    message: str
    hint: str = ""
    #: Stable classification (an ``ErrorKind`` or ``FaultKind`` value) shared across exchanges.
    kind: ErrorKind | FaultKind = ErrorKind.UNKNOWN
    #: The exchange's own words, trimmed and scrubbed of credentials ("" if none).
    exchange_message: str = ""

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def to_json(self) -> dict[str, str]:
        return {"code": self.code, "kind": self.kind, "message": self.message, "hint": self.hint,
                "exchange_message": self.exchange_message}


def fault(kind: FaultKind, message: str, hint: str = "") -> ExchangeError:
    return ExchangeError(code=kind, message=message, hint=hint, kind=kind)


def http_fault(status: int, kind: FaultKind, message: str, hint: str) -> ExchangeError:
    """A refusal known only by its HTTP status: the status is its code ("429")."""
    return ExchangeError(code=str(status), message=message, hint=hint, kind=kind)



@dataclass(frozen=True)
class KeyReport:
    """Everything one verification learned about a key. Holds no secret."""

    #: True when the key answered (status "works"); kept beside ``status`` for scripts.
    ok: bool
    exchange: str
    host: str
    environment: str
    #: Round trip of the signed key-info call (the last attempt), in ms; None if it never answered.
    latency_ms: int | None
    #: Exchange clock minus local clock, in ms (positive: this computer is behind).
    clock_offset_ms: int | None
    #: Normalised subset of read/trade/transfer/withdraw.
    permissions: frozenset[str] = frozenset()
    raw_permissions: tuple[str, ...] = ()
    read_only: bool | None = None
    ips: tuple[str, ...] = ()
    ip_restricted: bool | None = None
    key_type: str | None = None
    expires_at: datetime | None = None
    days_left: int | None = None
    findings: tuple[Finding, ...] = ()
    error: ExchangeError | None = None
    #: Whether the bound IPs were compared with a terminal whitelist, and the differences.
    whitelist_checked: bool = False
    whitelist_missing: tuple[str, ...] = ()
    whitelist_extra: tuple[str, ...] = ()
    #: True when the first attempt was refused for its timestamp and the retry used server time.
    retried_with_server_time: bool = False
    checked_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    #: "works", "locked" (the key exists but is bound to other addresses, or its rights are
    #: hidden from this key) or "failed". Derived from ``ok`` and ``error`` when not given.
    status: CheckStatus | None = None
    #: The address the exchange says it saw, when its refusal names one (OKX 50110, Binance).
    seen_ip: str | None = None
    unknown_rights: tuple[str, ...] = ()
    #: Binance: when the key's spot/margin trading right lapses (not the key's expiry).
    trading_lapses_at: datetime | None = None
    #: The account is linked to the terminal (or the exchange says the key is): no list compared.
    linked: bool = False
    #: What the secret is and so how requests were signed: "hmac", "ed25519", "rsa-2048"...
    key_kind: str | None = None
    #: A refused key's probe of the exchange's other environments (None when none ran).
    probe: ProbeSummary | None = None
    #: The expiry rule (``verify.expiry.RULES``) that gave ``expires_at``; None when none applies.
    expiry_rule: str | None = None
    #: Expiry this close (days) is a warning; the expiry finding was graded with it.
    warn_days: int = WARN_DAYS
    #: What differs from the account's check before (``verify.changes``), set when the check is
    #: recorded; () on a first check or one that was not recorded.
    changes: tuple[Change, ...] = ()
    #: When the check before this one ran (ISO UTC), None on a first check.
    previous_checked_at: str | None = None
    #: What the key was compared with (an account's check): "compared", "bound-by-exchange"
    #: or "no-list" ("" for a bare key check), the terminal and the list id.
    whitelist_state: str = ""
    whitelist_terminal: str | None = None
    whitelist_list: str | None = None
    #: The list's "next" addresses the key lacks, and the day they take over.
    whitelist_next_missing: tuple[str, ...] = ()
    whitelist_next_date: str = ""

    def __post_init__(self) -> None:
        status = _status_of(self.ok, self.error) if self.status is None else self.status
        object.__setattr__(self, "status", CheckStatus(status))

    @property
    def can_withdraw(self) -> bool:
        return "withdraw" in self.permissions

    @property
    def worst(self) -> Severity:
        """The most serious finding's severity ("ok" when all is well)."""
        return worst(self.findings)

    def summary(self) -> str:
        """One line for an account's last-check record, status first, in plain words."""
        if self.status == CheckStatus.FAILED and self.error is not None:
            return f"failed: {status_words(self.error)}"
        if self.status == CheckStatus.LOCKED and self.error is not None:
            return f"locked: {status_words(self.error)}"
        perms = "+".join(p for p in PERMISSIONS if p in self.permissions) or "none"
        if not self.ip_restricted:
            binding = "no IP binding"
        elif self.ips:
            binding = f"IP-bound ({len(self.ips)})"
        else:
            binding = "IP-bound"
        counts = [plural(n, word) for s, word in ((Severity.DANGER, "problem"),
                                                     (Severity.WARNING, "warning"))
                  if (n := sum(f.severity == s for f in self.findings))]
        return "; ".join([CheckStatus.WORKS, perms, binding, *counts])

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (the `keylink verify --json` output)."""
        return {
            "status": self.status,
            "ok": self.ok,
            "exchange": self.exchange,
            "host": self.host,
            "environment": self.environment,
            "latency_ms": self.latency_ms,
            "clock_offset_ms": self.clock_offset_ms,
            "permissions": [p for p in PERMISSIONS if p in self.permissions],
            "raw_permissions": list(self.raw_permissions),
            "read_only": self.read_only,
            "can_withdraw": self.can_withdraw,
            "ip_restricted": self.ip_restricted,
            "ips": list(self.ips),
            "key_type": self.key_type,
            "key_kind": self.key_kind,
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
            "days_left": self.days_left,
            "trading_lapses_at": (self.trading_lapses_at.isoformat()
                                  if self.trading_lapses_at else None),
            "unknown_rights": list(self.unknown_rights),
            "seen_ip": self.seen_ip,
            "linked": self.linked,
            "whitelist": {"checked": self.whitelist_checked,
                          "missing": list(self.whitelist_missing),
                          "extra": list(self.whitelist_extra),
                          "state": self.whitelist_state or None,
                          "terminal": self.whitelist_terminal,
                          "list": self.whitelist_list,
                          "next_missing": list(self.whitelist_next_missing),
                          "next_date": self.whitelist_next_date or None},
            "worst": self.worst,
            "findings": [f.to_json() for f in self.findings],
            "error": self.error.to_json() if self.error else None,
            "retried_with_server_time": self.retried_with_server_time,
            "checked_at": self.checked_at.isoformat(),
            "belongs_to": self.probe.belongs_json() if self.probe else None,
            "probe": self.probe.to_json() if self.probe else None,
            "expiry": self.expiry_json(),
            "changes": [c.to_json() for c in self.changes],
            "previous_checked_at": self.previous_checked_at,
        }

    def expiry_json(self) -> dict[str, Any] | None:
        """The expiry with its rule and source (None when no rule applies to this key)."""
        from tui.services.verify.expiry import RULES, expiry_severity

        if self.expiry_rule is None or self.expires_at is None:
            return None
        rule = RULES[self.expiry_rule]
        expired = self.expires_at <= self.checked_at
        return {"rule": rule.id, "expires_at": self.expires_at.isoformat(),
                "days_left": self.days_left, "expired": expired,
                "severity": expiry_severity(self.days_left, expired, self.warn_days),
                "source": rule.source, "unclear": rule.unclear or None}


#: Refusals that prove the key exists while its rights cannot be read from here.
LOCKED_KINDS = frozenset({ErrorKind.IP_NOT_ALLOWED, ErrorKind.RIGHTS_HIDDEN})


def _status_of(ok: bool, error: ExchangeError | None) -> CheckStatus:
    if ok:
        return CheckStatus.WORKS
    if error is not None and error.kind in LOCKED_KINDS:
        return CheckStatus.LOCKED
    return CheckStatus.FAILED


#: Short words for the table and the stored last check, by error kind.
_STATUS_WORDS: dict[str, str] = {
    FaultKind.TIMEOUT: "timed out",
    FaultKind.CONNECTION_REFUSED: "connection refused",
    FaultKind.DNS: "host not found",
    FaultKind.TLS: "secure connection failed",
    FaultKind.NETWORK: "network error",
    FaultKind.PROTOCOL: "broken connection",
    FaultKind.HTTP_STATUS: "unexpected HTTP answer",
    FaultKind.FORBIDDEN: "refused this address",
    FaultKind.BODY_TOO_LARGE: "not the exchange's answer",
    FaultKind.NOT_JSON: "not the exchange's answer",
    FaultKind.CONTENT_TYPE: "not the exchange's answer",
    FaultKind.UNEXPECTED: "not the exchange's answer",
    FaultKind.BAD_URL: "bad address",
    FaultKind.BAD_CREDENTIAL: "key cannot be sent",
    ErrorKind.TIMESTAMP: "clock off",
    ErrorKind.IP_NOT_ALLOWED: "bound to other addresses",
    ErrorKind.RIGHTS_HIDDEN: "rights hidden",
    ErrorKind.WRONG_ENVIRONMENT: "wrong environment",
    ErrorKind.INVALID_KEY: "key not found",
    ErrorKind.BAD_SIGNATURE: "wrong secret",
    ErrorKind.BAD_PASSPHRASE: "wrong passphrase",
    ErrorKind.MISSING_CREDENTIAL: "credential missing",
    ErrorKind.PERMISSION_DENIED: "permission denied",
    ErrorKind.RATE_LIMITED: "exchange busy",
    ErrorKind.SERVER_ERROR: "exchange error",
    ErrorKind.KEY_EXPIRED: "key expired",
    ErrorKind.KEY_FROZEN: "key frozen",
    ErrorKind.REGION_BLOCKED: "region blocked",
    ErrorKind.IP_BANNED: "IP banned",
    ErrorKind.REFUSED: "key refused",
    ErrorKind.BAD_REQUEST: "request refused",
    ErrorKind.UNKNOWN: "exchange error",
}


def status_words(error: ExchangeError) -> str:
    """"wrong secret (10004)", "timed out": the words, and the exchange's or HTTP code once."""
    words = _STATUS_WORDS.get(error.kind, "check failed")
    return words if error.code == error.kind else f"{words} ({error.code})"




# -- where a refused key belongs (issue 17; filled by ``verify.probe``) --------------------------


class ProbeOutcome(StrEnum):
    """What one other environment said about the key."""

    #: The key-info call answered: the key is this environment's.
    WORKS = "works"
    #: Refused for a reason that needs the key to exist there (bound to other IPs, wrong secret).
    KNOWN = "known"
    #: The host does not know the key (the same "unknown key" codes as the check itself).
    UNKNOWN = "unknown"
    #: No verdict: no answer in time, a refusal with several causes, anything else.
    UNTOLD = "no-verdict"


@dataclass(frozen=True)
class ProbeAnswer:
    """One host asked by the probe, and what it said (never anything secret)."""

    environment: str
    host: str
    outcome: ProbeOutcome
    #: Short words: "the key works", "key not found (10003)", "timed out".
    detail: str

    def to_json(self) -> dict[str, str]:
        return {"environment": self.environment, "host": self.host, "outcome": self.outcome,
                "detail": self.detail}


@dataclass(frozen=True)
class ProbeSummary:
    """The probe of a refused key: every host asked, and the environment that knows the key."""

    asked: tuple[ProbeAnswer, ...] = ()
    #: The environment (id) that knows the key, or None when none of those asked does.
    belongs_to: str | None = None
    belongs_host: str | None = None
    #: Environments of the exchange that could not be asked, with why ("testnet: no key-info call").
    not_asked: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"asked": [answer.to_json() for answer in self.asked],
                "not_asked": list(self.not_asked)}

    def belongs_json(self) -> dict[str, str] | None:
        if self.belongs_to is None:
            return None
        return {"environment": self.belongs_to, "host": self.belongs_host or ""}

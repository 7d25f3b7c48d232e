"""What a check learned, as data: findings, the error that ended it, and the whole ``KeyReport``.

No network and no exchange call here, only the model that the run fills in and the screens, the
command line and ``accounts.json`` read: its JSON form (``keylink verify --json``), its one-line
summary and the short words for each kind of failure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from tui.services.exchanges.base import PERMISSIONS, ErrorKind

Severity = Literal["ok", "info", "warning", "error", "danger"]
#: Severities from harmless to serious; ``worst`` picks the last one present. "error": the check
#: itself failed; "danger": funds are at risk (a key that can withdraw).
SEVERITIES: tuple[Severity, ...] = ("ok", "info", "warning", "error", "danger")
#: How a check ended: the key answered, the key exists but is bound elsewhere, or no verdict.
Status = Literal["works", "locked", "failed"]
STATUSES: tuple[Status, ...] = ("works", "locked", "failed")


@dataclass(frozen=True)
class Finding:
    """One line of the report: how serious, a stable code, and plain words."""

    severity: Severity
    code: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"severity": self.severity, "code": self.code, "message": self.message}


def worst(findings: Sequence[Finding]) -> Severity:
    """The most serious severity among ``findings`` ("ok" when there are none)."""
    return max((f.severity for f in findings), key=SEVERITIES.index, default="ok")


def plural(n: int, word: str, many: str | None = None) -> str:
    """``1 warning``, ``2 warnings``; ``many`` for irregular plurals (address -> addresses)."""
    return f"{n} {word}" if n == 1 else f"{n} {many or word + 's'}"


class FaultKind:
    """Codes for failures that happen before an exchange gets to answer (not exchange codes)."""

    TIMEOUT = "timeout"
    CONNECTION_REFUSED = "connection-refused"
    DNS = "dns-failure"
    TLS = "tls-failure"
    NETWORK = "network-error"
    PROTOCOL = "protocol-error"
    HTTP_STATUS = "http-status"
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
    kind: str = ErrorKind.UNKNOWN.value
    #: The exchange's own words, trimmed and scrubbed of credentials ("" if none).
    exchange_message: str = ""

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def to_json(self) -> dict[str, str]:
        return {"code": self.code, "kind": self.kind, "message": self.message, "hint": self.hint,
                "exchange_message": self.exchange_message}


def fault(kind: str, message: str, hint: str = "") -> ExchangeError:
    return ExchangeError(code=kind, message=message, hint=hint, kind=kind)


def http_fault(status: int, kind: str, message: str, hint: str) -> ExchangeError:
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
    status: Status | None = None
    #: The address the exchange says it saw, when its refusal names one (OKX 50110, Binance).
    seen_ip: str | None = None
    unknown_rights: tuple[str, ...] = ()
    #: Binance: when the key's spot/margin trading right lapses (not the key's expiry).
    trading_lapses_at: datetime | None = None
    #: The account is linked to the terminal (or the exchange says the key is): no list compared.
    linked: bool = False
    #: What the secret is and so how requests were signed: "hmac", "ed25519", "rsa-2048"...
    key_kind: str | None = None

    def __post_init__(self) -> None:
        if self.status is None:
            object.__setattr__(self, "status", _status_of(self.ok, self.error))

    @property
    def can_withdraw(self) -> bool:
        return "withdraw" in self.permissions

    @property
    def worst(self) -> Severity:
        """The most serious finding's severity ("ok" when all is well)."""
        return worst(self.findings)

    def summary(self) -> str:
        """One line for an account's last-check record, status first, in plain words."""
        if self.status == "failed" and self.error is not None:
            return f"failed: {status_words(self.error)}"
        if self.status == "locked" and self.error is not None:
            return f"locked: {status_words(self.error)}"
        perms = "+".join(p for p in PERMISSIONS if p in self.permissions) or "none"
        if not self.ip_restricted:
            binding = "no IP binding"
        elif self.ips:
            binding = f"IP-bound ({len(self.ips)})"
        else:
            binding = "IP-bound"
        counts = [plural(n, word) for s, word in (("danger", "problem"), ("warning", "warning"))
                  if (n := sum(f.severity == s for f in self.findings))]
        return "; ".join(["works", perms, binding, *counts])

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
                          "extra": list(self.whitelist_extra)},
            "worst": self.worst,
            "findings": [f.to_json() for f in self.findings],
            "error": self.error.to_json() if self.error else None,
            "retried_with_server_time": self.retried_with_server_time,
            "checked_at": self.checked_at.isoformat(),
        }


#: Refusals that prove the key exists while its rights cannot be read from here.
LOCKED_KINDS = frozenset({ErrorKind.IP_NOT_ALLOWED.value, ErrorKind.RIGHTS_HIDDEN.value})


def _status_of(ok: bool, error: ExchangeError | None) -> Status:
    if ok:
        return "works"
    if error is not None and error.kind in LOCKED_KINDS:
        return "locked"
    return "failed"


#: Short words for the table and the stored last check, by error kind.
_STATUS_WORDS = {
    "timeout": "timed out",
    "connection-refused": "connection refused",
    "dns-failure": "host not found",
    "tls-failure": "secure connection failed",
    "network-error": "network error",
    "protocol-error": "broken connection",
    "http-status": "unexpected HTTP answer",
    "http-forbidden": "refused this address",
    "body-too-large": "not the exchange's answer",
    "not-json": "not the exchange's answer",
    "wrong-content-type": "not the exchange's answer",
    "unexpected-answer": "not the exchange's answer",
    "bad-url": "bad address",
    "bad-credential": "key cannot be sent",
    ErrorKind.TIMESTAMP.value: "clock off",
    ErrorKind.IP_NOT_ALLOWED.value: "bound to other addresses",
    ErrorKind.RIGHTS_HIDDEN.value: "rights hidden",
    ErrorKind.WRONG_ENVIRONMENT.value: "wrong environment",
    ErrorKind.INVALID_KEY.value: "key not found",
    ErrorKind.BAD_SIGNATURE.value: "wrong secret",
    ErrorKind.BAD_PASSPHRASE.value: "wrong passphrase",
    ErrorKind.MISSING_CREDENTIAL.value: "credential missing",
    ErrorKind.PERMISSION_DENIED.value: "permission denied",
    ErrorKind.RATE_LIMITED.value: "exchange busy",
    ErrorKind.SERVER_ERROR.value: "exchange error",
    ErrorKind.KEY_EXPIRED.value: "key expired",
    ErrorKind.KEY_FROZEN.value: "key frozen",
    ErrorKind.REGION_BLOCKED.value: "region blocked",
    ErrorKind.IP_BANNED.value: "IP banned",
    ErrorKind.REFUSED.value: "key refused",
    ErrorKind.BAD_REQUEST.value: "request refused",
    ErrorKind.UNKNOWN.value: "exchange error",
}


def status_words(error: ExchangeError) -> str:
    """"wrong secret (10004)", "timed out": the words, and the exchange's or HTTP code once."""
    words = _STATUS_WORDS.get(error.kind, "check failed")
    return words if error.code == error.kind else f"{words} ({error.code})"



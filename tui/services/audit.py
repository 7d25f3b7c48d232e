"""The audit: what a key's reported settings (or its refusal) mean for linking it to a terminal.

Pure functions from facts to ``Finding``s; ``verify`` gathers the facts over the network.
Finding codes are stable identifiers (scripts match on them); messages are for people.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from tui.services.exchanges.base import ErrorKind, KeyInfo

Severity = Literal["ok", "info", "warning", "danger"]
#: Severities from harmless to serious; ``worst`` picks the last one present.
SEVERITIES: tuple[Severity, ...] = ("ok", "info", "warning", "danger")

#: Expiry closer than this many days is worth a warning.
EXPIRY_WARNING_DAYS = 14
#: Clock offsets beyond this many milliseconds get a warning (Bybit's default window is 5 s,
#: and a second of drift already eats into it).
CLOCK_WARNING_MS = 1000

CLOCK_FIX = (
    "Turn on network time sync: on Linux `timedatectl set-ntp true` (or install chrony), on "
    "macOS System Settings > General > Date & Time > Set time automatically, on Windows "
    "Settings > Time & language > Set time automatically."
)


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


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _listed(addresses: Sequence[str], limit: int = 6) -> str:
    shown = ", ".join(addresses[:limit])
    more = len(addresses) - limit
    return f"{shown} and {more} more" if more > 0 else shown


def key_findings(
    key: KeyInfo,
    *,
    exchange_label: str,
    days_left: int | None,
    whitelist: Sequence[str] | None,
    missing: Sequence[str],
    extra: Sequence[str],
) -> list[Finding]:
    """Findings about a key the exchange described (it answered the key-info call)."""
    found: list[Finding] = []
    if "withdraw" in key.permissions:
        found.append(Finding("danger", "withdraw-enabled",
                             "The key can withdraw funds. No trading terminal needs that: edit the "
                             "key on the exchange and switch Withdraw off (or make a new key)."))
    else:
        found.append(Finding("ok", "no-withdraw", "The key cannot withdraw funds."))

    if key.read_only:
        found.append(Finding("warning", "read-only",
                             "The key is read-only: the terminal will show data but cannot place "
                             "orders. Give it trade permission if you mean to trade."))
    elif "trade" in key.permissions:
        found.append(Finding("ok", "can-trade", "The key can trade (orders and positions)."))

    if key.key_type == "linked":
        found.append(Finding("ok", "linked-app",
                             "The key was created through a third-party app link, so the exchange "
                             "set its IP restriction for the terminal itself."))

    if not key.ip_restricted:
        text = ("The key is not bound to any IP address: whoever gets the key and secret can use "
                "it from anywhere. Bind it to the terminal's addresses.")
        if key.deadline_days is not None:
            text += (f" {exchange_label} disables keys without an IP binding after a while; this "
                     f"one has {_plural(key.deadline_days, 'day')} left.")
        found.append(Finding("warning", "ip-unrestricted", text))
    elif not key.ips:
        found.append(Finding("ok", "ip-restricted", "The key is bound to specific IP addresses."))
        if whitelist:
            found.append(Finding("info", "whitelist-unknown",
                                 f"{exchange_label} does not report which addresses the key is "
                                 "bound to; compare them with the terminal's list by hand."))
    else:
        found.append(Finding("ok", "ip-restricted",
                             f"The key is bound to {_plural(len(key.ips), 'IP address')}."))
        if whitelist:
            if missing:
                found.append(Finding("warning", "whitelist-missing",
                                     f"{_plural(len(missing), 'terminal address')} not bound to "
                                     f"the key (the terminal will be refused from them): "
                                     f"{_listed(missing)}."))
            if extra:
                found.append(Finding("warning", "whitelist-extra",
                                     f"The key is also bound to {_plural(len(extra), 'address')} "
                                     f"outside the terminal's list: {_listed(extra)}. Remove any "
                                     "you do not recognise."))
            if not missing and not extra:
                found.append(Finding("ok", "whitelist-match",
                                     "The key's addresses match the terminal's list exactly."))

    if days_left is not None:
        if days_left < 0:
            found.append(Finding("danger", "expired", "The key has expired: create a new one."))
        elif days_left <= EXPIRY_WARNING_DAYS:
            found.append(Finding("warning", "expiring-soon",
                                 f"The key expires in {_plural(days_left, 'day')}. Binding it to "
                                 "IP addresses (or a new key) avoids the interruption."))
    return found


def clock_findings(offset_ms: int | None) -> list[Finding]:
    """A warning when this computer's clock is more than a second off the exchange's."""
    if offset_ms is None or abs(offset_ms) <= CLOCK_WARNING_MS:
        return []
    direction = "behind" if offset_ms > 0 else "ahead of"
    return [Finding("warning", "clock-skew",
                    f"This computer's clock is {abs(offset_ms) / 1000:.1f} s {direction} the "
                    f"exchange's. Exchanges refuse signed requests once the gap passes their "
                    f"limit (a few seconds). {CLOCK_FIX}")]


#: How serious a refusal is: a key bound to other addresses is the expected state for a
#: terminal key; faults of the network or the exchange say nothing bad about the key.
_ERROR_SEVERITY: dict[str, Severity] = {
    ErrorKind.IP_NOT_ALLOWED: "info",
    ErrorKind.WRONG_ENVIRONMENT: "warning",
    ErrorKind.RATE_LIMITED: "warning",
    ErrorKind.SERVER_ERROR: "warning",
    ErrorKind.TIMESTAMP: "warning",
    ErrorKind.BAD_REQUEST: "warning",
    ErrorKind.UNKNOWN: "warning",
    ErrorKind.INVALID_KEY: "danger",
    ErrorKind.BAD_SIGNATURE: "danger",
    ErrorKind.BAD_PASSPHRASE: "danger",
    ErrorKind.MISSING_CREDENTIAL: "danger",
    ErrorKind.PERMISSION_DENIED: "danger",
    ErrorKind.KEY_EXPIRED: "danger",
    ErrorKind.KEY_FROZEN: "danger",
    ErrorKind.REGION_BLOCKED: "danger",
    # verify's own check: a key or passphrase that cannot even be sent.
    "bad-credential": "danger",
}


def error_finding(kind: str, message: str, hint: str) -> Finding:
    """The finding that stands for a failed verification (network fault or exchange refusal)."""
    severity = _ERROR_SEVERITY.get(kind, "warning")
    text = f"{message} {hint}".strip()
    return Finding(severity, kind, text)

"""When a key lapses, by each exchange's rule, as data with its source.

Why rules and not one field: each exchange says it differently. Bybit counts down (``deadlineDay``)
for keys with no IP bound, and may set one on a bound key after a password change; OKX disables an
unbound trading key after 14 days unused, and sends no date at all. Each rule names its source and,
where the documentation leaves a question open, says so (``unclear``), so the user sees what keylink
assumed. Binance's ``tradingAuthorityExpirationTime`` is not here: it lifts a right, not the key
(FACTS section 4), and has its own finding. Bitget documents no expiry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from tui.services.core.status import Severity
from tui.services.core.times import days_left
from tui.services.exchanges.base import KeyInfo

#: Expiry this close (days) is a warning by default (``--warn-days`` changes it).
WARN_DAYS = 14
#: Expiry this close (days), or past, is a danger: the terminal stops when the key lapses.
DANGER_DAYS = 3


@dataclass(frozen=True)
class ExpiryRule:
    """One exchange's documented way a key lapses."""

    id: str
    exchange: str
    #: What the rule says, in plain words (shown in the report).
    words: str
    source: str
    #: What the documentation leaves open and what keylink assumes ("" when nothing).
    unclear: str = ""


RULES: dict[str, ExpiryRule] = {rule.id: rule for rule in (
    ExpiryRule(
        "bybit-unbound-90d", "bybit",
        "Bybit disables a key with no IP bound after 90 days; its deadlineDay counts the days "
        "left, and saving the key again on Bybit restarts the count.",
        "bybit-exchange/docs docs/v5/user/apikey-info.mdx (deadlineDay, expiredAt); "
        "keylink FACTS.md sections 1 and 4",
        "Bybit's own example pairs a deadlineDay with an expiredAt already past, so keylink "
        "counts from deadlineDay when there is one and reads expiredAt only without it."),
    ExpiryRule(
        "bybit-bound-deadline", "bybit",
        "Bybit set an expiry on this IP-bound key (it does so after the account password is "
        "changed).",
        "bybit-exchange/docs docs/v5/user/apikey-info.mdx; keylink FACTS.md section 9",
        "The field list says deadlineDay is only for unbound keys, the password-change note "
        "says a bound key can carry it too; keylink reads deadlineDay (days left) first and "
        "expiredAt second, on any key."),
    ExpiryRule(
        "okx-idle-14d", "okx",
        "OKX disables a key with trade or withdraw rights and no IP bound after 14 days "
        "without use (demo keys never).",
        "okx.com API docs, API key management; keylink FACTS.md section 1",
        "OKX does not say whether a read-only call such as this check counts as use; keylink "
        "counts the 14 days from this check, so the key may lapse sooner if nothing has used "
        "it for trading."),
)}


@dataclass(frozen=True)
class Expiry:
    """A key's lapse date by one rule."""

    rule: str
    expires_at: datetime

    def days_left(self, now: datetime) -> int:
        """Whole days left, rounded up (a lapse in 3 hours is 1 day); 0 once past."""
        return days_left(self.expires_at, now)

    def expired(self, now: datetime) -> bool:
        return self.expires_at <= now


def expiry_severity(days_left: int | None, expired: bool, warn_days: int = WARN_DAYS) -> Severity:
    """Danger at ``DANGER_DAYS`` or fewer (or past), warning within ``warn_days``, else info."""
    if days_left is None:
        return Severity.OK
    if expired or days_left <= DANGER_DAYS:
        return Severity.DANGER
    if days_left <= warn_days:
        return Severity.WARNING
    return Severity.INFO


def expiry_of(exchange_id: str, key: KeyInfo, now: datetime,
              environment: str = "mainnet") -> Expiry | None:
    """The key's lapse by its exchange's rule, or None when no rule applies to it."""
    if exchange_id == "bybit":
        rule = "bybit-bound-deadline" if key.ip_restricted else "bybit-unbound-90d"
        if key.deadline_days is not None:
            return Expiry(rule, now + timedelta(days=key.deadline_days))
        if key.expires_at is not None:
            # Without a deadlineDay, expiredAt is all there is; a past one still answering is
            # reported as lapsed (it may stop any moment).
            return Expiry(rule, key.expires_at)
        return None
    if exchange_id == "okx" and key.idle_expiry_days is not None \
            and environment not in ("demo", "eea-demo"):
        return Expiry("okx-idle-14d", now + timedelta(days=key.idle_expiry_days))
    return None

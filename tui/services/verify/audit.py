"""The audit: what a key's reported settings (or its refusal) mean for linking it to a terminal.

Pure functions from facts to ``Finding``s; ``run`` gathers the facts over the network.
Finding codes are stable identifiers (scripts match on them); messages are for people.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from tui.services.core.status import Severity
from tui.services.core.text import plural
from tui.services.core.times import days_left
from tui.services.exchanges.base import KeyInfo
from tui.services.verify.expiry import RULES, WARN_DAYS, expiry_of, expiry_severity
from tui.services.verify.report import Finding

#: Expiry closer than this many days is worth a warning (``keylink verify --warn-days``).
EXPIRY_WARNING_DAYS = WARN_DAYS
#: Clock offsets beyond this many milliseconds get a warning (Bybit's default window is 5 s,
#: and a second of drift already eats into it).
CLOCK_WARNING_MS = 1000

CLOCK_FIX = (
    "Turn on network time sync: on Linux `timedatectl set-ntp true` (or install chrony), on "
    "macOS System Settings > General > Date & Time > Set time automatically, on Windows "
    "Settings > Time & language > Set time automatically."
)


def _listed(addresses: Sequence[str], limit: int = 6) -> str:
    shown = ", ".join(addresses[:limit])
    more = len(addresses) - limit
    return f"{shown} and {more} more" if more > 0 else shown


def _date(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d")


def _in_days(days: int) -> str:
    return "within a day" if days <= 1 else f"in {days} days"


def key_findings(
    key: KeyInfo,
    *,
    exchange_label: str,
    now: datetime,
    environment: str = "mainnet",
    linked: bool = False,
    whitelist: Sequence[str] | None = None,
    missing: Sequence[str] = (),
    extra: Sequence[str] = (),
    exchange_id: str = "",
    warn_days: int = EXPIRY_WARNING_DAYS,
) -> list[Finding]:
    """Findings about a key the exchange described (it answered the key-info call).

    ``exchange_id`` picks the expiry rule (default: the label in lower case, which is the id of
    every exchange keylink knows); ``warn_days``: expiry this close is a warning.

    ``linked``: the key is linked to the terminal (the exchange manages its addresses), so its
    bound addresses are not compared with a list.
    """
    found: list[Finding] = []
    rights = key.permissions
    if "withdraw" in rights:
        found.append(Finding(Severity.DANGER, "withdraw-enabled",
                             "The key can withdraw funds. No trading terminal needs that: edit the "
                             "key on the exchange and switch Withdraw off (or make a new key)."))
    elif "unknown" in rights:
        found.append(Finding(Severity.WARNING, "unknown-rights",
                             f"Other rights: {other_rights(key)}. keylink cannot tell whether "
                             f"they move funds: check them on {exchange_label} before linking "
                             "the key."))
    else:
        found.append(Finding(Severity.OK, "no-withdraw", "The key cannot withdraw funds."))
    if "withdraw" in rights and "unknown" in rights:
        found.append(Finding(Severity.WARNING, "unknown-rights",
                             f"Other rights: {other_rights(key)}; check them on "
                             f"{exchange_label}."))
    if "transfer" in rights:
        found.append(Finding(Severity.INFO, "can-transfer",
                             "The key can move funds between your own accounts (not off the "
                             "exchange). A terminal rarely needs that."))

    if "trade" in rights:
        found.append(Finding(Severity.OK, "can-trade", "The key can trade (orders and positions)."))
    else:
        found.append(Finding(Severity.WARNING, "cannot-trade",
                             "The key has no trading right: the terminal can show data but "
                             "cannot place orders with it. Give it trade permission if you mean "
                             "to trade."))

    if key.key_type == "linked":
        found.append(Finding(Severity.OK, "linked-app",
                             "The key was created through a third-party app link, so the exchange "
                             "set its IP restriction for the terminal itself."))
    linked = linked or key.key_type == "linked"

    if not key.ip_restricted:
        found.append(Finding(Severity.WARNING, "ip-unrestricted",
                             "The key is not bound to any IP address: whoever gets the key and "
                             "secret can use it from anywhere. Bind it to the terminal's "
                             "addresses."))
    elif not key.ips:
        found.append(Finding(Severity.OK, "ip-restricted",
                             "The key is bound to specific IP addresses."))
        if whitelist and not linked:
            found.append(Finding(Severity.INFO, "whitelist-unknown",
                                 f"{exchange_label} does not report which addresses the key is "
                                 "bound to; compare them with the terminal's list by hand."))
    else:
        entries = plural(len(key.ips), "address entry", "address entries")
        found.append(Finding(Severity.OK, "ip-restricted", f"The key is bound to {entries}."))
        if whitelist and not linked:
            if missing:
                count = plural(len(missing), "terminal address", "terminal addresses")
                verb = "is" if len(missing) == 1 else "are"
                found.append(Finding(Severity.WARNING, "whitelist-missing",
                                     f"{count} {verb} not covered by the key's bound addresses "
                                     f"(the terminal will be refused from them): "
                                     f"{_listed(missing)}."))
            if extra:
                count = plural(len(extra), "entry", "entries")
                verb = "covers" if len(extra) == 1 else "cover"
                found.append(Finding(Severity.WARNING, "whitelist-extra",
                                     f"The key is also bound to {count} that {verb} no terminal "
                                     f"address: {_listed(extra)}. Remove any you do not "
                                     "recognise."))
            if not missing and not extra:
                found.append(Finding(Severity.OK, "whitelist-match",
                                     "The key's bound addresses cover the terminal's list and "
                                     "nothing else."))
    found.extend(_expiry_findings(key, exchange_label, now, environment, exchange_id,
                                  warn_days))
    return found


def _expiry_findings(key: KeyInfo, label: str, now: datetime, environment: str,
                     exchange_id: str = "", warn_days: int = EXPIRY_WARNING_DAYS) -> list[Finding]:
    found: list[Finding] = []
    # The exchange's rule (verify.expiry, each with its source) gives the date; the count and
    # the severity follow from it: danger within 3 days or past, warning within ``warn_days``.
    expiry = expiry_of(exchange_id or label.lower(), key, now, environment)
    if expiry is not None:
        rule = RULES[expiry.rule]
        days = expiry.days_left(now)
        severity = expiry_severity(days, expiry.expired(now), warn_days)
        if expiry.expired(now):
            # The key answered, so it still works today; never a negative count.
            found.append(Finding(severity, "expired",
                                 f"{label} says this key lapsed on {_date(expiry.expires_at)}, "
                                 "yet it still answered. Bind it to the terminal's addresses, "
                                 "or create a new key if it stops working."))
        elif expiry.rule == "okx-idle-14d":
            found.append(Finding(severity, "idle-expiry",
                                 f"{label} disables a key with trade or withdraw rights and no "
                                 f"IP bound after {key.idle_expiry_days} days without use: "
                                 f"this one by {_date(expiry.expires_at)} at the latest if "
                                 "nothing uses it. Bind it to the terminal's addresses to keep "
                                 "it."))
        else:
            text = (f"{rule.words} This one lapses {_in_days(days)} "
                    f"({_date(expiry.expires_at)}).")
            if rule.id == "bybit-unbound-90d":
                text += " Binding it to the terminal's addresses keeps it."
            found.append(Finding(severity, "expiring", text))
    lapse = key.trading_lapses_at
    if lapse is not None:
        if lapse <= now:
            found.append(Finding(Severity.WARNING, "trading-lapsed",
                                 f"{label} lifted this key's spot and margin trading right on "
                                 f"{_date(lapse)} because the key is not bound to IP addresses. "
                                 "The key still works; bind it to the terminal's addresses to "
                                 "restore trading (no new key is needed)."))
        else:
            found.append(Finding(Severity.WARNING, "trading-lapses",
                                 f"{label} lifts this key's spot and margin trading right "
                                 f"{_in_days(days_left(lapse, now))} ({_date(lapse)}) because "
                                 "the key is not bound to IP addresses. Bind it to the "
                                 "terminal's addresses to keep trading (no new key is "
                                 "needed)."))
    return found


def clock_findings(offset_ms: int | None) -> list[Finding]:
    """A warning when this computer's clock is more than a second off the exchange's."""
    if offset_ms is None or abs(offset_ms) <= CLOCK_WARNING_MS:
        return []
    direction = "behind" if offset_ms > 0 else "ahead of"
    return [Finding(Severity.WARNING, "clock-skew",
                    f"This computer's clock is {abs(offset_ms) / 1000:.1f} s {direction} the "
                    f"exchange's. Exchanges refuse signed requests once the gap passes their "
                    f"limit (a few seconds). {CLOCK_FIX}")]


def other_rights(key: KeyInfo) -> str:
    """The rights keylink cannot place, by the exchange's own group names ("BitCard", once per
    group), each with what its table says about it, if anything."""
    notes = dict(key.rights_notes)
    groups = dict.fromkeys(name.split(":", 1)[0] for name in key.unknown_rights)
    shown = [f"{group} ({notes[group]})" if group in notes else group for group in groups]
    return ", ".join(shown) or "not named"


def error_finding(kind: str, message: str, hint: str) -> Finding:
    """The finding that stands for a failed check (network fault or exchange refusal).

    Always "error": it says the check could not give a verdict, not that funds are at risk.
    """
    return Finding(Severity.ERROR, kind, f"{message} {hint}".strip())


def locked_findings(*, exchange_label: str, message: str, hint: str, code: str,
                    seen_ip: str | None, expected: bool, hidden_rights: bool) -> list[Finding]:
    """What a ``locked`` answer proves and what it does not (FACTS section 7).

    ``expected``: the account is linked to the terminal or bound to a terminal's list, so a
    refusal from this machine is the key doing its job.
    """
    seen = f" It saw this machine as {seen_ip}." if seen_ip else ""
    if hidden_rights:
        return [Finding(Severity.WARNING, code, f"{message} {hint}".strip())]
    if expected:
        lead = Finding(Severity.INFO, code,
                       f"{message}{seen} That is what a key linked to the terminal (or bound to "
                       "its addresses) should do.")
    else:
        lead = Finding(Severity.WARNING, code,
                       f"{message}{seen} This account is not set to a terminal's list: if you "
                       "did not bind the key yourself, check its addresses on "
                       f"{exchange_label}.")
    return [lead,
            Finding(Severity.INFO, "locked-proves",
                    "This proves the key exists and its IP restriction works. It does not prove "
                    f"the secret is right ({exchange_label} may check the address first), and "
                    "the key's rights cannot be read from here, so keylink cannot tell whether "
                    "it can withdraw."),
            Finding(Severity.INFO, "locked-next", hint)]

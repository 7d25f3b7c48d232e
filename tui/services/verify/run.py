"""One key's check: time sync, the signed key-info call and the audit, folded into a ``KeyReport``.

``verify_key`` never raises for network or exchange trouble: timeouts, refused connections, DNS and
TLS failures, 5xx, rate limits, junk or oversized bodies all become a report with ``ok=False`` and
an ``error``. No secret, signature or auth header ever reaches a message: texts are ours, and what
the exchange says is scrubbed of anything credential-derived before it is shown.

The jobs sit in their own modules: ``report`` (the model), ``transport`` (the wire), ``answers``
(what an answer means), ``audit`` (what the key's settings mean). This one orders them and checks
what can be refused before any request. httpx stays out of the import: see ``transport``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from tui.services.core.status import CheckStatus, Severity
from tui.services.exchanges import exchange
from tui.services.exchanges.base import CredentialsLike, ErrorKind, ExchangeInfo, KeyInfo
from tui.services.exchanges.environments import find as find_environment
from tui.services.exchanges.environments import replaced as registry_replaced
from tui.services.terminals.catalogue import LINKED
from tui.services.verify.answers import Scrubber, clock_offset, ip_in_message, read_answer
from tui.services.verify.audit import (
    CLOCK_FIX,
    clock_findings,
    error_finding,
    key_findings,
    locked_findings,
)
from tui.services.verify.expiry import WARN_DAYS, expiry_of
from tui.services.verify.probe import PROBE_CODES, WarmHosts, should_probe
from tui.services.verify.probe import findings as probe_findings
from tui.services.verify.probe import probe as run_probe
from tui.services.verify.report import (
    LOCKED_KINDS,
    ExchangeError,
    FaultKind,
    Finding,
    KeyReport,
    ProbeSummary,
    fault,
)
from tui.services.verify.transport import (
    Call,
    bounded_get,
    host_of,
    now_ms,
    open_client,
    plain_http_elsewhere,
)

if TYPE_CHECKING:
    import httpx


def _unsendable_credential(creds: CredentialsLike) -> ExchangeError | None:
    """Key and passphrase travel in headers, the secret is signed with: refuse what cannot be,
    before any request.

    Checked here rather than left to httpx because its header errors (and httpcore's debug log)
    would quote the offending value. The secret itself is never sent, only its signature.
    """
    for label, value in (("API key", creds.api_key), ("passphrase", creds.passphrase)):
        if any(not (33 <= ord(ch) <= 126) for ch in value):
            return fault(FaultKind.BAD_CREDENTIAL,
                         f"The {label} contains spaces, line breaks or non-ASCII characters, so "
                         "it cannot be sent to the exchange.",
                         "Paste it again from the exchange; a bad paste is the usual cause.")
    try:  # signing encodes the secret; the encoder's error would quote the offending character
        creds.secret.encode("utf-8")
    except UnicodeEncodeError:
        return fault(FaultKind.BAD_CREDENTIAL,
                     "The API secret contains bytes that are not text, so it cannot be used.",
                     "Paste it again from the exchange; a bad paste is the usual cause.")
    return None


def _key_kind(info: ExchangeInfo, secret: str) -> tuple[str | None, ExchangeError | None]:
    """The secret's kind ("hmac", "ed25519", "rsa-2048") and, before any request, why it cannot
    sign for this exchange (an unreadable PEM, a kind or size the exchange does not take)."""
    from tui.services.keys import keypairs

    if not keypairs.is_pem_secret(secret):
        return keypairs.HMAC, None
    try:
        kind = keypairs.kind_of_secret(secret)
    except keypairs.KeyPemError as exc:
        return None, fault(FaultKind.BAD_CREDENTIAL, str(exc),
                           "Save the account again with the private key copied whole.")
    problem = info.kind_problem(kind.kind, kind.bits)
    if problem is not None:
        return kind.id, fault(FaultKind.BAD_CREDENTIAL, problem,
                              f"Use a key kind {info.label} takes for this account.")
    return kind.id, None




def compare_bound(terminal: Sequence[str], bound: Sequence[str]) -> tuple[tuple[str, ...],
                                                                           tuple[str, ...]]:
    """Terminal entries no bound entry contains, and bound entries that overlap none of them.

    Exchanges accept networks (OKX: ``18.160.0.0/12``) and IPv6 as bound entries, and a served
    list may hold ranges (3Commas: ``103.26.9.0/24``), so entries on both sides are read as
    networks and compared by containment, not as strings: a terminal range is covered only by a
    bound entry that holds all of it. An entry that is neither an address nor a network covers
    nothing and is reported as extra, as written. ValueError if a terminal entry is neither.
    """
    import ipaddress

    wanted = [(text, ipaddress.ip_network(text.strip(), strict=False)) for text in terminal]
    networks: list[tuple[str, ipaddress.IPv4Network | ipaddress.IPv6Network | None]] = []
    for entry in bound:
        try:
            networks.append((entry, ipaddress.ip_network(entry.strip(), strict=False)))
        except ValueError:
            networks.append((entry, None))

    def covers(outer: Any, inner: Any) -> bool:
        return outer is not None and outer.version == inner.version and inner.subnet_of(outer)

    def touches(outer: Any, inner: Any) -> bool:
        return outer is not None and outer.version == inner.version and outer.overlaps(inner)

    missing = tuple(text for text, net in wanted
                    if not any(covers(bound_net, net) for _e, bound_net in networks))
    extra = tuple(entry for entry, net in networks
                  if not any(touches(net, want) for _t, want in wanted))
    return missing, extra


async def verify_key(
    exchange_id: str,
    base_url: str,
    creds: CredentialsLike,
    *,
    environment: str = "mainnet",
    whitelist: Sequence[str] | None = None,
    linked: bool = False,
    connect_timeout: float = 5.0,
    read_timeout: float = 10.0,
    transport: httpx.AsyncBaseTransport | None = None,
    probe: bool = True,
    probe_early: bool = False,
    probe_warm: bool = True,
    warn_days: int = WARN_DAYS,
) -> KeyReport:
    """Check a key against its exchange and audit it.

    The public time call and the signed key-info call run concurrently; a timestamp refusal is
    retried once with the measured server offset. ``whitelist`` (the terminal's addresses) is
    compared with the key's bound IPs by containment; ``linked`` (the key is linked to the
    terminal, which manages its addresses) skips that comparison. Both make a refusal from this
    machine for its address (``locked``) the expected outcome. Each call, body included, ends within
    ``connect_timeout + read_timeout`` seconds. ``warn_days``: an expiry this close is a warning.
    Raises KeyError only for an unknown ``exchange_id``.

    ``probe``: when the answer means "this host does not know this key" and ``base_url`` is the
    registry's host for ``environment`` (never for a custom URL), ask the exchange's other
    environments where the key belongs (``verify.probe``), within what is left of that limit.
    ``probe_early`` (the last check of this key was such a refusal, so its probe already sent
    the key to those hosts): ask them at the same time as the check, and drop their answers if
    the check works after all. ``probe_warm`` (the key is not known to work here: never checked,
    or its last check failed): open connections to those hosts beside the check with their
    public time call, no key sent (``verify.probe.WarmHosts``), so a probe costs one round trip.
    """
    check_started = time.monotonic()
    info = exchange(exchange_id)
    api = info.api
    if api is None:
        raise KeyError(f"{info.label} has no verification support")
    registered = find_environment(info.id, environment)
    # A custom environment (or a name the registry lacks): plain requests to the given URL.
    env_headers = registered.headers if registered is not None else ()
    host = host_of(base_url)
    base_report = {"exchange": info.id, "environment": environment, "latency_ms": None,
                   "clock_offset_ms": None}
    if host is None:
        error = fault(FaultKind.BAD_URL, "The exchange address must start with https:// (or "
                      "http:// for a local test server) and name a host.",
                      "Fix the account's API address.")
        # Never echo a user:password@ part of a mistyped URL.
        shown = base_url.strip().rsplit("@", 1)[-1][:80]
        return _failed_report(error, host=shown, **base_report)
    if plain_http_elsewhere(base_url):
        error = fault(FaultKind.BAD_URL, f"The account's address sends the key unencrypted "
                      f"(http://) to {host}. keylink only uses plain http for a test server on "
                      "this machine.",
                      "Change the account's API address to https://.")
        return _failed_report(error, host=host, **base_report)

    if registered is not None and not registered.checkable:
        error = fault(FaultKind.BAD_URL, f"keylink cannot check keys of {info.label} "
                      f"{registered.label}: {registered.note or 'it has no key-info call'}",
                      "Check the key on the exchange's own page instead.")
        return _failed_report(error, host=host, **base_report)

    unsendable = _unsendable_credential(creds)
    if unsendable is not None:
        return _failed_report(unsendable, host=host, **base_report)
    # Reading an RSA key costs tens of ms (hundreds for 4096 bits): off the caller's event loop,
    # which in the app is the UI's.
    asymmetric = "-----BEGIN" in creds.secret
    kind, kind_error = (await asyncio.to_thread(_key_kind, info, creds.secret) if asymmetric
                        else _key_kind(info, creds.secret))
    base_report["key_kind"] = kind
    if kind_error is not None:
        return _failed_report(kind_error, host=host, **base_report)
    scrub = Scrubber(creds)
    deadline_s = connect_timeout + read_timeout
    may_probe = probe and registered is not None and _same_url(registered.base_url, base_url)
    early = (asyncio.create_task(run_probe(info, environment, creds, offset_ms=None,
                                           budget_s=deadline_s, connect_timeout=connect_timeout,
                                           transport=transport, scrub=scrub))
             if may_probe and probe_early else None)
    warm = (WarmHosts(info, environment, connect_timeout=connect_timeout,
                      read_timeout=read_timeout, transport=transport).start()
            if may_probe and probe_warm and early is None else None)
    try:
        return await _check(info, base_url, creds, host=host, environment=environment,
                            env_headers=env_headers, whitelist=whitelist, linked=linked,
                            connect_timeout=connect_timeout, read_timeout=read_timeout,
                            transport=transport, asymmetric=asymmetric, scrub=scrub,
                            base_report=base_report, may_probe=may_probe, early=early,
                            warm=warm, check_started=check_started, warn_days=warn_days)
    finally:
        if early is not None and not early.done():  # the check worked, or ended otherwise
            early.cancel()
            await asyncio.gather(early, return_exceptions=True)
        if warm is not None:
            await warm.close()


async def _check(info: ExchangeInfo, base_url: str, creds: CredentialsLike, *, host: str,
                 environment: str, env_headers: Sequence[tuple[str, str]],
                 whitelist: Sequence[str] | None, linked: bool, connect_timeout: float,
                 read_timeout: float, transport: httpx.AsyncBaseTransport | None,
                 asymmetric: bool, scrub: Scrubber, base_report: dict[str, Any],
                 may_probe: bool, early: asyncio.Task[ProbeSummary | None] | None,
                 check_started: float, warn_days: int = WARN_DAYS,
                 warm: WarmHosts | None = None) -> KeyReport:
    """The requests of ``verify_key`` and what their answers mean (see there)."""
    api = info.api
    assert api is not None
    deadline_s = connect_timeout + read_timeout

    async def signed_call(timestamp_ms: int) -> Call:
        request = (await asyncio.to_thread(api.sign_key_info, creds, timestamp_ms) if asymmetric
                   else api.sign_key_info(creds, timestamp_ms))
        scrub.add(*request.sensitive)
        return await bounded_get(client, request.path, request.headers, host, "key check",
                                 deadline_s)

    async with open_client(base_url, env_headers, connect_timeout=connect_timeout,
                           read_timeout=read_timeout, transport=transport) as client:
        time_call, key_call = await asyncio.gather(
            bounded_get(client, api.time_path, (), host, "server time", deadline_s),
            signed_call(int(now_ms())),
        )
        offset = clock_offset(api, info, time_call, host, scrub)
        reply, error = read_answer(api, info, key_call, host, scrub)
        retried = False
        if error is not None and error.kind == ErrorKind.TIMESTAMP and offset is not None:
            retried = True
            key_call = await signed_call(int(now_ms() + offset))
            reply, error = read_answer(api, info, key_call, host, scrub)

    latency = round(key_call.elapsed_ms) if key_call.fault is None else None
    base_report.update(latency_ms=latency, clock_offset_ms=offset)
    clock = clock_findings(offset)
    if error is None and reply is not None:
        try:
            key = api.parse_key_info(reply.data)
        # Any shape we cannot read; OverflowError/OSError: numbers no date or int can hold.
        except (ValueError, TypeError, AttributeError, KeyError, OverflowError, OSError):
            error = fault(FaultKind.UNEXPECTED,
                          f"{host} answered the key check, but not in {info.label}'s format.",
                          "Check that the address belongs to this exchange; update keylink.")
        else:
            return _key_report(info, key, host, whitelist, linked, environment, clock, retried,
                               base_report, warn_days)
    assert error is not None
    if error.kind in LOCKED_KINDS:
        seen = ip_in_message(error.exchange_message)
        findings = locked_findings(exchange_label=info.label, message=error.message,
                                   hint=error.hint, code=error.kind, seen_ip=seen,
                                   expected=linked or bool(whitelist),
                                   hidden_rights=error.kind == ErrorKind.RIGHTS_HIDDEN)
        return KeyReport(ok=False, host=host, error=error, findings=(*findings, *clock),
                         retried_with_server_time=retried, seen_ip=seen, linked=linked,
                         status=CheckStatus.LOCKED, **base_report)
    if error.kind in (ErrorKind.INVALID_KEY, ErrorKind.WRONG_ENVIRONMENT):
        error = ExchangeError(error.code, f"{error.message} (Checked against {environment} at "
                              f"{host}.)", error.hint, error.kind, error.exchange_message)
    findings = [error_finding(error.kind, error.message, error.hint)]
    summary = None
    if may_probe and should_probe(info.id, error):
        if early is not None:  # asked at the same time as the check, within the same limit
            summary = await early
        else:
            budget = deadline_s - (time.monotonic() - check_started)
            summary = await run_probe(info, environment, creds, offset_ms=offset,
                                      budget_s=budget, connect_timeout=connect_timeout,
                                      transport=transport, scrub=scrub, warm=warm)
        if summary is not None:
            findings += probe_findings(info, environment, summary, error,
                                       info.key_shape.matches(creds.api_key.strip()))
    if error.kind == ErrorKind.TIMESTAMP and not clock and offset is None:
        findings.append(Finding(Severity.INFO, "clock-unknown",
                                "The exchange's time could not be read to measure this "
                                f"computer's clock. {CLOCK_FIX}"))
    seen = ip_in_message(error.exchange_message) if error.kind == ErrorKind.REFUSED else None
    if seen:
        findings.append(Finding(Severity.INFO, "seen-ip",
                                f"{info.label} saw this machine as {seen}."))
    return _failed_report(error, host=host, findings=(*findings, *clock),
                          retried=retried, seen_ip=seen, probe=summary, **base_report)


def _key_report(info: ExchangeInfo, key: KeyInfo, host: str, whitelist: Sequence[str] | None,
                linked: bool, environment: str, clock: list[Finding], retried: bool,
                base: dict[str, Any], warn_days: int = WARN_DAYS) -> KeyReport:
    now = datetime.now(UTC)
    # The key's own lapse by its exchange's rule (verify.expiry); 0 days once past.
    expiry = expiry_of(info.id, key, now, environment)
    days_left = expiry.days_left(now) if expiry is not None else None
    missing: tuple[str, ...] = ()
    extra: tuple[str, ...] = ()
    # A key the exchange itself bound for the terminal (Bybit type 2) is linked whatever the
    # account says: its addresses are the exchange's business, not a list's.
    linked = linked or key.key_type == "linked"
    checked = bool(whitelist) and not linked and bool(key.ips)
    if checked and whitelist:
        try:
            missing, extra = compare_bound(list(whitelist), list(key.ips))
        except ValueError:  # a caller's list with something that is not an address
            checked, whitelist = False, None
    findings = key_findings(key, exchange_label=info.label, now=now, environment=environment,
                            linked=linked, whitelist=whitelist, missing=missing, extra=extra,
                            exchange_id=info.id, warn_days=warn_days)
    if info.api is not None:  # rules only one exchange has (Binance: unrestricted beyond read)
        findings += [Finding(severity, code, message)
                     for severity, code, message in info.api.key_warnings(key)]
    return KeyReport(
        ok=True, host=host, permissions=key.permissions, raw_permissions=key.raw_permissions,
        read_only=key.read_only, ips=key.ips, ip_restricted=key.ip_restricted,
        key_type=key.key_type, days_left=days_left,
        expires_at=expiry.expires_at if expiry is not None else None,
        expiry_rule=expiry.rule if expiry is not None else None, warn_days=warn_days,
        findings=(*findings, *clock), whitelist_checked=checked, whitelist_missing=missing,
        whitelist_extra=extra, retried_with_server_time=retried, checked_at=now,
        status=CheckStatus.WORKS, unknown_rights=key.unknown_rights,
        trading_lapses_at=key.trading_lapses_at, linked=linked, **base,
    )


def _same_url(registry_url: str, base_url: str) -> bool:
    """True when the check went to the registry's own host (not a custom or stale URL)."""
    return registry_url.rstrip("/").lower() == base_url.strip().rstrip("/").lower()


def _failed_report(error: ExchangeError, *, host: str, findings: Sequence[Finding] = (),
                   retried: bool = False, seen_ip: str | None = None,
                   probe: ProbeSummary | None = None, **base: Any) -> KeyReport:
    if not findings:
        findings = [error_finding(error.kind, error.message, error.hint)]
    return KeyReport(ok=False, host=host, error=error, findings=tuple(findings),
                     retried_with_server_time=retried, status=CheckStatus.FAILED,
                     seen_ip=seen_ip, probe=probe, **base)




def account_url(account: Any) -> str | None:
    """The address a saved account is checked at: its environment's host in the registry in
    force (so a registry update or a ``KEYLINK_ENVIRONMENTS`` override takes effect), or the
    saved ``base_url`` for a custom URL and for a name the registry no longer lists (files written
    by an older keylink keep working). None for such a name while an override replaces the
    registry: then only the hosts it lists are used."""
    if account.environment != "custom":
        registered = find_environment(account.exchange, account.environment)
        if registered is not None:
            return registered.base_url
        if registry_replaced():
            return None
    return account.base_url


async def verify_account(account: Any, creds: CredentialsLike,
                         whitelist: Sequence[str] | None = None, **kw: Any) -> KeyReport:
    """``verify_key`` for a saved account (its exchange, address, environment and link).

    ``whitelist`` defaults to what the account's terminal binds keys to on its exchange (the
    catalogue's list as it stands today, or the account's own list); a key the exchange bound
    for the terminal (a link flow) compares no list: its addresses are not shown, so it is
    "bound by the exchange", never "missing" anything.
    """
    linked = getattr(account, "whitelist", None) == LINKED
    target = None
    if whitelist is None:
        from tui.services.terminals.own import BOUND_BY_EXCHANGE, target_for

        target = target_for(account)
        linked = linked or target.state == BOUND_BY_EXCHANGE
        whitelist = target.addresses or None
    url = account_url(account)
    last = getattr(account, "last_check", None)
    # The last check was refused as unknown here, so its probe already asked the other hosts:
    # ask them at once this time (see verify_key).
    kw.setdefault("probe_early", last is not None and last.refused_with(
        PROBE_CODES.get(account.exchange, ())))
    # A key that worked here at its last check is not expected to be elsewhere: no connections
    # to the other environments are opened beside its check (a refusal still probes them).
    kw.setdefault("probe_warm", last is None or not last.ok)
    if url is None:
        error = fault(FaultKind.BAD_URL, f"The environment {account.environment!r} is not in "
                      "the environment list in force (KEYLINK_ENVIRONMENTS replaces keylink's "
                      "own), so keylink does not know where to check this key.",
                      "Add it to that file, or pick another environment for the account.")
        return _failed_report(error, host="", exchange=account.exchange,
                              environment=account.environment, latency_ms=None,
                              clock_offset_ms=None)
    report = await verify_key(account.exchange, url, creds,
                              environment=account.environment, whitelist=whitelist,
                              linked=linked, **kw)
    return report if target is None else with_target(report, target)


def with_target(report: KeyReport, target: Any) -> KeyReport:
    """``report`` with what its key was compared with (terminal, list, state) and the findings
    that only the terminal's list can give: a link the exchange manages, a list not yet known,
    "next" addresses the key lacks within a week of their date."""
    from dataclasses import replace

    from tui.services.terminals.own import BOUND_BY_EXCHANGE, COMPARED, NO_LIST

    state = BOUND_BY_EXCHANGE if report.linked else target.state
    findings = list(report.findings)
    next_missing: tuple[str, ...] = ()
    if report.ok and state == BOUND_BY_EXCHANGE:
        findings.append(Finding(Severity.OK, "whitelist-bound-by-exchange",
                                "The exchange bound this key for the terminal and does not show "
                                "the addresses: not checkable from here, and nothing to add."))
    elif report.ok and state == NO_LIST and target.reason and report.ip_restricted:
        findings.append(Finding(Severity.INFO, "whitelist-not-compared",
                                f"The key's addresses were not compared: {target.reason}."))
    if report.ok and state == COMPARED and target.next and report.ips:
        try:
            next_missing, _extra = compare_bound(list(target.next), list(report.ips))
        except ValueError:
            next_missing = ()
        if next_missing:
            count = len(next_missing)
            findings.append(Finding(
                Severity.WARNING, "whitelist-next-missing",
                f"The terminal's servers change on {target.next_date}: the key lacks "
                f"{count} of the new address{'es' if count != 1 else ''} "
                f"({', '.join(next_missing[:5])}{', …' if count > 5 else ''}). Add them "
                "before that day, or the terminal will be refused."))
    return replace(report, findings=tuple(findings), whitelist_state=state,
                   whitelist_terminal=target.terminal, whitelist_list=target.list_id,
                   whitelist_next_missing=next_missing,
                   whitelist_next_date=target.next_date if target.next else "")

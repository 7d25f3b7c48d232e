"""Where does a refused key belong? Ask the same exchange's other environments.

The most frequent "my key does not work" is a key used on the wrong environment or region: a
testnet or demo key on mainnet, an OKX EEA key on www.okx.com, a Bybit EU key on api.bybit.com
(FACTS §9). When a check's answer means "this host does not know this key" (``PROBE_CODES``),
keylink makes the same read-only key-info call on the exchange's other environments in the
registry and says which one knows the key.

What it never does: ask a host of another exchange (the targets come from this exchange's
registry entries only), ask for a custom URL (a custom account has no registry entry), ask a host
the registry marks ``probe = false`` (Binance.US is a separate exchange; Binance's spot testnet
has no key-info call), or ask two hosts of one key group (they would answer alike). Probes run
concurrently and share what is left of the check's time limit.

The key goes to the other hosts only after a refusal says it must. What can go before is the
connection: while a key not yet known to work is checked, :class:`WarmHosts` opens a connection
to each target with the exchange's public time call (no key, no signature, nothing about the
account), so a probe then costs one round trip instead of a new connection's three (TCP, TLS,
the call). The time each host gives also signs its probe. Closed unused when the check needs no
probe.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

from tui.services.core.status import Severity
from tui.services.exchanges.base import CredentialsLike, ErrorKind, ExchangeInfo
from tui.services.exchanges.environments import Environment
from tui.services.verify.answers import Scrubber, clock_offset, read_answer
from tui.services.verify.report import (
    ExchangeError,
    Finding,
    ProbeAnswer,
    ProbeOutcome,
    ProbeSummary,
    status_words,
)
from tui.services.verify.transport import Call, bounded_get, now_ms, open_client

if TYPE_CHECKING:
    import httpx

#: Per exchange, the codes that mean "this host does not know this key" (FACTS §4 and §9):
#: only these start a probe. Binance -2015 is ambiguous (a key bound to other addresses or
#: without the read right gets it too): the probe is how keylink tells the causes apart.
PROBE_CODES: dict[str, frozenset[str]] = {
    "bybit": frozenset({"10003"}),
    "okx": frozenset({"50101", "50111", "50119"}),
    "bitget": frozenset({"40006", "40037"}),
    "binance": frozenset({"-2014", "-2015"}),
}

#: Refusals that need the key to exist on the host that gives them: the key is known there even
#: though this machine cannot use it as it is (bound to other addresses, another secret).
_KNOWN_KINDS = frozenset({ErrorKind.IP_NOT_ALLOWED, ErrorKind.RIGHTS_HIDDEN,
                          ErrorKind.BAD_SIGNATURE, ErrorKind.BAD_PASSPHRASE,
                          ErrorKind.KEY_EXPIRED, ErrorKind.KEY_FROZEN,
                          ErrorKind.PERMISSION_DENIED})

#: Below this many seconds of the check's time limit left, probing is not started.
MIN_BUDGET_S = 0.2


def should_probe(exchange_id: str, error: ExchangeError | None) -> bool:
    """True when ``error`` is one of the exchange's "this host does not know this key" codes."""
    return error is not None and error.code in PROBE_CODES.get(exchange_id, frozenset())


def targets(info: ExchangeInfo, environment: str) -> tuple[tuple[Environment, ...],
                                                            tuple[str, ...]]:
    """The environments a probe asks for a key refused on ``environment``, and those it cannot
    ask, with why. Empty for a custom URL or a name the registry does not have: keylink asks only
    hosts the registry lists for this very exchange."""
    try:
        current = info.environment(environment)
    except KeyError:
        return (), ()
    chosen: list[Environment] = []
    seen_groups = {current.group}
    not_asked: list[str] = []
    for env in info.environments:
        if env.group in seen_groups:
            continue
        if not env.probe or not env.checkable:
            if env.pickable:  # a separate exchange (Binance.US) is not this exchange's to name
                not_asked.append(f"{env.id}: {env.note or 'not asked'}")
            continue
        seen_groups.add(env.group)
        chosen.append(env)
    return tuple(chosen), tuple(not_asked)


#: The warm-up starts this long after the check's own requests. Where answers come back at
#: the same moment, the check's is then read first: started at once, nine warm-up answers made
#: a working check about 15 ms slower (benchmarks/probe.py's hosts, all 50 ms away); from 3 ms
#: on, no slower. Far less than any round trip to an exchange, so the connections are still
#: open before a refusal comes.
WARM_DELAY_S = 0.005


class WarmHosts:
    """Connections to a probe's targets, opened beside the check with each host's public time
    call (see the module's docstring): one client for all of them, started just after the
    check's own requests (``WARM_DELAY_S``). ``close`` ends whatever is left.

    Each host's name is looked up first in a daemon thread of its own, not in the event loop's
    thread pool where httpx looks names up: a lookup cannot be cancelled, so a slow name server
    for one of nine other hosts would otherwise hold up the app's other thread work (reading a
    secret) and the CLI's exit. A host whose name does not resolve is not warmed (a probe, if
    one is needed, asks it the usual way).
    """

    def __init__(self, info: ExchangeInfo, environment: str, *, connect_timeout: float,
                 read_timeout: float,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._info = info
        self._chosen, _not_asked = targets(info, environment)
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._time_calls: dict[str, asyncio.Task[Call | None]] = {}
        self._opening: asyncio.Task[None] | None = None

    def start(self) -> WarmHosts:
        if self._info.api is not None and self._chosen:
            self._opening = asyncio.create_task(self._open())
        return self

    async def _open(self) -> None:
        await asyncio.sleep(WARM_DELAY_S)  # the check's own requests first
        # No base address: each request names its host (the pool keeps a connection per host).
        self._client = open_client("", (), connect_timeout=self._connect_timeout,
                                   read_timeout=self._read_timeout, transport=self._transport)
        for env in self._chosen:
            self._time_calls[env.id] = asyncio.create_task(self._warm(self._client, env))

    async def _warm(self, client: httpx.AsyncClient, env: Environment) -> Call | None:
        """``env``'s time call once its name resolves (None when it does not)."""
        api = self._info.api
        assert api is not None
        try:
            async with asyncio.timeout(self._connect_timeout):
                resolved = await _resolves(env.base_url)
        except TimeoutError:
            resolved = False
        if not resolved:
            return None
        return await bounded_get(client, _url(env, api.time_path), env.headers, env.host,
                                 f"server time of {env.id}",
                                 self._connect_timeout + self._read_timeout)

    async def connection(self, env_id: str, budget_s: float) -> tuple[httpx.AsyncClient,
                                                                      Call | None] | None:
        """The client that opened ``env_id``'s connection and that host's time answer (None if
        it did not come within ``budget_s``: the connection may still be busy with it, the
        client then opens another). None when no connection was opened for it."""
        if self._opening is None:
            return None
        try:
            async with asyncio.timeout(budget_s):
                await asyncio.shield(self._opening)
                task = self._time_calls.get(env_id)
                if self._client is None or task is None:
                    return None
                call = await asyncio.shield(task)
        except TimeoutError:
            return (self._client, None) if self._client is not None and \
                env_id in self._time_calls else None
        return None if call is None else (self._client, call)

    async def close(self) -> None:
        tasks = [t for t in (self._opening, *self._time_calls.values()) if t is not None]
        for task in tasks:
            task.cancel()
        try:
            await asyncio.gather(*tasks, return_exceptions=True)
        finally:  # also when a second cancellation of the check lands here
            if self._client is not None:
                await self._client.aclose()


async def _resolves(base_url: str) -> bool:
    """Whether ``base_url``'s host name resolves, looked up in a daemon thread (see
    ``WarmHosts``): abandoned by a cancelled check, never waited for at exit."""
    import socket
    import threading
    from urllib.parse import urlsplit

    parts = urlsplit(base_url.strip())
    host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[bool] = loop.create_future()

    def settle(ok: bool) -> None:
        if not answer.done():
            answer.set_result(ok)

    def look_up() -> None:
        try:
            socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            ok = True
        except (OSError, UnicodeError):
            ok = False
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody waits any more
            loop.call_soon_threadsafe(settle, ok)

    threading.Thread(target=look_up, name="keylink-warm-lookup", daemon=True).start()
    return await answer


def _url(env: Environment, path: str) -> str:
    return env.base_url.strip().rstrip("/") + path


def _outcome(error: ExchangeError | None, exchange_id: str) -> tuple[ProbeOutcome, str]:
    if error is None:
        return ProbeOutcome.WORKS, "the key works"
    words = status_words(error)
    if error.kind in _KNOWN_KINDS:
        return ProbeOutcome.KNOWN, f"knows the key ({words})"
    # Binance -2015 also comes for a key bound to other addresses: no verdict from it alone.
    if error.code in PROBE_CODES.get(exchange_id, frozenset()) and error.kind != ErrorKind.REFUSED:
        return ProbeOutcome.UNKNOWN, words
    if error.kind in (ErrorKind.INVALID_KEY, ErrorKind.WRONG_ENVIRONMENT):
        return ProbeOutcome.UNKNOWN, words
    return ProbeOutcome.UNTOLD, words


async def _ask(info: ExchangeInfo, env: Environment, creds: CredentialsLike, scrub: Scrubber,
               offset_ms: int, budget_s: float, connect_timeout: float,
               transport: httpx.AsyncBaseTransport | None,
               warm: WarmHosts | None = None) -> ProbeAnswer:
    api = info.api
    assert api is not None
    loop = asyncio.get_running_loop()
    ends = loop.time() + budget_s
    # Half of what is left at most for the opened connection's time answer: a host whose time
    # call never ends must still leave the probe time for a connection of its own.
    opened = await warm.connection(env.id, budget_s / 2) if warm is not None else None
    if opened is not None and opened[1] is not None:
        # The host's own time signs its probe (its clock may differ from the checked host's).
        own = clock_offset(api, info, opened[1], env.host, scrub)
        offset_ms = own if own is not None else offset_ms
    stamp = int(now_ms() + offset_ms)
    # An RSA key takes tens of ms to sign with: off the event loop (the app's UI loop).
    request = (await asyncio.to_thread(api.sign_key_info, creds, stamp)
               if "-----BEGIN" in creds.secret else api.sign_key_info(creds, stamp))
    scrub.add(*request.sensitive)
    left = max(0.0, ends - loop.time())
    # Over the opened connection's client, or a client of its own: the same request either way.
    async with (contextlib.nullcontext(opened[0]) if opened is not None else
                open_client("", (), connect_timeout=min(connect_timeout, left),
                            read_timeout=left, transport=transport)) as client:
        call = await bounded_get(client, _url(env, request.path),
                                 (*env.headers, *request.headers), env.host,
                                 f"probe of {env.id}", left)
    _reply, error = read_answer(api, info, call, env.host, scrub)
    outcome, detail = _outcome(error, info.id)
    return ProbeAnswer(env.id, env.host, outcome, detail)


async def probe(info: ExchangeInfo, environment: str, creds: CredentialsLike, *,
                offset_ms: int | None, budget_s: float, connect_timeout: float = 5.0,
                transport: httpx.AsyncBaseTransport | None = None,
                scrub: Scrubber | None = None,
                warm: WarmHosts | None = None) -> ProbeSummary | None:
    """Ask every target at once within ``budget_s`` seconds; None when there is nothing to ask
    or no time left. Never raises for network trouble (each answer says what happened).
    ``warm``: connections already opened to the targets (``WarmHosts``), used where there is
    one."""
    chosen, not_asked = targets(info, environment)
    if chosen and budget_s < MIN_BUDGET_S:  # the check itself used up the time limit
        late = tuple(f"{env.id}: no time left in the check" for env in chosen)
        return ProbeSummary(not_asked=(*late, *not_asked))
    if not chosen or info.api is None:
        return ProbeSummary(not_asked=not_asked) if not_asked else None
    scrub = scrub or Scrubber(creds)
    answers = await asyncio.gather(*(
        _ask(info, env, creds, scrub, offset_ms or 0, budget_s, connect_timeout, transport, warm)
        for env in chosen))
    return summarise(answers, not_asked)


def summarise(answers: Sequence[ProbeAnswer], not_asked: Sequence[str] = ()) -> ProbeSummary:
    """The environment that knows the key: one where it works first, else one that knows it."""
    for wanted in (ProbeOutcome.WORKS, ProbeOutcome.KNOWN):
        found = next((a for a in answers if a.outcome == wanted), None)
        if found is not None:
            return ProbeSummary(tuple(answers), found.environment, found.host, tuple(not_asked))
    return ProbeSummary(tuple(answers), None, None, tuple(not_asked))


def switch_command(account_name: str, environment: str) -> str:
    """The CLI command that moves an account to ``environment`` (quoted for a shell)."""
    import shlex

    return f"keylink accounts environment {shlex.quote(account_name)} {shlex.quote(environment)}"


def findings(info: ExchangeInfo, environment: str, summary: ProbeSummary,
             error: ExchangeError, key_shape_ok: bool) -> list[Finding]:
    """What the probe found, in plain words: where the key works, or that no environment asked
    knows it, or (Binance -2015) what cannot be told apart and what to look at on the exchange."""
    out: list[Finding] = []
    asked = ", ".join(f"{a.environment} ({a.host}): {a.detail}" for a in summary.asked)
    if summary.asked:
        out.append(Finding(Severity.INFO, "probe-asked", f"Asked {info.label}'s other "
                           f"environments with the same read-only call: {asked}."))
    if summary.not_asked:
        out.append(Finding(Severity.INFO, "probe-not-asked",
                           "Not asked: " + "; ".join(summary.not_asked)))
    current = _label(info, environment)
    if summary.belongs_to is not None:
        target = _label(info, summary.belongs_to)
        how = next(a for a in summary.asked if a.environment == summary.belongs_to)
        known = "" if how.outcome == ProbeOutcome.WORKS else (
            f" There it is known but refused for another reason ({how.detail}): check again "
            "after the switch.")
        out.append(Finding(Severity.ERROR, "belongs-to",
                           f"This is a {info.label} {target} key, not a {current} one: "
                           f"{summary.belongs_host} knows it.{known} Switch the account's "
                           f"environment to {summary.belongs_to}."))
        return out
    everyone_unknown = bool(summary.asked) and all(
        a.outcome == ProbeOutcome.UNKNOWN for a in summary.asked)
    if info.id == "binance" and error.code == "-2015":
        out.append(_binance_2015(info, summary, key_shape_ok))
    elif everyone_unknown:
        out.append(Finding(Severity.ERROR, "belongs-nowhere",
                           f"No other {info.label} environment asked knows this key either: it "
                           "was probably mistyped, or deleted on the exchange. Paste the key "
                           "again from the exchange's API page, or make a new one."))
    elif summary.asked:
        out.append(Finding(Severity.INFO, "belongs-unknown",
                           "The other environments gave no clear answer, so where this key "
                           "belongs could not be found out."))
    return out


def _binance_2015(info: ExchangeInfo, summary: ProbeSummary, key_shape_ok: bool) -> Finding:
    """Binance -2015 as far as the facts allow (FACTS §4: "Invalid API-key, IP, or permissions
    for action", which a mistyped or deleted key gets too; no code tells the causes apart).

    Another environment knowing the key is handled by the caller (``belongs-to``). Left: a key
    not even shaped like a Binance key (mistyped, FACTS §6), or the three causes undecided, with
    what to look at on the exchange. Separate exchanges the registry names (Binance.US) are said,
    never asked."""
    others = [env for env in info.environments if not env.pickable]
    elsewhere = "".join(f" A key made on {env.label.split(' (')[0]} ({env.host}) is for another "
                        "exchange: keylink does not check those." for env in others)
    asked = "" if summary.asked else " No other Binance environment could be asked."
    if not key_shape_ok:
        return Finding(Severity.ERROR, "binance-2015-mistyped",
                       f"The key is not shaped like a Binance key ({info.key_shape.description})"
                       f" and no Binance environment knows it: it was most likely mistyped.{asked}"
                       " Paste it again from Binance's API management page." + elsewhere)
    return Finding(Severity.ERROR, "binance-2015-undecided",
                   "Binance gives this answer for three causes and does not say which; no "
                   f"other Binance environment asked knows the key either.{asked} The key is "
                   "mistyped or deleted, or it is restricted to other IP addresses, or it lacks "
                   "the read right. On Binance's API management page, check that the key is "
                   "listed, that its IP restriction includes this machine's address, and that "
                   "'Enable Reading' is on." + elsewhere)


def _label(info: ExchangeInfo, env_id: str) -> str:
    try:
        return info.environment(env_id).label
    except KeyError:
        return env_id

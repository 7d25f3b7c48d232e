"""The ping: time sync, the signed key-info call and the audit, folded into one ``KeyReport``.

``verify_key`` never raises for network or exchange trouble: timeouts, refused connections, DNS and
TLS failures, 5xx, rate limits, junk or oversized bodies all become a report with ``ok=False`` and
an ``error``. No secret, signature or auth header ever reaches a message: texts are ours, and what
the exchange says is scrubbed of anything credential-derived before it is shown.

httpx is imported inside the functions so importing this module stays cheap for the app.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from tui import __version__
from tui.services.exchanges import exchange
from tui.services.exchanges.base import (
    PERMISSIONS,
    CredentialsLike,
    ErrorKind,
    ExchangeApi,
    ExchangeInfo,
    KeyInfo,
    Reply,
)
from tui.services.verify.audit import (
    CLOCK_FIX,
    Finding,
    Severity,
    Status,
    clock_findings,
    days_until,
    error_finding,
    key_findings,
    locked_findings,
    plural,
    worst,
)

if TYPE_CHECKING:
    import ssl

    import httpx

#: Bodies larger than this are not an exchange's key info; stop reading (1 MiB).
MAX_BODY_BYTES = 1 << 20
#: How much of an exchange's own error text to carry along.
_EXCHANGE_MESSAGE_CHARS = 200


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
_LOCKED_KINDS = frozenset({ErrorKind.IP_NOT_ALLOWED.value, ErrorKind.RIGHTS_HIDDEN.value})


def _status_of(ok: bool, error: ExchangeError | None) -> Status:
    if ok:
        return "works"
    if error is not None and error.kind in _LOCKED_KINDS:
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


# --- the network side ---------------------------------------------------------------------------


@dataclass
class _Call:
    """One GET's raw outcome: either a response (status, type, body) or a fault."""

    status: int = 0
    content_type: str = ""
    body: bytes = b""
    fault: ExchangeError | None = None
    #: Local wall clock (ms) just before sending and when the answer's headers arrived.
    sent_ms: float = 0.0
    received_ms: float = 0.0
    elapsed_ms: float = 0.0


class _Scrubber:
    """Masks every credential-derived string in text we did not write ourselves."""

    def __init__(self, creds: CredentialsLike) -> None:
        self._values = [v for v in (creds.secret, creds.passphrase, creds.api_key) if v]

    def add(self, *values: str) -> None:
        self._values.extend(v for v in values if v)

    def __call__(self, text: str) -> str:
        for value in sorted(self._values, key=len, reverse=True):
            text = text.replace(value, "***")
        text = "".join(ch if ch.isprintable() else " " for ch in text)
        return text[:_EXCHANGE_MESSAGE_CHARS]


_SIGNATURE_IN_URL = re.compile(r"(signature=)[^&\s\"']+", re.IGNORECASE)


class _RedactSignatures(logging.Filter):
    """httpx logs every request URL at INFO; Binance carries its signature in the query."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if "signature=" in text.lower():
            record.msg, record.args = _SIGNATURE_IN_URL.sub(r"\1***", text), ()
        return True


@cache
def _install_log_redaction() -> None:
    logging.getLogger("httpx").addFilter(_RedactSignatures())


def _unsendable_credential(creds: CredentialsLike) -> ExchangeError | None:
    """Key and passphrase travel in headers, the secret is signed with: refuse what cannot be,
    before any request.

    Checked here rather than left to httpx because its header errors (and httpcore's debug log)
    would quote the offending value. The secret itself is never sent, only its signature.
    """
    for label, value in (("API key", creds.api_key), ("passphrase", creds.passphrase)):
        if any(not (33 <= ord(ch) <= 126) for ch in value):
            return _fault(FaultKind.BAD_CREDENTIAL,
                          f"The {label} contains spaces, line breaks or non-ASCII characters, so "
                          "it cannot be sent to the exchange.",
                          "Paste it again from the exchange; a bad paste is the usual cause.")
    try:  # signing encodes the secret; the encoder's error would quote the offending character
        creds.secret.encode("utf-8")
    except UnicodeEncodeError:
        return _fault(FaultKind.BAD_CREDENTIAL,
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
        return None, _fault(FaultKind.BAD_CREDENTIAL, str(exc),
                            "Save the account again with the private key copied whole.")
    problem = info.kind_problem(kind.kind, kind.bits)
    if problem is not None:
        return kind.id, _fault(FaultKind.BAD_CREDENTIAL, problem,
                               f"Use a key kind {info.label} takes for this account.")
    return kind.id, None


@cache
def _tls_context() -> ssl.SSLContext:
    """One TLS context per process: building it loads the CA bundle (~60 ms), per client it would
    cost more than the exchange's answer."""
    import httpx

    return httpx.create_ssl_context()


def _now_ms() -> float:
    return time.time() * 1000


def _fault(kind: str, message: str, hint: str = "") -> ExchangeError:
    return ExchangeError(code=kind, message=message, hint=hint, kind=kind)


def _http_fault(status: int, kind: str, message: str, hint: str) -> ExchangeError:
    """A refusal known only by its HTTP status: the status is its code ("429")."""
    return ExchangeError(code=str(status), message=message, hint=hint, kind=kind)


def _exception_chain(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain and len(chain) < 10:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def _transport_fault(exc: Exception, host: str, phase: str) -> ExchangeError:
    """Plain words for an httpx failure. Never uses str(exc): it can carry request details."""
    import socket
    import ssl

    import httpx

    chain = _exception_chain(exc)
    # httpcore/anyio sometimes flatten the OS error into text; match known phrases, not the text.
    texts = " ".join(type(e).__name__ + " " + " ".join(map(str, getattr(e, "args", ())))
                     for e in chain[1:]).lower()
    if isinstance(exc, httpx.ConnectTimeout):
        return _fault(FaultKind.TIMEOUT, f"Connecting to {host} timed out ({phase}).",
                      "Check the network, a firewall or proxy, and that the host is right.")
    if isinstance(exc, httpx.TimeoutException):
        return _fault(FaultKind.TIMEOUT, f"{host} did not answer in time ({phase}).",
                      "The exchange or the network is slow; try again in a minute.")
    ssl_error = next((e for e in chain if isinstance(e, ssl.SSLError)), None)
    if ssl_error is not None or "ssl" in texts or "certificate" in texts:
        reason = getattr(ssl_error, "reason", None) or getattr(ssl_error, "verify_message", None)
        detail = f" ({reason})" if isinstance(reason, str) and reason.isascii() else ""
        return _fault(FaultKind.TLS, f"The secure (TLS) connection to {host} failed{detail}.",
                      "Check the address (https:// for the exchange's own hosts), the system "
                      "clock, and whether a proxy or antivirus intercepts HTTPS.")
    if any(isinstance(e, socket.gaierror) for e in chain) or any(
            phrase in texts for phrase in ("name or service not known", "nodename nor servname",
                                           "temporary failure in name resolution",
                                           "getaddrinfo", "no address associated")):
        return _fault(FaultKind.DNS, f"The name {host} could not be looked up (DNS).",
                      "Check the spelling of the host and this computer's internet connection.")
    if any(isinstance(e, ConnectionRefusedError) for e in chain) or "refused" in texts:
        return _fault(FaultKind.CONNECTION_REFUSED, f"{host} refused the connection.",
                      "Nothing is listening there: check the host and port of a custom address.")
    if isinstance(exc, httpx.RemoteProtocolError | httpx.LocalProtocolError):
        return _fault(FaultKind.PROTOCOL, f"{host} broke off the exchange or did not speak HTTP.",
                      "Check the address; if it is right, try again in a minute.")
    return _fault(FaultKind.NETWORK, f"Could not reach {host} ({type(exc).__name__}).",
                  "Check this computer's network connection and any proxy settings.")


async def _get(client: httpx.AsyncClient, path: str, headers: Sequence[tuple[str, str]],
               host: str, phase: str, deadline_s: float) -> _Call:
    """GET ``path``, reading at most MAX_BODY_BYTES of the body. Never raises for network faults.

    httpx's timeouts bound each connect and each read, not the call: a server sending one byte
    per second would keep it going for days. ``deadline_s`` bounds the whole call.
    """
    import httpx

    call = _Call()
    started = time.perf_counter()
    call.sent_ms = _now_ms()
    try:
        async with asyncio.timeout(deadline_s), \
                client.stream("GET", path, headers=list(headers)) as response:
            call.received_ms = _now_ms()
            call.status = response.status_code
            call.content_type = response.headers.get("content-type", "")
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
                call.fault = _too_large(host)
            else:
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_BODY_BYTES:
                        call.fault = _too_large(host)
                        break
                call.body = bytes(body)
    except TimeoutError:  # the whole-call deadline (before OSError: TimeoutError is one)
        call.fault = _fault(FaultKind.TIMEOUT, f"{host} did not answer in time ({phase}).",
                            "The exchange or the network is slow; try again in a minute.")
    except httpx.HTTPError as exc:
        call.fault = _transport_fault(exc, host, phase)
    except (OSError, ValueError) as exc:  # defensive: odd transports, bad header values
        call.fault = _transport_fault(exc, host, phase)
    call.elapsed_ms = (time.perf_counter() - started) * 1000
    if not call.received_ms:
        call.received_ms = _now_ms()
    return call


def _too_large(host: str) -> ExchangeError:
    return _fault(FaultKind.BODY_TOO_LARGE,
                  f"{host} sent an answer larger than {MAX_BODY_BYTES // 1024} KiB; an exchange's "
                  "answer is a few hundred bytes, so this is not the exchange's API.",
                  "Check the address (a custom URL may point at the wrong service).")


def _read(api: ExchangeApi, info: ExchangeInfo, call: _Call, host: str,
          scrub: _Scrubber) -> tuple[Reply | None, ExchangeError | None]:
    """Turn a raw call into the exchange's reply, or the reason there is none."""
    if call.fault is not None:
        return None, call.fault
    is_json_type = "json" in call.content_type.lower()
    payload: Any = None
    parsed = False
    if is_json_type:
        try:
            payload = _json(call.body)
            parsed = True
        except ValueError:
            parsed = False
    if parsed:
        try:
            reply: Reply | None = api.reply(payload)
        except ValueError:
            reply = None
        if reply is not None and reply.code is not None:
            return reply, _exchange_error(api, info, reply, scrub)
        if reply is not None and call.status < 400:
            return reply, None
    status = call.status
    if status in (418, 429):
        return None, _http_fault(status, FaultKind.RATE_LIMITED,
                                 f"{host} is rate-limiting this address (HTTP {status}).",
                                 "Wait a few minutes before trying again.")
    if status == 403:
        # Bybit documents HTTP 403 as an IP rate limit or a region it does not serve.
        return None, _http_fault(status, FaultKind.FORBIDDEN,
                                 f"{host} refused this address (HTTP 403): a rate limit, or a "
                                 "region the exchange does not serve.",
                                 "Wait a few minutes; if it persists, use the exchange's host "
                                 "for your region.")
    if status >= 500:
        return None, _http_fault(status, FaultKind.SERVER_ERROR,
                                 f"{host} had a server error (HTTP {status}).",
                                 "The exchange may be in maintenance; try again later.")
    if status >= 400:
        return None, _http_fault(status, FaultKind.HTTP_STATUS, f"{host} answered HTTP {status}.",
                                 "Check the address: it may not be the exchange's API.")
    if not is_json_type:
        shown = scrub(call.content_type.split(";")[0].strip()) or "no content type"
        return None, _fault(FaultKind.CONTENT_TYPE,
                            f"{host} answered with {shown}, not the exchange's JSON.",
                            "A proxy, captive portal or wrong custom address is in the way.")
    if not parsed:
        return None, _fault(FaultKind.NOT_JSON,
                            f"{host} sent a broken answer (not valid JSON).",
                            "Try again; if it persists, check the address.")
    return None, _fault(FaultKind.UNEXPECTED,
                        f"{host} answered, but not in {info.label}'s format.",
                        "Check that the address belongs to this exchange.")


#: What an exchange's error code looks like ("10010", "-2015", "40006"). The code is shown on
#: the terminal and kept in accounts.json, so anything else (control sequences, megabytes) is not
#: passed on.
_CODE_SHAPE = re.compile(r"-?[A-Za-z0-9_.]{1,20}", re.ASCII)


def _exchange_error(api: ExchangeApi, info: ExchangeInfo, reply: Reply,
                    scrub: _Scrubber) -> ExchangeError:
    code = reply.code or ""
    said = scrub(reply.message)
    if not _CODE_SHAPE.fullmatch(code):
        return ExchangeError(code="unreadable", kind=ErrorKind.UNKNOWN.value,
                             message=f"{info.label} refused the request with an error code that "
                             "is not a code.",
                             hint="Check that the address belongs to this exchange.",
                             exchange_message=said)
    row = api.explain(code)
    if row is None:
        return ExchangeError(code=code, kind=ErrorKind.UNKNOWN.value,
                             message=f"{info.label} refused the request (code {code}).",
                             hint="Look the code up in the exchange's API documentation.",
                             exchange_message=said)
    return ExchangeError(code=code, kind=row.kind.value, message=row.meaning, hint=row.fix,
                         exchange_message=said)


def _host_of(base_url: str) -> str | None:
    """host[:port] of a usable http(s) base URL, or None (httpx would refuse it too)."""
    import httpx

    try:
        parts = urlsplit(base_url.strip())
        parts.port  # noqa: B018 - raises ValueError for a bad port
        httpx.URL(base_url.strip())
    except (ValueError, httpx.InvalidURL):
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return parts.netloc.rsplit("@", 1)[-1]


def _is_loopback(hostname: str) -> bool:
    import ipaddress

    if hostname.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


def _plain_http_elsewhere(base_url: str) -> bool:
    """True for http:// to a host other than this machine: a key must never travel unencrypted.

    accounts.json can be edited by hand, so the rule the account form applies is checked again
    here, before anything is signed.
    """
    parts = urlsplit(base_url.strip())
    return parts.scheme.lower() == "http" and not _is_loopback(parts.hostname or "")


#: An IPv4 or IPv6 address inside an exchange's message ("Your IP 1.2.3.4 is not ...").
_IP_IN_TEXT = re.compile(
    r"(?<![\w.:])(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f:]*:[0-9A-Fa-f:.]+)(?![\w.:])")


def _seen_ip(message: str) -> str | None:
    """The address an exchange says it saw, when its refusal names one (checked, not trusted)."""
    import ipaddress

    for candidate in _IP_IN_TEXT.findall(message):
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            continue
    return None


def _days_left(key: KeyInfo, now: datetime) -> int | None:
    """Days before the key itself lapses (never negative: a past date has no count)."""
    if key.deadline_days is not None:
        return key.deadline_days
    if key.expires_at is not None:
        return days_until(key.expires_at, now)
    return None


def compare_bound(terminal: Sequence[str], bound: Sequence[str]) -> tuple[tuple[str, ...],
                                                                           tuple[str, ...]]:
    """Terminal addresses no bound entry contains, and bound entries that contain none of them.

    Exchanges accept networks (OKX: ``18.160.0.0/12``) and IPv6 as bound entries, so entries are
    read as networks and compared by containment, not as strings. An entry that is neither an
    address nor a network covers nothing and is reported as extra, as written.
    ValueError if a terminal address is not an address.
    """
    import ipaddress

    wanted = [(text, ipaddress.ip_address(text.strip())) for text in terminal]
    networks: list[tuple[str, ipaddress.IPv4Network | ipaddress.IPv6Network | None]] = []
    for entry in bound:
        try:
            networks.append((entry, ipaddress.ip_network(entry.strip(), strict=False)))
        except ValueError:
            networks.append((entry, None))
    missing = tuple(text for text, address in wanted
                    if not any(net is not None and address in net for _e, net in networks))
    extra = tuple(entry for entry, net in networks
                  if net is None or not any(address in net for _t, address in wanted))
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
) -> KeyReport:
    """Check a key against its exchange and audit it.

    The public time call and the signed key-info call run concurrently; a timestamp refusal is
    retried once with the measured server offset. ``whitelist`` (the terminal's addresses) is
    compared with the key's bound IPs by containment; ``linked`` (the key is linked to the
    terminal, which manages its addresses) skips that comparison. Both make a refusal from this
    machine for its address (``locked``) the expected outcome. Each call, body included, ends within
    ``connect_timeout + read_timeout`` seconds. Raises KeyError only for an unknown ``exchange_id``.
    """
    import httpx

    info = exchange(exchange_id)
    api = info.api
    if api is None:
        raise KeyError(f"{info.label} has no verification support")
    try:
        env_headers = info.environment(environment).headers
    except KeyError:
        env_headers = ()  # a custom environment: plain requests to the given URL
    host = _host_of(base_url)
    base_report = {"exchange": info.id, "environment": environment, "latency_ms": None,
                   "clock_offset_ms": None}
    if host is None:
        error = _fault(FaultKind.BAD_URL, "The exchange address must start with https:// (or "
                       "http:// for a local test server) and name a host.",
                       "Fix the account's API address.")
        # Never echo a user:password@ part of a mistyped URL.
        shown = base_url.strip().rsplit("@", 1)[-1][:80]
        return _failed_report(error, host=shown, **base_report)
    if _plain_http_elsewhere(base_url):
        error = _fault(FaultKind.BAD_URL, f"The account's address sends the key unencrypted "
                       f"(http://) to {host}. keylink only uses plain http for a test server on "
                       "this machine.",
                       "Change the account's API address to https://.")
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
    _install_log_redaction()
    scrub = _Scrubber(creds)
    timeout = httpx.Timeout(read_timeout, connect=connect_timeout, pool=connect_timeout)
    headers = {"User-Agent": f"keylink/{__version__}", "Accept": "application/json",
               **dict(env_headers)}

    deadline_s = connect_timeout + read_timeout

    async def signed_call(timestamp_ms: int) -> _Call:
        request = (await asyncio.to_thread(api.sign_key_info, creds, timestamp_ms) if asymmetric
                   else api.sign_key_info(creds, timestamp_ms))
        scrub.add(*request.sensitive)
        return await _get(client, request.path, request.headers, host, "key check", deadline_s)

    async with httpx.AsyncClient(base_url=base_url.strip().rstrip("/"), timeout=timeout,
                                 headers=headers, transport=transport, verify=_tls_context(),
                                 follow_redirects=False) as client:
        time_call, key_call = await asyncio.gather(
            _get(client, api.time_path, (), host, "server time", deadline_s),
            signed_call(int(_now_ms())),
        )
        offset = _clock_offset(api, info, time_call, host, scrub)
        reply, error = _read(api, info, key_call, host, scrub)
        retried = False
        if error is not None and error.kind == ErrorKind.TIMESTAMP and offset is not None:
            retried = True
            key_call = await signed_call(int(_now_ms() + offset))
            reply, error = _read(api, info, key_call, host, scrub)

    latency = round(key_call.elapsed_ms) if key_call.fault is None else None
    base_report.update(latency_ms=latency, clock_offset_ms=offset)
    clock = clock_findings(offset)
    if error is None and reply is not None:
        try:
            key = api.parse_key_info(reply.data)
        # Any shape we cannot read; OverflowError/OSError: numbers no date or int can hold.
        except (ValueError, TypeError, AttributeError, KeyError, OverflowError, OSError):
            error = _fault(FaultKind.UNEXPECTED,
                           f"{host} answered the key check, but not in {info.label}'s format.",
                           "Check that the address belongs to this exchange; update keylink.")
        else:
            return _key_report(info, key, host, whitelist, linked, environment, clock, retried,
                               base_report)
    assert error is not None
    if error.kind in _LOCKED_KINDS:
        seen = _seen_ip(error.exchange_message)
        findings = locked_findings(exchange_label=info.label, message=error.message,
                                   hint=error.hint, code=error.kind, seen_ip=seen,
                                   expected=linked or bool(whitelist),
                                   hidden_rights=error.kind == ErrorKind.RIGHTS_HIDDEN)
        return KeyReport(ok=False, host=host, error=error, findings=(*findings, *clock),
                         retried_with_server_time=retried, seen_ip=seen, linked=linked,
                         status="locked", **base_report)
    if error.kind in (ErrorKind.INVALID_KEY, ErrorKind.WRONG_ENVIRONMENT):
        error = ExchangeError(error.code, f"{error.message} (Checked against {environment} at "
                              f"{host}.)", error.hint, error.kind, error.exchange_message)
    findings = [error_finding(error.kind, error.message, error.hint)]
    if error.kind == ErrorKind.TIMESTAMP and not clock and offset is None:
        findings.append(Finding("info", "clock-unknown", "The exchange's time could not be read "
                                f"to measure this computer's clock. {CLOCK_FIX}"))
    seen = _seen_ip(error.exchange_message) if error.kind == ErrorKind.REFUSED else None
    if seen:
        findings.append(Finding("info", "seen-ip", f"{info.label} saw this machine as {seen}."))
    return _failed_report(error, host=host, findings=(*findings, *clock),
                          retried=retried, seen_ip=seen, **base_report)


def _clock_offset(api: ExchangeApi, info: ExchangeInfo, call: _Call, host: str,
                  scrub: _Scrubber) -> int | None:
    _reply, error = _read(api, info, call, host, scrub)
    if error is not None:
        return None
    try:
        server_ms = api.parse_time(_json(call.body))
    except (ValueError, OverflowError):
        return None
    if not 0 < server_ms <= _LAST_SERVER_MS:
        return None  # not a clock: signing "now + offset" would not even format (OKX's ISO time)
    # The server stamped its time somewhere between send and receipt; the midpoint is the
    # best local estimate of that moment.
    return round(server_ms - (call.sent_ms + call.received_ms) / 2)


#: The last millisecond of year 9999: a server time beyond it is junk, not a clock.
_LAST_SERVER_MS = 253_402_300_799_999


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _json(body: bytes) -> Any:
    """Strict JSON: no NaN/Infinity (Python accepts them; int(inf) raises OverflowError later),
    and nesting too deep for the parser is refused rather than raising RecursionError."""
    try:
        return json.loads(body, parse_constant=_no_constant)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError("not JSON") from exc


def _key_report(info: ExchangeInfo, key: KeyInfo, host: str, whitelist: Sequence[str] | None,
                linked: bool, environment: str, clock: list[Finding], retried: bool,
                base: dict[str, Any]) -> KeyReport:
    now = datetime.now(UTC)
    days_left = _days_left(key, now)
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
                            linked=linked, whitelist=whitelist, missing=missing, extra=extra)
    return KeyReport(
        ok=True, host=host, permissions=key.permissions, raw_permissions=key.raw_permissions,
        read_only=key.read_only, ips=key.ips, ip_restricted=key.ip_restricted,
        key_type=key.key_type, expires_at=key.expires_at, days_left=days_left,
        findings=(*findings, *clock), whitelist_checked=checked, whitelist_missing=missing,
        whitelist_extra=extra, retried_with_server_time=retried, checked_at=now,
        status="works", unknown_rights=key.unknown_rights,
        trading_lapses_at=key.trading_lapses_at, linked=linked, **base,
    )


def _failed_report(error: ExchangeError, *, host: str, findings: Sequence[Finding] = (),
                   retried: bool = False, seen_ip: str | None = None, **base: Any) -> KeyReport:
    if not findings:
        findings = [error_finding(error.kind, error.message, error.hint)]
    return KeyReport(ok=False, host=host, error=error, findings=tuple(findings),
                     retried_with_server_time=retried, status="failed", seen_ip=seen_ip, **base)


#: The account's whitelist field: a profile id, or one of these two.
LINKED = "linked"
NO_WHITELIST = "none"


def _whitelist_of(account: Any) -> Sequence[str] | None:
    """The addresses of the account's chosen terminal whitelist, if it names a known profile."""
    chosen = getattr(account, "whitelist", None)
    if not chosen or chosen in (LINKED, NO_WHITELIST):
        return None
    if isinstance(chosen, str):
        from tui.services.terminals import whitelist

        try:
            return whitelist.profile(chosen).addresses
        except KeyError:
            return None
    return tuple(chosen)


async def verify_account(account: Any, creds: CredentialsLike,
                         whitelist: Sequence[str] | None = None, **kw: Any) -> KeyReport:
    """``verify_key`` for a saved account (its exchange, address, environment and link).

    ``whitelist`` defaults to the addresses of the account's chosen terminal profile; an account
    linked to the terminal compares no list.
    """
    linked = getattr(account, "whitelist", None) == LINKED
    if whitelist is None:
        whitelist = _whitelist_of(account)
    return await verify_key(account.exchange, account.base_url, creds,
                            environment=account.environment, whitelist=whitelist, linked=linked,
                            **kw)

"""The wire: one bounded GET at a time to an exchange, and plain words for whatever goes wrong.

Owns the httpx side of a check: the client and its timeouts, the whole-call deadline, the body cap,
the TLS context, the log filter that keeps Binance's signature out of httpx's request log, and the
rule that a key never travels over plain http to another machine. Nothing here reads what the
exchange meant; ``answers`` does that.

httpx is imported inside the functions so importing this module stays cheap for the app.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from tui import __version__
from tui.services.core.hosts import is_loopback_host
from tui.services.verify.report import ExchangeError, FaultKind, fault

if TYPE_CHECKING:
    import ssl

    import httpx

#: Bodies larger than this are not an exchange's key info; stop reading (1 MiB).
MAX_BODY_BYTES = 1 << 20


@dataclass
class Call:
    """One GET's raw outcome: either a response (status, type, body) or a fault."""

    status: int = 0
    content_type: str = ""
    body: bytes = b""
    fault: ExchangeError | None = None
    #: Local wall clock (ms) just before sending and when the answer's headers arrived.
    sent_ms: float = 0.0
    received_ms: float = 0.0
    elapsed_ms: float = 0.0


_SIGNATURE_IN_URL = re.compile(r"(signature=)[^&\s\"']+", re.IGNORECASE)


class _RedactSignatures(logging.Filter):
    """httpx logs every request URL at INFO; Binance carries its signature in the query."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if "signature=" in text.lower():
            record.msg, record.args = _SIGNATURE_IN_URL.sub(r"\1***", text), ()
        return True


@cache
def install_log_redaction() -> None:
    logging.getLogger("httpx").addFilter(_RedactSignatures())


@cache
def tls_context() -> ssl.SSLContext:
    """One TLS context per process: building it loads the CA bundle (~60 ms), per client it would
    cost more than the exchange's answer."""
    import httpx

    return httpx.create_ssl_context()


def now_ms() -> float:
    return time.time() * 1000


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
        return fault(FaultKind.TIMEOUT, f"Connecting to {host} timed out ({phase}).",
                     "Check the network, a firewall or proxy, and that the host is right.")
    if isinstance(exc, httpx.TimeoutException):
        return fault(FaultKind.TIMEOUT, f"{host} did not answer in time ({phase}).",
                     "The exchange or the network is slow; try again in a minute.")
    ssl_error = next((e for e in chain if isinstance(e, ssl.SSLError)), None)
    if ssl_error is not None or "ssl" in texts or "certificate" in texts:
        reason = getattr(ssl_error, "reason", None) or getattr(ssl_error, "verify_message", None)
        detail = f" ({reason})" if isinstance(reason, str) and reason.isascii() else ""
        return fault(FaultKind.TLS, f"The secure (TLS) connection to {host} failed{detail}.",
                     "Check the address (https:// for the exchange's own hosts), the system "
                     "clock, and whether a proxy or antivirus intercepts HTTPS.")
    if any(isinstance(e, socket.gaierror) for e in chain) or any(
            phrase in texts for phrase in ("name or service not known", "nodename nor servname",
                                           "temporary failure in name resolution",
                                           "getaddrinfo", "no address associated")):
        return fault(FaultKind.DNS, f"The name {host} could not be looked up (DNS).",
                     "Check the spelling of the host and this computer's internet connection.")
    if any(isinstance(e, ConnectionRefusedError) for e in chain) or "refused" in texts:
        return fault(FaultKind.CONNECTION_REFUSED, f"{host} refused the connection.",
                     "Nothing is listening there: check the host and port of a custom address.")
    if isinstance(exc, httpx.RemoteProtocolError | httpx.LocalProtocolError):
        return fault(FaultKind.PROTOCOL, f"{host} broke off the exchange or did not speak HTTP.",
                     "Check the address; if it is right, try again in a minute.")
    return fault(FaultKind.NETWORK, f"Could not reach {host} ({type(exc).__name__}).",
                 "Check this computer's network connection and any proxy settings.")


async def bounded_get(client: httpx.AsyncClient, path: str,
                      headers: Sequence[tuple[str, str]], host: str, phase: str,
                      deadline_s: float) -> Call:
    """GET ``path``, reading at most MAX_BODY_BYTES of the body. Never raises for network faults.

    httpx's timeouts bound each connect and each read, not the call: a server sending one byte
    per second would keep it going for days. ``deadline_s`` bounds the whole call.
    """
    import httpx

    call = Call()
    started = time.perf_counter()
    call.sent_ms = now_ms()
    try:
        async with asyncio.timeout(deadline_s), \
                client.stream("GET", path, headers=list(headers)) as response:
            call.received_ms = now_ms()
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
        call.fault = fault(FaultKind.TIMEOUT, f"{host} did not answer in time ({phase}).",
                           "The exchange or the network is slow; try again in a minute.")
    except httpx.HTTPError as exc:
        call.fault = _transport_fault(exc, host, phase)
    except (OSError, ValueError) as exc:  # defensive: odd transports, bad header values
        call.fault = _transport_fault(exc, host, phase)
    call.elapsed_ms = (time.perf_counter() - started) * 1000
    if not call.received_ms:
        call.received_ms = now_ms()
    return call


def _too_large(host: str) -> ExchangeError:
    return fault(FaultKind.BODY_TOO_LARGE,
                 f"{host} sent an answer larger than {MAX_BODY_BYTES // 1024} KiB; an exchange's "
                 "answer is a few hundred bytes, so this is not the exchange's API.",
                 "Check the address (a custom URL may point at the wrong service).")


def host_of(base_url: str) -> str | None:
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


def plain_http_elsewhere(base_url: str) -> bool:
    """True for http:// to a host other than this machine: a key must never travel unencrypted.

    accounts.json can be edited by hand, so the rule the account form applies is checked again
    here, before anything is signed.
    """
    parts = urlsplit(base_url.strip())
    return parts.scheme.lower() == "http" and not is_loopback_host(parts.hostname or "")


def open_client(base_url: str, headers: Sequence[tuple[str, str]], *, connect_timeout: float,
                read_timeout: float,
                transport: httpx.AsyncBaseTransport | None = None) -> httpx.AsyncClient:
    """The client for one check: keylink's headers, the timeouts, no redirects (a redirect would
    carry the signed headers to wherever it points), the shared TLS context."""
    import httpx

    install_log_redaction()
    timeout = httpx.Timeout(read_timeout, connect=connect_timeout, pool=connect_timeout)
    return httpx.AsyncClient(
        base_url=base_url.strip().rstrip("/"), timeout=timeout,
        headers={"User-Agent": f"keylink/{__version__}", "Accept": "application/json",
                 **dict(headers)},
        transport=transport, verify=tls_context(), follow_redirects=False)

"""What an exchange's answer means: its key info, its refusal, its clock, or why it is none of them.

Reads a raw ``transport.Call`` through the exchange's own ``ExchangeApi`` (codes, envelopes, the
error table) and turns every answer that is not key info into an ``ExchangeError`` in plain words.
The exchange's own text passes through the ``Scrubber`` first: it can echo a key or a signature.
"""

from __future__ import annotations

import json
import re
from typing import Any

from tui.services.core.masking import mask_secrets
from tui.services.exchanges.base import CredentialsLike, ErrorKind, ExchangeApi, ExchangeInfo, Reply
from tui.services.verify.report import ExchangeError, FaultKind, fault, http_fault
from tui.services.verify.transport import Call


class Scrubber:
    """The credential-derived values of one check (the key, secret and passphrase, then each
    request's signature as it is made); calling it masks them all in outside text, through the one
    masker (``core.masking``)."""

    def __init__(self, creds: CredentialsLike) -> None:
        self._values = [v for v in (creds.secret, creds.passphrase, creds.api_key) if v]

    def add(self, *values: str) -> None:
        self._values.extend(v for v in values if v)

    def __call__(self, text: str) -> str:
        return mask_secrets(text, self._values)


def read_answer(api: ExchangeApi, info: ExchangeInfo, call: Call, host: str,
                scrub: Scrubber) -> tuple[Reply | None, ExchangeError | None]:
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
        return None, http_fault(status, FaultKind.RATE_LIMITED,
                                f"{host} is rate-limiting this address (HTTP {status}).",
                                "Wait a few minutes before trying again.")
    if status == 403:
        # Bybit documents HTTP 403 as an IP rate limit or a region it does not serve.
        return None, http_fault(status, FaultKind.FORBIDDEN,
                                f"{host} refused this address (HTTP 403): a rate limit, or a "
                                "region the exchange does not serve.",
                                "Wait a few minutes; if it persists, use the exchange's host "
                                "for your region.")
    if status >= 500:
        return None, http_fault(status, FaultKind.SERVER_ERROR,
                                f"{host} had a server error (HTTP {status}).",
                                "The exchange may be in maintenance; try again later.")
    if status >= 400:
        return None, http_fault(status, FaultKind.HTTP_STATUS, f"{host} answered HTTP {status}.",
                                "Check the address: it may not be the exchange's API.")
    if not is_json_type:
        shown = scrub(call.content_type.split(";")[0].strip()) or "no content type"
        return None, fault(FaultKind.CONTENT_TYPE,
                           f"{host} answered with {shown}, not the exchange's JSON.",
                           "A proxy, captive portal or wrong custom address is in the way.")
    if not parsed:
        return None, fault(FaultKind.NOT_JSON,
                           f"{host} sent a broken answer (not valid JSON).",
                           "Try again; if it persists, check the address.")
    return None, fault(FaultKind.UNEXPECTED,
                       f"{host} answered, but not in {info.label}'s format.",
                       "Check that the address belongs to this exchange.")


#: What an exchange's error code looks like ("10010", "-2015", "40006"). The code is shown on
#: the terminal and kept in accounts.json, so anything else (control sequences, megabytes) is not
#: passed on.
_CODE_SHAPE = re.compile(r"-?[A-Za-z0-9_.]{1,20}", re.ASCII)


def _exchange_error(api: ExchangeApi, info: ExchangeInfo, reply: Reply,
                    scrub: Scrubber) -> ExchangeError:
    code = reply.code or ""
    said = scrub(reply.message)
    if not _CODE_SHAPE.fullmatch(code):
        return ExchangeError(code="unreadable", kind=ErrorKind.UNKNOWN,
                             message=f"{info.label} refused the request with an error code that "
                             "is not a code.",
                             hint="Check that the address belongs to this exchange.",
                             exchange_message=said)
    row = api.explain(code)
    if row is None:
        return ExchangeError(code=code, kind=ErrorKind.UNKNOWN,
                             message=f"{info.label} refused the request (code {code}).",
                             hint="Look the code up in the exchange's API documentation.",
                             exchange_message=said)
    return ExchangeError(code=code, kind=row.kind, message=row.meaning, hint=row.fix,
                         exchange_message=said)


def clock_offset(api: ExchangeApi, info: ExchangeInfo, call: Call, host: str,
                  scrub: Scrubber) -> int | None:
    _reply, error = read_answer(api, info, call, host, scrub)
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


#: An IPv4 or IPv6 address inside an exchange's message ("Your IP 1.2.3.4 is not ...").
_IP_IN_TEXT = re.compile(
    r"(?<![\w.:])(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f:]*:[0-9A-Fa-f:.]+)(?![\w.:])")


def ip_in_message(message: str) -> str | None:
    """The address an exchange says it saw, when its refusal names one (checked, not trusted)."""
    import ipaddress

    for candidate in _IP_IN_TEXT.findall(message):
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            continue
    return None

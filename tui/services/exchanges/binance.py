"""Binance: spot API host, hex HMAC query signing, /sapi/v1/account/apiRestrictions, error codes.

The key-restrictions call lives under /sapi, which Binance's spot testnet does not have.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tui.services.core.status import Severity
from tui.services.exchanges.base import (
    CLOCK_FIX,
    SECRET_FIX,
    CredentialsLike,
    ErrorInfo,
    ErrorKind,
    ExchangeApi,
    ExchangeInfo,
    KeyInfo,
    KeyKindSpec,
    KeyShape,
    Reply,
    SignedRequest,
    asymmetric_signature,
    epoch_ms_to_datetime,
    hmac_sha256,
)

RECV_WINDOW = 5000

#: Rights in GET /sapi/v1/account/apiRestrictions, as documented
#: (https://developers.binance.com/docs/wallet/account/api-key-permission, read 2026-11-28).
#: Any other true ``enable*``/``permits*`` flag is a right keylink does not know ("unknown").
_FLAGS = {
    "enableReading": "read",
    "enableFixReadOnly": "read",
    "enableSpotAndMarginTrading": "trade",
    "enableFutures": "trade",
    # Margin loans, repayments and transfers within the margin account: trading, not outflow.
    "enableMargin": "trade",
    "enableVanillaOptions": "trade",
    "enablePortfolioMarginTrading": "trade",
    "enableFixApiTrade": "trade",
    # "transfer funds between your master account and your sub account instantly"
    "enableInternalTransfer": "transfer",
    "permitsUniversalTransfer": "transfer",
    "enableWithdrawals": "withdraw",
}


def signing_payload(params: Sequence[tuple[str, str]]) -> str:
    """The query keylink sends and signs: ``parameter=value`` pairs joined by ``&``, each part
    percent-encoded as UTF-8. Binance requires the payload percent-encoded before signing since
    2026-01-15, else -1022 (binance-spot-api-docs CHANGELOG 2025-12-17; rest-api.md "SIGNED
    Endpoint Examples for POST /api/v3/order": the full-width digits of its non-ASCII symbol
    are signed as ``symbol=%EF%BC%91%EF%BC%92…``; the doc's own Python uses ``urlencode``). The
    string signed is the string sent, so the two can never differ."""
    from urllib.parse import urlencode

    return urlencode(list(params), encoding="utf-8")


def sign(secret: str, total_params: str) -> str:
    """Binance signature: lowercase hex HMAC-SHA256 of query string + body, as sent."""
    return hmac_sha256(secret, total_params).hex()


#: "We support several types of API keys: Ed25519 (recommended), HMAC, RSA"; "HMAC keys are
#: deprecated"; "We support 2048 and 4096 bit RSA keys" (binance-spot-api-docs
#: faqs/api_key_types.md, https://developers.binance.com/docs/binance-spot-api-docs/faqs/api_key_types).
KEY_KINDS = (
    KeyKindSpec("hmac", name="HMAC (deprecated by Binance)"),
    KeyKindSpec("ed25519", name="Ed25519 (recommended by Binance)"),
    KeyKindSpec("rsa", sizes=(2048, 4096), name="RSA"),
)


def signature_param(secret: str, total_params: str) -> str:
    """The ``signature`` value for a query: hex HMAC, or for an Ed25519/RSA key the base64
    signature of the same payload, percent-encoded (``+`` ``/`` ``=`` escaped), as rest-api.md
    "RSA Keys" / "Ed25519 Keys" describe
    (https://developers.binance.com/docs/binance-spot-api-docs/rest-api/request-security)."""
    from urllib.parse import quote

    asymmetric = asymmetric_signature(secret, total_params)
    if asymmetric is None:
        return sign(secret, total_params)
    return quote(asymmetric, safe="")


def _errors() -> dict[str, ErrorInfo]:
    e, k = ErrorInfo, ErrorKind
    return {
        "-1003": e(k.RATE_LIMITED, "Binance is rate-limiting requests from this address.",
                   "Wait a few minutes before trying again."),
        "-1021": e(k.TIMESTAMP, "Binance says the request time is outside its receive window: "
                   "this computer's clock is off.",
                   CLOCK_FIX),
        "-1022": e(k.BAD_SIGNATURE, "Binance rejected the signature: the secret does not belong "
                   "to this key.",
                   SECRET_FIX),
        "-2014": e(k.INVALID_KEY, "Binance says the API key is not even well-formed.",
                   "Paste the key again: it is 64 letters and digits."),
        # https://developers.binance.com/docs/binance-spot-api-docs/errors: -2015 "Invalid
        # API-key, IP, or permissions for action." A deleted or mistyped key gives it as well as
        # a key bound to other addresses, so it proves nothing about the key.
        "-2015": e(k.REFUSED, "Binance refused the key. Its answer has three possible causes "
                   "and does not say which: the key is wrong or deleted, it is bound to other IP "
                   "addresses, or it lacks the read permission.",
                   "Check the key on Binance's API management page: that it exists, which "
                   "addresses it is restricted to, and that 'Enable Reading' is on."),
    }


class BinanceApi(ExchangeApi):
    """Binance spot/wallet API (mainnet only: testnet has no /sapi)."""

    time_path = "/api/v3/time"
    key_info_path = "/sapi/v1/account/apiRestrictions"
    errors = _errors()

    def sign_key_info(self, creds: CredentialsLike, timestamp_ms: int) -> SignedRequest:
        query = signing_payload((("recvWindow", str(RECV_WINDOW)),
                                 ("timestamp", str(timestamp_ms))))
        signature = signature_param(creds.secret, query)
        return SignedRequest(
            path=f"{self.key_info_path}?{query}&signature={signature}",
            headers=(("X-MBX-APIKEY", creds.api_key),),
            sensitive=(signature,),
        )

    def key_warnings(self, key: KeyInfo) -> list[tuple[Severity, str, str]]:
        """A key with no IP restriction and any right beyond reading is a danger (FACTS §9).

        What is sure: anyone with the key and secret can use it from anywhere, and Binance lapses
        the spot/margin trading right of an unrestricted key (``tradingAuthorityExpirationTime``,
        in its API docs). What is not: a community report (freqtrade#13089, 2026-04) says
        Binance's pages warn such keys "will be deleted"; Binance's API docs do not say so."""
        beyond = sorted(key.permissions - {"read"})
        if key.ip_restricted or not beyond:
            return []
        return [(Severity.DANGER, "binance-unrestricted",
                 f"This Binance key is not restricted to any IP address and can do more than "
                 f"read ({', '.join(beyond)}): whoever holds it can use it from anywhere, and "
                 "Binance lapses the trading right of such keys (its API docs). Users also "
                 "report that Binance's site warns such keys will be deleted (freqtrade#13089, "
                 "2026-04; not in Binance's docs, so not confirmed). Restrict the key to the "
                 "terminal's IP addresses on Binance.")]

    def parse_time(self, payload: Any) -> int:
        try:
            return int(payload["serverTime"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError("no server time in Binance's answer") from exc

    def reply(self, payload: Any) -> Reply:
        if not isinstance(payload, dict):
            raise ValueError("not a Binance answer")
        code = payload.get("code")
        # Errors carry a negative numeric code; successful answers have no code at all.
        if code is not None and str(code) not in ("0", "200"):
            return Reply(str(code), str(payload.get("msg", "")), None)
        return Reply(None, "", payload)

    def parse_key_info(self, data: Any) -> KeyInfo:
        if not isinstance(data, dict) or "ipRestrict" not in data:
            raise ValueError("Binance's key restrictions are missing")
        raw = tuple(flag for flag, value in data.items()
                    if isinstance(flag, str) and flag.startswith(("enable", "permits"))
                    and value is True)
        unknown = tuple(flag for flag in raw if flag not in _FLAGS)
        permissions = {_FLAGS[flag] for flag in raw if flag in _FLAGS}
        if unknown:
            permissions.add("unknown")
        return KeyInfo(
            permissions=frozenset(permissions),
            raw_permissions=raw,
            read_only=not permissions & {"trade", "transfer", "withdraw", "unknown"},
            # apiRestrictions says whether the key is IP-bound, not to which addresses.
            ips=(),
            ip_restricted=bool(data.get("ipRestrict")),
            unknown_rights=unknown,
            # When the spot/margin trading right of an unrestricted key lapses: not the key's
            # own expiry (the key keeps working for everything else).
            trading_lapses_at=epoch_ms_to_datetime(data.get("tradingAuthorityExpirationTime")),
        )


INFO = ExchangeInfo(
    id="binance",
    label="Binance",
    rank=3,
    has_passphrase=False,
    key_shape=KeyShape(r"[A-Za-z0-9]{64}", "64 letters and digits"),
    secret_shape=KeyShape(r"[A-Za-z0-9]{64}", "64 letters and digits"),
    key_kinds=KEY_KINDS,
    api=BinanceApi(),
)

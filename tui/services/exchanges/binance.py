"""Binance: spot API host, hex HMAC query signing, /sapi/v1/account/apiRestrictions, error codes.

The key-restrictions call lives under /sapi, which Binance's spot testnet does not have.
"""

from __future__ import annotations

from typing import Any

from tui.services.exchanges.base import (
    CLOCK_FIX,
    SECRET_FIX,
    CredentialsLike,
    Environment,
    ErrorInfo,
    ErrorKind,
    ExchangeApi,
    ExchangeInfo,
    KeyInfo,
    KeyShape,
    Reply,
    SignedRequest,
    epoch_ms_to_datetime,
    hmac_sha256,
)

RECV_WINDOW = 5000

#: apiRestrictions flags -> normalised permission.
_FLAGS = {
    "enableReading": "read",
    "enableSpotAndMarginTrading": "trade",
    "enableFutures": "trade",
    "enableMargin": "trade",
    "enableVanillaOptions": "trade",
    "enablePortfolioMarginTrading": "trade",
    "enableFixApiTrade": "trade",
    "enableInternalTransfer": "transfer",
    "permitsUniversalTransfer": "transfer",
    "enableWithdrawals": "withdraw",
}


def sign(secret: str, total_params: str) -> str:
    """Binance signature: lowercase hex HMAC-SHA256 of query string + body, as sent."""
    return hmac_sha256(secret, total_params).hex()


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
        # One code for three causes; the usual one for a terminal key is named first.
        "-2015": e(k.IP_NOT_ALLOWED, "Binance refused the key from this machine. Usually the key "
                   "is bound to other IP addresses (as a terminal key should be), which means it "
                   "exists and its IP restriction works; less often the key is wrong or lacks "
                   "permission.",
                   "If the key is restricted to the terminal's addresses there is nothing to fix. "
                   "Otherwise check the key, and that it has 'Enable Reading'."),
    }


class BinanceApi(ExchangeApi):
    """Binance spot/wallet API (mainnet only: testnet has no /sapi)."""

    time_path = "/api/v3/time"
    key_info_path = "/sapi/v1/account/apiRestrictions"
    key_header = "X-MBX-APIKEY"
    errors = _errors()

    def sign_key_info(self, creds: CredentialsLike, timestamp_ms: int) -> SignedRequest:
        query = f"recvWindow={RECV_WINDOW}&timestamp={timestamp_ms}"
        signature = sign(creds.secret, query)
        return SignedRequest(
            path=f"{self.key_info_path}?{query}&signature={signature}",
            headers=(("X-MBX-APIKEY", creds.api_key),),
            sensitive=(signature,),
        )

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
        raw = tuple(flag for flag in _FLAGS if data.get(flag) is True)
        permissions = {_FLAGS[flag] for flag in raw}
        trading = permissions & {"trade", "transfer", "withdraw"}
        return KeyInfo(
            permissions=frozenset(permissions),
            raw_permissions=raw,
            read_only=not trading,
            # apiRestrictions says whether the key is IP-bound, not to which addresses.
            ips=(),
            ip_restricted=bool(data.get("ipRestrict")),
            expires_at=epoch_ms_to_datetime(data.get("tradingAuthorityExpirationTime")),
        )


INFO = ExchangeInfo(
    id="binance",
    label="Binance",
    rank=3,
    has_passphrase=False,
    environments=(Environment("mainnet", "Mainnet", "https://api.binance.com"),),
    key_shape=KeyShape(r"[A-Za-z0-9]{64}", "64 letters and digits"),
    secret_shape=KeyShape(r"[A-Za-z0-9]{64}", "64 letters and digits"),
    api=BinanceApi(),
)

"""Bybit V5: hosts, HMAC signing, the key-info call (/v5/user/query-api) and its error codes."""

from __future__ import annotations

from typing import Any

from tui.services.core.times import parse_utc
from tui.services.exchanges.base import (
    CLOCK_FIX,
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
    hmac_sha256,
    ip_bound_elsewhere,
    text_list,
)

#: Milliseconds a signed request stays valid (Bybit's default).
RECV_WINDOW = 5000

#: Rights by permission group and entry, as documented for GET /v5/user/query-api
#: (https://bybit-exchange.github.io/docs/v5/user/apikey-info, read 2026-11-28). A group or entry
#: not listed here is "unknown": its documentation does not say whether it can move funds.
_RIGHTS: dict[str, dict[str, str]] = {
    "ContractTrade": {"Order": "trade", "Position": "trade"},
    "Spot": {"SpotTrade": "trade"},
    "Wallet": {"AccountTransfer": "transfer", "SubMemberTransfer": "transfer",
               "SubMemberTransferList": "transfer", "Withdraw": "withdraw"},
    "Options": {"OptionsTrade": "trade"},
    "Derivatives": {"DerivativesTrade": "trade"},
    "BlockTrade": {"BlockTrade": "trade"},
    # "Permission of convert ExchangeHistory": reading the convert history, not converting.
    "Exchange": {"ExchangeHistory": "read"},
    "Affiliate": {"Affiliate": "read"},
}

#: Groups Bybit has deprecated: ignored wherever they still appear (NFT always ``[]``), so they
#: neither add a right nor count as unknown. Source: bybit-exchange/docs docs/changelog/v5.mdx
#: and docs/v5/user/apikey-info.mdx (FACTS §9, read 2026-12-05).
DEPRECATED_GROUPS = frozenset({"NFT", "CopyTrading"})

#: Groups keylink knows by name whose entries Bybit does not document as safe: classified
#: "unknown" (never read as harmless) and shown with the reason. Source: FACTS §9 (Bybit's 2026
#: groups: docs/changelog/v5.mdx, docs/v5/user/apikey-info.mdx), FACTS §4 (older groups).
NAMED_GROUPS: dict[str, str] = {
    "BitCard": "Bybit Card, added 2026: a card pays from the account",
    "ByXPost": "added 2026, master keys only; its use is not documented",
    "FiatBitPay": "fiat payments, added 2026 in place of FiatBybitPay",
    "FiatBybitPay": "fiat payments, replaced by FiatBitPay (gone from answers since 2026-05)",
    "FiatP2P": "P2P fiat trading",
    "FiatConvertBroker": "fiat conversion for brokers",
    "Earn": "Bybit Earn products: funds move into and out of them",
}


def sign(secret: str, timestamp_ms: int, api_key: str, recv_window: int, payload: str) -> str:
    """Bybit HMAC signature: lowercase hex of HMAC-SHA256(timestamp + key + recvWindow + payload).

    ``payload`` is the query string exactly as sent (no ``?``) for GET, the JSON body for POST.
    """
    return hmac_sha256(secret, f"{timestamp_ms}{api_key}{recv_window}{payload}").hex()


#: "System-generated API Keys ... operates with HMAC"; "Self-generated API keys operate with RSA
#: encryption ... only provide the public key to Bybit" (bybit-exchange/docs docs/v5/guide.mdx,
#: https://bybit-exchange.github.io/docs/v5/guide#authentication). Sizes: Bybit's generator offers
#: 2048 (recommended) or 4096 bits (bybit-exchange/api-rsa-generator src/App.js).
KEY_KINDS = (
    KeyKindSpec("hmac", name="System-generated"),
    KeyKindSpec("rsa", sizes=(2048, 4096), name="Self-generated"),
)


def sign_header(secret: str, timestamp_ms: int, api_key: str, recv_window: int,
              payload: str) -> str:
    """X-BAPI-SIGN: hex HMAC, or for an RSA key base64 RSA-SHA256 (PKCS#1 v1.5) of the same
    string ("lowercase HEX string for HMAC_SHA256, or base64 for RSA_SHA256", guide.mdx "Create A
    Request"; padding from the official sample V5_demo/api_demo/Encryption_RSA.py)."""
    asymmetric = asymmetric_signature(secret, f"{timestamp_ms}{api_key}{recv_window}{payload}")
    return asymmetric or sign(secret, timestamp_ms, api_key, recv_window, payload)


def _errors() -> dict[str, ErrorInfo]:
    e, k = ErrorInfo, ErrorKind
    return {
        "10001": e(k.BAD_REQUEST, "Bybit refused the request's parameters.",
                   "Update keylink; if it persists, report it with the exchange's message."),
        "10002": e(k.TIMESTAMP, "Bybit says the request time is outside its receive window: "
                   "this computer's clock is off.",
                   CLOCK_FIX),
        "10003": e(k.INVALID_KEY, "Bybit does not know this API key here. Either it was mistyped, "
                   "deleted, or it belongs to another environment (mainnet, testnet and demo "
                   "keys are separate).",
                   "Check the key and that the account's environment matches where you created "
                   "the key."),
        "10004": e(k.BAD_SIGNATURE, "Bybit rejected the signature: the secret does not belong to "
                   "this key.",
                   "Paste the secret again; if it is lost, delete the key on Bybit and create a "
                   "new one."),
        "10005": e(k.PERMISSION_DENIED, "The key lacks a permission this call needs.",
                   "Edit the key on Bybit and give it the permissions the terminal needs."),
        "10006": e(k.RATE_LIMITED, "Bybit is rate-limiting requests from this address.",
                   "Wait a minute and try again."),
        "10007": e(k.INVALID_KEY, "Bybit could not authenticate the key.",
                   "Check the key and secret; create a new key if they are right and it still "
                   "fails."),
        # https://bybit-exchange.github.io/docs/v5/error: 10009 "IP has been banned". A region
        # block is an HTTP 403, handled before any code is read.
        "10009": e(k.IP_BANNED, "Bybit has banned this machine's IP address.",
                   "Wait before trying again (a ban from too many requests lifts after a while); "
                   "if it stays, ask Bybit support."),
        "10010": ip_bound_elsewhere("Bybit"),
        "10016": e(k.SERVER_ERROR, "Bybit had an internal error.", "Try again in a minute."),
        "33004": e(k.KEY_EXPIRED, "Bybit says the key has expired (keys with no IP bound lapse "
                   "after 90 days).",
                   "Create a new key and bind it to the terminal's IP addresses (or link it to "
                   "the terminal) so it does not lapse."),
    }


class BybitApi(ExchangeApi):
    """Bybit V5 over HMAC keys."""

    time_path = "/v5/market/time"
    key_info_path = "/v5/user/query-api"
    errors = _errors()

    def sign_key_info(self, creds: CredentialsLike, timestamp_ms: int) -> SignedRequest:
        signature = sign_header(creds.secret, timestamp_ms, creds.api_key, RECV_WINDOW, "")
        return SignedRequest(
            path=self.key_info_path,
            headers=(
                ("X-BAPI-API-KEY", creds.api_key),
                ("X-BAPI-TIMESTAMP", str(timestamp_ms)),
                ("X-BAPI-RECV-WINDOW", str(RECV_WINDOW)),
                ("X-BAPI-SIGN", signature),
            ),
            sensitive=(signature,),
        )

    def parse_time(self, payload: Any) -> int:
        result = self.reply(payload).data or {}
        try:
            if result.get("timeNano"):
                return int(result["timeNano"]) // 1_000_000
            return int(result["timeSecond"]) * 1000
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError("no server time in Bybit's answer") from exc

    def reply(self, payload: Any) -> Reply:
        if not isinstance(payload, dict) or "retCode" not in payload:
            raise ValueError("not a Bybit V5 envelope")
        code = payload.get("retCode")
        return Reply(None if code in (0, "0") else str(code), str(payload.get("retMsg", "")),
                     payload.get("result"))

    def parse_key_info(self, data: Any) -> KeyInfo:
        if not isinstance(data, dict):
            raise ValueError("Bybit's key info is not an object")
        groups = data.get("permissions")
        groups = {} if groups is None else groups
        if not isinstance(groups, dict):
            raise ValueError("Bybit's permissions are not an object")
        raw: list[str] = []
        rights: set[str] = set()
        unknown: list[str] = []
        for group, values in groups.items():
            if str(group) in DEPRECATED_GROUPS:
                continue
            # Unknown groups (Bybit adds them over time) are kept, never an error.
            for value in values if isinstance(values, list) else ():
                name = f"{group}:{value}"
                raw.append(name)
                right = _RIGHTS.get(str(group), {}).get(str(value))
                if right is None:
                    unknown.append(name)
                else:
                    rights.add(right)
        read_only = str(data.get("readOnly", "0")) == "1"
        # readOnly 1: whatever the groups list, the key can only read them.
        permissions = {"read"} if read_only else {"read", *rights}
        if unknown and not read_only:
            permissions.add("unknown")
        ips = text_list(data.get("ips"))
        restricted = bool(ips) and "*" not in ips
        key_type = {1: "personal", 2: "linked"}.get(_int_or_none(data.get("type")) or 0)
        deadline = _int_or_none(data.get("deadlineDay"))
        return KeyInfo(
            permissions=frozenset(permissions),
            raw_permissions=tuple(raw),
            read_only=read_only,
            ips=ips if restricted else (),
            ip_restricted=restricted,
            key_type=key_type,
            expires_at=parse_utc(data.get("expiredAt")),
            # Negative means none. Unbound keys count down from 90 days; a bound key carries one
            # after an account password change (FACTS section 9), so it is kept for both.
            deadline_days=deadline if deadline is not None and deadline >= 0 else None,
            label=str(data.get("note") or ""),
            unknown_rights=() if read_only else tuple(unknown),
            rights_notes=() if read_only else tuple(
                (group, NAMED_GROUPS[group]) for group in dict.fromkeys(
                    name.split(":", 1)[0] for name in unknown) if group in NAMED_GROUPS),
        )


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


INFO = ExchangeInfo(
    id="bybit",
    label="Bybit",
    rank=0,
    has_passphrase=False,
    key_shape=KeyShape(r"[A-Za-z0-9]{18}", "18 letters and digits"),
    secret_shape=KeyShape(r"[A-Za-z0-9]{36}", "36 letters and digits"),
    key_kinds=KEY_KINDS,
    create_button="Create V5 API key",
    linked_option="Connect to Third-Party Applications",
    api=BybitApi(),
)

"""Bitget V2: host, base64 HMAC signing with passphrase, /api/v2/spot/account/info, error codes."""

from __future__ import annotations

import base64
from typing import Any

from tui.services.exchanges.base import (
    CLOCK_FIX,
    PASSPHRASE_FIX,
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
    hmac_sha256,
    ip_bound_elsewhere,
    text_list,
)


def sign(secret: str, timestamp_ms: int, method: str, request_path: str, query: str = "",
         body: str = "") -> str:
    """Bitget signature: base64 HMAC-SHA256(timestamp + METHOD + path + ("?" + query) + body)."""
    target = f"{request_path}?{query}" if query else request_path
    message = f"{timestamp_ms}{method.upper()}{target}{body}"
    # RSA ("user-generated") keys: base64 SHA256withRSA (PKCS#1 v1.5) over the same string
    # (https://www.bitget.com/api-doc/common/signature; BitgetLimited/v3-bitget-api-sdk
    # bitget/utils.py signByRSA, SignatureUtils.genRsaSignature, signer.go SignByRSA).
    asymmetric = asymmetric_signature(secret, message)
    if asymmetric is not None:
        return asymmetric
    return base64.b64encode(hmac_sha256(secret, message)).decode()


#: HMAC ("system-generated") and RSA ("user-generated") keys, RSA 2048 (default) or 4096 bits;
#: an RSA key still has an API passphrase ("How to create an RSA key pair on Bitget",
#: https://www.bitget.com/support/articles/12560603795900).
KEY_KINDS = (
    KeyKindSpec("hmac", name="System-generated"),
    KeyKindSpec("rsa", sizes=(2048, 4096), name="User-generated"),
)


#: ``authorities`` codes of GET /api/v2/spot/account/info
#: (https://www.bitget.com/api-doc/spot/account/Get-Account-Info, read 2026-11-28). Write codes
#: are not all trading: ``wtow`` is wallet transfer, ``wwow`` withdraw. ``chow`` (sub-account
#: management), ``ttow`` and ``p2pw`` are left "unknown": the documentation names them but does
#: not say which of them can move funds out, so keylink asks the user to check them.
_RIGHTS = {
    **dict.fromkeys(("coor", "cpor", "stor", "smor", "ttor", "wtor", "taxr", "chor", "p2pr"),
                    "read"),
    "coow": "trade",  # contract (futures) orders
    "cpow": "trade",  # copy trading
    "stow": "trade",  # spot trading
    "smow": "trade",  # margin trading
    "wtow": "transfer",
    "wwow": "withdraw",
    # UNCONFIRMED: some answers (and older examples) are said to carry words instead of the
    # codes above. Both are read, so either gives the same verdict; any other word is unknown.
    "readonly": "read",
    "trade": "trade",
    "transfer": "transfer",
    "withdraw": "withdraw",
}


def _permissions(raw: tuple[str, ...]) -> tuple[set[str], tuple[str, ...]]:
    """Normalised rights and the codes keylink does not know (never taken for harmless)."""
    found = {"read"}
    unknown = tuple(code for code in raw if code.lower() not in _RIGHTS)
    found.update(_RIGHTS[code.lower()] for code in raw if code.lower() in _RIGHTS)
    if unknown:
        found.add("unknown")
    return found, unknown


def _errors() -> dict[str, ErrorInfo]:
    e, k = ErrorInfo, ErrorKind
    # https://www.bitget.com/api-doc/common/error-code/restapi (read 2026-11-28); 40004/40005
    # as timestamp errors follow ccxt's Bitget table.
    stamp = e(k.TIMESTAMP, "Bitget refused the request timestamp: this computer's clock is off.",
              CLOCK_FIX)
    return {
        "40004": stamp,
        "40005": stamp,
        "40006": e(k.INVALID_KEY, "Bitget does not recognise this API key (mistyped, or a demo "
                   "key used live / a live key used for demo trading).",
                   "Check the key and the account's environment."),
        "40008": e(k.TIMESTAMP, "Bitget says the request timestamp expired: this computer's "
                   "clock is off by more than 30 seconds.",
                   CLOCK_FIX),
        "40009": e(k.BAD_SIGNATURE, "Bitget rejected the signature: the secret does not belong "
                   "to this key.",
                   SECRET_FIX),
        "40011": e(k.MISSING_CREDENTIAL, "Bitget received an empty passphrase.",
                   "Enter the passphrase you chose when you created the key."),
        "40012": e(k.BAD_PASSPHRASE, "The passphrase is wrong for this key.", PASSPHRASE_FIX),
        # The key-info call is documented as needing spot read permission: a futures-only key
        # is refused here without being broken.
        "40014": e(k.RIGHTS_HIDDEN, "Bitget knows this key but will not describe it: its "
                   "key-info call needs the spot read permission, which this key does not have "
                   "(normal for a futures-only key). Bitget does not document whether it checks "
                   "the secret before the permission, so this does not prove the secret is right.",
                   "Check the key's rights on Bitget's API page, or give it spot read so "
                   "keylink can read them."),
        "40018": ip_bound_elsewhere("Bitget"),
        "40037": e(k.INVALID_KEY, "Bitget says this API key does not exist (deleted or mistyped).",
                   "Check the key; create a new one if it was deleted."),
        "429": e(k.RATE_LIMITED, "Bitget is rate-limiting requests.", "Wait a minute and retry."),
    }


class BitgetApi(ExchangeApi):
    """Bitget V2 (live and demo trading; demo is chosen by a header)."""

    time_path = "/api/v2/public/time"
    key_info_path = "/api/v2/spot/account/info"
    errors = _errors()

    def sign_key_info(self, creds: CredentialsLike, timestamp_ms: int) -> SignedRequest:
        signature = sign(creds.secret, timestamp_ms, "GET", self.key_info_path)
        return SignedRequest(
            path=self.key_info_path,
            headers=(
                ("ACCESS-KEY", creds.api_key),
                ("ACCESS-SIGN", signature),
                ("ACCESS-TIMESTAMP", str(timestamp_ms)),
                ("ACCESS-PASSPHRASE", creds.passphrase),
                ("locale", "en-US"),
            ),
            sensitive=(signature,),
        )

    def parse_time(self, payload: Any) -> int:
        try:
            return int(self.reply(payload).data["serverTime"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError("no server time in Bitget's answer") from exc

    def reply(self, payload: Any) -> Reply:
        if not isinstance(payload, dict) or "code" not in payload:
            raise ValueError("not a Bitget envelope")
        code = str(payload.get("code"))
        return Reply(None if code == "00000" else code, str(payload.get("msg", "")),
                     payload.get("data"))

    def parse_key_info(self, data: Any) -> KeyInfo:
        if not isinstance(data, dict):
            raise ValueError("Bitget's account info is not an object")
        raw = text_list(data.get("authorities"))
        permissions, unknown = _permissions(raw)
        ips = text_list(data.get("ips"))
        return KeyInfo(
            permissions=frozenset(permissions),
            raw_permissions=raw,
            read_only=permissions == {"read"},
            ips=ips,
            ip_restricted=bool(ips),
            unknown_rights=unknown,
        )


INFO = ExchangeInfo(
    id="bitget",
    label="Bitget",
    rank=2,
    has_passphrase=True,
    key_shape=KeyShape(r"bg_[0-9a-f]{32}", "bg_ followed by 32 hex digits"),
    secret_shape=KeyShape(r"[0-9a-f]{64}", "64 hex digits"),
    key_kinds=KEY_KINDS,
    default_whitelist="insilico-bitget",
    notes=("Insilico Terminal accepts Bitget key names of at most 26 characters.",),
    api=BitgetApi(),
)

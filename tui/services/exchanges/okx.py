"""OKX V5: hosts, base64 HMAC signing with passphrase, /api/v5/account/config and error codes."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
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
    KeyShape,
    Reply,
    SignedRequest,
    hmac_sha256,
    ip_bound_elsewhere,
    text_list,
)

#: ``perm`` values of GET /api/v5/account/config, as documented
#: (https://www.okx.com/docs-v5/en/#trading-account-rest-api-get-account-configuration, read
#: 2026-11-28): "read_only", "trade", "withdraw". Anything else is "unknown".
_RIGHTS = {"read_only": "read", "trade": "trade", "withdraw": "withdraw"}
#: OKX disables a key with trade or withdraw rights and no IP bound after 14 days without use
#: (OKX's API key creation page and FAQ; demo trading keys are exempt).
IDLE_EXPIRY_DAYS = 14


def iso_timestamp(timestamp_ms: int) -> str:
    """OKX's timestamp header: ISO 8601 UTC with milliseconds, e.g. 2020-12-08T09:08:57.715Z."""
    moment = datetime.fromtimestamp(timestamp_ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{timestamp_ms % 1000:03d}Z"


def sign(secret: str, timestamp: str, method: str, request_path: str, body: str = "") -> str:
    """OKX signature: base64 HMAC-SHA256(timestamp + METHOD + requestPath(with ?query) + body)."""
    digest = hmac_sha256(secret, f"{timestamp}{method.upper()}{request_path}{body}")
    return base64.b64encode(digest).decode()


def _errors() -> dict[str, ErrorInfo]:
    e, k = ErrorInfo, ErrorKind
    header_fix = "Update keylink: a required header was not sent."
    return {
        "50100": e(k.KEY_FROZEN, "OKX has frozen this API key.",
                   "Check the key's status on OKX; create a new key if it stays frozen."),
        "50101": e(k.WRONG_ENVIRONMENT, "The key belongs to the other OKX environment (a demo "
                   "trading key used live, or a live key used for demo trading).",
                   "Pick the environment the key was created in (demo keys are made under Demo "
                   "trading on OKX)."),
        "50102": e(k.TIMESTAMP, "OKX says the request timestamp expired: this computer's clock "
                   "is off by more than 30 seconds.", CLOCK_FIX),
        "50103": e(k.MISSING_CREDENTIAL, "OKX did not receive the API key header.", header_fix),
        "50104": e(k.MISSING_CREDENTIAL, "OKX did not receive a passphrase.",
                   "Enter the passphrase you set when you created the key."),
        "50105": e(k.BAD_PASSPHRASE, "The passphrase is wrong for this key.", PASSPHRASE_FIX),
        "50106": e(k.MISSING_CREDENTIAL, "OKX did not receive the signature header.", header_fix),
        "50107": e(k.MISSING_CREDENTIAL, "OKX did not receive the timestamp header.", header_fix),
        # The message names the address OKX saw ("Your IP 1.2.3.4 is not included in your API
        # key's IP whitelist"): verify shows it.
        "50110": ip_bound_elsewhere("OKX"),
        "50111": e(k.INVALID_KEY, "OKX does not recognise this API key.",
                   "Check the key for typos, and that it is for this environment."),
        "50112": e(k.TIMESTAMP, "OKX could not accept the request timestamp.", CLOCK_FIX),
        "50113": e(k.BAD_SIGNATURE, "OKX rejected the signature: the secret does not belong to "
                   "this key.",
                   SECRET_FIX),
        # https://www.okx.com/docs-v5/en/#error-code: 50119 "API key doesn't exist". Accounts
        # registered with OKX's EEA or global-app entities have their keys on eea.okx.com or
        # my.okx.com, where www.okx.com does not know them.
        "50119": e(k.INVALID_KEY, "OKX says this API key does not exist here. If the key is "
                   "correct, the usual cause is an account on another OKX site: EEA accounts use "
                   "eea.okx.com, some others my.okx.com.",
                   "Pick the environment of the site where you log in to OKX (EEA or my.okx.com), "
                   "or check the key for typos."),
        "50011": e(k.RATE_LIMITED, "OKX is rate-limiting requests.",
                   "Wait a minute and try again."),
    }


class OkxApi(ExchangeApi):
    """OKX V5 (live and demo trading; demo is chosen by a header, not a host)."""

    time_path = "/api/v5/public/time"
    key_info_path = "/api/v5/account/config"
    errors = _errors()

    def sign_key_info(self, creds: CredentialsLike, timestamp_ms: int) -> SignedRequest:
        stamp = iso_timestamp(timestamp_ms)
        signature = sign(creds.secret, stamp, "GET", self.key_info_path)
        return SignedRequest(
            path=self.key_info_path,
            headers=(
                ("OK-ACCESS-KEY", creds.api_key),
                ("OK-ACCESS-SIGN", signature),
                ("OK-ACCESS-TIMESTAMP", stamp),
                ("OK-ACCESS-PASSPHRASE", creds.passphrase),
            ),
            sensitive=(signature,),
        )

    def parse_time(self, payload: Any) -> int:
        try:
            return int(self.reply(payload).data[0]["ts"])
        except (IndexError, KeyError, TypeError, ValueError) as exc:
            raise ValueError("no server time in OKX's answer") from exc

    def reply(self, payload: Any) -> Reply:
        if not isinstance(payload, dict) or "code" not in payload:
            raise ValueError("not an OKX V5 envelope")
        code = str(payload.get("code"))
        message = str(payload.get("msg", ""))
        return Reply(None if code == "0" else code, message, payload.get("data"))

    def parse_key_info(self, data: Any) -> KeyInfo:
        if not isinstance(data, list) or not data or not isinstance(data[0], dict):
            raise ValueError("OKX's account config is empty")
        config = data[0]
        raw = text_list(config.get("perm"))
        permissions = {"read"}
        unknown = tuple(p for p in raw if p not in _RIGHTS)
        permissions.update(_RIGHTS[p] for p in raw if p in _RIGHTS)
        if unknown:
            permissions.add("unknown")
        ips = text_list(config.get("ip"))
        risky = bool(permissions & {"trade", "withdraw", "unknown"})
        return KeyInfo(
            permissions=frozenset(permissions),
            raw_permissions=raw,
            read_only=permissions == {"read"},
            ips=ips,
            ip_restricted=bool(ips),
            label=str(config.get("label") or ""),
            unknown_rights=unknown,
            idle_expiry_days=IDLE_EXPIRY_DAYS if risky and not ips else None,
        )


# OKX documents only HMAC API keys (OK-ACCESS-SIGN = base64 HMAC-SHA256, FACTS.md section 4;
# no RSA/Ed25519 key option in its docs), so INFO keeps the default HMAC-only ``key_kinds``.
INFO = ExchangeInfo(
    id="okx",
    label="OKX",
    rank=1,
    has_passphrase=True,
    key_shape=KeyShape(
        r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
        "a UUID (8-4-4-4-12 hex digits)",
    ),
    secret_shape=KeyShape(r"[0-9A-F]{32}", "32 upper-case hex digits"),
    api=OkxApi(),
)

"""A fake of four exchanges' time and key-info endpoints: a real HTTP server on 127.0.0.1.

It checks signatures, timestamps and passphrases the way each exchange documents them (written
independently of keylink's signing code, so the two can disagree) and answers with the exchanges'
envelopes and error codes. One server serves all four exchanges: their paths do not overlap.

Use in tests::

    with FakeExchange() as fake:            # keys for all four exchanges preloaded
        url = fake.url                      # http://127.0.0.1:PORT
        fake.key("bybit").ips = ("1.2.3.4",)
        fake.config.fault = "5xx"

Run standalone (the tmux end-to-end test and the screenshots use this)::

    python -m tests.fakes.exchange --port 8765 --scenario healthy

which prints the URL and the test credentials as one JSON line, then serves until killed.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import re
import sys
import threading
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

EXCHANGES = ("bybit", "okx", "bitget", "binance")
FAULTS = ("hang", "5xx", "429", "403", "rate-limit", "garbage", "huge", "huge-declared",
          "html", "drop", "deep", "nonfinite", "drip")
#: The address the fake pretends the caller has (what an exchange sees as the client IP).
LOOPBACK = "127.0.0.1"


@dataclass
class FakeKey:
    """One API key the fake knows, with the settings its key-info call reports."""

    api_key: str
    secret: str
    passphrase: str = ""
    #: Environment the key belongs to: bybit mainnet/testnet/demo; okx and bitget mainnet/demo.
    environment: str = "mainnet"
    permissions: frozenset[str] = frozenset({"read", "trade"})
    #: Bound addresses; empty = no IP restriction.
    ips: tuple[str, ...] = ()
    #: Bybit: created through "Connect to Third-Party Applications" (type 2).
    linked: bool = False
    #: Bybit deadlineDay for unbound keys.
    deadline_days: int = 90
    expires_at: datetime | None = None
    frozen: bool = False
    label: str = "keylink-test"
    #: Rights in the exchange's own words that keylink's tables do not know (Bybit
    #: "Group:Entry", Bitget codes, OKX perm words, Binance flags), reported beside the others.
    extra_rights: tuple[str, ...] = ()
    #: A registered public key (SPKI PEM) for a self-generated key: requests are then checked
    #: against it (Ed25519, or RSA PKCS#1 v1.5 SHA-256) and ``secret`` is unused.
    public_key: str = ""
    #: Bybit: the deadlineDay reported for an IP-bound key (as after an account password change,
    #: FACTS section 9); None: a bound key reports -1, as usual.
    bound_deadline_days: int | None = None


@dataclass
class FakeConfig:
    """Server-wide behaviour: which environment this host is, clock skew, latency, faults."""

    #: The Bybit environment this host stands for (Bybit separates environments by host).
    bybit_environment: str = "mainnet"
    clock_skew_ms: int = 0
    #: Added to every answer: one round trip of a network this far away.
    latency_ms: int = 0
    #: Round trips a new connection costs before its first answer, each ``latency_ms`` long: 0
    #: for plain loopback; 2 for HTTPS over a real network (TCP's handshake, then TLS 1.3's),
    #: as benchmarks/probe.py models it. Later answers on the same connection pay only latency.
    handshake_rtts: int = 0
    #: One of FAULTS, or None for normal service.
    fault: str | None = None
    #: Which endpoints the fault hits: "all", "time" or "key".
    fault_on: str = "all"
    #: Fault only this many times, then serve normally (None = always).
    fault_times: int | None = None
    #: The client address the fake "sees" (to play a machine outside the key's whitelist).
    client_ip: str = LOOPBACK
    #: Seconds a "hang" fault keeps the connection open without answering.
    hang_seconds: float = 30.0
    #: Seconds between the bytes of a "drip" answer (each one arrives well within a read timeout).
    drip_interval: float = 0.2
    #: Refuse every key-info call with this exchange error code (after the checks pass), for
    #: codes no key setting produces (server errors, permission denied, region blocks).
    force_code: str | None = None
    #: Answer a key-info call that passes every check with exactly this (HTTP status, JSON body):
    #: the documented examples of tests/fixtures/exchanges, served after real signature checks.
    canned_key_info: tuple[int, Any] | None = None
    #: Put the received credential headers into error messages (to prove keylink scrubs what an
    #: exchange echoes back).
    echo_credentials: bool = False


# Test credentials shaped like real ones (FACTS section 6); never valid anywhere.
DEFAULT_KEYS: dict[str, FakeKey] = {
    "bybit": FakeKey("KLbybitTESTkey0001", "KLbybitTESTsecret0000000000000000001"),
    "okx": FakeKey("1f0c8a9e-5b7d-4c3e-9a21-6d4e8b2f7c10", "A1B2C3D4E5F60718293A4B5C6D7E8F90",
                   passphrase="Kl-pass-0ne!"),
    "bitget": FakeKey("bg_0123456789abcdef0123456789abcdef",
                      "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
                      passphrase="KlBitgetPass1"),
    "binance": FakeKey("KLbinanceTESTkey" + "0" * 48, "KLbinanceTESTsecret" + "1" * 45),
}


def _now_ms() -> int:
    return int(time.time() * 1000)


class Rejection(Exception):
    """The fake refuses a request: HTTP status and the exchange's JSON body."""

    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None):
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


@dataclass
class SeenRequest:
    """What the fake received (tests check headers and paths; the fake is test-only)."""

    method: str
    path: str
    headers: dict[str, str]
    #: The client's (address, port): requests with the same one came over one connection.
    connection: tuple[str, int] = ("", 0)


class FakeExchange:
    """The server. Mutable ``config`` and ``keys`` take effect on the next request."""

    def __init__(self, port: int = 0, config: FakeConfig | None = None,
                 keys: dict[str, list[FakeKey]] | None = None) -> None:
        self.config = config or FakeConfig()
        self.keys: dict[str, list[FakeKey]] = keys if keys is not None else {
            ex: [replace(key)] for ex, key in DEFAULT_KEYS.items()}
        self.requests: list[SeenRequest] = []
        self._faults_served = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer((LOOPBACK, port), handler)
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def start(self) -> FakeExchange:
        # A short poll interval keeps stop() (and so every test using the fake) quick.
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        daemon=True, name="fake-exchange")
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeExchange:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- configuration helpers ---------------------------------------------------------------------

    def key(self, exchange: str) -> FakeKey:
        """The first (default) key of an exchange, to adjust in a test."""
        return self.keys[exchange][0]

    def register_public_key(self, exchange: str, public_pem: str, **settings: Any) -> FakeKey:
        """What an exchange's "register a public key" page does: store the public key and hand
        out a new API key for it (shaped like the exchange's own keys)."""
        import secrets

        shapes = {"bybit": lambda: secrets.token_hex(9).upper(),
                  "binance": lambda: secrets.token_hex(32),
                  "bitget": lambda: "bg_" + secrets.token_hex(16),
                  "okx": lambda: str(__import__("uuid").uuid4())}
        base = self.key(exchange)
        key = replace(base, api_key=shapes[exchange](), secret="", public_key=public_pem,
                      **settings)
        self.keys[exchange].append(key)
        return key

    def server_ms(self) -> int:
        return _now_ms() + self.config.clock_skew_ms

    def _take_fault(self, endpoint: str) -> str | None:
        cfg = self.config
        if cfg.fault is None or cfg.fault_on not in ("all", endpoint):
            return None
        with self._lock:
            if cfg.fault_times is not None and self._faults_served >= cfg.fault_times:
                return None
            self._faults_served += 1
        return cfg.fault

    # -- key lookup and checks shared by the exchanges -----------------------------------------

    def _find(self, exchange: str, api_key: str) -> FakeKey | None:
        return next((k for k in self.keys.get(exchange, ()) if hmac.compare_digest(
            k.api_key.encode(), api_key.encode())), None)

    def _ip_allowed(self, key: FakeKey) -> bool:
        """Bound entries may be addresses or networks, IPv4 or IPv6 (as OKX documents)."""
        import ipaddress

        if not key.ips:
            return True
        try:
            client = ipaddress.ip_address(self.config.client_ip)
        except ValueError:  # a test's made-up "address the exchange saw": matches no entry
            return False
        for entry in key.ips:
            try:
                if client in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                continue
        return False


# --- per-exchange behaviour ----------------------------------------------------------------------


def _b64_hmac(secret: str, message: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), message.encode(), hashlib.sha256)
                            .digest()).decode()


def _hex_hmac(secret: str, message: str) -> str:
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def _asymmetric_ok(public_pem: str, message: str, signature_b64: str) -> bool:
    """Check a base64 signature with a registered public key: Ed25519 over the raw message, RSA
    as RSASSA-PKCS1-v1_5 with SHA-256 (the only schemes these exchanges document)."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

    try:
        signature = base64.b64decode(signature_b64, validate=True)
    except ValueError:
        return False
    public = serialization.load_pem_public_key(public_pem.encode())
    try:
        if isinstance(public, ed25519.Ed25519PublicKey):
            public.verify(signature, message.encode())
        elif isinstance(public, rsa.RSAPublicKey):
            public.verify(signature, message.encode(), padding.PKCS1v15(), hashes.SHA256())
        else:
            return False
    except InvalidSignature:
        return False
    return True


def _signed_by(key: FakeKey, message: str, signature: str, hmac_hex: bool) -> bool:
    """A request's signature is right for ``key``: its public key if registered, else HMAC."""
    if key.public_key:
        return _asymmetric_ok(key.public_key, message, signature)
    if hmac_hex:
        return _same(_hex_hmac(key.secret, message), signature.lower())
    return _same(_b64_hmac(key.secret, message), signature)


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="milliseconds") \
        .replace("+00:00", "Z")


class _Bybit:
    """Bybit V5: HTTP 200 envelopes except authentication failures (HTTP 401)."""

    time_path = "/v5/market/time"
    key_path = "/v5/user/query-api"

    @staticmethod
    def envelope(code: int, msg: str, result: Any = None) -> dict[str, Any]:
        return {"retCode": code, "retMsg": msg, "result": result if result is not None else {},
                "retExtInfo": {}, "time": _now_ms()}

    @classmethod
    def reject(cls, code: int, msg: str, status: int = 200) -> Rejection:
        return Rejection(status, cls.envelope(code, msg))

    @classmethod
    def time(cls, fake: FakeExchange) -> dict[str, Any]:
        now = fake.server_ms()
        return cls.envelope(0, "OK", {"timeSecond": str(now // 1000),
                                      "timeNano": str(now * 1_000_000)})

    @classmethod
    def key_info(cls, fake: FakeExchange, headers: dict[str, str], query: str) -> dict[str, Any]:
        api_key = headers.get("x-bapi-api-key", "")
        stamp = headers.get("x-bapi-timestamp", "")
        signature = headers.get("x-bapi-sign", "")
        window_text = headers.get("x-bapi-recv-window", "5000")
        key = fake._find("bybit", api_key)
        if not api_key or key is None or key.environment != fake.config.bybit_environment:
            raise cls.reject(10003, "API key is invalid.", 401)
        if not stamp.isdigit() or not window_text.isdigit():
            raise cls.reject(10001, "invalid request, please check your timestamp or recv_window")
        server, window = fake.server_ms(), int(window_text)
        # Documented rule: server_time - recv_window <= timestamp < server_time + 1000.
        if not server - window <= int(stamp) < server + 1000:
            raise cls.reject(10002, "invalid request, please check your server timestamp or "
                             f"recv_window param. req_timestamp[{stamp}],server_timestamp"
                             f"[{server}],recv_window[{window}]")
        if not _signed_by(key, f"{stamp}{api_key}{window_text}{query}", signature, True):
            raise cls.reject(10004, "error sign! origin_string[...]", 401)
        if not fake._ip_allowed(key):
            raise cls.reject(10010, f"Unmatched IP, please check your API key's bound IP "
                             f"addresses. [{fake.config.client_ip}]")
        if key.frozen or (key.expires_at and key.expires_at < datetime.now(UTC)):
            raise cls.reject(33004, "Your api key has expired.")
        perms = key.permissions
        read_only = "trade" not in perms and "withdraw" not in perms and "transfer" not in perms
        wallet = ([*(["AccountTransfer", "SubMemberTransfer"] if "transfer" in perms else []),
                   *(["Withdraw"] if "withdraw" in perms else [])])
        trade = "trade" in perms
        result = {
            "id": "123456", "note": key.label, "apiKey": key.api_key,
            "readOnly": 1 if read_only else 0, "secret": "",
            "permissions": {
                "ContractTrade": ["Order", "Position"] if trade else [],
                "Spot": ["SpotTrade"] if trade else [],
                "Wallet": wallet,
                "Options": ["OptionsTrade"] if trade else [],
                "Derivatives": ["DerivativesTrade"] if trade else [],
                "CopyTrading": [], "BlockTrade": [], "Exchange": [], "NFT": [],
                "Affiliate": [], "Earn": [], "FiatP2P": [],
                # A group Bybit might add tomorrow, empty: parsing must survive it.
                "SomethingNew": [],
            },
            "ips": list(key.ips) or ["*"],
            "type": 2 if key.linked else 1,
            "deadlineDay": (key.deadline_days if not key.ips else -1
                            if key.bound_deadline_days is None else key.bound_deadline_days),
            "expiredAt": key.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ") if key.expires_at else "",
            "createdAt": "2024-01-01T00:00:00Z", "unified": 0, "uta": 1, "userID": 123456,
            "inviterID": 0, "vipLevel": "No VIP", "mktMakerLevel": "0", "affiliateID": 0,
            # Format of a non-empty value is undocumented: the fake sends the bare base64.
            "rsaPublicKey": "".join(key.public_key.strip().splitlines()[1:-1]),
            "isMaster": True, "parentUid": "0", "kycLevel": "LEVEL_DEFAULT",
            "kycRegion": "",
        }
        for right in key.extra_rights:
            group, _, entry = right.partition(":")
            result["permissions"].setdefault(group, []).append(entry)
        return cls.envelope(0, "", result)

    @classmethod
    def forced(cls, code: str) -> Rejection:
        return cls.reject(int(code), "forced by the fake exchange", 401 if code in
                          ("10003", "10004") else 200)

    @classmethod
    def rate_limited(cls) -> Rejection:
        reset = _now_ms() + 1000
        return Rejection(200, cls.envelope(10006, "Too many visits!"),
                         {"X-Bapi-Limit-Status": "0", "X-Bapi-Limit": "10",
                          "X-Bapi-Limit-Reset-Timestamp": str(reset)})


class _Okx:
    """OKX V5: authentication failures are HTTP 401 with {"code", "msg", "data": []}."""

    time_path = "/api/v5/public/time"
    key_path = "/api/v5/account/config"
    _STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")

    @staticmethod
    def reject(code: str, msg: str, status: int = 401) -> Rejection:
        return Rejection(status, {"code": code, "msg": msg, "data": []})

    @classmethod
    def time(cls, fake: FakeExchange) -> dict[str, Any]:
        return {"code": "0", "msg": "", "data": [{"ts": str(fake.server_ms())}]}

    @classmethod
    def key_info(cls, fake: FakeExchange, headers: dict[str, str], path_qs: str) -> dict[str, Any]:
        api_key = headers.get("ok-access-key", "")
        signature = headers.get("ok-access-sign", "")
        stamp = headers.get("ok-access-timestamp", "")
        passphrase = headers.get("ok-access-passphrase")
        demo = headers.get("x-simulated-trading", "0") == "1"
        if not api_key:
            raise cls.reject("50103", "Request header OK-ACCESS-KEY cannot be empty.")
        if passphrase is None or passphrase == "":
            raise cls.reject("50104", "Request header OK-ACCESS-PASSPHRASE cannot be empty.")
        if not signature:
            raise cls.reject("50106", "Request header OK-ACCESS-SIGN cannot be empty.")
        if not stamp:
            raise cls.reject("50107", "Request header OK-ACCESS-TIMESTAMP cannot be empty.")
        if not cls._STAMP.fullmatch(stamp):
            raise cls.reject("50112", "Invalid OK-ACCESS-TIMESTAMP.")
        sent = int(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() * 1000)
        if abs(sent - fake.server_ms()) > 30_000:
            raise cls.reject("50102", "Timestamp request expired.")
        key = fake._find("okx", api_key)
        if key is None:
            raise cls.reject("50111", "Invalid OK-ACCESS-KEY.")
        if (key.environment == "demo") != demo:
            raise cls.reject("50101", "APIKey does not match current environment.")
        if key.frozen:
            raise cls.reject("50100", "API frozen, please contact customer service.")
        if not _same(passphrase, key.passphrase):
            raise cls.reject("50105", "Request header OK-ACCESS-PASSPHRASE incorrect.")
        if not _same(_b64_hmac(key.secret, f"{stamp}GET{path_qs}"), signature):
            raise cls.reject("50113", "Invalid Sign.")
        if not fake._ip_allowed(key):
            raise cls.reject("50110", f"Your IP {fake.config.client_ip} is not included in your "
                             "API key's IP whitelist.")
        perms = ["read_only"]
        perms += [p for p in ("trade", "withdraw") if p in key.permissions]
        perms += key.extra_rights
        return {"code": "0", "msg": "", "data": [{
            "uid": "44705892343619584", "mainUid": "44705892343619584", "acctLv": "2",
            "posMode": "long_short_mode", "autoLoan": False, "greeksType": "PA", "level": "Lv1",
            "levelTmp": "", "ctIsoMode": "automatic", "mgnIsoMode": "automatic",
            "spotOffsetType": "", "roleType": "0", "traderInsts": [], "spotRoleType": "0",
            "spotTraderInsts": [], "opAuth": "0", "kycLv": "3", "label": key.label,
            "ip": ",".join(key.ips), "perm": ",".join(perms), "liquidationGear": "-1",
            "enableSpotBorrow": False, "spotBorrowAutoRepay": False, "type": "0",
        }]}

    @classmethod
    def forced(cls, code: str) -> Rejection:
        return cls.reject(code, "forced by the fake exchange", 429 if code == "50011" else 401)

    @classmethod
    def rate_limited(cls) -> Rejection:
        return cls.reject("50011", "Too Many Requests", 429)


class _Bitget:
    """Bitget V2: errors are HTTP 400 with {"code", "msg", "requestTime", "data": null}."""

    time_path = "/api/v2/public/time"
    key_path = "/api/v2/spot/account/info"

    @staticmethod
    def reject(code: str, msg: str, status: int = 400) -> Rejection:
        return Rejection(status, {"code": code, "msg": msg, "requestTime": _now_ms(),
                                  "data": None})

    @classmethod
    def time(cls, fake: FakeExchange) -> dict[str, Any]:
        now = fake.server_ms()
        return {"code": "00000", "msg": "success", "requestTime": now,
                "data": {"serverTime": str(now)}}

    @classmethod
    def key_info(cls, fake: FakeExchange, headers: dict[str, str], path_qs: str) -> dict[str, Any]:
        api_key = headers.get("access-key", "")
        signature = headers.get("access-sign", "")
        stamp = headers.get("access-timestamp", "")
        passphrase = headers.get("access-passphrase", "")
        demo = headers.get("paptrading", "") == "1"
        key = fake._find("bitget", api_key)
        if not api_key or key is None:
            raise cls.reject("40037", "Apikey does not exist")
        if (key.environment == "demo") != demo:
            raise cls.reject("40006", "Invalid ACCESS_KEY")
        if not stamp.isdigit() or abs(int(stamp) - fake.server_ms()) > 30_000:
            raise cls.reject("40008", "Request timestamp expired")
        if not passphrase:
            raise cls.reject("40011", "ACCESS_PASSPHRASE is empty")
        if not _same(passphrase, key.passphrase):
            raise cls.reject("40012", "apikey/password is incorrect")
        if not _signed_by(key, f"{stamp}GET{path_qs}", signature, False):
            raise cls.reject("40009", "sign signature error")
        if not fake._ip_allowed(key):
            raise cls.reject("40018", "Invalid IP")
        # The documented codes (https://www.bitget.com/api-doc/spot/account/Get-Account-Info).
        authorities = ["coor", "stor"]
        if "trade" in key.permissions:
            authorities += ["coow", "stow"]
        if "transfer" in key.permissions:
            authorities.append("wtow")
        if "withdraw" in key.permissions:
            authorities.append("wwow")
        authorities += key.extra_rights
        return {"code": "00000", "msg": "success", "requestTime": _now_ms(), "data": {
            "userId": "1234567890", "inviterId": "", "ips": ",".join(key.ips),
            "authorities": authorities, "parentId": 1234567890, "traderType": "",
            "channelCode": "", "channel": "", "regisTime": "1680000000000",
        }}

    @classmethod
    def forced(cls, code: str) -> Rejection:
        return cls.reject(code, "forced by the fake exchange", 429 if code == "429" else 400)

    @classmethod
    def rate_limited(cls) -> Rejection:
        return cls.reject("429", "Too Many Requests", 429)


class _Binance:
    """Binance: {"code": -NNNN, "msg"} with HTTP 400 (request) or 401 (key) on errors."""

    time_path = "/api/v3/time"
    key_path = "/sapi/v1/account/apiRestrictions"

    @staticmethod
    def reject(code: int, msg: str, status: int = 400) -> Rejection:
        return Rejection(status, {"code": code, "msg": msg})

    @classmethod
    def time(cls, fake: FakeExchange) -> dict[str, Any]:
        return {"serverTime": fake.server_ms()}

    @classmethod
    def key_info(cls, fake: FakeExchange, headers: dict[str, str], query: str) -> dict[str, Any]:
        api_key = headers.get("x-mbx-apikey", "")
        if not api_key:
            raise cls.reject(-2014, "API-key format invalid.", 401)
        key = fake._find("binance", api_key)
        if key is None:
            raise cls.reject(-2015, "Invalid API-key, IP, or permissions for action.", 401)
        # The signature covers everything before "&signature=" exactly as sent.
        total, _, signature = query.rpartition("&signature=")
        params = dict(parse_qsl(total))
        if "timestamp" not in params or not params["timestamp"].isdigit():
            raise cls.reject(-1102, "Mandatory parameter 'timestamp' was not sent.")
        window = int(params.get("recvWindow", "5000"))
        stamp, server = int(params["timestamp"]), fake.server_ms()
        # Documented rule: timestamp < serverTime + 1000 and serverTime - timestamp <= recvWindow.
        if not (stamp < server + 1000 and server - stamp <= window):
            raise cls.reject(-1021, "Timestamp for this request is outside of the recvWindow.")
        # Ed25519/RSA signatures arrive base64 then percent-encoded (rest-api.md "RSA Keys").
        if key.public_key:
            from urllib.parse import unquote

            signature = unquote(signature)
        if not signature or not _signed_by(key, total, signature, True):
            raise cls.reject(-1022, "Signature for this request is not valid.")
        if not fake._ip_allowed(key):
            raise cls.reject(-2015, "Invalid API-key, IP, or permissions for action.", 401)
        perms = key.permissions
        answer: dict[str, Any] = {
            "ipRestrict": bool(key.ips), "createTime": 1698645219000,
            "enableReading": True,
            "enableWithdrawals": "withdraw" in perms,
            "enableInternalTransfer": "transfer" in perms,
            "enableMargin": False,
            "enableFutures": "trade" in perms,
            "permitsUniversalTransfer": "transfer" in perms,
            "enableVanillaOptions": False,
            "enableFixApiTrade": False, "enableFixReadOnly": False,
            "enableSpotAndMarginTrading": "trade" in perms,
            "enablePortfolioMarginTrading": False,
            **dict.fromkeys(key.extra_rights, True),
        }
        if key.expires_at is not None:
            answer["tradingAuthorityExpirationTime"] = int(key.expires_at.timestamp() * 1000)
        return answer

    @classmethod
    def forced(cls, code: str) -> Rejection:
        status = {"-1003": 429, "-2014": 401, "-2015": 401}.get(code, 400)
        return cls.reject(int(code), "forced by the fake exchange", status)

    @classmethod
    def rate_limited(cls) -> Rejection:
        return cls.reject(-1003, "Too much request weight used; current limit is 6000 request "
                          "weight per 1 MINUTE.", 429)


_ROUTES: dict[str, tuple[str, type, str]] = {}
for _name, _cls in (("bybit", _Bybit), ("okx", _Okx), ("bitget", _Bitget),
                    ("binance", _Binance)):
    _ROUTES[_cls.time_path] = (_name, _cls, "time")
    _ROUTES[_cls.key_path] = (_name, _cls, "key")

#: The "nonfinite" fault's answers: each exchange's envelope, serving both its time call and its
#: key-info call, with Infinity wherever a number (or a numeric string) is expected.
_NONFINITE: dict[type, bytes] = {
    _Bybit: b'{"retCode":0,"retMsg":"OK","result":{"timeSecond":Infinity,"timeNano":Infinity,'
            b'"readOnly":0,"type":Infinity,"deadlineDay":Infinity,"ips":["*"],"permissions":{}}}',
    _Okx: b'{"code":"0","msg":"","data":[{"ts":Infinity,"perm":"read_only,trade","ip":""}]}',
    _Bitget: b'{"code":"00000","msg":"success","data":{"serverTime":Infinity,'
             b'"authorities":["rw"],"ips":""}}',
    _Binance: b'{"serverTime":Infinity,"ipRestrict":false,"enableReading":true,'
              b'"tradingAuthorityExpirationTime":Infinity}',
}


class _Handler(BaseHTTPRequestHandler):
    fake: FakeExchange
    protocol_version = "HTTP/1.1"
    server_version = "fake-exchange/1"
    # Headers and body go out in two writes: with Nagle's algorithm the body of a second answer
    # on a kept-alive connection waits for the client's delayed ACK (40 ms on Linux), a delay
    # no exchange's server adds.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read .requests
        return

    def do_GET(self) -> None:
        fake = self.fake
        parts = urlsplit(self.path)
        headers = {k.lower(): v for k, v in self.headers.items()}
        with fake._lock:
            fake.requests.append(SeenRequest("GET", self.path, headers,
                                             tuple(self.client_address[:2])))
        route = _ROUTES.get(parts.path)
        if route is None:
            self._send_json(404, {"code": 404, "msg": "not found"})
            return
        _exchange, handler, endpoint = route
        if fake.config.latency_ms:
            round_trips = 1 if getattr(self, "_answered", False) else \
                1 + fake.config.handshake_rtts
            time.sleep(round_trips * fake.config.latency_ms / 1000)
        self._answered = True
        fault = fake._take_fault(endpoint)
        if fault is not None and self._serve_fault(fault, handler):
            return
        try:
            if endpoint == "time":
                body = handler.time(fake)
            elif handler in (_Okx, _Bitget):
                body = handler.key_info(fake, headers, self.path)  # path with ?query, as signed
            else:
                body = handler.key_info(fake, headers, parts.query)
            if endpoint == "key" and fake.config.force_code is not None:
                raise handler.forced(fake.config.force_code)
            if endpoint == "key" and fake.config.canned_key_info is not None:
                status, canned = fake.config.canned_key_info
                self._send_json(status, canned)
                return
        except Rejection as refused:
            if fake.config.echo_credentials:
                echoed = " ".join(f"{k}={v}" for k, v in headers.items()) + " " + self.path
                for field_name in ("retMsg", "msg"):
                    if field_name in refused.body:
                        refused.body[field_name] = f"{refused.body[field_name]} [{echoed}]"
            self._send_json(refused.status, refused.body, refused.headers)
            return
        self._send_json(200, body)

    def _serve_fault(self, fault: str, handler: Any) -> bool:
        if fault == "hang":
            self.fake._stopping.wait(self.fake.config.hang_seconds)
            self.close_connection = True
            return True
        if fault == "drop":
            self.close_connection = True
            return True
        if fault == "5xx":
            self._send(502, b"<html><body>502 Bad Gateway</body></html>", "text/html")
        elif fault == "429":
            self._send(429, b"Too Many Requests", "text/plain")
        elif fault == "403":
            self._send(403, b"<html><body>403 Forbidden</body></html>", "text/html")
        elif fault == "rate-limit":
            refused = handler.rate_limited()
            self._send_json(refused.status, refused.body, refused.headers)
        elif fault == "garbage":
            self._send(200, b'{"retCode":0,"result":{"ap\x00\xff garbage', "application/json")
        elif fault == "html":
            self._send(200, b"<!doctype html><title>Sign in to Wi-Fi</title>", "text/html")
        elif fault == "huge-declared":
            self._send(200, b"[" + b"0," * (3 << 20) + b"0]", "application/json")
        elif fault == "huge":
            self._send_chunked_huge()
        elif fault == "deep":
            # Small, but nested deeper than a recursive JSON parser can follow.
            self._send(200, b"[" * 200_000 + b"]" * 200_000, "application/json")
        elif fault == "nonfinite":
            # Python's json accepts Infinity: every number an exchange might send is infinite.
            self._send(200, _NONFINITE[handler], "application/json")
        elif fault == "drip":
            self._send_drip()
        else:
            return False
        return True

    def _send_chunked_huge(self) -> None:
        """5 MiB of JSON-ish bytes without a Content-Length, so only streaming can catch it."""
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        chunk = b"[" + b"1," * 32767 + b"1"
        try:
            for _ in range(80):
                self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped reading, as it should
        self.close_connection = True

    def _send_drip(self) -> None:
        """A valid-looking answer sent one byte at a time: no single read ever times out."""
        body = b'{"retCode":0,"retMsg":"OK","result":{"padding":"' + b"x" * 4096 + b'"}}'
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            for byte in body:
                if self.fake._stopping.wait(self.fake.config.drip_interval):
                    break
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up, as it should
        self.close_connection = True

    def _send_json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(body).encode(), "application/json", headers)

    def _send(self, status: int, body: bytes, content_type: str,
              headers: dict[str, str] | None = None) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


# --- scenarios for the standalone mode ------------------------------------------------------------


def _scenarios() -> dict[str, Any]:
    """Named set-ups for screenshots and end-to-end tests (applied to a fresh FakeExchange)."""

    def healthy(fake: FakeExchange) -> None:
        for ex in EXCHANGES:
            fake.key(ex).ips = (LOOPBACK, "18.167.89.125")
        fake.key("bybit").linked = True

    def withdraw(fake: FakeExchange) -> None:
        for ex in EXCHANGES:
            fake.key(ex).permissions = frozenset({"read", "trade", "withdraw"})

    def unbound(fake: FakeExchange) -> None:
        fake.key("bybit").deadline_days = 9

    def bound_elsewhere(fake: FakeExchange) -> None:
        for ex in EXCHANGES:
            fake.key(ex).ips = ("18.167.89.125", "18.167.8.216")

    def read_only(fake: FakeExchange) -> None:
        for ex in EXCHANGES:
            fake.key(ex).permissions = frozenset({"read"})
            fake.key(ex).ips = (LOOPBACK,)

    def skew(fake: FakeExchange) -> None:
        healthy(fake)
        fake.config.clock_skew_ms = 8000

    def slow(fake: FakeExchange) -> None:
        healthy(fake)
        fake.config.latency_ms = 1500

    def fault(name: str) -> Any:
        def apply(fake: FakeExchange) -> None:
            fake.config.fault = name
        return apply

    table: dict[str, Any] = {
        "healthy": healthy, "withdraw": withdraw, "unbound": unbound,
        "bound-elsewhere": bound_elsewhere, "read-only": read_only, "skew": skew, "slow": slow,
    }
    table.update({f"fault-{name}": fault(name) for name in FAULTS})
    return table


SCENARIOS = tuple(_scenarios())


def credentials_json(fake: FakeExchange) -> dict[str, Any]:
    """The URL and the test keys (test-only values) as printed by the standalone mode."""
    return {"url": fake.url, "keys": {ex: {"api_key": k.api_key, "secret": k.secret,
                                           "passphrase": k.passphrase}
                                      for ex in EXCHANGES for k in fake.keys[ex][:1]}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fakes.exchange",
                                     description="Serve a fake of four exchanges on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=0, help="port (0 picks a free one)")
    parser.add_argument("--scenario", choices=SCENARIOS, default="healthy")
    parser.add_argument("--latency-ms", type=int, default=None)
    parser.add_argument("--skew-ms", type=int, default=None)
    args = parser.parse_args(argv)
    fake = FakeExchange(port=args.port)
    _scenarios()[args.scenario](fake)
    if args.latency_ms is not None:
        fake.config.latency_ms = args.latency_ms
    if args.skew_ms is not None:
        fake.config.clock_skew_ms = args.skew_ms
    print(json.dumps(credentials_json(fake)), flush=True)
    try:
        fake._server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        fake._stopping.set()
        fake._server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

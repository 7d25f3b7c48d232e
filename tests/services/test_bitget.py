"""Bitget V2: signing checked by an independent computation, authorities, demo, passphrases."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from tui.services.exchanges.bitget import BitgetApi, sign
from tui.services.keys.credentials import Credentials
from tui.services.verify.run import verify_key

API = BitgetApi()


def _docs_signature(secret: str, prehash: str) -> str:
    # Bitget docs: Base64(HMAC-SHA256(secret, timestamp + method.toUpperCase() + requestPath
    # + "?" + queryString + body)), with the "?" part only when there is a query.
    return base64.b64encode(hmac.new(secret.encode(), prehash.encode(), hashlib.sha256)
                            .digest()).decode()


def test_signature_matches_the_documented_prehash():
    secret = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
    assert sign(secret, 1695806875837, "get", "/api/v2/spot/account/info") == _docs_signature(
        secret, "1695806875837GET/api/v2/spot/account/info")
    assert sign(secret, 1695806875837, "GET", "/api/v2/mix/market/ticker",
                "symbol=BTCUSDT&productType=usdt-futures") == _docs_signature(
        secret, "1695806875837GET/api/v2/mix/market/ticker?symbol=BTCUSDT&productType="
        "usdt-futures")
    assert sign(secret, 1, "POST", "/api/v2/spot/trade/place-order", body='{"a":1}') == \
        _docs_signature(secret, '1POST/api/v2/spot/trade/place-order{"a":1}')


def test_signed_request_headers():
    headers = dict(API.sign_key_info(Credentials("bg_k", "s", "pp"), 1700000000000).headers)
    assert headers["ACCESS-TIMESTAMP"] == "1700000000000"
    assert headers["ACCESS-PASSPHRASE"] == "pp" and headers["locale"] == "en-US"


@pytest.mark.parametrize(("authorities", "expected", "read_only"), [
    (["coor", "stor"], {"read"}, True),
    (["coor", "coow", "stor", "stow"], {"read", "trade"}, False),
    (["coow", "wwow"], {"read", "trade", "withdraw"}, False),
    # Not every write code is trading: wallet transfer, and codes keylink cannot place.
    (["stor", "wtow"], {"read", "transfer"}, False),
    (["chow", "p2pw"], {"read", "unknown"}, False),
    (["readonly"], {"read"}, True),
    (["trade", "withdraw", "transfer"], {"read", "trade", "withdraw", "transfer"}, False),
])
def test_authorities_in_both_forms(authorities, expected, read_only):
    info = API.parse_key_info({"authorities": authorities, "ips": "1.1.1.1,2.2.2.2"})
    assert info.permissions == expected and info.read_only is read_only
    assert info.ips == ("1.1.1.1", "2.2.2.2")


def test_time_and_reply():
    assert API.parse_time({"code": "00000", "data": {"serverTime": "1700000000001"}}) \
        == 1700000000001
    assert API.reply({"code": "40009", "msg": "sign signature error"}).code == "40009"


async def test_demo_key_uses_the_paptrading_header(fake):
    key = fake.key("bitget")
    key.environment = "demo"
    creds = Credentials(key.api_key, key.secret, key.passphrase)
    assert (await verify_key("bitget", fake.url, creds, environment="demo")).ok
    assert all(r.headers.get("paptrading") == "1" for r in fake.requests)
    live = await verify_key("bitget", fake.url, creds)
    assert live.error.code == "40006"
    assert "demo" in live.error.message and "Checked against mainnet" in live.error.message


@pytest.mark.parametrize(("change", "code", "kind"), [
    ({"passphrase": "wrong"}, "40012", "bad-passphrase"),
    ({"passphrase": ""}, "40011", "missing-credential"),
    ({"secret": "f" * 64}, "40009", "bad-signature"),
    ({"api_key": "bg_" + "f" * 32}, "40037", "invalid-key"),
])
async def test_credential_mistakes(fake, change, code, kind):
    key = fake.key("bitget")
    values = {"api_key": key.api_key, "secret": key.secret, "passphrase": key.passphrase, **change}
    report = await verify_key("bitget", fake.url, Credentials(**values))
    assert (report.error.code, report.error.kind) == (code, kind)

"""Binance: the official signing vector, query order, restrictions parsing, refusals."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from tui.services.exchanges.binance import BinanceApi, sign
from tui.services.keys.credentials import Credentials
from tui.services.verify.run import verify_key

API = BinanceApi()
SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"


def test_official_vector():
    payload = ("symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1"
               "&recvWindow=5000&timestamp=1499827319559")
    assert sign(SECRET, payload) == \
        "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"


def test_signature_goes_last_in_the_query():
    request = API.sign_key_info(Credentials("KEY", SECRET), 1499827319559)
    path, _, query = request.path.partition("?")
    assert path == "/sapi/v1/account/apiRestrictions"
    signed, _, signature = query.rpartition("&signature=")
    assert signed == "recvWindow=5000&timestamp=1499827319559"
    assert signature == sign(SECRET, signed)
    assert dict(request.headers) == {"X-MBX-APIKEY": "KEY"}


def test_parse_restrictions():
    info = API.parse_key_info({
        "ipRestrict": True, "enableReading": True, "enableSpotAndMarginTrading": True,
        "enableWithdrawals": True, "enableInternalTransfer": False,
        "tradingAuthorityExpirationTime": 1893456000000,
    })
    assert info.permissions == {"read", "trade", "withdraw"}
    assert "enableWithdrawals" in info.raw_permissions
    assert info.ip_restricted and info.ips == ()
    # When the trading right lapses, not when the key expires.
    assert info.trading_lapses_at == datetime(2030, 1, 1, tzinfo=UTC) and info.expires_at is None
    ro = API.parse_key_info({"ipRestrict": False, "enableReading": True})
    assert ro.read_only and ro.trading_lapses_at is None
    with pytest.raises(ValueError):
        API.parse_key_info({"code": -1})


def test_reply_tells_errors_from_answers():
    assert API.reply({"code": -1022, "msg": "x"}).code == "-1022"
    assert API.reply({"serverTime": 1}).code is None


@pytest.mark.parametrize(("api_key", "secret", "code", "kind"), [
    (None, "0" * 64, "-1022", "bad-signature"),
    ("Z" * 64, None, "-2015", "key-refused"),
    ("", None, "-2014", "invalid-key"),
])
async def test_refusals(fake, api_key, secret, code, kind):
    key = fake.key("binance")
    creds = Credentials(key.api_key if api_key is None else api_key,
                        key.secret if secret is None else secret)
    report = await verify_key("binance", fake.url, creds)
    assert (report.error.code, report.error.kind) == (code, kind)


async def test_minus_2015_is_hedged_because_binance_merges_three_causes(fake):
    fake.key("binance").ips = ("18.167.89.125",)
    report = await verify_key("binance", fake.url, Credentials(fake.key("binance").api_key,
                                                               fake.key("binance").secret))
    assert report.error.code == "-2015"
    # One code for three causes: an error naming all three, never reassurance.
    message = report.error.message
    assert "wrong or deleted" in message and "other IP addresses" in message
    assert "read permission" in message
    assert report.status == "failed" and report.worst == "error"


# --- percent-encoding before signing (FACTS §9; binance-spot-api-docs CHANGELOG 2025-12-17) -----

#: rest-api.md "SIGNED Endpoint Examples for POST /api/v3/order" (binance-spot-api-docs, read
#: 2026-12-05): the non-ASCII example's parameters, encoded payload and HMAC signature.
DOC_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
DOC_PARAMS = (("symbol", "\uff11\uff12\uff13\uff14\uff15\uff16"), ("side", "BUY"),
              ("type", "LIMIT"), ("timeInForce", "GTC"), ("quantity", "1"), ("price", "0.1"),
              ("recvWindow", "5000"), ("timestamp", "1499827319559"))
DOC_PAYLOAD = ("symbol=%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96&side=BUY&type=LIMIT"
               "&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559")


def test_the_payload_is_percent_encoded_before_signing_as_the_docs_show():
    from tui.services.exchanges.binance import signing_payload

    assert signing_payload(DOC_PARAMS) == DOC_PAYLOAD
    assert sign(DOC_SECRET, signing_payload(DOC_PARAMS)) == \
        "e1353ec6b14d888f1164ae9af8228a3dbd508bc82eb867db8ab6046442f33ef3"
    ascii_only = (("symbol", "LTCBTC"), *DOC_PARAMS[1:])  # the ASCII example is unchanged
    assert sign(DOC_SECRET, signing_payload(ascii_only)) == \
        "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
    assert signing_payload((("note", "a b&c=d/é"),)) == "note=a+b%26c%3Dd%2F%C3%A9"


def test_the_key_info_query_is_signed_exactly_as_sent():
    request = API.sign_key_info(SimpleNamespace(api_key="k", secret=DOC_SECRET, passphrase=""),
                                1499827319559)
    query = request.path.split("?", 1)[1]
    sent, _, signature = query.rpartition("&signature=")
    assert sent == "recvWindow=5000&timestamp=1499827319559"
    assert signature == sign(DOC_SECRET, sent)

"""Bybit V5: signing, key-info parsing, and environment handling against the fake exchange."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from tui.services.exchanges import exchange
from tui.services.exchanges.bybit import RECV_WINDOW, BybitApi, sign
from tui.services.keys.credentials import Credentials
from tui.services.verify.run import verify_key

API = BybitApi()


def test_signature_is_hex_hmac_of_timestamp_key_window_and_query():
    expected = hmac.new(b"SECRET", b"1658384314791XXXXXXXXXX5000category=option&symbol=BTC",
                        hashlib.sha256).hexdigest()
    assert sign("SECRET", 1658384314791, "XXXXXXXXXX", 5000, "category=option&symbol=BTC") \
        == expected


def test_signed_request_headers():
    request = API.sign_key_info(Credentials("KEY", "SECRET"), 1700000000000)
    headers = dict(request.headers)
    assert request.path == "/v5/user/query-api"
    assert headers["X-BAPI-API-KEY"] == "KEY"
    assert headers["X-BAPI-TIMESTAMP"] == "1700000000000"
    assert headers["X-BAPI-RECV-WINDOW"] == str(RECV_WINDOW)
    assert headers["X-BAPI-SIGN"] == sign("SECRET", 1700000000000, "KEY", RECV_WINDOW, "")
    assert "SECRET" not in repr(request)


def test_parse_key_info_with_unknown_groups_and_withdraw():
    info = API.parse_key_info({
        "readOnly": 0, "note": "t", "type": 1, "ips": ["1.2.3.4", "5.6.7.8"], "deadlineDay": -1,
        "expiredAt": "2030-01-01T00:00:00Z",
        "permissions": {"ContractTrade": ["Order", "Position"], "Wallet": ["AccountTransfer",
                        "Withdraw"], "Brand-New": ["Whatever"], "Odd": "not a list"},
    })
    assert info.permissions == {"read", "trade", "transfer", "withdraw", "unknown"}
    assert info.unknown_rights == ("Brand-New:Whatever",)
    assert "Brand-New:Whatever" in info.raw_permissions
    assert info.ips == ("1.2.3.4", "5.6.7.8") and info.ip_restricted
    assert info.key_type == "personal" and info.deadline_days is None
    assert info.expires_at is not None and info.expires_at.year == 2030


def test_parse_read_only_unbound_linked():
    info = API.parse_key_info({"readOnly": 1, "type": 2, "ips": ["*"], "deadlineDay": 12,
                               "expiredAt": "", "permissions": {"Spot": ["SpotTrade"]}})
    assert info.read_only and info.permissions == {"read"}
    assert not info.ip_restricted and info.ips == ()
    assert info.key_type == "linked" and info.deadline_days == 12 and info.expires_at is None


@pytest.mark.parametrize("bad", [None, [], {"permissions": []}])
def test_parse_rejects_shapes_it_cannot_read(bad):
    with pytest.raises(ValueError):
        API.parse_key_info(bad)


def test_reply_and_time():
    ok = {"retCode": 0, "retMsg": "OK", "result": {"timeSecond": "1700000000",
                                                    "timeNano": "1700000000123456789"}}
    assert API.reply(ok).code is None
    assert API.parse_time(ok) == 1700000000123
    assert API.reply({"retCode": 10004, "retMsg": "x"}).code == "10004"
    with pytest.raises(ValueError):
        API.reply({"code": 0})


async def test_wrong_secret_is_10004(fake):
    key = fake.key("bybit")
    report = await verify_key("bybit", fake.url, Credentials(key.api_key, "wrong" * 7 + "x"))
    assert report.error.code == "10004" and report.error.kind == "bad-signature"
    # A wrong secret fails the check; it is no danger to funds.
    assert report.status == "failed" and report.worst == "error"
    assert report.summary() == "failed: wrong secret (10004)"


@pytest.mark.parametrize(("key_env", "host_env"), [("testnet", "mainnet"), ("mainnet", "demo"),
                                                   ("demo", "testnet")])
async def test_key_from_another_environment_says_so(fake, key_env, host_env):
    key = fake.key("bybit")
    key.environment = key_env
    fake.config.bybit_environment = host_env
    report = await verify_key("bybit", fake.url, Credentials(key.api_key, key.secret),
                              environment=host_env)
    assert report.error.code == "10003"
    assert "another environment" in report.error.message
    assert f"Checked against {host_env}" in report.error.message


async def test_testnet_key_on_a_testnet_host_works(fake):
    key = fake.key("bybit")
    key.environment = fake.config.bybit_environment = "testnet"
    report = await verify_key("bybit", fake.url, Credentials(key.api_key, key.secret),
                              environment="testnet")
    assert report.ok


def test_every_code_has_words_and_a_fix():
    for code, row in exchange("bybit").api.errors.items():
        assert code.isdigit() and row.meaning and row.fix


def test_turkey_host_and_10009_is_an_ip_ban():
    from tui.services.exchanges import exchange

    hosts = {env.id: env.base_url for env in exchange("bybit").environments}
    assert hosts["region-tr"] == "https://api.bybit-tr.com"
    assert API.errors["10009"].kind == "ip-banned"
    assert "region" not in API.errors["10009"].meaning


def test_convert_history_is_not_a_trading_right():
    info = API.parse_key_info({"readOnly": 0, "ips": ["*"],
                               "permissions": {"Exchange": ["ExchangeHistory"]}})
    assert info.permissions == {"read"} and info.unknown_rights == ()

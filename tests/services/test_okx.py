"""OKX V5: the published signing vector, config parsing, demo trading and passphrases."""

from __future__ import annotations

import pytest

from tui.services.exchanges.okx import OkxApi, iso_timestamp, sign
from tui.services.keys.credentials import Credentials
from tui.services.verify.run import verify_key

API = OkxApi()


def test_facts_vector():
    assert sign("22582BD0CFF14C41EDBF1AB98506286D", "2020-12-08T09:08:57.715Z", "GET",
                "/api/v5/account/config") == "Kr/8IrbDYujS4cg2KkmB+tO2HMUXxyayG6ZwNb4H/yA="


def test_iso_timestamp_has_milliseconds_and_z():
    assert iso_timestamp(1607418537715) == "2020-12-08T09:08:57.715Z"
    assert iso_timestamp(1607418537005) == "2020-12-08T09:08:57.005Z"


def test_signed_request_headers():
    request = API.sign_key_info(Credentials("K", "22582BD0CFF14C41EDBF1AB98506286D", "pp"),
                                1607418537715)
    headers = dict(request.headers)
    assert headers["OK-ACCESS-SIGN"] == "Kr/8IrbDYujS4cg2KkmB+tO2HMUXxyayG6ZwNb4H/yA="
    assert headers["OK-ACCESS-TIMESTAMP"] == "2020-12-08T09:08:57.715Z"
    assert headers["OK-ACCESS-PASSPHRASE"] == "pp" and headers["OK-ACCESS-KEY"] == "K"


def test_parse_config():
    info = API.parse_key_info([{"perm": "read_only,trade,withdraw", "ip": "1.2.3.4,5.6.7.8",
                                "label": "x"}])
    assert info.permissions == {"read", "trade", "withdraw"} and not info.read_only
    assert info.ips == ("1.2.3.4", "5.6.7.8") and info.ip_restricted
    ro = API.parse_key_info([{"perm": "read_only", "ip": ""}])
    assert ro.read_only and ro.permissions == {"read"} and not ro.ip_restricted
    with pytest.raises(ValueError):
        API.parse_key_info([])


def test_time_and_reply():
    assert API.parse_time({"code": "0", "msg": "", "data": [{"ts": "1700000000123"}]}) \
        == 1700000000123
    assert API.reply({"code": "50113", "msg": "Invalid Sign", "data": []}).code == "50113"


async def test_demo_key_with_demo_environment_sends_the_header(fake):
    key = fake.key("okx")
    key.environment = "demo"
    report = await verify_key("okx", fake.url, Credentials(key.api_key, key.secret,
                                                           key.passphrase), environment="demo")
    assert report.ok
    assert all(r.headers.get("x-simulated-trading") == "1" for r in fake.requests)


@pytest.mark.parametrize(("key_env", "chosen"), [("demo", "mainnet"), ("mainnet", "demo")])
async def test_key_of_the_other_environment_is_50101(fake, key_env, chosen):
    key = fake.key("okx")
    key.environment = key_env
    report = await verify_key("okx", fake.url, Credentials(key.api_key, key.secret,
                                                           key.passphrase), environment=chosen)
    assert report.error.code == "50101" and report.error.kind == "wrong-environment"
    assert "other OKX environment" in report.error.message


@pytest.mark.parametrize(("change", "code", "kind"), [
    ({"passphrase": "wrong"}, "50105", "bad-passphrase"),
    ({"passphrase": ""}, "50104", "missing-credential"),
    ({"secret": "0" * 32}, "50113", "bad-signature"),
    ({"api_key": "00000000-0000-0000-0000-000000000000"}, "50111", "invalid-key"),
])
async def test_credential_mistakes(fake, change, code, kind):
    key = fake.key("okx")
    values = {"api_key": key.api_key, "secret": key.secret, "passphrase": key.passphrase, **change}
    report = await verify_key("okx", fake.url, Credentials(**values))
    assert (report.error.code, report.error.kind) == (code, kind)


async def test_frozen_key_is_50100(fake):
    key = fake.key("okx")
    key.frozen = True
    report = await verify_key("okx", fake.url, Credentials(key.api_key, key.secret,
                                                           key.passphrase))
    assert report.error.code == "50100" and report.error.kind == "key-frozen"


def test_eea_and_global_app_hosts_are_environments_and_50119_points_at_them():
    from tui.services.exchanges import exchange

    hosts = {env.id: env.base_url for env in exchange("okx").environments}
    assert hosts["eea"] == "https://eea.okx.com" and hosts["my"] == "https://my.okx.com"
    row = API.errors["50119"]
    assert "eea.okx.com" in row.meaning and "my.okx.com" in row.meaning
    assert row.kind == "invalid-key"


def test_unbound_trading_key_carries_the_14_day_rule_and_bound_one_does_not():
    unbound = API.parse_key_info([{"perm": "read_only,trade", "ip": ""}])
    assert unbound.idle_expiry_days == 14
    assert API.parse_key_info([{"perm": "read_only,trade", "ip": "1.2.3.4"}]).idle_expiry_days \
        is None
    assert API.parse_key_info([{"perm": "read_only", "ip": ""}]).idle_expiry_days is None

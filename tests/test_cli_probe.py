"""`keylink verify` when the exchange does not know the key: `belongs_to`, the hosts asked,
`--no-probe`, and `keylink accounts environment` to move the account (in-process CLI, two loopback
fakes standing for Bybit mainnet and testnet through a ``replace = true`` registry file)."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from tests.fakes.exchange import DEFAULT_KEYS, FakeExchange
from tests.support.registry import loopback_registry


@pytest.fixture
def two_bybits(tmp_path, monkeypatch):
    key = replace(DEFAULT_KEYS["bybit"], environment="testnet")
    with FakeExchange(keys={"bybit": [key]}) as main, \
            FakeExchange(keys={"bybit": [key]}) as testnet:
        testnet.config.bybit_environment = "testnet"
        path = loopback_registry(tmp_path / "env.toml", monkeypatch, {
            ("bybit", "mainnet"): main.url, ("bybit", "testnet"): testnet.url})
        yield main, testnet, key, {"KEYLINK_ENVIRONMENTS": str(path)}


def add(cli, env, key, name="Main"):
    result = cli("accounts", "add", name, "--exchange", "bybit", "--env", "mainnet",
                 stdin=f"{key.api_key}\n{key.secret}\n", env=env)
    assert result.returncode == 0, result.stderr


def test_verify_json_names_where_the_key_belongs_and_the_hosts_asked(cli, two_bybits):
    _main, testnet, key, env = two_bybits
    add(cli, env, key)
    result = cli("verify", "Main", "--json", env=env)
    assert result.returncode == 1
    report = json.loads(result.stdout)
    host = testnet.url.removeprefix("http://")
    assert report["belongs_to"] == {"environment": "testnet", "host": host}
    assert [a["host"] for a in report["probe"]["asked"]] == [host]
    text = cli("verify", "Main", env=env).stdout
    assert f"hosts asked: {host}" in text
    assert "fix: keylink accounts environment Main testnet" in text


def test_no_probe_leaves_the_other_environment_alone(cli, two_bybits):
    _main, testnet, key, env = two_bybits
    add(cli, env, key)
    report = json.loads(cli("verify", "Main", "--json", "--no-probe", env=env).stdout)
    assert report["belongs_to"] is None and report["probe"] is None
    assert testnet.requests == []


def test_one_check_opens_its_connection_first_but_all_at_once_do_not(cli, two_bybits):
    """`verify NAME` of a key not yet known to work opens the probe's connection beside the
    check (a public time call, then the key over it); `verify --all` runs every check at once
    and sends no such time calls (a burst for each other host), though a refusal still
    probes."""
    _main, testnet, key, env = two_bybits
    add(cli, env, key)
    assert cli("verify", "Main", env=env).returncode == 1
    assert ["time" in r.path for r in testnet.requests] == [True, False]
    second = cli("accounts", "add", "Second", "--exchange", "bybit", "--env", "mainnet",
                 "--allow-duplicate", stdin=f"{key.api_key}\n{key.secret}\n", env=env)
    assert second.returncode == 0, second.stderr
    testnet.requests.clear()
    assert cli("verify", "--all", env=env).returncode == 1
    assert [r.path for r in testnet.requests] == ["/v5/user/query-api"] * 2


def test_the_suggested_command_moves_the_account_and_the_key_then_works(cli, two_bybits):
    _main, testnet, key, env = two_bybits
    add(cli, env, key)
    moved = cli("accounts", "environment", "Main", "testnet", env=env)
    assert moved.returncode == 0, moved.stderr
    assert f"bybit testnet ({testnet.url})" in moved.stdout
    listed = json.loads(cli("accounts", "list", "--json", env=env).stdout)
    assert listed[0]["environment"] == "testnet" and listed[0]["base_url"] == testnet.url
    assert cli("verify", "Main", env=env).returncode == 0


def test_moving_to_an_environment_the_exchange_lacks_is_one_line(cli, two_bybits):
    _main, _testnet, key, env = two_bybits
    add(cli, env, key)
    result = cli("accounts", "environment", "Main", "region-eu", env=env)
    assert result.returncode == 2
    assert "Bybit has no environment 'region-eu' (known: mainnet, testnet, custom)" in result.stderr


def test_environments_lists_the_registry_in_force(cli, two_bybits):
    _main, testnet, _key, env = two_bybits
    shown = json.loads(cli("environments", "--json", env=env).stdout)
    assert shown["bybit"][1]["rest"] == testnet.url
    assert shown["okx"] == []

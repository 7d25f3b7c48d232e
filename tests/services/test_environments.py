"""The environment registry (tui/content/environments.toml) and KEYLINK_ENVIRONMENTS."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tui.services.exchanges import environments as registry
from tui.services.exchanges import exchange, exchanges
from tui.services.exchanges.environments import RegistryError, build

#: Every REST host FACTS.md §4 and §9 name, by exchange (what the registry must cover).
FACTS_HOSTS = {
    "bybit": {"api.bybit.com", "api.bytick.com", "api-testnet.bybit.com", "api-demo.bybit.com",
              "api.bybit.nl", "api.bybit-tr.com", "api.bybit.kz", "api.bybitgeorgia.ge",
              "api.bybit.ae", "api.bybit.eu", "api.bybit.id"},
    "okx": {"www.okx.com", "openapi.okx.com", "eea.okx.com", "us.okx.com"},
    "bitget": {"api.bitget.com"},
    "binance": {"api.binance.com", "testnet.binance.vision", "demo-api.binance.com",
                "api.binance.us"},
}

#: The environment names keylink wrote into accounts.json before the registry existed
#: (98e0163's exchange modules): each must still resolve, to the same host.
OLD_NAMES = {
    "bybit": {"mainnet": "https://api.bybit.com", "mainnet-bytick": "https://api.bytick.com",
              "testnet": "https://api-testnet.bybit.com", "demo": "https://api-demo.bybit.com",
              "region-nl": "https://api.bybit.nl", "region-tr": "https://api.bybit-tr.com",
              "region-kz": "https://api.bybit.kz", "region-ge": "https://api.bybitgeorgia.ge",
              "region-ae": "https://api.bybit.ae", "region-eu": "https://api.bybit.eu",
              "region-id": "https://api.bybit.id"},
    "okx": {"mainnet": "https://www.okx.com", "mainnet-openapi": "https://openapi.okx.com",
            "demo": "https://www.okx.com", "eea": "https://eea.okx.com",
            "eea-demo": "https://eea.okx.com", "my": "https://my.okx.com",
            "us": "https://us.okx.com"},
    "bitget": {"mainnet": "https://api.bitget.com", "demo": "https://api.bitget.com"},
    "binance": {"mainnet": "https://api.binance.com"},
}

SHIPPED = (Path(__file__).resolve().parents[2] / "tui/content/environments.toml").read_text()


def write_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> Path:
    path = tmp_path / "environments.toml"
    path.write_text(text)
    monkeypatch.setenv("KEYLINK_ENVIRONMENTS", str(path))
    return path


def test_the_registry_covers_every_host_in_the_facts_with_a_source_and_a_date():
    for exchange_id, hosts in FACTS_HOSTS.items():
        listed = {env.host for env in registry.environments_of(exchange_id)}
        assert hosts <= listed, (exchange_id, hosts - listed)
    for exchange_id in exchanges():
        for env in registry.environments_of(exchange_id):
            assert env.source.strip() and env.date[:4].isdigit(), (exchange_id, env.id)
            assert urlsplit(env.base_url).scheme == "https"


def test_demo_environments_carry_the_header_that_selects_them():
    assert exchange("okx").environment("demo").headers == (("x-simulated-trading", "1"),)
    assert exchange("okx").environment("eea-demo").headers == (("x-simulated-trading", "1"),)
    assert exchange("bitget").environment("demo").headers == (("paptrading", "1"),)
    assert exchange("bybit").environment("demo").headers == ()


def test_no_exchange_module_names_a_host_of_the_registry():
    """The hosts are data: an exchange module that still spells one out is a second truth."""
    folder = Path(__file__).resolve().parents[2] / "tui/services/exchanges"
    for exchange_id in exchanges():
        source = (folder / f"{exchange_id}.py").read_text()
        for env in registry.environments_of(exchange_id):
            # As a string literal (doc links in comments may name a site).
            for literal in (f'"{env.host}"', f'"https://{env.host}"'):
                assert literal not in source, (exchange_id, env.host)


def test_every_name_older_accounts_files_hold_still_resolves_to_its_host():
    from tui.services.store.model import resolve_base_url

    for exchange_id, names in OLD_NAMES.items():
        for name, url in names.items():
            assert resolve_base_url(exchange_id, name) == url


def test_an_accounts_file_from_before_the_registry_reads_and_checks_at_the_registry_host(
        tmp_path: Path):
    """An old file's account keeps its name and stored base_url; a check goes to the registry's
    host for a known name, and to the stored URL for a custom one or a name no longer listed."""
    from tui.services.store.model import account_from_json
    from tui.services.verify.run import account_url

    def old(env: str, url: str):  # the shape 98e0163 wrote
        return account_from_json({
            "id": "a1", "name": "old", "exchange": "bybit", "environment": env, "base_url": url,
            "whitelist": "linked", "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z", "secret_ref": "ref-1",
            "last_check": {"ok": True, "checked_at": "2026-01-01T00:00:00Z",
                           "summary": "works", "worst": "ok"}})

    assert account_url(old("testnet", "https://api-testnet.bybit.com")) == \
        "https://api-testnet.bybit.com"
    assert account_url(old("custom", "http://127.0.0.1:9")) == "http://127.0.0.1:9"
    assert account_url(old("region-xx", "https://api.bybit.xx")) == "https://api.bybit.xx"


def test_the_environment_picker_offers_the_registry_and_not_a_separate_exchange():
    from tui.screens.account_form.base import AccountFormScreen

    values = [value for _label, value in AccountFormScreen._environment_options("binance")]
    assert values == ["mainnet", "demo", "testnet", "custom"]
    labels = [getattr(label, "plain", label) for label, _v in
              AccountFormScreen._environment_options("binance")]
    assert "keylink cannot check it" in labels[2]
    okx_us = {v: getattr(lab, "plain", lab) for lab, v in
              AccountFormScreen._environment_options("okx")}
    assert "unconfirmed host" in okx_us["us"]


def test_binance_us_is_named_but_never_an_account_environment():
    from tui.services.store.model import resolve_base_url

    with pytest.raises(ValueError, match="separate exchange"):
        resolve_base_url("binance", "us")


# --- KEYLINK_ENVIRONMENTS ------------------------------------------------------------------------


def test_override_merges_one_field_over_the_shipped_entry(tmp_path, monkeypatch):
    write_override(tmp_path, monkeypatch, '[bybit.testnet]\nrest = "http://127.0.0.1:8765"\n')
    testnet = exchange("bybit").environment("testnet")
    assert testnet.base_url == "http://127.0.0.1:8765"
    assert testnet.label == "Testnet" and testnet.source  # the rest of the entry stays
    assert exchange("bybit").environment("mainnet").base_url == "https://api.bybit.com"
    assert len(exchange("bybit").environments) == len(OLD_NAMES["bybit"])


def test_override_with_replace_true_is_the_whole_registry(tmp_path, monkeypatch):
    write_override(tmp_path, monkeypatch, 'replace = true\n[bybit.mainnet]\n'
                   'rest = "http://127.0.0.1:1"\nsource = "test"\ndate = "2026-12-05"\n')
    assert [env.id for env in exchange("bybit").environments] == ["mainnet"]
    assert exchange("okx").environments == ()
    assert exchange("okx").default_environment() == "custom"


def test_override_is_read_again_when_the_file_changes(tmp_path, monkeypatch):
    path = write_override(tmp_path, monkeypatch, '[bybit.demo]\nrest = "http://127.0.0.1:1"\n')
    assert exchange("bybit").environment("demo").base_url == "http://127.0.0.1:1"
    path.write_text('[bybit.demo]\nrest = "http://127.0.0.1:2"\n')
    import os

    os.utime(path, (1, 1))  # a new modification time even within the same clock tick
    assert exchange("bybit").environment("demo").base_url == "http://127.0.0.1:2"
    monkeypatch.delenv("KEYLINK_ENVIRONMENTS")
    assert exchange("bybit").environment("demo").base_url == "https://api-demo.bybit.com"


@pytest.mark.parametrize(("text", "words"), [
    ('[bybit.testnet]\nrest = "http://api.example.com"\n', "plain http to api.example.com"),
    ('[bybit.testnet]\nrest = "ftp://127.0.0.1"\n', "must be an https:// URL"),
    ('[bybit.testnet]\nrest = "https://u:p@h.example"\n', "plain base URL"),
    ('[bybit.testnet]\nrest = "https://h.example:99999"\n', "bad port"),
    ("[bybit.testnet\n", "not valid TOML"),
    ('[bybit.testnet]\nhost = "https://h.example"\n', "unknown field 'host'"),
    ('[bybit.testnet]\nprobe = "no"\n', "probe: must be true or false"),
    ('[bybit.testnet]\nheaders = { a = 1 }\n', "headers: must be a table of text"),
    ('[bybit.fresh]\nrest = "https://h.example"\n', "has no source"),
    ('[bybit]\ntestnet = "https://h.example"\n', "must be a table"),
    ('bybit = "x"\n', "must be a table of environments"),
    ('replace = "yes"\n', "replace must be true or false"),
    ('[bybit.custom]\nrest = "https://h.example"\n', "not a usable environment name"),
    ('[bybit.testnet]\nkey_group = "nowhere"\n', "does not have"),
])
def test_a_bad_override_is_one_line_naming_the_file_and_the_place(tmp_path, monkeypatch, text,
                                                                  words):
    write_override(tmp_path, monkeypatch, text)
    with pytest.raises(RegistryError) as raised:
        registry.registry()
    message = str(raised.value)
    assert words in message and "\n" not in message
    assert "KEYLINK_ENVIRONMENTS=" in message or "environments" in message


def test_a_missing_override_file_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("KEYLINK_ENVIRONMENTS", str(tmp_path / "nope.toml"))
    assert "cannot be read" in (registry.check() or "")


def test_the_cli_refuses_to_run_on_a_bad_override_with_one_line(tmp_path, monkeypatch, cli):
    path = tmp_path / "env.toml"
    path.write_text('[okx.eea]\nrest = "http://eea.example"\n')
    result = cli("accounts", "list", env={"KEYLINK_ENVIRONMENTS": str(path)})
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "[okx.eea] rest: uses plain http to eea.example" in result.stderr


def test_the_cli_adds_an_account_on_an_overridden_environment(tmp_path, monkeypatch, cli):
    path = tmp_path / "env.toml"
    path.write_text('[bybit.testnet]\nrest = "http://127.0.0.1:9"\n')
    over = {"KEYLINK_ENVIRONMENTS": str(path)}
    added = cli("accounts", "add", "t1", "--exchange", "bybit", "--env", "testnet",
                stdin="KLbybitTESTkey0001\nKLbybitTESTsecret0000000000000000001\n", env=over)
    assert added.returncode == 0, added.stderr
    listed = json.loads(cli("accounts", "list", "--json", env=over).stdout)
    assert listed[0]["environment"] == "testnet"
    assert listed[0]["base_url"] == "http://127.0.0.1:9"


def test_build_keeps_shipped_order_and_appends_new_entries():
    merged = build(SHIPPED, '[bitget.staging]\nrest = "https://s.example"\nsource = "t"\n'
                   'date = "2026-12-05"\n', "test")
    assert [env.id for env in merged["bitget"]] == ["mainnet", "demo", "staging"]


async def test_an_environment_without_a_key_info_call_fails_before_any_request():
    """Binance's spot testnet has no /sapi: keylink says it cannot check, and sends nothing."""
    from tui.services.keys.credentials import Credentials
    from tui.services.verify.run import verify_key

    report = await verify_key("binance", "https://testnet.binance.vision",
                              Credentials("k" * 64, "s" * 64), environment="testnet")
    assert report.error is not None and report.error.kind == "bad-url"
    assert "cannot check keys of Binance Spot testnet" in report.error.message
    assert report.latency_ms is None


def test_the_guide_names_the_keys_pages_of_the_registry(tmp_path, monkeypatch):
    from tui.content.guide import guide_steps

    def pages(exchange_id: str) -> str:
        return next(step.extra for step in guide_steps(exchange_id) if "Type:" in step.extra)

    shipped = pages("bybit")
    assert "Type: [b]www.bybit.com/app/user/api-management[/b]" in shipped
    assert "testnet.bybit.com" in shipped and "bybit.eu" in shipped
    write_override(tmp_path, monkeypatch, '[bybit.region-eu]\nkeys_page = "[b]eu.example/api"\n')
    changed = pages("bybit")
    assert "\\[b]eu.example" in changed and "bybit.eu" not in changed  # data, never markup


def test_the_override_file_is_read_once_while_it_stays_the_same(tmp_path, monkeypatch):
    """Hosts are looked up on every check and form redraw: the file is read again only when
    its time or size changes (it was read on every lookup)."""
    from tui.services.exchanges import environments

    write_override(tmp_path, monkeypatch, '[bybit.demo]\nrest = "http://127.0.0.1:1"\n')
    reads: list[str] = []
    real = environments._read_override
    monkeypatch.setattr(environments, "_read_override", lambda path: reads.append(path) or
                        real(path))
    environments._cache.clear()
    for _ in range(50):
        assert exchange("bybit").environment("demo").base_url == "http://127.0.0.1:1"
        assert environments.replaced() is False
    assert len(reads) == 1

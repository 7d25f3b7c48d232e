"""`keylink verify` end to end in-process: accounts added with `keylink accounts add` into a real
(cheap-KDF) vault under tmp XDG dirs, checked against the loopback fake exchange."""

from __future__ import annotations

import io
import json
import socket
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import TEST_VAULT_PASSPHRASE
from tests.fakes.exchange import EXCHANGES, FakeExchange
from tui.cli import main
from tui.services.core import paths
from tui.services.exchanges import exchange
from tui.services.terminals.whitelist import profile

TERMINAL = profile("insilico-general").addresses

# Every test here runs over keylink's own vault (the shared ``fake`` fixture does not know it).
pytestmark = pytest.mark.usefixtures("vault_env")


@pytest.fixture
def vault_env(monkeypatch, cheap_kdf):
    """keylink's own vault at its default path, created with a cheap KDF, passphrase in env."""
    from tui.services.store.vault import Vault

    monkeypatch.setenv("KEYLINK_SECRET_BACKEND", "vault")
    monkeypatch.setenv("KEYLINK_VAULT_PASSPHRASE", TEST_VAULT_PASSPHRASE)
    Vault(kdf=cheap_kdf).create(TEST_VAULT_PASSPHRASE)


def add_account(monkeypatch, capsys, fake: FakeExchange, ex: str, name: str | None = None,
                base_url: str | None = None, secret: str | None = None) -> str:
    key = fake.key(ex)
    lines = [key.api_key, secret or key.secret] + ([key.passphrase] if key.passphrase else [])
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(lines) + "\n"))
    name = name or f"{ex}-main"
    assert main(["accounts", "add", name, "--exchange", ex, "--base-url",
                 base_url or fake.url]) == 0
    capsys.readouterr()
    return name


def verify_json(capsys, *argv: str) -> tuple[int, dict]:
    code = main(["verify", *argv, "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out)


def finding_codes(data: dict) -> dict[str, str]:
    return {f["code"]: f["severity"] for f in data["findings"]}


@pytest.mark.parametrize("ex", EXCHANGES)
def test_working_key_exits_0_with_the_json_report(monkeypatch, capsys, fake, ex):
    name = add_account(monkeypatch, capsys, fake, ex)
    code, data = verify_json(capsys, name)
    assert code == 0
    assert data["ok"] is True and data["exchange"] == ex and data["account"] == name
    assert data["error"] is None and data["can_withdraw"] is False
    assert isinstance(data["latency_ms"], int) and isinstance(data["clock_offset_ms"], int)
    assert finding_codes(data)["ip-unrestricted"] == "warning"


def _withdraw(fake, ex):
    fake.key(ex).permissions = frozenset({"read", "trade", "withdraw"})


def _read_only(fake, ex):
    fake.key(ex).permissions = frozenset({"read"})


def _linked(fake, ex):
    fake.key(ex).linked = True
    fake.key(ex).ips = ("127.0.0.1",)


def _expiring(fake, ex):
    fake.key(ex).deadline_days = 3
    fake.key(ex).expires_at = datetime.now(UTC) + timedelta(days=3, hours=1)


def _skew(fake, ex):
    fake.config.clock_skew_ms = 4000


def _bound_not_to_the_terminal(fake, ex):
    fake.key(ex).ips = ("127.0.0.1", *TERMINAL[:5])


def _bound_to_the_terminal(fake, ex):
    fake.key(ex).ips = TERMINAL
    fake.config.client_ip = TERMINAL[3]


def _binance_bound(fake, ex):
    fake.key(ex).ips = ("127.0.0.1",)


@pytest.mark.parametrize(("ex", "arrange", "expected"), [
    ("bybit", _withdraw, {"withdraw-enabled": "danger"}),
    ("okx", _withdraw, {"withdraw-enabled": "danger"}),
    ("bitget", _withdraw, {"withdraw-enabled": "danger"}),
    ("binance", _withdraw, {"withdraw-enabled": "danger"}),
    ("bybit", _read_only, {"cannot-trade": "warning"}),
    ("okx", _read_only, {"cannot-trade": "warning"}),
    ("bybit", _linked, {"linked-app": "ok", "ip-restricted": "ok"}),
    ("bybit", _expiring, {"expiring": "danger"}),  # 3 days: danger (issue 18)
    ("binance", _expiring, {"trading-lapses": "warning"}),
    ("bitget", _skew, {"clock-skew": "warning"}),
    ("bybit", _bound_not_to_the_terminal, {"whitelist-missing": "warning",
                                           "whitelist-extra": "warning"}),
    ("okx", _bound_to_the_terminal, {"whitelist-match": "ok"}),
    ("binance", _binance_bound, {"whitelist-unknown": "info"}),
])
def test_findings_through_the_cli(monkeypatch, capsys, fake, ex, arrange, expected):
    name = add_account(monkeypatch, capsys, fake, ex)
    arrange(fake, ex)
    code, data = verify_json(capsys, name, "--whitelist", "insilico-general")
    assert code == 0, data["error"]
    found = finding_codes(data)
    for finding, severity in expected.items():
        assert found.get(finding) == severity, found


def test_bybit_days_left_for_an_unbound_key(monkeypatch, capsys, fake):
    name = add_account(monkeypatch, capsys, fake, "bybit")
    fake.key("bybit").deadline_days = 11
    code, data = verify_json(capsys, name)
    assert code == 0 and data["days_left"] == 11 and data["status"] == "works"
    assert any("in 11 days" in f["message"] for f in data["findings"])


@pytest.mark.parametrize(("ex", "code"), [(ex, code) for ex in EXCHANGES
                                          for code in exchange(ex).api.errors])
@pytest.mark.slow
def test_every_error_code_exits_1_with_its_code(monkeypatch, capsys, fake, ex, code):
    name = add_account(monkeypatch, capsys, fake, ex)
    fake.config.force_code = code
    status, data = verify_json(capsys, name)
    kind = exchange(ex).api.errors[code].kind.value
    locked = kind in ("bound-to-other-ips", "rights-unreadable")
    # The key exists but its rights cannot be read from here: exit 0, status locked.
    assert (status, data["status"]) == ((0, "locked") if locked else (1, "failed"))
    assert data["ok"] is False
    assert data["error"]["code"] == code
    assert data["error"]["kind"] == kind


@pytest.mark.parametrize(("ex", "code"), [("bybit", "10010"), ("okx", "50110"),
                                          ("bitget", "40018")])
def test_key_bound_elsewhere_through_the_cli(monkeypatch, capsys, fake, ex, code):
    name = add_account(monkeypatch, capsys, fake, ex)
    fake.key(ex).ips = TERMINAL[:2]
    status, data = verify_json(capsys, name)
    assert status == 0 and data["status"] == "locked" and data["error"]["code"] == code
    assert data["worst"] == "info"  # the account uses the terminal's list: expected
    assert finding_codes(data)["bound-to-other-ips"] == "info"
    # --strict passes too: nothing here is a warning.
    assert main(["verify", name, "--strict"]) == 0
    out = capsys.readouterr().out
    assert f"locked: bound to other addresses ({code})" in out


def test_binance_minus_2015_through_the_cli_is_a_failure(monkeypatch, capsys, fake):
    name = add_account(monkeypatch, capsys, fake, "binance")
    fake.key("binance").ips = TERMINAL[:2]
    status, data = verify_json(capsys, name)
    assert status == 1 and data["status"] == "failed" and data["worst"] == "error"
    assert finding_codes(data)["key-refused"] == "error"


def test_strict_fails_on_warnings_and_dangers_only(monkeypatch, capsys, fake):
    name = add_account(monkeypatch, capsys, fake, "okx")
    fake.key("okx").ips = TERMINAL  # bound to exactly the list, trading only: all ok
    fake.config.client_ip = TERMINAL[0]
    assert main(["verify", name, "--strict"]) == 0
    fake.key("okx").permissions = frozenset({"read", "trade", "withdraw"})
    assert main(["verify", name]) == 0
    assert main(["verify", name, "--strict"]) == 1
    capsys.readouterr()
    fake.key("okx").permissions = frozenset({"read", "trade"})
    fake.key("okx").ips = ()  # unbound: a warning
    code, data = verify_json(capsys, name, "--strict")
    assert code == 1 and data["status"] == "works" and data["worst"] == "warning"


def test_wrong_environment_and_wrong_secret(monkeypatch, capsys, fake):
    name = add_account(monkeypatch, capsys, fake, "bybit")
    fake.key("bybit").environment = "testnet"
    status, data = verify_json(capsys, name)
    assert status == 1 and data["error"]["code"] == "10003"
    assert "another environment" in data["error"]["message"]
    fake.key("bybit").environment = "mainnet"
    other = add_account(monkeypatch, capsys, fake, "okx", secret="F" * 32)
    status, data = verify_json(capsys, other)
    assert status == 1 and data["error"]["code"] == "50113"


@pytest.mark.parametrize(("fault", "kind"), [("5xx", "exchange-server-error"),
                                             ("429", "rate-limited"), ("garbage", "not-json"),
                                             ("huge", "body-too-large"),
                                             ("html", "wrong-content-type")])
def test_faults_exit_1_with_a_clear_error(monkeypatch, capsys, fake, fault, kind):
    name = add_account(monkeypatch, capsys, fake, "bitget")
    fake.config.fault = fault
    status, data = verify_json(capsys, name)
    assert status == 1 and data["error"]["kind"] == kind and data["error"]["message"]


def test_connection_refused_exits_1(monkeypatch, capsys, fake):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    name = add_account(monkeypatch, capsys, fake, "binance", base_url=f"http://127.0.0.1:{port}")
    status, data = verify_json(capsys, name)
    assert status == 1 and data["error"]["kind"] == "connection-refused"


def test_timestamp_failure_without_server_time(monkeypatch, capsys, fake):
    name = add_account(monkeypatch, capsys, fake, "okx")
    fake.config.clock_skew_ms = -60_000
    fake.config.fault, fake.config.fault_on = "5xx", "time"
    status, data = verify_json(capsys, name)
    assert status == 1 and data["error"]["code"] == "50102"
    assert "timedatectl" in data["error"]["hint"]


def test_the_check_is_recorded_without_secrets(monkeypatch, capsys, fake):
    name = add_account(monkeypatch, capsys, fake, "okx")
    fake.key("okx").permissions = frozenset({"read", "trade", "withdraw"})
    assert main(["verify", name]) == 0
    capsys.readouterr()
    assert main(["accounts", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    check = listed[0]["last_check"]
    assert check["ok"] is True and check["worst"] == "danger"
    assert check["summary"].startswith("works; read+trade+withdraw")
    stored = (paths.config_dir() / "accounts.json").read_text()
    key = fake.key("okx")
    assert key.secret not in stored and key.passphrase not in stored


def test_human_output_lists_findings(monkeypatch, capsys, fake):
    name = add_account(monkeypatch, capsys, fake, "bybit")
    fake.key("bybit").permissions = frozenset({"read", "trade", "withdraw"})
    assert main(["verify", name]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{name}: Bybit (custom) at 127.0.0.1:")
    assert "works: permissions read, trade, withdraw; IPs not bound" in out
    assert "[DANGER] withdraw-enabled" in out and "[warn]   ip-unrestricted" in out
    assert fake.key("bybit").secret not in out


def test_all_accounts(monkeypatch, capsys, fake):
    add_account(monkeypatch, capsys, fake, "bybit")
    add_account(monkeypatch, capsys, fake, "binance")
    code, data = verify_json(capsys, "--all")
    assert code == 0 and [d["account"] for d in data] == ["bybit-main", "binance-main"]
    fake.key("binance").ips = TERMINAL[:1]
    code, data = verify_json(capsys, "--all")
    assert code == 1 and [d["ok"] for d in data] == [True, False]
    assert main(["verify", "--all"]) == 1
    out = capsys.readouterr().out
    assert "bybit-main:" in out and "binance-main:" in out and "failed: key refused (-2015)" in out


# --- exit 2 ---------------------------------------------------------------------------------------


def test_unknown_account_is_a_usage_error(monkeypatch, capsys, fake):
    add_account(monkeypatch, capsys, fake, "bybit")
    assert main(["verify", "nobody"]) == 2
    assert "nobody" in capsys.readouterr().err


def test_unknown_account_is_named_before_any_passphrase_is_asked(monkeypatch, capsys, fake):
    add_account(monkeypatch, capsys, fake, "bybit")
    monkeypatch.delenv("KEYLINK_VAULT_PASSPHRASE")
    asked: list[str] = []
    monkeypatch.setattr("getpass.getpass", lambda prompt="": asked.append(prompt) or "x")
    monkeypatch.setattr("tui.cli.common.stdin_is_terminal", lambda: True)
    assert main(["verify", "Nope"]) == 2
    err = capsys.readouterr().err
    assert "Nope" in err and "passphrase" not in err.lower() and asked == []


def test_a_hand_edited_plain_http_address_never_gets_the_key(monkeypatch, capsys, fake):
    name = add_account(monkeypatch, capsys, fake, "bybit")
    path = paths.config_dir() / "accounts.json"
    doc = json.loads(path.read_text())
    doc["accounts"][0]["base_url"] = "http://api.bybit.com"
    path.write_text(json.dumps(doc))
    fake.requests.clear()
    status, data = verify_json(capsys, name)
    assert status == 1 and data["error"]["kind"] == "bad-url"
    assert "unencrypted" in data["error"]["message"]


def test_exchange_text_is_cleaned_in_the_cli_output(monkeypatch, capsys, fake):
    name = add_account(monkeypatch, capsys, fake, "okx")
    fake.config.canned_key_info = (401, {"code": "50110", "msg": "Your IP \x1b]52;c;aGk=\x07 "
                                         "\u202e1.2.3.4 is not included", "data": []})
    assert main(["verify", name]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\u202e" not in out and "the exchange said:" in out


def test_locked_vault_without_passphrase_is_a_usage_error(monkeypatch, capsys, fake):
    name = add_account(monkeypatch, capsys, fake, "bybit")
    monkeypatch.delenv("KEYLINK_VAULT_PASSPHRASE")
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main(["verify", name]) == 2
    assert "KEYLINK_VAULT_PASSPHRASE" in capsys.readouterr().err


def test_wrong_vault_passphrase_is_a_usage_error(monkeypatch, capsys, fake):
    name = add_account(monkeypatch, capsys, fake, "bybit")
    monkeypatch.setenv("KEYLINK_VAULT_PASSPHRASE", "not the passphrase at all")
    assert main(["verify", name]) == 2


@pytest.mark.parametrize("argv", [[], ["x", "--all"], ["x", "--whitelist", "no-such-profile"]])
def test_bad_arguments_are_usage_errors(monkeypatch, capsys, fake, argv):
    add_account(monkeypatch, capsys, fake, "bybit", name="x")
    assert main(["verify", *argv]) == 2
    assert capsys.readouterr().err.startswith("keylink:")


@pytest.mark.parametrize("argv", [["bybit-main"], ["--all"]])
def test_an_account_of_an_exchange_this_keylink_does_not_know(monkeypatch, capsys, fake, argv):
    # E.g. written by a newer keylink with a fifth exchange, or edited by hand.
    add_account(monkeypatch, capsys, fake, "bybit")
    path = paths.config_dir() / "accounts.json"
    doc = json.loads(path.read_text())
    doc["accounts"][0]["exchange"] = "kraken"
    path.write_text(json.dumps(doc))
    requests_before = len(fake.requests)
    assert main(["verify", *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("keylink: ") and "kraken" in err[0], err
    assert len(fake.requests) == requests_before


def test_closed_stdin_is_a_usage_error(monkeypatch, capsys, vault_env):
    # `keylink accounts add X <&-`: Python sets sys.stdin to None.
    monkeypatch.setattr("sys.stdin", None)
    assert main(["accounts", "add", "Main", "--exchange", "bybit"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("keylink: ") and "stdin" in err[0], err


class _TerminalAtEnd(io.StringIO):
    """A terminal whose user pressed ctrl-D: isatty() is true, every read is at end of file."""

    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("argv", [["accounts", "remove", "bybit-main"],
                                  ["accounts", "add", "Other", "--exchange", "bybit"]])
def test_ctrl_d_at_a_prompt_is_one_line_not_a_traceback(monkeypatch, capsys, fake, argv):
    add_account(monkeypatch, capsys, fake, "bybit")
    monkeypatch.setattr("sys.stdin", _TerminalAtEnd(""))
    # getpass reads the controlling terminal; here it meets the end of input as input() does.
    monkeypatch.setattr("getpass.getpass", lambda prompt="": input(prompt))
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("keylink: ") and "input ended" in err[0], err
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    listed = main(["accounts", "list", "--json"])
    assert listed == 0 and [a["name"] for a in json.loads(capsys.readouterr().out)] == [
        "bybit-main"]


def test_no_accounts_yet(capsys, vault_env):
    assert main(["verify", "--all"]) == 2

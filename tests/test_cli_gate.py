"""The verdict travels with the key (issue 19): `copy`, `exec` and `accounts export-key` read the
last check, against the loopback fake exchange and a real (cheap-KDF) vault, in-process."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from tests.fakes.exchange import FakeExchange
from tests.test_cli_verify import add_account, vault_env
from tui.cli import main
from tui.services.core import paths

__all__ = ["vault_env"]
pytestmark = pytest.mark.usefixtures("vault_env")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def verify(capsys, name: str) -> int:
    code, _, _ = run(capsys, "verify", name)
    return code


def set_checked_at(name: str, when: datetime) -> None:
    path = paths.config_dir() / "accounts.json"
    data = json.loads(path.read_text())
    for item in data["accounts"]:
        if item["name"] == name:
            item["last_check"]["checked_at"] = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    path.write_text(json.dumps(data))


def copy_secret(capsys, name: str, *extra: str) -> tuple[int, str, str]:
    return run(capsys, "copy", name, "--field", "secret", "--print", *extra)


def test_a_withdraw_key_is_refused_naming_the_finding(monkeypatch, capsys, fake: FakeExchange):
    name = add_account(monkeypatch, capsys, fake, "bybit")
    fake.key("bybit").permissions = frozenset({"read", "trade", "withdraw"})
    assert verify(capsys, name) == 0  # it works: the danger is a finding
    monkeypatch.setenv("KEYLINK_KEY_PASSPHRASE", "an export passphrase")
    for argv in (("copy", name, "--field", "secret", "--print"),
                 ("copy", name, "--field", "key"),
                 ("exec", name, "--", "true"),
                 ("exec", name, "--preset", "freqtrade", "--", "true"),
                 ("accounts", "export-key", name, "/nonexistent/x.pem")):
        code, out, err = run(capsys, *argv)
        assert code == 1, (argv, err)
        assert out == ""
        lines = err.strip().splitlines()
        assert len(lines) == 1, err
        assert lines[0].startswith("keylink: refused: bybit-main: the key can withdraw funds")
        assert "--allow-risky" in lines[0]
    code, out, err = copy_secret(capsys, name, "--allow-risky")
    assert (code, out) == (0, fake.key("bybit").secret + "\n")
    assert "can withdraw funds" in err and "--allow-risky" in err


def edit_last_check(name: str, **values) -> None:
    """Change the stored last check of ``name`` in accounts.json (a value None drops the key)."""
    path = paths.config_dir() / "accounts.json"
    data = json.loads(path.read_text())
    for item in data["accounts"]:
        if item["name"] == name:
            item["last_check"].update(values)
            item["last_check"] = {k: v for k, v in item["last_check"].items() if v is not None}
    path.write_text(json.dumps(data))


def test_the_withdraw_right_is_read_from_the_record_whatever_its_summary_says(
        monkeypatch, capsys, fake):
    name = add_account(monkeypatch, capsys, fake, "bybit")
    fake.key("bybit").permissions = frozenset({"read", "trade", "withdraw"})
    assert verify(capsys, name) == 0
    stored = json.loads((paths.config_dir() / "accounts.json").read_text())["accounts"][0]
    assert stored["last_check"]["permissions"] == ["read", "trade", "withdraw"]
    summary = stored["last_check"]["summary"]
    # A later wording of the summary line: the record's rights still refuse the key.
    edit_last_check(name, summary="works: can read, trade and move funds out; 1 problem")
    code, out, err = copy_secret(capsys, name)
    assert (code, out) == (1, "")
    assert err.startswith(f"keylink: refused: {name}: the key can withdraw funds")
    # The record as a keylink from before the fields rewrites it: read from the summary.
    edit_last_check(name, summary=summary, permissions=None, error_code=None)
    code, out, err = copy_secret(capsys, name)
    assert (code, out) == (1, "")
    assert err.startswith(f"keylink: refused: {name}: the key can withdraw funds")


def test_a_failed_key_is_refused_and_check_judges_a_fresh_check(monkeypatch, capsys, fake):
    name = add_account(monkeypatch, capsys, fake, "okx", secret="wrong-secret-0000")
    assert verify(capsys, name) == 1
    code, out, err = copy_secret(capsys, name)
    assert (code, out) == (1, "")
    assert "its last check failed: wrong secret" in err and "--allow-risky" in err
    # A withdraw key checked again now: refused by the fresh check's finding.
    name = add_account(monkeypatch, capsys, fake, "bybit")
    assert verify(capsys, name) == 0
    assert copy_secret(capsys, name)[0] == 0
    fake.key("bybit").permissions = frozenset({"read", "trade", "withdraw"})
    assert copy_secret(capsys, name)[0] == 0  # the stored check still says it is fine
    code, out, err = copy_secret(capsys, name, "--check")
    assert (code, out) == (1, "")
    assert "checked bybit-main: works" in err and "can withdraw funds" in err
    stored = json.loads((paths.config_dir() / "accounts.json").read_text())
    assert [a["last_check"]["worst"] for a in stored["accounts"] if a["name"] == name] == [
        "danger"]  # --check recorded what it found


def test_a_locked_key_is_never_a_failure(monkeypatch, capsys, fake):
    name = add_account(monkeypatch, capsys, fake, "bybit")
    fake.key("bybit").ips = ("18.167.89.125",)  # bound to the terminal, not to this machine
    code, out, err = copy_secret(capsys, name, "--check")
    assert code == 0, err
    assert out == fake.key("bybit").secret + "\n"
    assert "checked bybit-main: locked" in err
    assert "refused" not in err and "warning" not in err


def test_never_checked_or_stale_warns_and_goes_on(monkeypatch, capsys, fake):
    name = add_account(monkeypatch, capsys, fake, "bybit")
    code, out, err = copy_secret(capsys, name)
    assert (code, out) == (0, fake.key("bybit").secret + "\n")
    assert err.strip() == ("keylink: warning: bybit-main was never checked; `keylink verify "
                           "bybit-main` checks it (or add --check)")
    assert verify(capsys, name) == 0
    assert copy_secret(capsys, name) == (0, fake.key("bybit").secret + "\n", "")
    set_checked_at(name, datetime.now(UTC) - timedelta(days=9))
    code, out, err = copy_secret(capsys, name)
    assert code == 0 and out
    assert "bybit-main was last checked 9 days ago (more than 7 days: works then)" in err
    monkeypatch.setenv("KEYLINK_CHECK_MAX_AGE", "10")
    assert copy_secret(capsys, name)[2] == ""
    monkeypatch.setenv("KEYLINK_CHECK_MAX_AGE", "36h")
    assert "more than 36 h" in copy_secret(capsys, name)[2]
    # --check refreshes it: no warning afterwards.
    assert "checked bybit-main: works" in copy_secret(capsys, name, "--check")[2]
    assert copy_secret(capsys, name)[2] == ""


@pytest.mark.parametrize("value", ["soon", "-3", "0", "7x", "nan", "1e9"])
def test_a_bad_max_age_is_one_line(monkeypatch, capsys, fake, value):
    name = add_account(monkeypatch, capsys, fake, "bybit")
    monkeypatch.setenv("KEYLINK_CHECK_MAX_AGE", value)
    code, out, err = copy_secret(capsys, name)
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and "KEYLINK_CHECK_MAX_AGE=" in err


def test_exec_check_before_a_bots_start(monkeypatch, capsys, fake):
    """`keylink exec NAME --check -- CMD`: a fresh check decides (a withdraw key stops the bot)."""
    name = add_account(monkeypatch, capsys, fake, "bitget")
    code, _, err = run(capsys, "exec", name, "--check", "--", "sh", "-c", "exit 4")
    assert code == 4, err  # checked, works: CMD ran, its exit code passed through
    assert "checked bitget-main: works" in err and "refused" not in err
    fake.key("bitget").permissions = frozenset({"read", "trade", "withdraw"})
    code, _, err = run(capsys, "exec", name, "--check", "--", "sh", "-c", "exit 4")
    assert code == 1 and "refused: bitget-main: the key can withdraw funds" in err

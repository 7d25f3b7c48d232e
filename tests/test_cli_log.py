"""`keylink log` and the uses the commands record (issue 19), in-process over a real vault and the
loopback fake exchange."""

from __future__ import annotations

import json

import pytest

from tests.test_cli_gate import copy_secret, run
from tests.test_cli_verify import add_account, vault_env
from tui.services.core import access_log, paths

__all__ = ["vault_env"]
pytestmark = pytest.mark.usefixtures("vault_env")


@pytest.fixture(autouse=True)
def _fresh_said(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(access_log, "_said", set())


def log_json(capsys, *argv: str) -> list[dict]:
    code, out, _ = run(capsys, "log", "--json", *argv)
    assert code == 0
    return json.loads(out)


def test_uses_are_recorded_and_shown(monkeypatch, capsys, fake):
    name = add_account(monkeypatch, capsys, fake, "okx")
    other = add_account(monkeypatch, capsys, fake, "bybit")
    assert copy_secret(capsys, name)[0] == 0
    assert run(capsys, "verify", other)[0] == 0
    fake.key("bybit").permissions = frozenset({"read", "trade", "withdraw"})
    assert run(capsys, "verify", other)[0] == 0
    assert run(capsys, "exec", other, "--", "true")[0] == 1  # refused: it can withdraw
    assert run(capsys, "accounts", "remove", name, "--yes")[0] == 0
    entries = log_json(capsys)
    assert [(e["action"], e["account"], e["fields"], e["outcome"]) for e in entries] == [
        ("print", name, ["secret"], "ok"),
        ("verify", other, ["api_key", "secret"], "works"),
        ("verify", other, ["api_key", "secret"], "works"),
        ("exec", other, ["api_key", "secret"], "refused"),
        ("remove", name, ["secret"], "ok"),
    ]
    assert [e["action"] for e in log_json(capsys, other)] == ["verify", "verify", "exec"]
    assert log_json(capsys, "--since", "2999-01-01") == []
    code, out, _ = run(capsys, "log", other)
    assert code == 0 and f"exec  {other}  api_key+secret  refused" in out
    raw = (paths.state_dir() / "access.log").read_text()
    for ex in ("okx", "bybit"):
        key = fake.key(ex)
        for value in (key.api_key, key.secret, key.passphrase):
            if value:
                assert value not in raw
    assert run(capsys, "log", "--check")[:2] == (0, "the chain is whole: 6 lines in 1 file\n")


def test_the_check_exits_1_on_tampering_and_bad_input_is_one_line(monkeypatch, capsys, fake):
    name = add_account(monkeypatch, capsys, fake, "bybit")
    for _ in range(3):
        copy_secret(capsys, name)
    path = paths.state_dir() / "access.log"
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join([lines[0], lines[2], lines[1], lines[3]]))
    code, out, err = run(capsys, "log", "--check")
    assert code == 1 and "the chain is broken" in out
    assert "does not follow the line before it" in err
    code, out, err = run(capsys, "log", "--since", "last tuesday")
    assert (code, out) == (2, "") and err.count("\n") == 1 and "--since wants a date" in err
    assert run(capsys, "log", "--check", "--json")[0] == 2


def test_an_unwritable_state_dir_never_blocks_a_hand_off(monkeypatch, capsys, fake, tmp_path):
    name = add_account(monkeypatch, capsys, fake, "bybit")
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    monkeypatch.setenv("XDG_STATE_HOME", str(blocker))  # the state dir cannot be made
    code, out, err = copy_secret(capsys, name)
    assert (code, out) == (0, fake.key("bybit").secret + "\n")
    warnings = [line for line in err.splitlines() if "access log" in line]
    assert len(warnings) == 1 and "this print is not recorded" in warnings[0]
    assert "Traceback" not in err

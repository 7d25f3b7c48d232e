"""No keylink passphrase reaches a process keylink starts (issue 15, item 7)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tui.services.core import child_env

PASSPHRASES = {
    "KEYLINK_VAULT_PASSPHRASE": "vault passphrase in the env 1",
    "KEYLINK_KEY_PASSPHRASE": "key passphrase in the env 2",
    "KEYLINK_API_PASSPHRASE": "api passphrase from a parent exec 3",
    "KEYLINK_SOME_LATER_PASSPHRASE": "any keylink passphrase variable 4",
}


@pytest.fixture
def passphrases_in_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in PASSPHRASES.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("KEYLINK_CLIP_TIME", "30")  # a setting, not a secret: it stays


def assert_clean(env: dict[str, str]) -> None:
    for name, value in PASSPHRASES.items():
        assert name not in env
        assert value not in "\0".join(f"{k}={v}" for k, v in env.items())


def test_child_environ_drops_every_keylink_passphrase_and_keeps_the_rest(passphrases_in_env):
    env = child_env.child_environ()
    assert_clean(env)
    assert env["KEYLINK_CLIP_TIME"] == "30" and "PATH" in env
    assert child_env.child_environ({"keylink_vault_passphrase": "x", "A": "b"}) == {"A": "b"}
    assert child_env.child_environ({"KEYLINK_API_KEY": "k", "KEYLINK_API_SECRET": "s",
                                    "KEYLINK_ACCOUNT": "Main"}) == {"KEYLINK_ACCOUNT": "Main"}


def test_pyperclip_starts_its_clipboard_tools_without_them(passphrases_in_env, tmp_path: Path):
    """pyperclip runs xclip/xsel/wl-copy through its module's ``subprocess`` without ``env``:
    after keylink's clipboard code loaded it, a process it starts gets the clean environment."""
    import pyperclip

    from tui.services.handoff import clipboard

    clipboard._pyperclip()  # what every keylink copy and clear goes through
    dump = tmp_path / "env.json"
    process = pyperclip.subprocess.Popen(
        [sys.executable, "-c", "import json, os, sys; json.dump(dict(os.environ), "
         "open(sys.argv[1], 'w'))", str(dump)], close_fds=True)
    assert process.wait(30) == 0
    assert_clean(json.loads(dump.read_text()))


def test_the_key_check_child_gets_none_of_them(passphrases_in_env, monkeypatch):
    """parse_elsewhere hands the PEM and its passphrase over a pipe; its environment is clean."""
    from tui.services.keys import keypairs

    real_run = subprocess.run
    seen: list[dict[str, str] | None] = []

    def recording_run(*args, **kwargs):
        seen.append(kwargs.get("env"))
        return real_run(*args, **kwargs)  # the real child still runs

    monkeypatch.setattr(subprocess, "run", recording_run)
    pair = keypairs.generate(keypairs.RSA, 2048)
    assert len(pair.private_pem) > keypairs.SLOW_PEM_CHARS
    assert keypairs.parse_elsewhere(pair.private_pem).public_pem == pair.public_pem
    assert len(seen) == 1 and seen[0] is not None  # None would mean "inherit everything"
    assert_clean(seen[0])


def test_tmux_is_asked_with_a_clean_environment(passphrases_in_env, tmp_path: Path):
    """The tmux client keylink runs (set-clipboard, list/show/delete-buffer) is a child too: a
    fake ``tmux`` on PATH records the environment it was started with."""
    import os

    from tui.services.handoff import clipboard

    record = tmp_path / "tmux-env.json"
    fake = tmp_path / "bin" / "tmux"
    fake.parent.mkdir()
    fake.write_text(f"#!{sys.executable}\nimport json, os\n"
                    f"json.dump(dict(os.environ), open({str(record)!r}, 'w'))\nprint('on')\n")
    fake.chmod(0o755)
    env = {**os.environ, "TMUX": "/tmp/nowhere,1,0", "PATH": f"{fake.parent}:{os.environ['PATH']}"}
    assert clipboard.tmux_set_clipboard(env) == "on"
    assert_clean(json.loads(record.read_text()))


def test_every_process_keylink_starts_is_given_an_environment() -> None:
    """A new subprocess call without ``env=`` would inherit the passphrases again: every call in
    tui/ names its environment, and each one is built by child_environ (directly or through
    handoff.child_environment for exec)."""
    import ast

    root = Path(child_env.__file__).resolve().parents[1]
    starters = {"run", "Popen", "call", "check_call", "check_output", "execve", "execv",
                "execvp", "execvpe", "spawnv", "spawnve", "posix_spawn"}
    missing = []
    for source in root.rglob("*.py"):
        if source.name == "child_env.py":
            continue  # the shim itself, which adds env to pyperclip's calls
        tree = ast.parse(source.read_text(), str(source))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            owner = node.func.value
            if not (isinstance(owner, ast.Name) and owner.id in ("subprocess", "os")):
                continue
            if node.func.attr not in starters:
                continue
            if node.func.attr == "execve":
                continue  # exec_with_env: its env argument is handoff.child_environment's
            if not any(keyword.arg == "env" for keyword in node.keywords):
                missing.append(f"{source.relative_to(root)}:{node.lineno}")
    assert missing == []

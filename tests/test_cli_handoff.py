"""`keylink copy` and `keylink exec`, run as real subprocesses over a real vault."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.clearers import clearer_processes
from tests.test_cli_accounts import BYBIT_LINES, OKX_LINES, VAULT_PASSPHRASE, Cli, make_cli

BYBIT_KEY, BYBIT_SECRET = BYBIT_LINES.split()
OKX_KEY, OKX_SECRET, OKX_PASSPHRASE = OKX_LINES.split()
SECRETS = (BYBIT_KEY, BYBIT_SECRET, OKX_KEY, OKX_SECRET, OKX_PASSPHRASE, VAULT_PASSPHRASE)

#: A child that writes its environment to the file named by its argument (not to stdout, so
#: keylink's own output can be scanned for leaks on its own).
DUMP_ENV = "import json, os, sys; json.dump(dict(os.environ), open(sys.argv[1], 'w'))"


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    # The two accounts are added in-process (quick); every test here then runs real processes:
    # `exec` replaces the process, and copy's tests are about ttys and sessions.
    cli = make_cli(tmp_path, in_process=True)
    assert cli("accounts", "add", "Main", "--exchange", "bybit", stdin=BYBIT_LINES).returncode == 0
    assert cli("accounts", "add", "Okx", "--exchange", "okx", stdin=OKX_LINES).returncode == 0
    cli.in_process = False
    return cli


def assert_one_line_error(result, words: str) -> None:
    assert result.returncode == 2, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("keylink: "), result.stderr
    assert words in lines[0], lines[0]


def assert_no_leak(*outputs: str) -> None:
    for output in outputs:
        for secret in SECRETS:
            assert secret not in output


def run_env(cli: Cli, tmp_path: Path, *args: str) -> tuple[dict, subprocess.CompletedProcess]:
    dump = tmp_path / "child-env.json"
    dump.unlink(missing_ok=True)
    result = cli("exec", *args, "--", sys.executable, "-c", DUMP_ENV, str(dump))
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""  # keylink prints nothing of its own to the child's stdout
    assert_no_leak(result.stdout, result.stderr)
    return json.loads(dump.read_text()), result


def test_exec_default_variables(cli: Cli, tmp_path: Path):
    env, _ = run_env(cli, tmp_path, "Main")
    assert env["KEYLINK_API_KEY"] == BYBIT_KEY
    assert env["KEYLINK_API_SECRET"] == BYBIT_SECRET
    assert env["KEYLINK_EXCHANGE"] == "bybit"
    assert env["KEYLINK_ACCOUNT"] == "Main"
    assert "KEYLINK_API_PASSPHRASE" not in env  # Bybit has none
    assert "KEYLINK_VAULT_PASSPHRASE" not in env  # the child gets one key, not the vault

    env, _ = run_env(cli, tmp_path, "okx")
    assert (env["KEYLINK_API_KEY"], env["KEYLINK_API_SECRET"], env["KEYLINK_API_PASSPHRASE"]) == (
        OKX_KEY, OKX_SECRET, OKX_PASSPHRASE)


def test_exec_freqtrade_preset_and_env_mappings(cli: Cli, tmp_path: Path):
    env, _ = run_env(cli, tmp_path, "Okx", "--preset", "freqtrade")
    assert env["FREQTRADE__EXCHANGE__NAME"] == "okx"
    assert env["FREQTRADE__EXCHANGE__KEY"] == OKX_KEY
    assert env["FREQTRADE__EXCHANGE__SECRET"] == OKX_SECRET
    assert env["FREQTRADE__EXCHANGE__PASSWORD"] == OKX_PASSPHRASE
    assert "KEYLINK_API_KEY" not in env

    env, _ = run_env(cli, tmp_path, "Main", "--preset", "freqtrade", "--env", "MY_SECRET=secret",
                     "--env", "WHO=name")
    assert "FREQTRADE__EXCHANGE__PASSWORD" not in env
    assert env["MY_SECRET"] == BYBIT_SECRET and env["WHO"] == "Main"


def test_exec_passes_exit_codes_and_signals(cli: Cli):
    assert cli("exec", "Main", "--", "sh", "-c", "exit 7").returncode == 7
    assert cli("exec", "Main", "--", "sh", "-c", "exit 0").returncode == 0
    killed = cli("exec", "Main", "--", "sh", "-c", "kill -TERM $$")
    # keylink becomes the command, so the caller sees the signal itself (a shell shows 143).
    assert killed.returncode == -signal.SIGTERM
    shell = cli("exec", "Main", "--", "sh", "-c", "echo out; echo err >&2; exit 3")
    # Main was never checked: keylink's warning comes first, on stderr (issue 19).
    warning, _, rest = shell.stderr.partition("\n")
    assert warning.startswith("keylink: warning: Main was never checked")
    assert (shell.returncode, shell.stdout, rest) == (3, "out\n", "err\n")


@pytest.mark.slow
def test_exec_usage_errors(cli: Cli):
    assert_one_line_error(cli("exec", "Main", "--", "no-such-command-here"), "command not found")
    assert_one_line_error(cli("exec", "Main"), "no command to run")
    assert_one_line_error(cli("exec", "Nobody", "--", "true"), "no account named 'Nobody'")
    assert_one_line_error(cli("exec", "Main", "--env", "X=colour", "--", "true"), "unknown field")
    assert_one_line_error(cli("exec", "Main", "--env", "1X=key", "--", "true"), "VAR=FIELD")
    assert_one_line_error(cli("exec", "Main", "--env", "P=passphrase", "--", "true"),
                          "no passphrase")
    locked = cli("exec", "Main", "--", "true", env={"KEYLINK_VAULT_PASSPHRASE": "wrong one"})
    assert locked.returncode == 2 and "Traceback" not in locked.stderr
    for result in (locked,):
        assert_no_leak(result.stdout, result.stderr)


@pytest.mark.slow
def test_copy_print_is_for_pipes(cli: Cli):
    piped = cli("copy", "Okx", "--field", "passphrase", "--print")
    assert (piped.returncode, piped.stdout) == (0, OKX_PASSPHRASE + "\n")
    assert cli("copy", "Main", "--field", "name", "--print").stdout == "Main\n"
    assert_one_line_error(cli("copy", "Main", "--field", "passphrase", "--print"),
                          "leave the terminal's passphrase field empty")
    assert_one_line_error(cli("copy", "Main", "--field", "secret", "--force"),
                          "--force only goes with --print")

    # On a terminal, --print refuses unless forced.
    main, replica = os.openpty()
    try:
        refused = subprocess.run([sys.executable, "-m", "tui", "copy", "Main", "--field", "secret",
                                  "--print"], stdout=replica, stderr=subprocess.PIPE, text=True,
                                 env=cli.env, timeout=60)
        assert refused.returncode == 2 and "stdout is a terminal" in refused.stderr
        forced = subprocess.run([sys.executable, "-m", "tui", "copy", "Main", "--field", "secret",
                                 "--print", "--force"], stdout=replica, stderr=subprocess.PIPE,
                                text=True, env=cli.env, timeout=60)
        assert forced.returncode == 0
        assert os.read(main, 1000).decode().strip() == BYBIT_SECRET
    finally:
        os.close(main)
        os.close(replica)


def test_copy_without_terminal_or_clipboard_says_so(cli: Cli):
    # A new session has no controlling terminal; make_cli removed DISPLAY: nowhere to copy to.
    result = subprocess.run([sys.executable, "-m", "tui", "copy", "Main", "--field", "secret"],
                            capture_output=True, text=True, env=cli.env, timeout=60,
                            start_new_session=True)
    assert_one_line_error(result, "no terminal or clipboard")
    assert_no_leak(result.stdout, result.stderr)


def test_copy_bad_clip_time(cli: Cli):
    result = cli("copy", "Main", "--field", "key", env={"KEYLINK_CLIP_TIME": "soon\x1b[2J"})
    assert_one_line_error(result, "KEYLINK_CLIP_TIME is 'soon\\x1b[2J'")


# -- issue 15: passphrases never reach a child; an earlier clear never wipes a later copy ---------

OTHER_PASSPHRASES = {
    "KEYLINK_KEY_PASSPHRASE": "private key passphrase 55",
    "KEYLINK_SOME_LATER_PASSPHRASE": "any keylink passphrase 66",
}


def test_exec_passes_no_keylink_passphrase_variable(cli: Cli, tmp_path: Path):
    dump = tmp_path / "child-env.json"
    result = cli("exec", "Main", "--", sys.executable, "-c", DUMP_ENV, str(dump),
                 env=OTHER_PASSPHRASES)
    assert result.returncode == 0, result.stderr
    env = json.loads(dump.read_text())
    assert env["KEYLINK_API_SECRET"] == BYBIT_SECRET  # what exec is for still arrives
    passphrases = [VAULT_PASSPHRASE, *OTHER_PASSPHRASES.values()]
    for name, value in env.items():
        assert not (name.startswith("KEYLINK_") and "PASSPHRASE" in name), name
        assert value not in passphrases


class Terminal:
    """A pseudo-terminal that `keylink copy` runs in as its controlling terminal; everything
    written to it (the OSC 52 of each copy and each clear) is collected with the time it came."""

    def __init__(self) -> None:
        import threading
        import time

        self.main, self.replica = os.openpty()
        self.seen: list[tuple[float, bytes]] = []
        self._stop = False

        def drain() -> None:
            import select

            while not self._stop:
                ready, _, _ = select.select([self.main], [], [], 0.1)
                if ready:
                    try:
                        chunk = os.read(self.main, 4096)
                    except OSError:
                        return
                    self.seen.append((time.monotonic(), chunk))

        self._thread = threading.Thread(target=drain, daemon=True)
        self._thread.start()

    def run(self, cli: Cli, *args: str, env: dict[str, str] | None = None):
        replica = self.replica

        def take_terminal() -> None:
            import fcntl
            import termios

            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        return subprocess.run([sys.executable, "-m", "tui", *args], stdin=replica,
                              capture_output=True, text=True,
                              env={**cli.env, **(env or {})}, timeout=60,
                              preexec_fn=take_terminal)

    def first(self, sequence: bytes) -> float | None:
        """When ``sequence`` was first written (a sequence cut across two reads is found too)."""
        data = b""
        for when, chunk in self.seen:
            data += chunk
            if sequence in data:
                return when
        return None

    def close(self) -> None:
        self._stop = True
        self._thread.join(2)
        os.close(self.main)
        os.close(self.replica)


@pytest.fixture
def terminal():
    term = Terminal()
    yield term
    term.close()


def test_the_clearer_gets_no_keylink_passphrase(cli: Cli, terminal: Terminal):
    result = terminal.run(cli, "copy", "Okx", "--field", "passphrase",
                          env={**OTHER_PASSPHRASES, "KEYLINK_CLIP_TIME": "30"})
    assert result.returncode == 0, result.stderr
    pids = [pid for pid, _argv, _env in clearer_processes(cli.env["HOME"])]
    assert len(pids) == 1
    try:
        environ = Path(f"/proc/{pids[0]}/environ").read_bytes()  # read while it waits
        assert b"KEYLINK_CLIP_TIME=30" in environ  # it is the clearer's real environment
        for entry in environ.split(b"\0"):
            name = entry.partition(b"=")[0]
            assert not (name.startswith(b"KEYLINK_") and b"PASSPHRASE" in name), name
        for secret in (VAULT_PASSPHRASE, *OTHER_PASSPHRASES.values(), OKX_PASSPHRASE):
            assert secret.encode() not in environ
    finally:
        os.kill(pids[0], signal.SIGTERM)


@pytest.mark.slow
def test_an_earlier_copys_clearer_leaves_a_later_copy_alone(cli: Cli, terminal: Terminal):
    """The secret (cleared in 2 s), then the key (cleared in 6 s), as two `keylink copy` runs on
    one terminal: nothing clears at 2 s; the key is cleared at 6 s."""
    import time

    from tui.services.handoff.clipboard import CLEARED_TEXT, osc52_sequence

    first = terminal.run(cli, "copy", "Main", "--field", "secret", env={"KEYLINK_CLIP_TIME": "2"})
    assert first.returncode == 0, first.stderr
    second = terminal.run(cli, "copy", "Main", "--field", "key", env={"KEYLINK_CLIP_TIME": "6"})
    assert second.returncode == 0, second.stderr
    key_sent = terminal.first(osc52_sequence(BYBIT_KEY))
    assert terminal.first(osc52_sequence(BYBIT_SECRET)) is not None and key_sent is not None
    cleared = osc52_sequence(CLEARED_TEXT)
    deadline = time.monotonic() + 20
    while terminal.first(cleared) is None and time.monotonic() < deadline:
        time.sleep(0.1)
    when = terminal.first(cleared)
    assert when is not None, "the key was never cleared"
    # The secret's clearer woke at about key_sent + 2 s and left the key; the key's own clearer
    # cleared at key_sent + 6 s (less the start-up time of the second run, under a second).
    assert when - key_sent > 4.5, f"cleared {when - key_sent:.1f} s after the key was copied"
    time.sleep(0.5)
    assert b"".join(chunk for _, chunk in terminal.seen).count(cleared) == 1


def test_copy_over_ssh_says_what_the_clear_cannot_reach(cli: Cli, terminal: Terminal):
    over_ssh = terminal.run(cli, "copy", "Main", "--field", "secret",
                            env={"SSH_CONNECTION": "203.0.113.9 50000 10.0.0.2 22",
                                 "KEYLINK_CLIP_TIME": "1"})
    assert over_ssh.returncode == 0, over_ssh.stderr
    lines = over_ssh.stdout.splitlines()
    assert lines[0] == ("the API secret of Main: sent to your terminal's clipboard (OSC 52); "
                        "cleared in 1 s")
    assert lines[1].startswith("Over ssh, the clear reaches only this machine's tmux and "
                               "clipboard. A tmux on your own computer keeps a copy")
    local = terminal.run(cli, "copy", "Main", "--field", "secret", env={"KEYLINK_CLIP_TIME": "1"})
    assert local.stdout.splitlines() == lines[:1]  # on this machine itself: no note
    assert_no_leak(over_ssh.stdout, over_ssh.stderr, local.stdout, local.stderr)

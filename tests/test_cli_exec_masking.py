"""`keylink exec` masks CMD's output by default (issue 19), as real processes: the exit code and
signals still pass through, SIGTERM and the terminal's Ctrl-C reach CMD (once), and CMD still
sees a terminal when keylink runs in one."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time

import pytest

from tests.test_cli_handoff import BYBIT_SECRET, OKX_PASSPHRASE, OKX_SECRET, cli
from tests.test_cli_handoff import Cli as _Cli

__all__ = ["cli"]
pytestmark = pytest.mark.cli_process

CONCEALED = "<concealed by keylink>"
#: Writes each credential it was given, split across two writes with a pause between.
SPLIT_WRITER = r"""
import os, sys, time
for name in ("KEYLINK_API_SECRET", "KEYLINK_API_PASSPHRASE"):
    value = os.environ.get(name, "")
    if value:
        sys.stdout.write(name + "=" + value[:5]); sys.stdout.flush(); time.sleep(0.05)
        sys.stdout.write(value[5:] + "\n"); sys.stdout.flush()
sys.stderr.write("err " + os.environ["KEYLINK_API_SECRET"] + "\n")
"""


def test_output_is_masked_and_no_masking_is_todays_behaviour(cli: _Cli):
    masked = cli("exec", "Okx", "--", sys.executable, "-c", SPLIT_WRITER)
    assert masked.returncode == 0, masked.stderr
    assert masked.stdout == (f"KEYLINK_API_SECRET={CONCEALED}\n"
                             f"KEYLINK_API_PASSPHRASE={CONCEALED}\n")
    assert f"err {CONCEALED}\n" in masked.stderr
    for secret in (OKX_SECRET, OKX_PASSPHRASE):
        assert secret not in masked.stdout + masked.stderr
    plain = cli("exec", "Okx", "--no-masking", "--", sys.executable, "-c", SPLIT_WRITER)
    assert plain.returncode == 0
    assert plain.stdout == (f"KEYLINK_API_SECRET={OKX_SECRET}\n"
                            f"KEYLINK_API_PASSPHRASE={OKX_PASSPHRASE}\n")


def test_sigterm_to_keylink_reaches_cmd(cli: _Cli):
    script = ("import signal, sys, time\n"
              "signal.signal(signal.SIGTERM, lambda *a: (print('got TERM', flush=True), "
              "sys.exit(3)))\n"
              "print('ready', flush=True)\n"
              "time.sleep(30)\n")
    proc = subprocess.Popen([sys.executable, "-m", "tui", "exec", "Main", "--", sys.executable,
                             "-c", script], env=cli.env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline() == "ready\n"
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=20)
    assert (proc.returncode, out) == (3, "got TERM\n")


def test_killed_by_a_signal_and_exit_codes_with_masking_on(cli: _Cli):
    assert cli("exec", "Main", "--", "sh", "-c", f"echo {BYBIT_SECRET}; exit 7").returncode == 7
    killed = cli("exec", "Main", "--", "sh", "-c", f"echo {BYBIT_SECRET}; kill -KILL $$")
    assert killed.returncode == -signal.SIGKILL
    assert killed.stdout == CONCEALED + "\n"
    shell = subprocess.run(["sh", "-c", f"{sys.executable} -m tui exec Main -- sh -c "
                            "'kill -INT $$'; echo $?"], env=cli.env, capture_output=True,
                           text=True, timeout=60)
    assert shell.stdout == "130\n"  # 128 + SIGINT, as the shell shows it without keylink


def _read_until(fd: int, needle: bytes, deadline: float) -> bytes:
    seen = b""
    while needle not in seen:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"timed out waiting for {needle!r}; saw {seen!r}")
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the other side closed
                break
            if not chunk:
                break
            seen += chunk
    return seen


def test_in_a_real_terminal_cmd_sees_one_and_ctrl_c_reaches_it_once(cli: _Cli):
    script = ("import os, signal, sys, time\n"
              "hits = []\n"
              "signal.signal(signal.SIGINT, lambda *a: hits.append(1))\n"
              "print('tty', os.isatty(0), os.isatty(1), os.isatty(2), "
              "os.environ['KEYLINK_API_SECRET'], flush=True)\n"
              "print('ready', flush=True)\n"
              "while not hits: time.sleep(0.01)\n"
              "time.sleep(0.3)\n"
              "print('ints', len(hits), flush=True)\n"
              "sys.exit(5)\n")
    argv = [sys.executable, "-m", "tui", "exec", "Main", "--", sys.executable, "-c", script]
    pid, master = os.forkpty()
    if pid == 0:  # the child: keylink in a new session whose terminal is the pty
        try:
            os.execve(argv[0], argv, cli.env)
        finally:
            os._exit(127)
    try:
        deadline = time.monotonic() + 30
        seen = _read_until(master, b"ready", deadline)
        os.write(master, b"\x03")  # Ctrl-C, typed
        seen += _read_until(master, b"ints", deadline)
        seen += _read_until(master, b"\n", deadline)
        _, status = os.waitpid(pid, 0)
    finally:
        os.close(master)
    text = seen.decode(errors="replace")
    assert f"tty True True True {CONCEALED}" in text
    assert BYBIT_SECRET not in text
    assert "ints 1" in text  # delivered once: by the terminal, not again by keylink
    assert os.waitstatus_to_exitcode(status) == 5

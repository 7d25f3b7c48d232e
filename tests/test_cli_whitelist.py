"""`keylink whitelist`, `--version`, `--help` as a script would call them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.services.test_whitelist import GENERAL
from tui import __version__


def keylink(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui", *args],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        cwd=cwd,
    )


def test_version_and_help() -> None:
    assert keylink("--version").stdout.strip() == f"keylink {__version__}"
    help_text = keylink("--help").stdout
    assert "whitelist" in help_text


def test_default_prints_exactly_the_general_list() -> None:
    result = keylink("whitelist")
    assert result.returncode == 0
    assert result.stdout == GENERAL + "\n"
    assert result.stderr == ""


def test_profile_and_formats() -> None:
    lines = keylink("whitelist", "--profile", "insilico-bitget", "--format", "lines").stdout
    assert len(lines.splitlines()) == 30
    as_json = json.loads(keylink("whitelist", "--format", "json").stdout)
    assert ",".join(as_json) == GENERAL


def test_list_shows_profiles_with_counts() -> None:
    out = keylink("whitelist", "--list").stdout
    assert "insilico-general\t20\t" in out
    assert "insilico-bitget\t30\t" in out


def test_file(tmp_path: Path) -> None:
    file = tmp_path / "ips.txt"
    file.write_text("1.2.3.4\n5.6.7.8\n1.2.3.4\n")
    result = keylink("whitelist", "--file", str(file))
    assert result.returncode == 0
    assert result.stdout == "1.2.3.4,5.6.7.8\n"


def _assert_one_line_error(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in result.stderr


def test_bad_file_exits_2_with_one_line(tmp_path: Path) -> None:
    file = tmp_path / "ips.txt"
    file.write_text("1.2.3.4\nnot-an-ip\n")
    _assert_one_line_error(keylink("whitelist", "--file", str(file)), "line 2", "not-an-ip")
    _assert_one_line_error(keylink("whitelist", "--file", str(tmp_path / "nope")), "no such file")


def test_a_named_pipe_without_a_writer_is_refused_not_waited_on(tmp_path: Path) -> None:
    """Issue 15: `keylink whitelist --file FIFO` hung for good. The timeout turns a hang into a
    failure instead of a stuck suite."""
    fifo = tmp_path / "ips.fifo"
    os.mkfifo(fifo)
    try:
        result = subprocess.run([sys.executable, "-m", "tui", "whitelist", "--file", str(fifo)],
                                capture_output=True, text=True, timeout=15,
                                stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        pytest.fail("keylink whitelist --file FIFO still waits for a writer")
    _assert_one_line_error(result, "named pipe", "--file -")


def test_a_list_piped_in_on_stdin() -> None:
    for name in ("-", "/dev/stdin"):
        result = subprocess.run([sys.executable, "-m", "tui", "whitelist", "--file", name],
                                input="1.2.3.4\n5.6.7.8\n", capture_output=True, text=True,
                                timeout=60)
        assert (result.returncode, result.stdout) == (0, "1.2.3.4,5.6.7.8\n"), result.stderr


def test_unknown_profile_exits_2_with_one_line() -> None:
    _assert_one_line_error(keylink("whitelist", "--profile", "nope"), "unknown whitelist profile")


def test_profile_and_file_together_is_a_usage_error(tmp_path: Path) -> None:
    _assert_one_line_error(
        keylink("whitelist", "--profile", "insilico-general", "--file", str(tmp_path)), "either"
    )


def test_closed_pipe_ends_quietly() -> None:
    """`keylink whitelist | head -0`: no traceback when the reader has gone."""
    code = (
        "import os, sys\n"
        "r, w = os.pipe(); os.close(r); os.dup2(w, 1)\n"
        "from tui.cli import main\n"
        "sys.exit(main(['whitelist']))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 141
    assert result.stderr == ""

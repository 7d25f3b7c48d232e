"""Files keylink reads and the dirs it keeps: regular files only, size caps, no chmod via a link,
and the process is non-dumpable once a secret is in memory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tui.services.core.private_files import (
    RefusedFile,
    ensure_private_dir,
    leftover_temp_files,
    read_regular,
    safety_problems,
)


def test_read_regular_reads_a_file(tmp_path: Path):
    path = tmp_path / "f"
    path.write_bytes(b"hello")
    assert read_regular(path, 10) == b"hello"
    with pytest.raises(FileNotFoundError):
        read_regular(tmp_path / "missing", 10)


def test_read_regular_refuses_a_fifo_without_waiting(tmp_path: Path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)  # opening it for reading without O_NONBLOCK would wait for a writer forever
    with pytest.raises(RefusedFile, match="not a regular file"):
        read_regular(fifo, 10)


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null"])
def test_read_regular_refuses_devices(device: str):
    with pytest.raises(RefusedFile, match="not a regular file"):
        read_regular(Path(device), 10)


def test_read_regular_refuses_links_dirs_and_huge_files(tmp_path: Path):
    target = tmp_path / "target"
    target.write_bytes(b"x")
    (tmp_path / "link").symlink_to(target)
    with pytest.raises(RefusedFile, match="symbolic link"):
        read_regular(tmp_path / "link", 10)
    with pytest.raises(RefusedFile, match="not a regular file"):
        read_regular(tmp_path, 10)
    huge = tmp_path / "huge"
    with huge.open("wb") as handle:
        handle.truncate(4 * 2**30)  # sparse: 4 GiB on paper, nothing on disk
    with pytest.raises(RefusedFile, match="more than keylink's limit"):
        read_regular(huge, 2**20)


def test_a_symlinked_keylink_dir_is_used_but_its_target_not_chmoded(tmp_path: Path):
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    link = tmp_path / "keylink"
    link.symlink_to(shared)
    ensure_private_dir(link)
    assert (shared.stat().st_mode & 0o777) == 0o755  # before: chmod followed the link to 0700
    assert any("symbolic link" in p for p in safety_problems(link))
    real = tmp_path / "real"
    real.mkdir(mode=0o755)
    real.chmod(0o755)
    ensure_private_dir(real)
    assert (real.stat().st_mode & 0o777) == 0o700


def test_safety_problems_name_world_writable_and_foreign_owned(tmp_path: Path):
    loose = tmp_path / "loose"
    loose.mkdir()
    loose.chmod(0o777)
    assert any("changed by other users (mode 0777)" in p for p in safety_problems(loose))
    sticky = tmp_path / "sticky"
    sticky.mkdir()
    sticky.chmod(0o1777)  # like /tmp: others cannot swap our files
    assert safety_problems(sticky, private=False) == []
    readable = tmp_path / "readable"
    readable.write_text("{}")
    readable.chmod(0o644)
    assert any("read by other users" in p for p in safety_problems(readable))
    assert safety_problems(readable, private=False) == []
    if os.geteuid() == 0:
        foreign = tmp_path / "foreign"
        foreign.mkdir(mode=0o700)
        os.chown(foreign, 4242, 4242)
        assert any("another user (uid 4242)" in p for p in safety_problems(foreign))
    assert safety_problems(tmp_path / "missing") == []


def test_leftover_temp_files_are_those_of_atomic_write(tmp_path: Path):
    target = tmp_path / "accounts.json"
    (tmp_path / ".accounts.json.abc123.tmp").write_text("x")
    (tmp_path / ".vault.json.abc123.tmp").write_text("x")
    (tmp_path / "accounts.json.damaged-1").write_text("x")
    assert [p.name for p in leftover_temp_files(target)] == [".accounts.json.abc123.tmp"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux only")
def test_a_secret_in_memory_makes_the_process_non_dumpable():
    # A fresh process: this test run may already be protected by earlier tests.
    # /proc/self/status has no "dumpable" line on Linux, so ask the kernel (PR_GET_DUMPABLE = 3).
    code = (
        "import ctypes\n"
        "dumpable = lambda: ctypes.CDLL(None).prctl(3, 0, 0, 0, 0)\n"
        "before = dumpable()\n"
        "from tui.services.keys.credentials import Credentials\n"
        "Credentials('key', 'secret')\n"
        "print(before, dumpable())\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, cwd=Path(__file__).resolve().parents[2])
    assert result.stdout.split() == ["1", "0"]

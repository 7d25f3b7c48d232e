"""The access log (issue 19): one chained line per use, the check finds each kind of tampering,
rotation keeps the chain, and a damaged, unreadable or unwritable log never stops a hand-off."""

from __future__ import annotations

import errno
import json
import os
import stat
from pathlib import Path
from types import SimpleNamespace

import pytest

from tui.services.core import access_log
from tui.services.core.access_log import AccessLog

MAIN = SimpleNamespace(name="Main", id="acc-1")
OTHER = SimpleNamespace(name="Other", id="acc-2")


@pytest.fixture(autouse=True)
def _fresh_said(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(access_log, "_said", set())


def filled(tmp_path: Path, count: int = 6, **kwargs) -> AccessLog:
    log = AccessLog(tmp_path / "state", **kwargs)
    for number in range(count):
        assert log.record("copy" if number % 2 else "exec", MAIN if number % 3 else OTHER,
                          ["secret"], "ok", environ={"SSH_CONNECTION": "10.1.2.3 5000 10.0.0.1 22"}
                          ) is None
    return log


def lines_of(log: AccessLog) -> list[bytes]:
    return log.path.read_bytes().splitlines(keepends=True)


def test_each_use_is_one_chained_line_without_values(tmp_path: Path):
    log = filled(tmp_path)
    assert stat.S_IMODE(log.path.stat().st_mode) == 0o600
    records = [json.loads(line) for line in lines_of(log)]
    assert records[0]["kind"] == "start" and records[0]["prev"] == access_log.GENESIS
    use = records[1]
    assert {k: use[k] for k in ("action", "account", "account_id", "fields", "outcome", "ssh")} \
        == {"action": "exec", "account": "Other", "account_id": "acc-2", "fields": ["secret"],
            "outcome": "ok", "ssh": "10.1.2.3"}
    assert use["parent"]  # this test's parent process has a name
    for before, after in zip(lines_of(log), records[1:], strict=False):
        assert after["prev"] == access_log.line_hash(before.rstrip(b"\n"))
    report = log.check()
    assert report.whole and (report.lines, report.files) == (7, 1)


def test_hostile_text_is_data(tmp_path: Path):
    log = AccessLog(tmp_path / "state")
    evil = SimpleNamespace(name="x\x1b]52;c;aGk=\x07\n{\"kind\":\"use\"}\u202e", id="e")
    log.record("copy", evil, ["secret"], environ={"SSH_CLIENT": "\x1b[31mnot-an-ip 1 2"})
    raw = log.path.read_bytes()
    assert b"\x1b" not in raw and b"\x07" not in raw and raw.count(b"\n") == 2
    entry = log.entries()[0][0]
    assert entry["account"] == evil.name and entry["ssh"] == "unreadable"
    shown = access_log.describe(entry)
    assert "\x1b" not in shown and "\n" not in shown and "\u202e" not in shown
    assert log.check().whole


@pytest.mark.parametrize("tamper", ["edit", "remove", "reorder", "drop-last", "edit-last",
                                    "drop-first", "insert", "delete-file"])
def test_the_check_finds_each_kind_of_tampering(tmp_path: Path, tamper: str):
    log = filled(tmp_path)
    lines = lines_of(log)
    if tamper == "edit":
        lines[3] = lines[3].replace(b'"outcome":"ok"', b'"outcome":"no"')
    elif tamper == "remove":
        del lines[3]
    elif tamper == "reorder":
        lines[2], lines[3] = lines[3], lines[2]
    elif tamper == "drop-last":
        del lines[-1]
    elif tamper == "edit-last":
        lines[-1] = lines[-1].replace(b'"account":"Main"', b'"account":"Else"')
    elif tamper == "drop-first":
        del lines[0]
    elif tamper == "insert":
        lines.insert(2, lines[4])
    if tamper == "delete-file":
        log.path.unlink()
        assert log.record("copy", MAIN, ["key"]) is None  # a new chain, nothing blocks
    else:
        log.path.write_bytes(b"".join(lines))
    report = log.check()
    assert not report.whole, tamper
    assert all("\n" not in problem for problem in report.breaks)


def test_rotation_keeps_the_chain_checkable(tmp_path: Path):
    log = filled(tmp_path, 40, max_bytes=1500, keep=2)
    names = [p.name for p in log.files()]
    assert names == ["access.log.2", "access.log.1", "access.log"]
    first_of_current = json.loads(lines_of(log)[0])
    last_of_previous = (tmp_path / "state" / "access.log.1").read_bytes().splitlines()[-1]
    assert first_of_current == {**first_of_current, "kind": "start", "reason": "rotated",
                                "prev": access_log.line_hash(last_of_previous)}
    assert log.check().whole
    uses = log.entries()[0]
    assert len(uses) < 40 and uses[-1]["action"] in ("copy", "exec")  # the oldest went
    # Tampering inside a rotated file is found too.
    older = tmp_path / "state" / "access.log.1"
    rows = older.read_bytes().splitlines(keepends=True)
    del rows[2]
    older.write_bytes(b"".join(rows))
    assert any("access.log.1" in problem for problem in log.check().breaks)


@pytest.mark.parametrize("damage", [b'{"kind":"use","ti', b"\x00\x01garbage\n"])
def test_a_damaged_log_is_said_once_and_a_new_chain_starts(tmp_path: Path, damage: bytes):
    log = filled(tmp_path, 3)
    with log.path.open("ab") as handle:
        handle.write(damage)
    problem = log.record("copy", MAIN, ["secret"])
    assert problem is not None and "a new chain starts" in problem
    assert log.record("copy", MAIN, ["secret"]) is None  # said once; the chain goes on
    report = log.check()
    assert any("a new chain starts" in p for p in report.breaks)
    assert [e["outcome"] for e in log.entries()[0]][-2:] == ["ok", "ok"]


def test_an_unreadable_log_is_moved_aside(tmp_path: Path):
    log = AccessLog(tmp_path / "state")
    log.path.parent.mkdir(parents=True)
    os.mkfifo(log.path)  # a FIFO in its place: never opened to wait on
    problem = log.record("exec", MAIN, ["secret"])
    assert problem is not None and "moved to access.log.unreadable-" in problem
    assert log.entries()[0][0]["action"] == "exec"
    assert any(p.name.startswith("access.log.unreadable-") for p in log.path.parent.iterdir())


def test_a_second_unreadable_log_never_replaces_the_first_one_moved_aside(tmp_path: Path):
    """Two unreadable logs within one second: each keeps a name of its own."""
    log = AccessLog(tmp_path / "state")
    log.path.parent.mkdir(parents=True)
    for _ in range(2):
        log.path.unlink(missing_ok=True)
        os.mkfifo(log.path)
        assert log.record("exec", MAIN, ["secret"]) is not None
    aside = [p for p in log.path.parent.iterdir() if p.name.startswith("access.log.unreadable-")]
    assert len(aside) == 2


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS])
def test_a_full_or_read_only_disk_is_one_line(tmp_path: Path, monkeypatch, code: int):
    log = filled(tmp_path, 2)
    real_open = os.open

    def failing_open(path, flags, *args):
        if flags & os.O_APPEND:
            raise OSError(code, os.strerror(code), str(path))
        return real_open(path, flags, *args)

    monkeypatch.setattr(access_log.os, "open", failing_open)
    problem = log.record("copy", MAIN, ["secret"])
    assert problem == (f"the access log could not be written ({os.strerror(code)}): this copy "
                       "is not recorded")
    assert log.record("copy", MAIN, ["secret"]) is None  # once


def test_a_log_opened_up_is_made_private_again(tmp_path: Path):
    log = filled(tmp_path, 1)
    os.chmod(log.path, 0o644)
    log.record("verify", MAIN, ["key", "secret"], "works")
    assert stat.S_IMODE(log.path.stat().st_mode) == 0o600


def test_processes_appending_at_once_keep_one_chain(tmp_path: Path):
    """keylink commands started together (a cron minute, a burst over ssh) append under a lock."""
    import subprocess
    import sys

    script = ("import sys, types\n"
              "from pathlib import Path\n"
              "from tui.services.core.access_log import AccessLog\n"
              "log = AccessLog(Path(sys.argv[1]), max_bytes=4000)\n"
              "for n in range(25):\n"
              "    assert log.record('copy', types.SimpleNamespace(name=sys.argv[2], id='x'),"
              " ['secret']) is None\n")
    state = tmp_path / "state"
    procs = [subprocess.Popen([sys.executable, "-c", script, str(state), f"P{n}"])
             for n in range(4)]
    assert [p.wait(timeout=60) for p in procs] == [0, 0, 0, 0]
    log = AccessLog(state, max_bytes=4000)
    report = log.check()
    assert report.whole, report.breaks
    assert len(log.entries()[0]) <= 100 and len(log.files()) == 4  # rotated, 3 kept + current


def test_a_fifo_or_link_in_place_of_the_head_file_never_blocks_the_check(tmp_path: Path):
    """The head file is read like every other file keylink reads: a regular file or nothing.
    (A FIFO there made `keylink log --check` wait forever.)"""
    import threading

    log = filled(tmp_path, count=3)
    head = log.path.parent / access_log.HEAD_NAME
    head.unlink()
    os.mkfifo(head)
    done: list[object] = []
    worker = threading.Thread(target=lambda: done.append(log.check()), daemon=True)
    worker.start()
    worker.join(timeout=10)
    assert done, "the check waited on a FIFO"
    if head.exists():
        head.unlink()
    head.symlink_to(tmp_path / "elsewhere.json")
    (tmp_path / "elsewhere.json").write_text('{"last": "x", "lines": 99}')
    assert log.check() is not None

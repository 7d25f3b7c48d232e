"""kill -9 and Ctrl-C at random points of add, rotate and remove, through the real CLI; and
processes working at once. KEYLINK_FAULT_RUNS sets the loop's length (default: a short CI loop)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.faults.harness import (
    World,
    concurrent_ops,
    interrupt_loop,
    orphan_count,
    report,
    runs_from_env,
    sigint_loop,
)
from tests.test_cli_accounts import make_cli


def test_interrupted_add_rotate_remove_lose_nothing_and_leak_nothing(tmp_path: Path, capsys):
    cli = make_cli(tmp_path)
    tally = interrupt_loop(cli, runs_from_env(24))
    world = World(cli)
    tally.orphans_left = orphan_count(world)
    report(tally.line("interrupt loop (kill -9 / SIGINT over add, rotate, remove)"), capsys)
    assert tally.problems == []
    assert (tally.lost, tally.leaked, tally.tracebacks) == (0, 0, 0)
    assert tally.clean == tally.tried
    # doctor cleans what interrupted runs leave behind: orphaned secrets and temp files.
    repaired = cli("doctor", "--repair", "--yes")
    assert repaired.returncode == 0, repaired.stderr
    after = json.loads(cli("doctor", "--json").stdout)
    assert (after["orphaned_secrets"], after["temp_files"]) == (0, 0)
    assert after["accounts_without_secret"] == []


def test_processes_at_once_lose_nothing(tmp_path: Path, capsys):
    cli = make_cli(tmp_path)
    tally = concurrent_ops(cli, workers=4, per_worker=int(runs_from_env(24) / 12) or 2)
    report(tally.line("concurrent processes (add, rotate, remove at once)"), capsys)
    assert tally.problems == []
    assert (tally.lost, tally.leaked, tally.orphans_left) == (0, 0, 0)


def test_ctrl_c_anywhere_in_a_rotate_is_one_line(tmp_path: Path, capsys):
    # A 400-run version of this found a Ctrl-C printed as a traceback from the unraisable hook,
    # and one wrapped in a RuntimeError reported as an unexpected error.
    cli = make_cli(tmp_path)
    tally = sigint_loop(cli, runs_from_env(24))
    report(tally.line("Ctrl-C at random points of rotate"), capsys)
    assert tally.problems == []
    assert (tally.lost, tally.leaked, tally.tracebacks) == (0, 0, 0)

"""kill -9 and Ctrl-C at random points of add, rotate and remove, through the real CLI; and
processes working at once. KEYLINK_FAULT_RUNS sets the loop's length (default: a short CI loop)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.faults.harness import (
    World,
    add_window_loop,
    concurrent_ops,
    interrupt_loop,
    orphan_count,
    repair_loop,
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
    assert tally.orphaned_by_interrupt == 0
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


def test_ctrl_c_right_after_an_adds_secret_write_leaves_no_orphan(tmp_path: Path, capsys):
    # Issue 15: Ctrl-C just after the vault write left an orphaned secret in 4 of 40 adds.
    cli = make_cli(tmp_path)
    tally = add_window_loop(cli, runs_from_env(24) // 2)
    report(tally.line("Ctrl-C aimed at an add's secret write (0-3 ms after the vault changes)"),
           capsys)
    assert tally.problems == []
    assert (tally.lost, tally.leaked, tally.tracebacks, tally.orphaned_by_interrupt) == (0, 0, 0, 0)
    assert tally.clean == tally.tried


def test_interrupted_repairs_never_delete_what_an_accounts_file_names(tmp_path: Path, capsys):
    cli = make_cli(tmp_path)
    tally = repair_loop(cli, runs_from_env(24) // 3)
    report(tally.line("kill -9 / Ctrl-C at random points of doctor --repair (moved-aside files, "
                      "planted orphans)"), capsys)
    assert tally.problems == []
    assert (tally.lost, tally.leaked, tally.tracebacks) == (0, 0, 0)
    assert tally.clean == tally.tried


def test_kill_9_anywhere_in_a_move_leaves_one_usable_copy_and_none_unknown(tmp_path: Path,
                                                                           capsys, gpg_people):
    # Issue 21: a move touches two stores; every copy must be the one in use or one the
    # account names, whatever moment the kill lands.
    from tests.faults.harness import move_loop
    from tests.support.gpg import init_store

    me = gpg_people[0]
    store = init_store(tmp_path / "password-store", me)
    cli = make_cli(tmp_path, in_process=True)  # the moves themselves run as processes
    cli.env.update(GNUPGHOME=str(me.home), PASSWORD_STORE_DIR=str(store),
                   KEYLINK_SECRET_BACKEND="vault")
    tally = move_loop(cli, store, runs_from_env(24) // 4)
    report(tally.line("kill -9 at random points of accounts move (vault <-> pass)"), capsys)
    assert tally.problems == []
    assert (tally.lost, tally.leaked, tally.tracebacks) == (0, 0, 0)
    assert tally.clean == tally.tried
    repaired = cli("doctor", "--repair", "--yes")
    assert repaired.returncode == 0, repaired.stderr
    after = json.loads(cli("doctor", "--json").stdout)
    assert after["cut_short_moves"] == [] and after["orphaned_secrets"] == 0

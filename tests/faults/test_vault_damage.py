"""A damaged vault through the real CLI: truncated, bit-flipped, or an older copy put back. Each
is refused in one line and neither file is rewritten; the undamaged vault still works after."""

from __future__ import annotations

import random
from pathlib import Path

from tests.faults.harness import Tally, report, runs_from_env
from tests.test_cli_accounts import BYBIT_LINES, make_cli


def test_damaged_vaults_are_refused_and_never_rewritten(tmp_path: Path, capsys):
    cli = make_cli(tmp_path)
    assert cli("accounts", "add", "Main", "--exchange", "bybit", stdin=BYBIT_LINES).returncode == 0
    vault = cli.data / "vault.json"
    old_copy = vault.read_bytes()
    rotated = cli("accounts", "rotate", "Main", stdin="ZyXwVuTs0987654321\n" + "T" * 36 + "\n")
    assert rotated.returncode == 0, rotated.stderr
    good = vault.read_bytes()
    accounts = (cli.config / "accounts.json").read_bytes()
    rng = random.Random(7)
    cases: list[tuple[str, bytes]] = [("rollback", old_copy)]
    count = max(runs_from_env(24) // 3, 6)
    for _ in range(count // 2):
        cases.append(("truncated", good[: rng.randrange(len(good))]))
    for _ in range(count - count // 2):
        flipped = bytearray(good)
        flipped[rng.randrange(len(flipped))] ^= 1 << rng.randrange(8)
        cases.append(("bit-flip", bytes(flipped)))
    tally = Tally()
    for kind, damaged in cases:
        vault.write_bytes(damaged)
        tally.tried += 1
        tally.by_kind[kind] = tally.by_kind.get(kind, 0) + 1
        problems = []
        for args, stdin in ((["accounts", "rotate", "Main"], BYBIT_LINES),
                            (["accounts", "add", "Other", "--exchange", "bybit"], BYBIT_LINES),
                            (["accounts", "remove", "Main", "--yes"], "")):
            result = cli(*args, stdin=stdin)
            lines = result.stderr.strip().splitlines()
            if result.returncode != 2 or len(lines) != 1 or "Traceback" in result.stderr:
                problems.append(f"{args[1]}: exit {result.returncode}: {result.stderr.strip()}")
            if "T" * 36 in result.stdout + result.stderr:
                tally.leaked += 1
        if vault.read_bytes() != damaged or (cli.config / "accounts.json").read_bytes() != accounts:
            problems.append("a file was rewritten")
            tally.lost += 1
        if problems:
            tally.problems += [f"{kind}: {p}" for p in problems]
        else:
            tally.clean += 1
    vault.write_bytes(good)
    listed = cli("accounts", "list")
    assert "Main" in listed.stdout
    report(tally.line("damaged vaults (rollback / truncated / bit-flip) through the CLI"), capsys)
    assert tally.problems == []
    assert (tally.clean, tally.lost, tally.leaked) == (tally.tried, 0, 0)

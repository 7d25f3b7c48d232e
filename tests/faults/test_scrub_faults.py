"""kill -9 and Ctrl-C at random points of `accounts import --scrub [--backup]`, through the real
CLI. After every run: each value is still in the file or readable from the store (nothing lost),
the file is its old bytes or the fully scrubbed bytes (never a mix), a backup is the old bytes,
and a temp file a kill left is deleted by the next scrub. KEYLINK_FAULT_RUNS sets the count."""

from __future__ import annotations

import random
import signal
import stat
import time
from collections.abc import Callable
from pathlib import Path

from tests.faults.harness import (
    Tally,
    World,
    orphan_count,
    random_creds,
    report,
    run_cli,
    runs_from_env,
    timed,
)
from tests.test_cli_accounts import Cli, make_cli
from tui.services.handoff import importer, scrub


def _bot_file(folder: Path, number: int, key: str, secret: str, rng: random.Random) -> Path:
    """A bot's config holding the key in several places: a freqtrade config (comment, ccxt_config
    copy) or a .env file (an alias and a commented-out copy)."""
    folder.mkdir()
    if rng.random() < 0.5:
        path = folder / f"config{number}.json"
        path.write_text(
            '{\n    // the bot\'s settings\n    "max_open_trades": 3,\n    "exchange": {\n'
            f'        "name": "bybit",\n        "key": "{key}",\n        "secret": "{secret}",\n'
            f'        // old copy: "secret": "{secret}",\n'
            f'        "ccxt_config": {{"apiKey": "{key}", "secret": "{secret}"}},\n'
            '        "pair_whitelist": ["BTC/USDT", "ETH/USDT"],\n    },\n'
            '    "dry_run": true,\n}\n')
    else:
        path = folder / f"bot{number}.env"
        path.write_text(f"# bot\nLOG_LEVEL=info\n# BYBIT_API_SECRET={secret}\n"
                        f"BYBIT_API_KEY={key}\nBYBIT_API_SECRET={secret}\n"
                        f"BYBIT_SECRET='{secret}'\n")
    path.chmod(0o640)
    return path


def _temp_appeared(folder: Path, then: float) -> Callable[[], bool]:
    """True ``then`` seconds after the first temp file of a scrub shows in ``folder``: aims the
    kill at the atomic rewrites (the backup's, then the file's)."""
    seen: list[float] = []

    def check() -> bool:
        if seen:
            return time.monotonic() >= seen[0] + then
        if any(folder.glob(".*.tmp")):
            seen.append(time.monotonic())
        return False

    return check


def _count(tally: Tally, kind: str, n: int = 1) -> None:
    tally.by_kind[kind] = tally.by_kind.get(kind, 0) + n


def scrub_loop(cli: Cli, root: Path, runs: int, seed: int = 15) -> Tally:
    """``runs`` imports with --scrub (half with --backup), each of a new bot file, each sent
    SIGINT or kill -9 at a random point of its run (half the kills aimed at the rewrite)."""
    rng = random.Random(seed)
    world = World(cli)
    tally = Tally()
    key, secret = random_creds(rng)
    sample = _bot_file(root / "sample", 0, key, secret, rng)
    world.all_secrets.add(secret)
    duration = timed(cli, ["accounts", "import", str(sample), "--scrub", "--backup"], "")
    for number in range(1, runs + 1):
        key, secret = random_creds(rng)
        world.all_secrets.add(secret)
        folder = root / f"bot{number}"
        path = _bot_file(folder, number, key, secret, rng)
        old = path.read_bytes()
        source = importer.read_source(path)
        scrubbed = scrub.plan_scrub(source, scrub.found_values(source)).data
        args = ["accounts", "import", str(path), "--scrub"]
        if rng.random() < 0.5:
            args.append("--backup")
        sig = rng.choice([signal.SIGINT, signal.SIGKILL])
        aimed = sig == signal.SIGKILL and rng.random() < 0.5
        kill_when = _temp_appeared(folder, rng.uniform(0, 0.002)) if aimed else None
        code, out, err, sent = run_cli(cli, args, "", kill_after=duration * rng.uniform(0.3, 1.1),
                                       sig=sig, kill_when=kill_when)
        kind = (f"{'backup' if '--backup' in args else 'scrub'}/"
                f"{'int' if sig == signal.SIGINT else 'kill'}{'-aimed' if aimed else ''}")
        tally.tried += 1
        _count(tally, kind)
        problems = _check(world, tally, path, old, scrubbed, (key, secret), code, out, err,
                          sent, sig)
        strays = sorted(p.name for p in folder.glob(".*.tmp"))
        if strays:
            _count(tally, "temp files left by a kill", len(strays))
            if not (sent and sig == signal.SIGKILL):
                problems.append(f"temp files left without a kill -9: {strays}")
        if path.read_bytes() == old:
            # A second, uninterrupted run finishes the job: the key is recognised (or added),
            # the file scrubbed, and any temp file the kill left deleted.
            code2, out2, err2, _ = run_cli(cli, ["accounts", "import", str(path), "--scrub"], "",
                                           kill_after=None, sig=signal.SIGINT)
            if code2 != 0:
                problems.append(f"the finishing run exited {code2}: {err2.strip()[:200]}")
            if strays and f"deleted {len(strays)} temp file(s)" not in out2:
                problems.append(f"the finishing run did not say it deleted {strays}")
            problems += _check(world, tally, path, scrubbed, scrubbed, (key, secret), code2,
                               out2, err2, False, sig, finished=True)
            if any(folder.glob(".*.tmp")):
                problems.append("temp files still there after the finishing run")
        else:
            # Scrubbed before the signal landed: the rewrite's temp file was renamed over the
            # file, so none may be left, and the key must be in the store.
            _count(tally, "scrubbed before the signal")
            if strays:
                problems.append(f"a scrubbed file with temp files beside it: {strays}")
            problems += _check(world, tally, path, scrubbed, scrubbed, (key, secret), 0, "", "",
                               False, sig, finished=True)
        if problems:
            tally.problems += [f"{kind} #{number}: {p}" for p in problems]
        else:
            tally.clean += 1
    return tally


def _check(world: World, tally: Tally, path: Path, old: bytes, scrubbed: bytes,
           creds: tuple[str, str], code: int, out: str, err: str, sent: bool,
           sig: signal.Signals, finished: bool = False) -> list[str]:
    problems: list[str] = []
    if "Traceback" in err or "unexpected error" in err:
        tally.tracebacks += 1
        problems.append("traceback: " + err.strip().splitlines()[-1])
    allowed = {0}
    if sent:
        allowed |= {130, -2} if sig == signal.SIGINT else {-9}
    if code not in allowed:
        problems.append(f"exit code {code}: {err.strip()[:200]}")
    if any(s in out or s in err for s in world.all_secrets):
        tally.leaked += 1
        problems.append("a secret in the output")
    if world.leaks_in_files():
        tally.leaked += 1
        problems.append("a secret in the clear in keylink's files")
    data = path.read_bytes()
    if data not in (old, scrubbed):
        problems.append("the file is neither its old bytes nor the scrubbed bytes")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode != 0o640:
        problems.append(f"the file's mode is now {mode:o}")
    backup = scrub.backup_path(path)
    if backup.exists() and not finished:
        if old != scrubbed and backup.read_bytes() != old:
            problems.append("the backup is not the original")
        if stat.S_IMODE(backup.stat().st_mode) != 0o600:
            problems.append("the backup is not 0600")
    refs, secrets = world.state()
    in_store = any(secrets.get(ref) == creds for ref in refs.values())
    in_file = all(value.encode() in data for value in creds)
    if not (in_store or in_file):
        tally.lost += 1
        problems.append("the key is neither in the file nor readable from the store")
    if finished and not in_store:
        problems.append("the key is not in the store after the scrub")
    return problems


def test_interrupted_scrub_loses_nothing_and_is_atomic(tmp_path: Path, capsys):
    cli = make_cli(tmp_path)
    bots = tmp_path / "bots"
    bots.mkdir()
    tally = scrub_loop(cli, bots, runs_from_env(12))
    tally.orphans_left = orphan_count(World(cli))
    report(tally.line("scrub loop (kill -9 / SIGINT over accounts import --scrub [--backup])"),
           capsys)
    assert tally.problems == []
    assert (tally.lost, tally.leaked, tally.tracebacks) == (0, 0, 0)
    assert tally.clean == tally.tried
    repaired = cli("doctor", "--repair", "--yes")
    assert repaired.returncode == 0, repaired.stderr

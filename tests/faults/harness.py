"""The fault suite's bookkeeping: runs the real CLI, interrupts it, and checks what is left.

Figures are counted as tried / clean / lost / leaked:

- lost: an account that should exist is gone, or a listed account has no secret (or not one of
  the secrets it may have: the old one, or the new one of an interrupted rotate), unless it is
  marked as a cut-short removal (then the suite checks it refuses use and that removing it again
  finishes it);
- leaked: a secret value in the CLI's output, or in any file in the clear;
- clean: neither, no traceback, and an exit code that fits how the run ended.

Orphaned secrets (saved, then the run died before its commit) are counted apart: they are not
lost and not readable by anyone without the vault, and `keylink doctor --repair` removes them.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import string
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.test_cli_accounts import VAULT_PASSPHRASE, Cli


def random_creds(rng: random.Random) -> tuple[str, str]:
    alphabet = string.ascii_letters + string.digits
    key = "".join(rng.choice(alphabet) for _ in range(18))
    secret = "".join(rng.choice(alphabet) for _ in range(36))
    return key, secret


@dataclass
class Tally:
    tried: int = 0
    clean: int = 0
    lost: int = 0
    leaked: int = 0
    tracebacks: int = 0
    orphans_left: int = 0
    unfinished_removes: int = 0
    #: Secrets a Ctrl-C left behind with no account pointing at them: a failure (the commit
    #: point promises the old state), unlike the orphans a kill -9 may leave.
    orphaned_by_interrupt: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def line(self, title: str) -> str:
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(self.by_kind.items()))
        return (f"{title}: tried {self.tried} / clean {self.clean} / lost {self.lost} / leaked "
                f"{self.leaked} (tracebacks {self.tracebacks}; orphaned secrets before repair "
                f"{self.orphans_left}; orphaned by Ctrl-C {self.orphaned_by_interrupt}; removes "
                f"cut short after their mark (finished again) {self.unfinished_removes}; {kinds})")


class World:
    """What the accounts should be, and the checks of what they are."""

    def __init__(self, cli: Cli) -> None:
        self.cli = cli
        self.expected: dict[str, set[tuple[str, str]]] = {}  # name -> acceptable (key, secret)
        self.all_secrets: set[str] = set()
        self.marked: set[str] = set()  # accounts whose removal was cut short (set by state())

    def state(self) -> tuple[dict[str, str], dict[str, tuple[str, str]]]:
        """(name -> secret_ref, ref -> (key, secret)) as they are on disk."""
        from tui.services.store.vault import Vault

        path = self.cli.config / "accounts.json"
        accounts = json.loads(path.read_text())["accounts"] if path.exists() else []
        vault = Vault(self.cli.data / "vault.json")
        vault.unlock(VAULT_PASSPHRASE)
        secrets = {}
        for ref in vault.names("keylink"):
            value = json.loads(vault.get("keylink", ref) or "{}")
            secrets[ref] = (value.get("api_key", ""), value.get("secret", ""))
        self.marked = {a["name"] for a in accounts if a.get("removing")}
        return {a["name"]: a["secret_ref"] for a in accounts}, secrets

    def leaks_in_files(self) -> list[str]:
        found = []
        for directory in (self.cli.config, self.cli.data):
            for path in directory.rglob("*"):
                if path.is_file() and not path.is_symlink():
                    data = path.read_bytes()
                    found += [f"{path.name}" for s in self.all_secrets if s.encode() in data]
        return found


def run_cli(cli: Cli, args: list[str], stdin: str, *, kill_after: float | None,
            sig: signal.Signals, kill_when: Callable[[], bool] | None = None,
            wait_for_children: bool = False) -> tuple[int, str, str, bool]:
    """Run the CLI; send ``sig`` after ``kill_after`` s, or as soon as ``kill_when()`` is true
    (polled as fast as it runs). (exit code, stdout, stderr, was sent). With
    ``wait_for_children``, return only once the programs it started (pass, gpg, git: a kill -9
    of keylink does not stop them) have ended too, so the state checked is the final one."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui", *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, env=cli.env, start_new_session=wait_for_children,
    )
    assert proc.stdin is not None
    proc.stdin.write(stdin)
    proc.stdin.close()
    sent = False
    if kill_when is not None:
        deadline = time.monotonic() + 30
        while proc.poll() is None and time.monotonic() < deadline:
            if kill_when():
                proc.send_signal(sig)
                sent = True
                break
    elif kill_after is not None:
        try:
            proc.wait(kill_after)
        except subprocess.TimeoutExpired:
            proc.send_signal(sig)
            sent = True
    out = proc.stdout.read() if proc.stdout else ""
    err = proc.stderr.read() if proc.stderr else ""
    code = proc.wait(60)
    if wait_for_children:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                os.killpg(proc.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.005)
    return code, out, err, sent


def timed(cli: Cli, args: list[str], stdin: str) -> float:
    start = time.monotonic()
    code, _out, err, _ = run_cli(cli, args, stdin, kill_after=None, sig=signal.SIGINT)
    assert code == 0, err
    return time.monotonic() - start


def interrupt_loop(cli: Cli, runs: int, seed: int = 9) -> Tally:
    """``runs`` adds, rotates and removes, each interrupted (SIGINT or kill -9) at a random point
    of its expected run time; the state is checked after every run."""
    rng = random.Random(seed)
    world = World(cli)
    tally = Tally()
    # Calibrate: how long each operation takes here, uninterrupted.
    durations: dict[str, float] = {}
    for name in ("Base1", "Base2"):
        key, secret = random_creds(rng)
        durations["add"] = timed(cli, ["accounts", "add", name, "--exchange", "bybit"],
                                 f"{key}\n{secret}\n")
        world.expected[name] = {(key, secret)}
        world.all_secrets.add(secret)
    key, secret = random_creds(rng)
    durations["rotate"] = timed(cli, ["accounts", "rotate", "Base1"], f"{key}\n{secret}\n")
    world.expected["Base1"] = {(key, secret)}
    world.all_secrets.add(secret)
    key, secret = random_creds(rng)
    timed(cli, ["accounts", "add", "Base3", "--exchange", "bybit"], f"{key}\n{secret}\n")
    durations["remove"] = timed(cli, ["accounts", "remove", "Base3", "--yes"], "")
    counter = 0
    for _ in range(runs):
        names = sorted(world.expected)
        op = "add" if len(names) < 3 else rng.choice(["add", "rotate", "remove"])
        sig = rng.choice([signal.SIGINT, signal.SIGKILL])
        key, secret = random_creds(rng)
        world.all_secrets.add(secret)
        if op == "add":
            counter += 1
            target = f"Acc{counter}"
            args, stdin = ["accounts", "add", target, "--exchange", "bybit"], f"{key}\n{secret}\n"
        elif op == "rotate":
            target = rng.choice(names)
            args, stdin = ["accounts", "rotate", target], f"{key}\n{secret}\n"
        else:
            target = rng.choice(names)
            args, stdin = ["accounts", "remove", target, "--yes"], ""
        # Spread the interrupts over the whole run, weighted to its second half, where the
        # secret is saved and the commit happens.
        delay = durations[op] * rng.uniform(0.35, 1.1)
        kill_when = None
        if op in ("add", "rotate") and sig == signal.SIGINT and rng.random() < 0.5:
            # The add window: Ctrl-C the moment the new secret is in the vault, before the
            # commit (it once left an orphaned secret in 4 of 40 runs).
            kill_when = _file_changed(world.cli.data / "vault.json", then=rng.uniform(0, 0.003))
            kind_note = "aimed-at-secret-write"
            tally.by_kind[kind_note] = tally.by_kind.get(kind_note, 0) + 1
        if op == "remove" and sig == signal.SIGKILL and rng.random() < 0.5:
            # The narrowest window: from the removal's mark to its commit (a few ms of store
            # writes). Half the killed removes are aimed at it: killed the moment the mark is
            # on disk.
            kill_when = _mark_written(world.cli.config / "accounts.json", target,
                                      then=rng.uniform(0, 0.003))
        orphans_before = orphan_count(world)
        code, out, err, sent = run_cli(cli, args, stdin, kill_after=delay, sig=sig,
                                       kill_when=kill_when)
        kind = f"{op}/{'int' if sig == signal.SIGINT else 'kill'}"
        tally.tried += 1
        tally.by_kind[kind] = tally.by_kind.get(kind, 0) + 1
        problems = _check_run(world, op, target, (key, secret), code, out, err, sent, sig, tally)
        if sig == signal.SIGINT:
            problems += _orphans_after_ctrl_c(world, orphans_before, tally)
        if problems:
            tally.problems += [f"{kind} {target}: {p}" for p in problems]
        else:
            tally.clean += 1
    return tally


def sigint_loop(cli: Cli, runs: int, seed: int = 3) -> Tally:
    """``runs`` rotates, each sent SIGINT at a random point (start-up, imports, vault unlock,
    save, commit): every one must end with exit 0 or 130 and one line at most, never a
    traceback or an "unexpected error", and the account must keep a secret it may have."""
    rng = random.Random(seed)
    world = World(cli)
    tally = Tally()
    key, secret = random_creds(rng)
    timed(cli, ["accounts", "add", "Target", "--exchange", "bybit"], f"{key}\n{secret}\n")
    world.expected["Target"] = {(key, secret)}
    world.all_secrets.add(secret)
    duration = timed(cli, ["accounts", "rotate", "Target"], f"{key}\n{secret}\n")
    for _ in range(runs):
        key, secret = random_creds(rng)
        world.all_secrets.add(secret)
        code, out, err, sent = run_cli(cli, ["accounts", "rotate", "Target"],
                                       f"{key}\n{secret}\n",
                                       kill_after=duration * rng.uniform(0.2, 1.05),
                                       sig=signal.SIGINT)
        tally.tried += 1
        kind = "sent" if sent else "finished first"
        tally.by_kind[kind] = tally.by_kind.get(kind, 0) + 1
        problems = _check_run(world, "rotate", "Target", (key, secret), code, out, err, sent,
                              signal.SIGINT, tally)
        if "unexpected error" in err or "Exception ignored" in err:
            problems.append("not one line: " + " | ".join(err.strip().splitlines())[:300])
        if problems:
            tally.problems += [f"rotate/int: {p}" for p in problems]
        else:
            tally.clean += 1
    return tally


def _orphans_after_ctrl_c(world: World, before: int, tally: Tally) -> list[str]:
    """A Ctrl-C must leave the old state or the new one: a new orphaned secret is a failure."""
    after = orphan_count(world)
    if after > before:
        tally.orphaned_by_interrupt += after - before
        return [f"{after - before} orphaned secret(s) after Ctrl-C"]
    return []


def _file_changed(path: Path, then: float) -> Callable[[], bool]:
    """True ``then`` seconds after ``path`` first differs (size, mtime, inode) from now."""

    def look() -> tuple[int, int, int] | None:
        try:
            info = os.stat(path)
        except OSError:
            return None
        return (info.st_mtime_ns, info.st_size, info.st_ino)

    first = look()
    seen: list[float] = []

    def check() -> bool:
        if seen:
            return time.monotonic() >= seen[0] + then
        if look() != first:
            seen.append(time.monotonic())
        return False

    return check


def add_window_loop(cli: Cli, runs: int, seed: int = 15) -> Tally:
    """``runs`` adds, each sent Ctrl-C 0-3 ms after its secret lands in the vault (the window
    between the secret's write and the commit). Every run must end with the account saved
    with its secret, or with neither: a lost or orphaned secret is a failure."""
    rng = random.Random(seed)
    world = World(cli)
    tally = Tally()
    key, secret = random_creds(rng)
    timed(cli, ["accounts", "add", "Base", "--exchange", "bybit"], f"{key}\n{secret}\n")
    world.expected["Base"] = {(key, secret)}
    world.all_secrets.add(secret)
    for n in range(runs):
        key, secret = random_creds(rng)
        world.all_secrets.add(secret)
        target = f"Win{n}"
        before = orphan_count(world)
        kill_when = _file_changed(cli.data / "vault.json", then=rng.uniform(0, 0.003))
        code, out, err, sent = run_cli(cli, ["accounts", "add", target, "--exchange", "bybit"],
                                       f"{key}\n{secret}\n", kill_after=None,
                                       sig=signal.SIGINT, kill_when=kill_when)
        tally.tried += 1
        saved = target in world.state()[0]
        if not sent:
            kind = "finished first"
        elif code == 130:
            kind = "saved, then exit 130" if saved else "not saved, exit 130"
        else:
            kind = f"{'saved' if saved else 'not saved'}, exit {code} (Ctrl-C as it ended)"
        tally.by_kind[kind] = tally.by_kind.get(kind, 0) + 1
        problems = _check_run(world, "add", target, (key, secret), code, out, err, sent,
                              signal.SIGINT, tally)
        problems += _orphans_after_ctrl_c(world, before, tally)
        if "unexpected error" in err or "Exception ignored" in err:
            problems.append("not one line: " + " | ".join(err.strip().splitlines())[:300])
        if problems:
            tally.problems += [f"add/int {target}: {p}" for p in problems]
        else:
            tally.clean += 1
        if len(world.expected) > 6:  # keep the vault small: remove one, uninterrupted
            name = sorted(world.expected)[-1]
            done = cli("accounts", "remove", name, "--yes")
            assert done.returncode == 0, done.stderr
            del world.expected[name]
    return tally


_REF = re.compile(rb"account-[0-9a-f]{32}-[0-9a-f]{12}")


def _named_refs(config: Path) -> set[str]:
    """Every secret ref any accounts file names, current, moved aside or restored (found by its
    shape in the bytes, so a damaged file counts too)."""
    named: set[str] = set()
    for path in config.glob("accounts.json*"):
        if path.is_file():
            named |= {m.decode() for m in _REF.findall(path.read_bytes())}
    return named


def repair_loop(cli: Cli, runs: int, seed: int = 21) -> Tally:
    """``runs`` of `doctor --repair --yes`, each interrupted (kill -9 or Ctrl-C) at a random
    point, over a config dir with moved-aside accounts files (readable and not) and planted
    orphans. Nothing named by any accounts file may ever be deleted (lost); after an
    uninterrupted repair, the planted orphans are gone exactly when every moved-aside file can
    be read."""
    from tui.services.store.vault import Vault

    rng = random.Random(seed)
    world = World(cli)
    tally = Tally()
    values: dict[str, str] = {}  # ref -> the vault value it must keep
    vault_path = cli.data / "vault.json"
    config = cli.config
    counter = 0

    def vault() -> Vault:
        v = Vault(vault_path)
        v.unlock(VAULT_PASSPHRASE)
        return v

    def add_account() -> None:
        nonlocal counter
        counter += 1
        key, secret = random_creds(rng)
        world.all_secrets.add(secret)
        done = cli("accounts", "add", f"R{counter}", "--exchange", "bybit",
                   stdin=f"{key}\n{secret}\n")
        assert done.returncode == 0, done.stderr

    def plant_orphans() -> set[str]:
        v = vault()
        planted = set()
        for _ in range(rng.randint(1, 3)):
            key, secret = random_creds(rng)
            world.all_secrets.add(secret)
            ref = f"account-{rng.getrandbits(128):032x}-{rng.getrandbits(48):012x}"
            v.set("keylink", ref, json.dumps({"api_key": key, "secret": secret}))
            planted.add(ref)
        return planted

    for _ in range(3):
        add_account()
    duration = timed(cli, ["doctor", "--repair", "--yes"], "")
    planted: set[str] = set()
    for _ in range(runs):
        roll = rng.random()
        broken = [p for p in config.glob("accounts.json.damaged-*")
                  if not p.read_bytes().rstrip().endswith(b"}")]
        if roll < 0.2:
            # Damage the current file (a lost closing brace) and let keylink move it aside.
            path = config / "accounts.json"
            if path.exists():
                path.write_bytes(path.read_bytes().rstrip()[:-1])
                cli("accounts", "list")
            add_account()
        elif roll < 0.6 and broken:
            # The user fixes the moved-aside files by hand (the brace put back): readable.
            for target in broken:
                target.write_bytes(target.read_bytes().rstrip() + b"}\n")
        elif roll < 0.7:
            add_account()
        planted |= plant_orphans()
        (config / f".accounts.json.f{rng.getrandbits(24):x}.tmp").write_text("half")
        v = vault()
        named = _named_refs(config)
        for ref in named:
            value = v.get("keylink", ref)
            if value is not None:
                values.setdefault(ref, value)
        sig = rng.choice([signal.SIGINT, signal.SIGKILL])
        kill_when = None
        if rng.random() < 0.5:
            # Aimed at the first delete: the moment the vault changes.
            kill_when = _file_changed(vault_path, then=rng.uniform(0, 0.003))
        code, out, err, sent = run_cli(cli, ["doctor", "--repair", "--yes"], "",
                                       kill_after=duration * rng.uniform(0.2, 1.1), sig=sig,
                                       kill_when=kill_when)
        kind = f"repair/{'int' if sig == signal.SIGINT else 'kill'}"
        unreadable = [p for p in config.glob("accounts.json.damaged-*")
                      if not p.read_bytes().rstrip().endswith(b"}")]
        kind += "/aside-unreadable" if unreadable else "/aside-readable"
        tally.tried += 1
        tally.by_kind[kind] = tally.by_kind.get(kind, 0) + 1
        problems = []
        if "Traceback" in err:
            tally.tracebacks += 1
            problems.append("traceback: " + err.strip().splitlines()[-1])
        allowed = {0} | ({130 if sig == signal.SIGINT else -9} if sent else set())
        if sent and sig == signal.SIGINT and code == -2 and not err:
            allowed.add(-2)  # Ctrl-C before Python's own handling was set up
        if code not in allowed:
            problems.append(f"exit code {code}: {err.strip()[:200]}")
        if any(sec in out or sec in err for sec in world.all_secrets):
            tally.leaked += 1
            problems.append("a secret in the output")
        if world.leaks_in_files():
            tally.leaked += 1
            problems.append("a secret in the clear in a file")
        v = vault()
        gone = [ref for ref in _named_refs(config) if ref in values
                and v.get("keylink", ref) != values[ref]]
        lost = bool(gone)
        if gone:
            problems.append(f"{len(gone)} secret(s) named by an accounts file deleted")
        if sent:
            stored = set(v.names("keylink"))
            cut = ("cut before any delete" if planted <= stored else
                   "cut after deleting all orphans" if not planted & stored else
                   "cut between deletes")
            tally.by_kind[cut] = tally.by_kind.get(cut, 0) + 1
        # Finish with an uninterrupted repair: orphans go exactly when they can be proven.
        done = cli("doctor", "--repair", "--yes")
        if done.returncode != 0:
            problems.append(f"the follow-up repair failed: {done.stderr.strip()[:200]}")
        v = vault()
        left = set(v.names("keylink"))
        gone = [ref for ref in _named_refs(config) if ref in values and ref not in left]
        if gone:
            lost = True
            problems.append(f"{len(gone)} named secret(s) deleted by the follow-up repair")
        tally.lost += lost
        if unreadable:
            if not planted <= left:
                problems.append("a secret deleted while a moved-aside file could not be read")
        elif planted & left:
            problems.append(f"{len(planted & left)} planted orphan(s) survived a full repair")
        else:
            planted = set()
        if problems:
            tally.problems += [f"{kind}: {p}" for p in problems]
        else:
            tally.clean += 1
    tally.orphans_left = len(planted)
    return tally


def _mark_written(path: Path, name: str, then: float) -> Callable[[], bool]:
    """True ``then`` seconds after ``name``'s removal mark is first seen in the accounts file."""
    seen: list[float] = []

    def check() -> bool:
        if seen:
            return time.monotonic() >= seen[0] + then
        if marked():
            seen.append(time.monotonic())
        return False

    def marked() -> bool:
        try:
            data = path.read_bytes()
        except OSError:
            return False
        if b'"removing"' not in data:
            return False
        try:
            accounts = json.loads(data)["accounts"]
        except (ValueError, KeyError):
            return False
        return any(a["name"] == name and a.get("removing") for a in accounts)

    return check


def _check_run(world: World, op: str, target: str, creds: tuple[str, str], code: int, out: str,
               err: str, sent: bool, sig: signal.Signals, tally: Tally) -> list[str]:
    problems: list[str] = []
    if "Traceback" in err:
        tally.tracebacks += 1
        problems.append("traceback: " + err.strip().splitlines()[-1])
    allowed = {0}
    if sent:
        allowed |= {130} if sig == signal.SIGINT else {-9}
    if sent and sig == signal.SIGINT and code == -2 and not err:
        # Ctrl-C before Python set up its own handling (the first milliseconds of start-up):
        # the default action ends the process before keylink ran a line. Counted apart.
        tally.by_kind["int-at-start-up"] = tally.by_kind.get("int-at-start-up", 0) + 1
        allowed.add(-2)
    if code not in allowed:
        problems.append(f"exit code {code}: {err.strip()[:200]}")
    if any(s in out or s in err for s in world.all_secrets):
        tally.leaked += 1
        problems.append("a secret in the output")
    leaks = world.leaks_in_files()
    if leaks:
        tally.leaked += 1
        problems.append(f"a secret in the clear in {leaks}")
    refs, secrets = world.state()
    expected = world.expected
    if op == "add":
        if target in refs:
            expected[target] = {creds}
    elif op == "rotate":
        expected[target] = expected[target] | {creds}
    lost = False
    for name, acceptable in list(expected.items()):
        if name not in refs:
            if op == "remove" and name == target:
                del expected[name]
                continue
            lost = True
            problems.append(f"{name} is gone")
            del expected[name]
            continue
        have = secrets.get(refs[name])
        if name in world.marked:
            if not (op == "remove" and name == target and sent and sig == signal.SIGKILL):
                problems.append(f"{name} is marked as being removed, but no remove of it was cut")
            # kill -9 after the removal was written down (before or after the secret's delete,
            # before the commit): the account says so and is never used; a use of it must
            # refuse with that one line, and removing it again finishes it.
            tally.unfinished_removes += 1
            state = "cut-short/secret-gone" if have is None else "cut-short/secret-kept"
            tally.by_kind[state] = tally.by_kind.get(state, 0) + 1
            code2, _o, e2, _s = run_cli(world.cli, ["copy", name, "--field", "secret", "--print"],
                                        "", kill_after=None, sig=signal.SIGINT)
            if code2 != 2 or "cut short" not in e2 or len(e2.strip().splitlines()) != 1:
                problems.append(f"using a cut-short removal gave {code2}: {e2.strip()[:200]}")
            code2, _o, e2, _s = run_cli(world.cli, ["accounts", "remove", name, "--yes"], "",
                                        kill_after=None, sig=signal.SIGINT)
            if code2 != 0:
                problems.append(f"finishing the cut remove failed: {e2.strip()}")
            del expected[name]
            continue
        if have not in acceptable:
            lost = True
            problems.append(f"{name} has {'no' if have is None else 'another'} secret")
            continue
        expected[name] = {have}  # from now on only the secret it has is right
    for name in refs:
        if name not in expected and not (op == "remove" and name == target):
            problems.append(f"{name} appeared unexpectedly")
    refs, _secrets = world.state()
    if op == "remove" and target in refs and target not in expected:
        problems.append(f"{target} is still listed after its removal was finished")
    if lost:
        tally.lost += 1
    return problems


def orphan_count(world: World) -> int:
    refs, secrets = world.state()
    return len(set(secrets) - set(refs.values()))


def concurrent_ops(cli: Cli, workers: int, per_worker: int, seed: int = 5) -> Tally:
    """``workers`` processes at once, each adding, rotating and removing its own accounts."""
    rng = random.Random(seed)
    tally = Tally()
    world = World(cli)
    plan: list[list[tuple[list[str], str]]] = []
    final: dict[str, tuple[str, str]] = {}
    for w in range(workers):
        steps = []
        for n in range(per_worker):
            name = f"W{w}N{n}"
            key, secret = random_creds(rng)
            steps.append((["accounts", "add", name, "--exchange", "bybit"], f"{key}\n{secret}\n"))
            key2, secret2 = random_creds(rng)
            steps.append((["accounts", "rotate", name], f"{key2}\n{secret2}\n"))
            world.all_secrets |= {secret, secret2}
            if n % 2:
                steps.append((["accounts", "remove", name, "--yes"], ""))
            else:
                final[name] = (key2, secret2)
        plan.append(steps)
    for step in range(max(len(p) for p in plan)):
        procs = []
        for steps in plan:
            if step < len(steps):
                args, stdin = steps[step]
                proc = subprocess.Popen([sys.executable, "-m", "tui", *args],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True, env=cli.env)
                procs.append((args, proc, stdin))
        for args, proc, stdin in procs:
            out, err = proc.communicate(stdin, timeout=120)
            tally.tried += 1
            if proc.returncode == 0 and "Traceback" not in err:
                tally.clean += 1
            else:
                tally.problems.append(f"{args}: exit {proc.returncode}: {err.strip()[:200]}")
            if any(s in out or s in err for s in world.all_secrets):
                tally.leaked += 1
    refs, secrets = world.state()
    for name, creds in final.items():
        if name not in refs or secrets.get(refs[name]) != creds:
            tally.lost += 1
            tally.problems.append(f"{name} lost or has the wrong secret")
    extra = set(refs) - set(final)
    if extra:
        tally.problems.append(f"removed accounts still listed: {sorted(extra)}")
    tally.orphans_left = len(set(secrets) - set(refs.values()))
    if world.leaks_in_files():
        tally.leaked += 1
    return tally


def runs_from_env(default: int) -> int:
    return int(os.environ.get("KEYLINK_FAULT_RUNS", default))


def report(line: str, capsys) -> None:  # capsys: pytest.CaptureFixture[str]
    """Print a figure line past pytest's capture, and append it to KEYLINK_FAULT_FIGURES."""
    with capsys.disabled():
        print(f"\n{line}")
    target = os.environ.get("KEYLINK_FAULT_FIGURES")
    if target:
        with Path(target).open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")


def _pass_entries(cli: Cli, store: Path) -> dict[str, tuple[str, str]]:
    """ref -> (key, secret) of every keylink entry in the pass store (decrypted with gpg)."""
    found = {}
    for path in sorted((store / "keylink").glob("*.gpg")):
        ref = path.name[:-4]
        shown = subprocess.run(["gpg", "--batch", "--quiet", "--decrypt", str(path)],
                               capture_output=True, text=True, env=cli.env, timeout=30)
        value = json.loads(shown.stdout or "{}") if shown.returncode == 0 else {}
        found[ref] = (value.get("api_key", ""), value.get("secret", ""))
    return found


def _moved_in_file(path: Path, name: str, store: str, then: float) -> Callable[[], bool]:
    """True ``then`` seconds after accounts.json first records ``name`` in ``store``."""
    seen: list[float] = []

    def check() -> bool:
        if seen:
            return time.monotonic() >= seen[0] + then
        try:
            accounts = json.loads(path.read_bytes())["accounts"]
        except (OSError, ValueError, KeyError):
            return False
        if any(a["name"] == name and a.get("secret_store") == store for a in accounts):
            seen.append(time.monotonic())
        return False

    return check


def move_loop(cli: Cli, store: Path, runs: int, seed: int = 27) -> Tally:
    """``runs`` moves between the vault and pass, each sent kill -9 at a random point (half of
    them aimed at a write: 0-3 ms after accounts.json or the target store first changes).

    After every run each account must be usable from the one store it records, with its own
    secret (else lost), and every copy of a secret in either store must be the one its account
    uses or the one it names as ``other_copy`` (else an unknown copy: a failure). Every third
    run is then finished: by moving again or by `doctor --repair`, after which exactly one
    copy may be left."""
    rng = random.Random(seed)
    world = World(cli)
    tally = Tally()
    creds: dict[str, tuple[str, str]] = {}
    for n in range(3):
        key, secret = random_creds(rng)
        name = f"M{n}"
        added = cli("accounts", "add", name, "--exchange", "bybit", stdin=f"{key}\n{secret}\n")
        assert added.returncode == 0, added.stderr
        creds[name] = (key, secret)
        world.all_secrets.add(secret)
    duration = timed(cli, ["accounts", "move", "M0", "--to", "pass"], "")
    timed(cli, ["accounts", "move", "M0", "--to", "vault"], "")
    tally.by_kind[f"uninterrupted move {duration:.2f} s"] = 1

    def look() -> tuple[dict[str, dict], dict[tuple[str, str], tuple[str, str]]]:
        path = cli.config / "accounts.json"
        accounts = {a["name"]: a for a in json.loads(path.read_text())["accounts"]}
        _refs, in_vault = world.state()
        copies = {("vault", ref): value for ref, value in in_vault.items()}
        copies |= {("pass", ref): value for ref, value in _pass_entries(cli, store).items()}
        return accounts, copies

    def check(label: str) -> tuple[list[str], bool]:
        problems: list[str] = []
        accounts, copies = look()
        lost = False
        for name, want in creds.items():
            account = accounts.get(name)
            if account is None:
                lost = True
                problems.append(f"{name} is gone")
                continue
            home = (account["secret_store"], account["secret_ref"])
            if copies.get(home) != want:
                lost = True
                problems.append(f"{name} cannot be read from {home[0]}")
            other = account.get("other_copy")
            named = {home} | ({(other["store"], other["ref"])} if other else set())
            unknown = [where for where, value in copies.items()
                       if value == want and where not in named]
            if unknown:
                problems.append(f"{name}: copies keylink does not know of: {unknown}")
        if problems:
            problems = [f"{label}: {p}" for p in problems]
        return problems, lost

    for n in range(runs):
        name = rng.choice(sorted(creds))
        accounts, _copies = look()
        target = "vault" if accounts[name]["secret_store"] == "pass" else "pass"
        kill_when = None
        aimed = rng.random() < 0.5
        if aimed:
            roll = rng.random()
            if roll < 0.4:
                # The window after the commit: the account is in its new store, the old copy
                # not yet deleted.
                kill_when = _moved_in_file(cli.config / "accounts.json", name, target,
                                           then=rng.uniform(0, 0.003))
            else:
                watched = (cli.config / "accounts.json" if roll < 0.7 else
                           (cli.data / "vault.json" if target == "vault" else store / "keylink"))
                kill_when = _file_changed(watched, then=rng.uniform(0, 0.003))
        code, out, err, sent = run_cli(cli, ["accounts", "move", name, "--to", target], "",
                                       kill_after=duration * rng.uniform(0.3, 1.2),
                                       sig=signal.SIGKILL, kill_when=kill_when,
                                       wait_for_children=True)
        tally.tried += 1
        after, _ = look()
        state = ("not sent" if not sent else
                 "moved, old copy named" if after[name].get("other_copy") and
                 after[name]["secret_store"] == target else
                 "not moved, new copy named" if after[name].get("other_copy") else
                 "moved" if after[name]["secret_store"] == target else "not moved")
        kind = f"move/kill/{'aimed' if aimed else 'timed'}"
        tally.by_kind[kind] = tally.by_kind.get(kind, 0) + 1
        tally.by_kind[state] = tally.by_kind.get(state, 0) + 1
        problems: list[str] = []
        if "Traceback" in err:
            tally.tracebacks += 1
            problems.append("traceback: " + err.strip().splitlines()[-1])
        if code not in ({0, -9} if sent else {0}):
            problems.append(f"exit code {code}: {err.strip()[:200]}")
        if any(s in out or s in err for s in world.all_secrets) or world.leaks_in_files():
            tally.leaked += 1
            problems.append("a secret in the output or in a file in the clear")
        found, lost = check("after the kill")
        problems += found
        if n % 3 == 2:
            if rng.random() < 0.5:
                done = cli("accounts", "move", name, "--to", target)
            else:
                done = cli("doctor", "--repair", "--yes")
            if done.returncode != 0:
                problems.append(f"finishing failed: {done.stderr.strip()[:200]}")
            found, lost2 = check("after finishing")
            problems += found
            lost = lost or lost2
            accounts, copies = look()
            for other, want in creds.items():
                if accounts[other].get("other_copy") is not None and done.args[1] == "doctor":
                    problems.append(f"{other} still names another copy after a repair")
                if done.args[1] == "doctor" and sum(v == want for v in copies.values()) != 1:
                    problems.append(f"{other} has more than one copy after a repair")
        tally.lost += lost
        if problems:
            tally.problems += [f"{kind} {name}->{target}: {p}" for p in problems]
        else:
            tally.clean += 1
    _accounts, copies = look()
    tally.orphans_left = len(copies) - len(creds)
    return tally

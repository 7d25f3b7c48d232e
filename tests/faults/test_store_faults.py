"""Store faults under a real Secret Service (gnome-keyring on a private D-Bus): the daemon killed,
stopped (a slow D-Bus), locked. keylink must never switch stores silently: the account's secret
stays where it is, and the account stays listed until that store confirms the secret is gone."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.faults.harness import Tally, report
from tests.support.keyring_daemon import KeyringDaemon, start_or_skip
from tests.test_cli_accounts import BYBIT_LINES, Cli, make_cli

pytestmark = pytest.mark.secret_service

BYBIT_SECRET = BYBIT_LINES.splitlines()[1]


def _keyring_holds(daemon: KeyringDaemon, ref: str) -> bool:
    import secretstorage
    from jeepney.io.blocking import open_dbus_connection

    connection = open_dbus_connection(daemon.address)
    try:
        collection = secretstorage.get_default_collection(connection)
        return any(True for _ in collection.search_items({"service": "keylink", "username": ref}))
    finally:
        connection.close()


def test_no_silent_switch_when_the_secret_service_fails(tmp_path_factory, tmp_path: Path,
                                                        capsys):
    # A daemon of its own: killing, stopping and locking the session-wide one would disturb
    # other tests.
    daemon = KeyringDaemon(tmp_path_factory.mktemp("faulty-keyring"))
    start_or_skip(daemon)
    cli = make_cli(tmp_path)  # a vault exists too, and its passphrase is set: the tempting case
    desk = Cli(cli.root, {**cli.env, **daemon.env})
    tally = Tally()
    try:
        added = desk("accounts", "add", "Desk", "--exchange", "bybit", stdin=BYBIT_LINES)
        assert added.returncode == 0 and "Secret Service" in added.stdout, added.stderr
        [entry] = json.loads((cli.config / "accounts.json").read_text())["accounts"]
        assert entry["secret_store"].startswith("keyring:keyring.backends.SecretService")
        ref = entry["secret_ref"]
        assert _keyring_holds(daemon, ref)

        def fault_case(name: str, fault: Callable[[], None], heal: Callable[[], None]) -> None:
            fault()
            try:
                problems = _refuses_everything(desk, ref, daemon_ok=False)
            finally:
                heal()
            tally.tried += 1
            tally.by_kind[name] = 1
            if problems:
                tally.problems += [f"{name}: {p}" for p in problems]
            else:
                tally.clean += 1
            still = json.loads((cli.config / "accounts.json").read_text())["accounts"]
            if [a["name"] for a in still] != ["Desk"] or not _keyring_holds(daemon, ref):
                tally.lost += 1

        def stop_daemon() -> None:
            assert daemon._keyring is not None
            os.kill(daemon._keyring.pid, signal.SIGSTOP)  # D-Bus calls to it hang: "slow"

        def resume_daemon() -> None:
            assert daemon._keyring is not None
            os.kill(daemon._keyring.pid, signal.SIGCONT)

        fault_case("killed", lambda: os.kill(daemon._keyring.pid, signal.SIGKILL),  # type: ignore[union-attr]
                   lambda: daemon.restart_keyring(unlock=True))
        fault_case("slow", stop_daemon, resume_daemon)
        fault_case("locked", daemon.lock, lambda: daemon.restart_keyring(unlock=True))

        # Every run's output: no secret in it.
        # Healed: remove works, and the secret is really gone from the keyring.
        removed = desk("accounts", "remove", "Desk", "--yes")
        assert removed.returncode == 0, removed.stderr
        assert not _keyring_holds(daemon, ref)
        for result in (added, removed):
            if BYBIT_SECRET in result.stdout + result.stderr:
                tally.leaked += 1
        report(tally.line("store faults (Secret Service killed / slow / locked)"), capsys)
        assert tally.problems == []
        assert (tally.clean, tally.lost, tally.leaked) == (3, 0, 0)
    finally:
        if daemon._keyring is not None and daemon._keyring.poll() is None:
            os.kill(daemon._keyring.pid, signal.SIGCONT)
        daemon.stop()


def _refuses_everything(desk: Cli, ref: str, *, daemon_ok: bool) -> list[str]:
    """With the Secret Service down: remove, rotate and a new add refuse, naming the store;
    nothing goes to the vault; the account stays listed."""
    problems = []
    removed = desk("accounts", "remove", "Desk", "--yes")
    if removed.returncode != 2 or "Secret Service" not in removed.stderr:
        problems.append(f"remove: exit {removed.returncode}: {removed.stderr.strip()}")
    if len(removed.stderr.strip().splitlines()) != 1:
        problems.append(f"remove: not one line: {removed.stderr!r}")
    rotated = desk("accounts", "rotate", "Desk", stdin=BYBIT_LINES)
    if rotated.returncode != 2 or "Secret Service" not in rotated.stderr:
        problems.append(f"rotate: exit {rotated.returncode}: {rotated.stderr.strip()}")
    added = desk("accounts", "add", "Other", "--exchange", "bybit", stdin=BYBIT_LINES)
    if added.returncode == 0:
        problems.append("add: saved a new account in another store without being asked")
    elif "Secret Service" not in added.stderr:
        problems.append(f"add: {added.stderr.strip()}")
    listed = desk("accounts", "list", "--json")
    if [a["name"] for a in json.loads(listed.stdout or "[]")] != ["Desk"]:
        problems.append(f"list: {listed.stdout.strip()}")
    doctor = json.loads(desk("doctor", "--json").stdout)
    if not any("Secret Service" in line for line in doctor["unchecked"] or []):
        problems.append(f"doctor: {doctor['unchecked']}")
    return problems

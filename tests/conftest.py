"""Shared fixtures. Every test runs with its own config/data dirs and no session bus (see
``_private_dirs``), so nothing reads or writes the developer's real keylink files or keyring."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import netguard
from tests.support.keyring_daemon import KeyringDaemon, start_or_skip

TEST_VAULT_PASSPHRASE = "test vault passphrase 1"

# The command modules take names from tui.cli.common (stdin_is_terminal, ...) when they are first
# imported, which `keylink` does lazily, inside build_parser. Imported here, before any test
# monkeypatches tui.cli.common, so that a patch made while one test first built the parser is
# never kept by those modules for the rest of the worker's tests.
import tui.cli  # noqa: E402

tui.cli.build_parser()

TESTS = Path(__file__).resolve().parent
# Folder -> markers every test in it gets. The quick lane (`dev.py test --quick`) skips "slow".
FOLDER_MARKS = {
    TESTS / "e2e": ("e2e", "slow"),
    TESTS / "faults": ("faults", "slow"),
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark by place and by need, so a new test file in tests/e2e or a new test on the private
    keyring lands in the right lane without anyone remembering a decorator."""
    for item in items:
        path = Path(str(item.path)).resolve()
        for folder, names in FOLDER_MARKS.items():
            if path.is_relative_to(folder):
                for name in names:
                    item.add_marker(name)
        if "keyring_daemon" in getattr(item, "fixturenames", ()):
            item.add_marker("secret_service")


def pytest_configure(config: pytest.Config) -> None:
    netguard.install()  # this process; the processes tests start get it from _loopback_only


@pytest.fixture(autouse=True)
def _loopback_only(tmp_path_factory: pytest.TempPathFactory,
                   monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test sends traffic off this machine, in this process or any Python process it starts
    (tests/support/netguard.py): an attempt fails the test even when the code under test took
    the refusal for an unreachable exchange."""
    log = tmp_path_factory.mktemp("netguard") / "attempts.log"
    monkeypatch.setenv(netguard.LOG_ENV, str(log))
    site = str(TESTS / "support" / "netguard_site")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [site, *filter(None, [os.environ.get("PYTHONPATH")])]))
    yield
    attempts = log.read_text(encoding="utf-8") if log.exists() else ""
    assert not attempts, f"this test tried to reach a host off this machine:\n{attempts}"


@pytest.fixture(autouse=True)
def _private_dirs(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Point config and data dirs at a fresh tmp dir; hide keyring settings and the session bus."""
    base = tmp_path_factory.mktemp("xdg")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(base / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(base / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(base / "cache"))
    monkeypatch.setenv("XDG_STATE_HOME", str(base / "state"))  # the access log (issue 19)
    for name in (
        "DBUS_SESSION_BUS_ADDRESS",
        "PYTHON_KEYRING_BACKEND",
        "KEYLINK_VAULT_PASSPHRASE",
        "KEYLINK_SECRET_BACKEND",
        "KEYLINK_ENVIRONMENTS",  # a developer's own registry override never reaches a test
        "KEYLINK_SECRETS_DIR",
    ):
        monkeypatch.delenv(name, raising=False)
    # Never the developer's own pass store: the pass tests set their own (``pass_store``).
    monkeypatch.setenv("PASSWORD_STORE_DIR", str(base / "no-password-store"))


@pytest.fixture
def cheap_kdf():  # -> ScryptParams
    """scrypt N=2**8 keeps vault tests fast; the default cost is tested once in test_vault.py."""
    from tui.services.store.vault import ScryptParams

    return ScryptParams(log2_n=8, r=8, p=1)


@pytest.fixture
def vault_secrets(tmp_path: Path, cheap_kdf):  # -> SecretStore
    """A SecretStore over a new, unlocked keylink vault in tmp_path (cheap KDF)."""
    from tui.services.store.secrets import SecretStore
    from tui.services.store.vault import Vault

    store = SecretStore.open(vault=Vault(tmp_path / "data" / "vault.json", kdf=cheap_kdf))
    assert store.uses_vault and store.needs_new_vault
    store.create_vault(TEST_VAULT_PASSPHRASE)
    return store


@pytest.fixture
def account_store(tmp_path: Path, vault_secrets):  # -> AccountStore
    """An AccountStore in tmp_path/config over ``vault_secrets``."""
    from tui.services.store.accounts import AccountStore

    return AccountStore(vault_secrets, tmp_path / "config")


@pytest.fixture(scope="session")
def keyring_daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KeyringDaemon]:
    """A real gnome-keyring Secret Service on a private D-Bus session bus, for the whole session.

    Skips when the binaries are missing, unless KEYLINK_REQUIRE_SECRET_SERVICE=1 (CI): then fails.
    """
    daemon = KeyringDaemon(tmp_path_factory.mktemp("secret-service"))
    start_or_skip(daemon)
    try:
        yield daemon
    finally:
        daemon.stop()


@pytest.fixture
def secret_service(keyring_daemon: KeyringDaemon, monkeypatch: pytest.MonkeyPatch) -> KeyringDaemon:
    """Use the private Secret Service in this test (keyring's SecretService backend for real)."""
    for key, value in keyring_daemon.env.items():
        monkeypatch.setenv(key, value)
    return keyring_daemon


@pytest.fixture
def memory_keyring() -> Iterator:  # -> MemoryKeyring
    """A fault-injectable in-memory keyring backend; hung calls are released at teardown."""
    from tests.support.keyring_faults import MemoryKeyring

    backend = MemoryKeyring()
    try:
        yield backend
    finally:
        backend.release()
        MemoryKeyring.recommended = False


@pytest.fixture
def memory_secrets(memory_keyring):  # -> SecretStore
    """A SecretStore over ``memory_keyring`` with a short timeout (0.5 s)."""
    from tui.services.store.secrets import SecretStore

    return SecretStore(memory_keyring, backend_name="test keyring", reason="test", timeout=0.5)


def _serve_fake_exchange() -> Iterator:  # -> FakeExchange
    """The loopback fake exchange (tests/fakes/exchange.py) on 127.0.0.1, keys preloaded."""
    from tests.fakes.exchange import FakeExchange

    with FakeExchange() as server:
        yield server


@pytest.fixture
def fake() -> Iterator:  # -> FakeExchange
    """A fresh loopback fake exchange for this test (about 50 ms to start and stop)."""
    yield from _serve_fake_exchange()


@pytest.fixture(scope="module")
def fake_per_module() -> Iterator:  # -> FakeExchange
    """One fake exchange shared by a module's tests, for modules that run many short checks and
    put back whatever they change on it (the verdict corpus)."""
    yield from _serve_fake_exchange()


@pytest.fixture
def cli(tmp_path: Path, request: pytest.FixtureRequest):  # -> tests.support.cli.Cli
    """The `keylink` command over a cheap-KDF vault under tmp_path, run in this process; a test
    marked ``cli_process`` (it is about the process: signals, ttys, inherited env) gets
    `python -m tui` as a real process."""
    from tests.support.cli import make_cli

    return make_cli(tmp_path, in_process=request.node.get_closest_marker("cli_process") is None)


@pytest.fixture(scope="session")
def gpg_people(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    """Two GPG users made once per session, "me" and a team "mate", who know each other's
    public keys (tests/support/gpg.py). Skips without pass/gpg/git unless KEYLINK_REQUIRE_PASS=1."""
    from tests.support.gpg import introduce, make_person, require_pass_tools

    require_pass_tools()
    base = tmp_path_factory.mktemp("gpg")
    me = make_person(base / "me", "keylink user", "me@keylink.test")
    mate = make_person(base / "mate", "team mate", "mate@keylink.test")
    introduce(me, mate)
    yield me, mate
    for person in (me, mate):
        person.stop_agent()


@pytest.fixture
def pass_store(gpg_people, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh pass store for "me" (PASSWORD_STORE_DIR, GNUPGHOME set); its path."""
    from tests.support.gpg import init_store

    me, _mate = gpg_people
    monkeypatch.setenv("GNUPGHOME", str(me.home))
    monkeypatch.setenv("PASSWORD_STORE_DIR", str(tmp_path / "password-store"))
    return init_store(tmp_path / "password-store", me)

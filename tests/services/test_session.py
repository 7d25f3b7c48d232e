"""The process's one Session: opening the real vault and the real Secret Service, the unlock
policy (environment, prompt), the idle lock and accounts.json watch from ``tick`` (a real file,
an injected clock), and ``check_and_record`` against the loopback fake exchange."""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from tests.conftest import TEST_VAULT_PASSPHRASE
from tui.services.keys.credentials import Credentials
from tui.services.session.session import (
    AccountsChanged,
    AccountsFileUnreadable,
    AccountUnusable,
    CheckFinished,
    Session,
    SessionNotOpen,
    SessionState,
    StateChanged,
    VaultLockedNow,
    VaultOpened,
)
from tui.services.session.unlock import (
    EnvPassphrase,
    PromptPassphrase,
    UnlockPolicy,
    UnlockRefused,
)
from tui.services.store.accounts import AccountStore
from tui.services.store.backends import PASSPHRASE_ENV
from tui.services.store.errors import RemovalUnfinished, SecretStoreError, StoreUnreachable
from tui.services.store.model import Account, removal_note
from tui.services.store.secrets import SecretStore
from tui.services.store.vault import Vault
from tui.services.terminals.whitelist import profile

CREDS = Credentials("AbCdEfGh1234567890", "s3cr3t-" + "x" * 29)
WRONG = "not the vault passphrase"
KEYRING_STORE = "keyring:keyring.backends.SecretService:Keyring"


class Clock:
    """A monotonic clock the test moves by hand (no sleeping through an idle limit)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Prompt:
    """Typed answers for PromptPassphrase (input, not a component): records what was asked."""

    def __init__(self, *answers: str, interactive: bool = True) -> None:
        self.answers, self.asked, self.said = list(answers), [], []
        self.source = PromptPassphrase(self.ask, interactive=lambda: interactive,
                                       say=self.said.append)

    def ask(self, question: str) -> str:
        self.asked.append(question)
        return self.answers.pop(0)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def vault_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "vault.json"  # the vault of conftest's vault_secrets


def session_over_vault(tmp_path: Path, kdf, clock: Clock | None = None,
                       unlock: UnlockPolicy | None = None) -> Session:
    path = tmp_path / "data" / "vault.json"
    return Session(unlock=unlock, config_dir=tmp_path / "config", clock=clock,
                   open_secrets=lambda: SecretStore.open(vault=Vault(path, kdf=kdf)))


def recorded(session: Session) -> list:
    events: list = []
    session.subscribe(events.append)
    return events


@pytest.fixture
def opened(tmp_path, cheap_kdf, clock, account_store, monkeypatch) -> Session:
    """An open session over a vault holding one account ("Main"), unlocked from the environment;
    ``account_store`` stands for another keylink using the same files."""
    account_store.add("Main", "bybit", "mainnet", CREDS)
    monkeypatch.setenv(PASSPHRASE_ENV, TEST_VAULT_PASSPHRASE)
    session = session_over_vault(tmp_path, cheap_kdf, clock)
    assert session.open() is SessionState.OPEN
    session.ensure_unlocked()
    return session


def damaged_copies(session: Session) -> list[Path]:
    assert session.accounts is not None
    return sorted(session.accounts.dir.glob("accounts.json.damaged-*"))


def write_in_place(path: Path, data: bytes) -> None:
    """What an editor that saves in place does (same inode); the mtime moves on, as time does."""
    before = path.stat().st_mtime_ns if path.exists() else 0
    with open(path, "r+b" if path.exists() else "wb") as file:
        file.seek(0)
        file.truncate()
        file.write(data)
    later = max(time.time_ns(), before + 1_000_000)
    os.utime(path, ns=(later, later))


def edited(path: Path, change) -> bytes:
    doc = json.loads(path.read_bytes())
    change(doc)
    return (json.dumps(doc, indent=2) + "\n").encode()


# -- opening ----------------------------------------------------------------------------------


def test_opening_the_vault_reads_the_accounts_and_tells_subscribers(
        tmp_path, cheap_kdf, account_store, monkeypatch):
    main = account_store.add("Main", "okx", "mainnet", Credentials("k-1", "s-1", "p-1"))
    session = session_over_vault(tmp_path, cheap_kdf)
    events = recorded(session)
    assert session.state is SessionState.OPENING and session.accounts is None
    assert session.open() is SessionState.OPEN
    assert session.secrets is not None and session.secrets.uses_vault
    assert session.secrets.needs_unlock  # opening asks nobody: the caller decides when
    assert session.reason == session.secrets.reason
    assert session.known_accounts == (main,) and session.load_problem is None
    assert events == [StateChanged(SessionState.OPEN, session.secrets.reason),
                      AccountsChanged((main,), None)]

    monkeypatch.setenv(PASSPHRASE_ENV, TEST_VAULT_PASSPHRASE)
    assert session.credentials_for(main) == Credentials("k-1", "s-1", "p-1")
    assert not session.secrets.needs_unlock


@pytest.mark.secret_service
def test_opening_the_secret_service(secret_service, tmp_path, cheap_kdf):
    asked = Prompt()  # a keyring needs no passphrase: nobody may be asked
    session = Session(unlock=UnlockPolicy(asked.source), config_dir=tmp_path / "config",
                      open_secrets=lambda: SecretStore.open(
                          vault=Vault(tmp_path / "vault.json", kdf=cheap_kdf)))
    assert session.open() is SessionState.OPEN
    assert session.secrets is not None and not session.secrets.uses_vault
    assert session.secrets.backend_name.startswith("Secret Service")
    assert "answered" in session.reason
    assert session.accounts is not None
    account = session.accounts.add("Main", "bybit", "mainnet", CREDS)
    assert session.credentials_for(account) == CREDS
    assert asked.asked == [] and not session.lock()
    session.accounts.remove(account.id)
    assert not (tmp_path / "vault.json").exists()


def test_a_store_that_cannot_be_opened_leaves_the_session_unavailable(tmp_path, cheap_kdf):
    back: list[bool] = []

    def opener() -> SecretStore:
        if not back:
            raise SecretStoreError("the keyring said no: start it and retry")
        return SecretStore.open(vault=Vault(tmp_path / "vault.json", kdf=cheap_kdf))

    session = Session(open_secrets=opener, config_dir=tmp_path / "config")
    events = recorded(session)
    assert session.open() is SessionState.UNAVAILABLE
    assert session.reason == "the keyring said no: start it and retry"
    assert events == [StateChanged(SessionState.UNAVAILABLE, session.reason)]
    assert session.secrets is None and session.accounts is None
    account = Account("id", "Main", "bybit", "mainnet", "https://x", "p", "t", "t", "ref")
    with pytest.raises(SessionNotOpen, match="the keyring said no"):
        session.credentials_for(account)
    with pytest.raises(SessionNotOpen):
        session.ensure_unlocked()
    assert session.tick() == []

    events.clear()  # a retry, once the store is back
    back.append(True)
    assert session.open() is SessionState.OPEN
    assert [type(e) for e in events] == [StateChanged, StateChanged, AccountsChanged]
    assert [e.state for e in events[:2]] == [SessionState.OPENING, SessionState.OPEN]


def test_an_unexpected_opening_error_is_named_by_its_type_only(tmp_path):
    def leaky() -> SecretStore:
        raise RuntimeError("backend text with s3cr3t inside")

    session = Session(open_secrets=leaky, config_dir=tmp_path / "config")
    assert session.open() is SessionState.UNAVAILABLE
    assert session.reason == "the secret store could not be opened (RuntimeError)"
    assert str(session.open_error) == session.reason  # the state and the error say the same


def test_an_accounts_file_that_cannot_be_used_fails_the_session(tmp_path, cheap_kdf, clock,
                                                                vault_secrets, monkeypatch):
    (tmp_path / "config").mkdir(mode=0o700)
    os.mkfifo(tmp_path / "config" / "accounts.json")  # refused before reading: never blocks
    monkeypatch.setenv("KEYLINK_VAULT_IDLE", "60")
    monkeypatch.setenv(PASSPHRASE_ENV, TEST_VAULT_PASSPHRASE)
    session = session_over_vault(tmp_path, cheap_kdf, clock)
    assert session.open() is SessionState.FAILED
    assert "accounts.json" in session.reason and session.accounts is None
    with pytest.raises(SessionNotOpen) as info:
        session.reload()
    assert str(info.value) == session.reason
    session.ensure_unlocked()  # the vault itself is usable
    clock.advance(61)
    assert session.tick() == [VaultLockedNow(idle=True)]  # the idle lock still runs


def test_a_damaged_file_at_start_is_moved_aside_and_said(tmp_path, cheap_kdf, vault_secrets):
    config = tmp_path / "config"
    config.mkdir(mode=0o700)
    (config / "accounts.json").write_text("{ not json")
    session = session_over_vault(tmp_path, cheap_kdf)
    assert session.open() is SessionState.OPEN
    assert session.known_accounts == ()
    assert session.load_problem is not None and "moved to" in session.load_problem
    assert len(damaged_copies(session)) == 1
    assert session.tick() == []  # the file is gone now: that is what was seen, not news


# -- accounts.json --------------------------------------------------------------------------


def test_a_change_by_another_keylink_is_reported_once(opened, account_store):
    events = recorded(opened)
    assert opened.tick() == []
    other = account_store.add("Second", "okx", "mainnet", Credentials("k-2", "s-2", "p-2"))
    changed = opened.tick()
    assert len(changed) == 1 and isinstance(changed[0], AccountsChanged)
    assert [a.name for a in changed[0].accounts] == ["Main", "Second"]
    assert opened.known_accounts[-1] == other
    assert opened.tick() == []
    assert events == changed


def test_a_half_written_file_is_retried_and_never_moved_aside(opened, clock):
    path = opened.accounts.path
    whole = edited(path, lambda doc: doc["accounts"][0].update(name="Renamed"))
    write_in_place(path, whole[: len(whole) // 2])  # the editor is half-way through
    assert opened.tick() == []
    clock.advance(opened.settle / 2)
    assert opened.tick() == []
    assert path.read_bytes() == whole[: len(whole) // 2] and damaged_copies(opened) == []
    assert [a.name for a in opened.known_accounts] == ["Main"] and opened.load_problem is None

    write_in_place(path, whole)  # the save ends
    changed = opened.tick()
    assert [type(e) for e in changed] == [AccountsChanged]
    assert [a.name for a in changed[0].accounts] == ["Renamed"]
    assert damaged_copies(opened) == [] and opened.load_problem is None


def test_a_file_that_stays_damaged_is_reported_after_settling_and_left_in_place(opened, clock):
    path = opened.accounts.path
    whole, before = path.read_bytes(), opened.known_accounts
    write_in_place(path, b'{"version": 1, "accounts": [')
    assert opened.tick() == []
    clock.advance(opened.settle - 1)
    write_in_place(path, b'{"version": 1, "accounts": [{')  # still being written: starts over
    assert opened.tick() == []
    clock.advance(opened.settle - 0.5)
    assert opened.tick() == []
    clock.advance(1)
    events = opened.tick()
    assert len(events) == 1 and isinstance(events[0], AccountsFileUnreadable)
    assert "not valid JSON" in events[0].problem and "left as it is" in events[0].problem
    assert opened.load_problem == events[0].problem
    assert path.read_bytes() == b'{"version": 1, "accounts": [{' and damaged_copies(opened) == []
    assert [a.name for a in opened.known_accounts] == ["Main"]  # what was read before stays
    clock.advance(60)
    assert opened.tick() == []  # said once

    assert opened.reload() == ()  # the user asked: now it is moved aside
    assert len(damaged_copies(opened)) == 1 and "moved to" in (opened.load_problem or "")
    assert opened.tick() == []  # the move is the session's own doing, not news

    write_in_place(opened.accounts.path, whole)  # put right by hand: the problem is over
    assert opened.tick() == [AccountsChanged(before, None)] and opened.load_problem is None


def test_a_save_that_moved_a_damaged_file_aside_is_told_by_the_next_look(opened, clock):
    """A save reads the file first and moves a damaged one aside: the screen's notice must say
    so (the watch's "left as it is" is no longer true), whichever reads next, a tick or a
    reload, even though that read itself finds a good file."""
    store = opened.accounts
    assert store is not None
    write_in_place(store.path, b"{ damaged")
    assert opened.tick() == []  # maybe half-written: not said yet
    store.add("Fresh", "bybit", "mainnet", CREDS)  # the app's form saving meanwhile
    [aside] = damaged_copies(opened)
    events = opened.tick()
    assert [type(e) for e in events] == [AccountsChanged]
    assert [a.name for a in events[0].accounts] == ["Fresh"]
    assert events[0].problem is not None and str(aside) in events[0].problem
    assert opened.tick() == []  # told once

    write_in_place(store.path, b"{ damaged again")
    store.add("Later", "bybit", "mainnet", CREDS)
    assert len(damaged_copies(opened)) == 2
    opened.reload()  # the user's ctrl+l reads first this time
    assert opened.load_problem is not None and "moved to" in opened.load_problem
    assert str(damaged_copies(opened)[-1]) in opened.load_problem


def test_a_store_that_cannot_be_opened_keeps_the_error_for_its_kind(tmp_path):
    """The app titles the fault by its kind ("No usable keyring."): the session keeps it."""
    from tui.services.store.errors import KeyringUnavailable

    def refuse() -> SecretStore:
        raise KeyringUnavailable("no usable keyring; set KEYLINK_SECRET_BACKEND=vault")

    session = Session(open_secrets=refuse, config_dir=tmp_path / "config")
    assert session.open() is SessionState.UNAVAILABLE
    assert isinstance(session.open_error, KeyringUnavailable)
    assert str(session.open_error) == session.reason


def test_an_editor_saving_in_place_is_seen(opened):
    path = opened.accounts.path
    before = path.stat()
    write_in_place(path, edited(path, lambda doc: doc["accounts"][0].update(name="Mail")))
    after = path.stat()  # same size and inode: only the mtime tells
    assert (after.st_ino, after.st_size) == (before.st_ino, before.st_size)
    changed = opened.tick()
    assert [a.name for a in changed[0].accounts] == ["Mail"]


def test_a_deleted_file_empties_the_list_and_a_new_one_is_read(opened, account_store):
    opened.accounts.path.unlink()
    assert opened.tick() == [AccountsChanged((), None)]
    assert opened.tick() == []
    again = account_store.add("Again", "bitget", "mainnet", Credentials("k-3", "s-3", "p-3"))
    assert opened.tick() == [AccountsChanged((again,), None)]


def test_a_file_from_a_newer_keylink_is_said_not_moved(opened):
    path = opened.accounts.path
    write_in_place(path, edited(path, lambda doc: doc.update(version=99)))
    changed = opened.tick()
    assert len(changed) == 1 and changed[0].accounts == ()
    assert "newer keylink" in (changed[0].problem or "")
    assert damaged_copies(opened) == []


# -- the vault ------------------------------------------------------------------------------


def test_the_idle_lock_runs_from_tick(tmp_path, cheap_kdf, clock, account_store, monkeypatch):
    account = account_store.add("Main", "bybit", "mainnet", CREDS)
    monkeypatch.setenv("KEYLINK_VAULT_IDLE", "60")
    monkeypatch.setenv(PASSPHRASE_ENV, TEST_VAULT_PASSPHRASE)
    session = session_over_vault(tmp_path, cheap_kdf, clock)
    session.open()
    session.ensure_unlocked()
    events = recorded(session)
    clock.advance(59)
    assert session.tick() == []
    assert session.credentials_for(account) == CREDS  # a use: the 60 s start again
    clock.advance(59)
    assert session.tick() == [] and not session.secrets.needs_unlock
    clock.advance(2)
    assert session.tick() == [VaultLockedNow(idle=True)]
    assert session.secrets.needs_unlock and events == [VaultLockedNow(idle=True)]
    clock.advance(600)
    assert session.tick() == []


def test_lock_now(opened):
    events = recorded(opened)
    assert opened.lock() and opened.secrets.needs_unlock
    assert not opened.lock()
    assert events == [VaultLockedNow(idle=False)]


# -- the unlock policy ----------------------------------------------------------------------


@pytest.fixture
def locked(tmp_path, cheap_kdf, account_store):
    """(a factory of sessions over a locked vault holding one account, that account)."""
    account = account_store.add("Main", "bybit", "mainnet", CREDS)

    def make(*sources) -> Session:
        session = session_over_vault(tmp_path, cheap_kdf, unlock=UnlockPolicy(*sources))
        session.open()
        assert session.secrets.needs_unlock
        return session

    return make, account


def test_opening_the_vault_is_news_once(locked):
    """The app's screens hear that the vault opened, whichever screen's need asked for it."""
    make, account = locked
    prompt = Prompt(TEST_VAULT_PASSPHRASE)
    session = make(prompt.source)
    events = recorded(session)
    session.credentials_for(account)
    session.credentials_for(account)  # open already: nothing asked, no news
    assert [e for e in events if isinstance(e, VaultOpened)] == [VaultOpened(created=False)]
    assert len(prompt.asked) == 1


def test_a_strict_environment_passphrase_that_is_wrong_ends_the_attempt(locked, monkeypatch,
                                                                         vault_path):
    make, account = locked
    before = vault_path.read_bytes()
    monkeypatch.setenv(PASSPHRASE_ENV, WRONG)
    prompt = Prompt(TEST_VAULT_PASSPHRASE)
    session = make(EnvPassphrase(), prompt.source)
    with pytest.raises(UnlockRefused) as info:
        session.credentials_for(account)
    assert str(info.value) == "wrong vault passphrase: try again"
    assert prompt.asked == [] and vault_path.read_bytes() == before


def test_a_quiet_environment_passphrase_that_is_wrong_lets_the_next_source_ask(locked,
                                                                               monkeypatch):
    make, account = locked
    monkeypatch.setenv(PASSPHRASE_ENV, WRONG)
    prompt = Prompt(TEST_VAULT_PASSPHRASE)
    session = make(EnvPassphrase(quiet=True), prompt.source)
    assert session.credentials_for(account) == CREDS
    assert prompt.asked == ["keylink vault passphrase: "]


def test_the_prompt_gives_three_tries(locked):
    make, account = locked
    prompt = Prompt(WRONG, WRONG + "!", TEST_VAULT_PASSPHRASE)
    session = make(EnvPassphrase(), prompt.source)
    assert session.credentials_for(account) == CREDS
    assert len(prompt.asked) == 3
    assert prompt.said == ["keylink: wrong vault passphrase: try again"] * 2

    session.lock()
    prompt.answers = [WRONG] * 4
    with pytest.raises(UnlockRefused) as info:
        session.ensure_unlocked()
    assert str(info.value) == "wrong vault passphrase: try again"
    assert len(prompt.asked) == 6 and prompt.answers == [WRONG]


def test_nobody_to_ask_says_how(locked, tmp_path, cheap_kdf):
    make, account = locked
    prompt = Prompt(interactive=False)
    with pytest.raises(UnlockRefused) as info:
        make(EnvPassphrase(), prompt.source).credentials_for(account)
    assert str(info.value) == (f"the vault is locked: set {PASSPHRASE_ENV} to its passphrase, "
                               "or run this in a terminal to be asked")

    fresh = Session(unlock=UnlockPolicy(EnvPassphrase(), prompt.source),
                    config_dir=tmp_path / "other", open_secrets=lambda: SecretStore.open(
                        vault=Vault(tmp_path / "new-vault.json", kdf=cheap_kdf)))
    fresh.open()
    with pytest.raises(UnlockRefused) as info:
        fresh.ensure_unlocked()
    assert str(info.value) == "there is no vault yet: add an account first"
    with pytest.raises(UnlockRefused) as info:
        fresh.ensure_unlocked(create=True)
    assert str(info.value) == (f"a new vault passphrase is needed: set {PASSPHRASE_ENV} "
                               "(at least 12 characters) or run in a terminal")
    assert prompt.asked == [] and not (tmp_path / "new-vault.json").exists()


def test_a_new_vault_from_the_prompt(tmp_path, cheap_kdf):
    path = tmp_path / "new-vault.json"
    prompt = Prompt("a new passphrase", "a new passphrase typo")
    session = Session(unlock=UnlockPolicy(EnvPassphrase(), prompt.source),
                      config_dir=tmp_path / "config",
                      open_secrets=lambda: SecretStore.open(vault=Vault(path, kdf=cheap_kdf)))
    session.open()
    with pytest.raises(UnlockRefused) as info:
        session.ensure_unlocked(create=True)
    assert str(info.value) == "the two passphrases differ; nothing was saved"
    assert not path.exists()
    assert prompt.said[0].startswith("keylink keeps secrets in its own encrypted vault here (")
    assert prompt.said[1].startswith("strength ")

    prompt.answers = ["aaaaaaaaaaaa", "aaaaaaaaaaaa"]
    with pytest.raises(UnlockRefused) as info:
        session.ensure_unlocked(create=True)
    assert str(info.value).startswith("that vault passphrase is too easy to guess (")
    assert not path.exists()

    prompt.answers = [TEST_VAULT_PASSPHRASE + " and more", TEST_VAULT_PASSPHRASE + " and more"]
    session.ensure_unlocked(create=True)
    assert path.exists() and not session.secrets.needs_unlock


def test_a_new_vault_from_the_environment_but_never_quietly(tmp_path, cheap_kdf, monkeypatch):
    path = tmp_path / "new-vault.json"
    monkeypatch.setenv(PASSPHRASE_ENV, TEST_VAULT_PASSPHRASE)

    def session(*sources) -> Session:
        made = Session(unlock=UnlockPolicy(*sources), config_dir=tmp_path / "config",
                       open_secrets=lambda: SecretStore.open(vault=Vault(path, kdf=cheap_kdf)))
        made.open()
        return made

    with pytest.raises(UnlockRefused, match="new vault passphrase is needed"):
        session(EnvPassphrase(quiet=True)).ensure_unlocked(create=True)
    assert not path.exists()
    session(EnvPassphrase()).ensure_unlocked(create=True)
    assert path.exists()


def test_no_vault_here_but_secrets_elsewhere_says_where(tmp_path, cheap_kdf, account_store):
    account = account_store.add("Main", "bybit", "mainnet", CREDS)
    doc = json.loads(account_store.path.read_text())
    doc["accounts"][0]["secret_store"] = KEYRING_STORE  # saved from the desktop's keyring
    account_store.path.write_text(json.dumps(doc))
    prompt = Prompt(TEST_VAULT_PASSPHRASE)
    session = Session(unlock=UnlockPolicy(EnvPassphrase(), prompt.source),
                      config_dir=tmp_path / "config", open_secrets=lambda: SecretStore.open(
                          vault=Vault(tmp_path / "no-vault.json", kdf=cheap_kdf)))
    session.open()
    with pytest.raises(UnlockRefused) as info:
        session.ensure_unlocked()
    assert str(info.value) == (
        "your accounts keep their secrets in Secret Service, which keylink cannot use now "
        f"({session.secrets.reason}); make it reachable and retry")
    with pytest.raises(StoreUnreachable):  # refused before anyone is asked
        session.credentials_for(replace(account, secret_store=KEYRING_STORE))
    assert prompt.asked == []



def test_only_an_account_kept_in_the_vault_needs_its_passphrase(
        tmp_path, cheap_kdf, account_store, pass_store):
    """The one rule (``needs_vault_for``): a vault session asks for the passphrase for a secret
    kept in the vault, never for one kept in pass (its GPG agent asks), and once for a mix."""
    in_vault = account_store.add("Vaulted", "bybit", "mainnet", CREDS)
    in_pass = AccountStore(SecretStore.open(choice="pass"), tmp_path / "config").add(
        "Passed", "bybit", "mainnet", CREDS)
    assert (in_vault.secret_store, in_pass.secret_store) == ("vault", "pass")
    prompt = Prompt(TEST_VAULT_PASSPHRASE)
    session = session_over_vault(tmp_path, cheap_kdf, unlock=UnlockPolicy(prompt.source))
    assert session.open() is SessionState.OPEN and session.secrets.needs_unlock
    assert not session.in_own_store(in_pass) and session.in_own_store(in_vault)

    assert session.needs_vault_for([in_pass]) is False
    assert session.ensure_unlocked_for([in_pass]) is False
    assert session.credentials_for(in_pass) == CREDS  # read from pass
    assert prompt.asked == [] and session.secrets.needs_unlock  # nobody was asked

    # A second copy a cut-short move left in the vault counts: a move or a removal deletes it.
    from dataclasses import replace

    # Reading never touches it: a key kept in pass is still read without the vault's passphrase.
    moving = replace(in_pass, other_copy=("vault", "account-leftover"))
    assert session.needs_vault_for([moving], count_unreachable=False, leftovers=True) is True
    assert session.needs_vault_for([moving]) is False
    assert session.credentials_for(moving) == CREDS and prompt.asked == []

    assert session.needs_vault_for([in_pass, in_vault]) is True
    assert session.ensure_unlocked_for([in_pass, in_vault]) is True
    assert prompt.asked == ["keylink vault passphrase: "]
    assert not session.secrets.needs_unlock
    assert session.credentials_for(in_vault) == CREDS
    assert session.ensure_unlocked_for([in_vault]) is True and len(prompt.asked) == 1


def test_an_unreachable_store_counts_unless_the_secret_is_not_read(
        tmp_path, cheap_kdf, account_store):
    """An account whose store keylink cannot use now goes through the unlock policy (which
    names where the secrets are), except for a caller that reads no secret (remove --forget)."""
    account_store.add("Desk", "bybit", "mainnet", CREDS)
    doc = json.loads(account_store.path.read_text())
    doc["accounts"][0]["secret_store"] = KEYRING_STORE  # saved from the desktop's keyring
    account_store.path.write_text(json.dumps(doc))
    prompt = Prompt(TEST_VAULT_PASSPHRASE)
    session = session_over_vault(tmp_path, cheap_kdf, unlock=UnlockPolicy(prompt.source))
    session.open()
    [desk] = session.known_accounts
    assert not session.in_own_store(desk)
    assert session.needs_vault_for([desk]) is True
    assert session.needs_vault_for([desk], count_unreachable=False) is False
    assert session.ensure_unlocked_for([desk], count_unreachable=False) is False
    assert prompt.asked == []


def test_a_keyring_session_never_needs_a_vault(tmp_path, memory_secrets):
    account = AccountStore(memory_secrets, tmp_path / "config").add(
        "Main", "bybit", "mainnet", CREDS)
    session = Session(config_dir=tmp_path / "config", open_secrets=lambda: memory_secrets)
    assert session.open() is SessionState.OPEN
    assert session.in_own_store(account)  # its own store, but not a vault: nothing to open
    assert session.needs_vault_for([account]) is False
    assert session.ensure_unlocked_for([account]) is False


def test_the_rule_needs_an_open_session(tmp_path, cheap_kdf):
    session = session_over_vault(tmp_path, cheap_kdf)
    with pytest.raises(SessionNotOpen):
        session.needs_vault_for([])

def test_two_callers_get_one_prompt(locked):
    make, account = locked
    release, asked = threading.Event(), []

    def ask(question: str) -> str:
        asked.append(question)
        release.wait(5)
        return TEST_VAULT_PASSPHRASE

    session = make(PromptPassphrase(ask, interactive=lambda: True, say=print))
    results: list = []
    callers = [threading.Thread(target=lambda: results.append(session.credentials_for(account)))
               for _ in range(2)]
    for caller in callers:
        caller.start()
    deadline = time.monotonic() + 5
    while not asked and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)  # time for a second prompt to start, if the policy let it
    release.set()
    for caller in callers:
        caller.join(5)
    assert asked == ["keylink vault passphrase: "] and results == [CREDS, CREDS]


# -- check and record -----------------------------------------------------------------------


@pytest.fixture
def checked(tmp_path, cheap_kdf, account_store, fake, monkeypatch):
    """(an open session, its account of the fake's OKX key), the vault passphrase in env."""
    key = fake.key("okx")
    account = account_store.add("Main", "okx", "custom",
                                Credentials(key.api_key, key.secret, key.passphrase),
                                base_url=fake.url)
    monkeypatch.setenv(PASSPHRASE_ENV, TEST_VAULT_PASSPHRASE)
    session = session_over_vault(tmp_path, cheap_kdf, Clock())
    session.open()
    return session, account


async def test_check_and_record_saves_the_result(checked, fake, tmp_path, vault_secrets):
    session, account = checked
    events = recorded(session)
    finished = await session.check_and_record(account)
    assert finished.report.status == "works" and finished.not_saved is None
    assert finished.account.last_check is not None
    assert finished.account.last_check.status == "works"
    assert events == [VaultOpened(created=False), finished]  # opened from the environment
    saved = AccountStore(vault_secrets, tmp_path / "config").get(account.id)
    assert saved.last_check == finished.account.last_check
    assert any(r.headers.get("ok-access-key") == fake.key("okx").api_key
               for r in fake.requests)
    assert session.tick() == []  # its own write is not news


async def test_check_and_record_compares_the_given_whitelist(checked, fake):
    session, account = checked
    terminal = profile("insilico-general").addresses
    fake.key("okx").ips = ("127.0.0.1", *terminal[:3])
    finished = await session.check_and_record(account, whitelist=terminal)
    assert finished.report.whitelist_checked
    assert finished.report.whitelist_missing == terminal[3:]


@pytest.mark.parametrize("stale_copy", [False, True])
async def test_a_cut_short_removal_is_refused_before_a_secret_or_request(
        checked, fake, monkeypatch, stale_copy):
    session, account = checked
    path = session.accounts.path
    doc = json.loads(path.read_text())
    doc["accounts"][0]["removing"] = "2026-11-28T10:00:00Z"  # a kill -9 after the mark
    path.write_text(json.dumps(doc))
    marked = replace(account, removing="2026-11-28T10:00:00Z")
    if not stale_copy:
        monkeypatch.delenv(PASSPHRASE_ENV)  # refused before anyone could be asked
    with pytest.raises(RemovalUnfinished) as info:
        # A stale copy (read before another keylink marked it): the file's record decides.
        await session.check_and_record(account if stale_copy else marked)
    assert str(info.value) == removal_note(marked)
    assert fake.requests == []
    assert json.loads(path.read_text())["accounts"][0].get("last_check") is None


async def test_an_unknown_exchange_is_refused_before_a_secret_or_request(checked, fake):
    session, account = checked
    session.lock()
    odd = replace(account, exchange="kraken")
    with pytest.raises(AccountUnusable) as info:
        await session.check_and_record(odd)
    assert str(info.value).startswith("account 'Main': unknown exchange 'kraken' (known: ")
    assert str(info.value).endswith("); update keylink or remove the account")
    assert fake.requests == [] and session.secrets.needs_unlock


async def test_a_result_that_cannot_be_saved_still_counts(checked, fake, account_store):
    session, account = checked
    fake.config.latency_ms = 600
    check = asyncio.create_task(session.check_and_record(account))
    deadline = time.monotonic() + 10
    while (not any("ok-access-key" in r.headers for r in fake.requests)
           and time.monotonic() < deadline):
        await asyncio.sleep(0.01)
    await asyncio.to_thread(account_store.remove, account.id)  # another keylink, meanwhile
    finished = await check
    assert finished.report.status == "works"
    assert finished.account == account and isinstance(finished, CheckFinished)
    assert finished.not_saved is not None and "no longer exists" in finished.not_saved

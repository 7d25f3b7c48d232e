"""Error attributes are declared on their classes, with a default, not added to one instance."""

from __future__ import annotations

import pytest

from tui.services.keys.credentials import Credentials
from tui.services.store import errors
from tui.services.store.accounts import AccountStore
from tui.services.store.errors import KeyringLocked, KeyringTimeout, SecretStoreError

KEY = Credentials("AbCdEfGh1234567890", "s3cr3t-" + "x" * 29)


def _store_errors() -> list[type[SecretStoreError]]:
    found, todo = [], [SecretStoreError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return [cls for cls in found if cls.__module__ == errors.__name__]


@pytest.mark.parametrize("cls", _store_errors(), ids=lambda cls: cls.__name__)
def test_every_store_error_says_whether_it_marked_an_account(cls):
    assert "account_marked" in vars(SecretStoreError)
    assert cls("x").account_marked is False


def test_a_removal_that_may_have_deleted_says_it_marked_the_account(account_store: AccountStore,
                                                                    monkeypatch):
    account = account_store.add("Slow", "bybit", "mainnet", KEY)

    def hung(ref: str) -> None:
        raise KeyringTimeout("the secret store did not answer within 5 s")

    monkeypatch.setattr(account_store.secrets, "delete", hung)
    with pytest.raises(KeyringTimeout) as info:
        account_store.remove(account.id)
    assert info.value.account_marked is True
    assert account_store.get("Slow").removing is not None


def test_a_refused_removal_says_nothing_changed(account_store: AccountStore, monkeypatch):
    account = account_store.add("Shut", "bybit", "mainnet", KEY)

    def locked(ref: str) -> None:
        raise KeyringLocked("the keyring is locked")

    monkeypatch.setattr(account_store.secrets, "delete", locked)
    with pytest.raises(KeyringLocked) as info:
        account_store.remove(account.id)
    assert info.value.account_marked is False
    assert account_store.get("Shut").removing is None

"""The secret store's errors: one class per thing that can go wrong, each message one line that
says what to do and never holds a secret.

Apart from the store itself so screens and commands can catch them without loading the store.
"""

from __future__ import annotations


class SecretStoreError(Exception):
    """A secret could not be stored or read. The message is one line saying what to do."""

    #: True when the failed operation still changed the accounts: a removal whose delete may have
    #: happened leaves its account marked as being removed (``AccountStore.remove``), so a screen
    #: must not say "your accounts were not changed".
    account_marked: bool = False


class KeyringUnavailable(SecretStoreError):
    """There is no usable keyring."""


class KeyringLocked(SecretStoreError):
    """The OS keyring is locked."""


class KeyringTimeout(SecretStoreError):
    """The keyring did not answer in time."""


class VaultLocked(SecretStoreError):
    """keylink's vault needs its passphrase first (or does not exist yet)."""


class WrongPassphrase(SecretStoreError):
    """The passphrase does not open the vault."""


class VaultDamaged(SecretStoreError):
    """The vault file is damaged; it was left as it is."""


class SecretNotFound(SecretStoreError):
    """No secret is stored under this reference."""


class StoreUnreachable(SecretStoreError):
    """An account's secret is in another store than the one keylink could open now."""


class RemovalUnfinished(SecretStoreError):
    """The account's removal began (its secret may already be gone) and was cut short; removing
    it again finishes it."""

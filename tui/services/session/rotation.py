"""Rotating to a self-generated key pair: the new pair must pass a real check before it replaces
the old key (issue 11).

With a generated pair, the exchange's half (the public key and the API key it assigned) is set up
by hand on the exchange's page, so a slip there (the old public key pasted, the wrong API key
copied) is likely. The new private key therefore stays in memory until a signed call with it
answers, and only then does ``AccountStore.rotate`` switch the account to it; until then the
account keeps working with its old key, and a failed check changes nothing on this machine.

Which outcomes switch: ``works`` does. ``locked`` (the exchange refused this machine's address)
is what a key bound to the terminal's addresses, as the guide recommends, always answers from
here, so it must not read as broken (FACTS section 7); but the exchanges do not document whether
they check the address before the signature, so it does not prove the new pair matches the public
key registered there. A locked check therefore switches only when the user says so
(``accept_locked``), after being told exactly that. ``failed`` never switches.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tui.services.core.status import CheckStatus
from tui.services.store.model import AccountError

if TYPE_CHECKING:
    from tui.services.keys.credentials import Credentials
    from tui.services.store.accounts import AccountStore
    from tui.services.store.model import Account
    from tui.services.verify.report import KeyReport

#: Check outcomes after which the account may switch to the new key ("locked" only when the user
#: accepts it).
SWITCHING = (CheckStatus.WORKS, CheckStatus.LOCKED)


class _NewKeyNotSwitched(AccountError):
    """The account still has its old key; ``report`` is the new key's check."""

    def __init__(self, account: Account, report: KeyReport) -> None:
        from tui.services.core.text import clean
        from tui.services.exchanges import exchange

        self.report = report
        super().__init__(self.words(exchange(account.exchange).label, clean(account.name),
                                    clean(report.summary())))

    @staticmethod
    def words(label: str, name: str, summary: str) -> str:
        raise NotImplementedError


class NewKeyFailed(_NewKeyNotSwitched):
    """The new key did not pass its check; the account still has its old key."""

    @staticmethod
    def words(label: str, name: str, summary: str) -> str:
        return (f"the new key did not pass its check with {label} ({summary}); {name} keeps its "
                f"old key. Check the public key and API key on {label}'s API page, then check "
                "again")


class NewKeyUnproven(_NewKeyNotSwitched):
    """The exchange refused this machine's address: the new key exists, but whether the new pair
    signs for it is unknown. The account still has its old key."""

    @staticmethod
    def words(label: str, name: str, summary: str) -> str:
        return (f"{label} refused this machine's address ({summary}), as a key bound to the "
                f"terminal's addresses should; {label} does not document whether it checks the "
                "address before the signature, so this does not prove the new key pair matches "
                f"the public key registered there. {name} keeps its old key unless you switch "
                "anyway")


@dataclass(frozen=True)
class Rotated:
    """The switched account and the report of the check that allowed it."""

    account: Account
    report: KeyReport


async def check_new_key(account: Account, creds: Credentials) -> KeyReport:
    """Sign a real key-info call with ``creds`` against ``account``'s host and settings (nothing
    is saved). The account's last check was of the old key: the new one is not known to work
    yet, so neither that check's probe rules nor its "worked here" apply."""
    from tui.services.verify.run import verify_account

    return await verify_account(account, creds, probe_early=False, probe_warm=True)


def switch_if_verified(store: AccountStore, account: Account, creds: Credentials,
                       report: KeyReport, *, accept_locked: bool = False) -> Rotated:
    """Switch ``account`` to ``creds`` when ``report`` (of ``check_new_key``) allows it;
    NewKeyFailed or NewKeyUnproven otherwise, with nothing changed."""
    from tui.services.store.model import LastCheck

    if report.status not in SWITCHING:
        raise NewKeyFailed(account, report)
    if report.status == CheckStatus.LOCKED and not accept_locked:
        raise NewKeyUnproven(account, report)
    rotated = store.rotate(account.id, creds)
    # Switched all the same if the record fails: the table shows "not checked" until the next.
    with contextlib.suppress(AccountError):
        rotated = store.record_check(rotated.id, LastCheck.of(report))
    return Rotated(rotated, report)


def rotate_checked(store: AccountStore, account: Account, creds: Credentials, *,
                   accept_locked: bool = False) -> Rotated:
    """Check the new key, then switch (blocking: for the CLI and worker threads)."""
    import asyncio

    report = asyncio.run(check_new_key(account, creds))
    return switch_if_verified(store, account, creds, report, accept_locked=accept_locked)

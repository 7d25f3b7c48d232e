"""Rotating to a self-generated key pair: the new pair must pass a real check before it replaces
the old key (issue 11).

With a generated pair, the exchange's half (the public key and the API key it assigned) is set up
by hand on the exchange's page, so a slip there (the old public key pasted, the wrong API key
copied) is likely. The new private key therefore stays in memory until a signed call with it
answers, and only then does ``AccountStore.rotate`` switch the account to it; until then the
account keeps working with its old key, and a failed check changes nothing on this machine.

Which outcomes switch: ``works``, and ``locked`` (the exchange refused this machine's address):
a key bound to the terminal's addresses, as the guide recommends, is always locked from here and
must not look broken (FACTS section 7). The caller shows the report, whose findings say what a
locked answer does not prove.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tui.services.accounts import AccountError

if TYPE_CHECKING:
    from tui.services.accounts import Account, AccountStore
    from tui.services.credentials import Credentials
    from tui.services.verify import KeyReport

#: Check outcomes after which the account switches to the new key.
SWITCHING = ("works", "locked")


class NewKeyFailed(AccountError):
    """The new key did not pass its check; the account still has its old key."""

    def __init__(self, account: Account, report: KeyReport) -> None:
        from tui.services.exchanges import exchange
        from tui.services.text import clean

        self.report = report
        label = exchange(account.exchange).label
        super().__init__(
            f"the new key did not pass its check with {label} ({clean(report.summary())}); "
            f"{clean(account.name)} keeps its old key. Check the public key and API key on "
            f"{label}'s API page, then check again"
        )


@dataclass(frozen=True)
class Rotated:
    """The switched account and the report of the check that allowed it."""

    account: Account
    report: KeyReport


async def check_new_key(account: Account, creds: Credentials, **kw: object) -> KeyReport:
    """Sign a real key-info call with ``creds`` against ``account``'s host and settings (nothing
    is saved)."""
    from tui.services.verify import verify_account

    return await verify_account(account, creds, **kw)  # type: ignore[arg-type]


def switch_if_verified(store: AccountStore, account: Account, creds: Credentials,
                       report: KeyReport) -> Rotated:
    """Switch ``account`` to ``creds`` when ``report`` (of ``check_new_key``) allows it;
    NewKeyFailed otherwise, with nothing changed."""
    from tui.services.accounts import LastCheck

    if report.status not in SWITCHING:
        raise NewKeyFailed(account, report)
    rotated = store.rotate(account.id, creds)
    # Switched all the same if the record fails: the table shows "not checked" until the next.
    with contextlib.suppress(AccountError):
        rotated = store.record_check(rotated.id, LastCheck.of(report))
    return Rotated(rotated, report)


def rotate_checked(store: AccountStore, account: Account, creds: Credentials,
                   **kw: object) -> Rotated:
    """Check the new key, then switch (blocking: for the CLI and worker threads)."""
    import asyncio

    report = asyncio.run(check_new_key(account, creds, **kw))
    return switch_if_verified(store, account, creds, report)

"""The accounts section (key 2): the linked keys, their last check, and what to do with them.

The secret store is opened in a thread worker when this screen first mounts, never at app start-up
(a keyring probe can take seconds). Every store call runs in a worker; the screen only renders.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

from rich.cells import cell_len
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import DataTable, Label, ProgressBar, Static
from textual.widgets.data_table import ColumnKey

from tui.screens.account_form import AccountFormScreen
from tui.screens.section import SectionScreen
from tui.services.text import clean, clean_lines
from tui.widgets.report_panel import ReportPanel
from tui.widgets.secret_input import SecretInput

if TYPE_CHECKING:
    from tui.commands import PaletteCommand
    from tui.screens.account_form import SaveResult
    from tui.services.accounts import Account, AccountStore
    from tui.services.secrets import SecretStore
    from tui.services.verify import KeyReport

#: How each stored check level is drawn in the table: mark and theme colour.
_CHECK_STYLES = {
    "ok": ("✓", "$success"),
    "info": ("✓", "$success"),
    "warning": ("!", "$warning"),
    "danger": ("✗", "$error"),
    "error": ("✗", "$error"),
}

#: Titles for secret-store faults, by exception class name (the message says how to fix it).
#: By name, so this module does not import the secret store (and keyring) at start-up.
_FAULT_TITLES = {
    "KeyringLocked": "The system keyring is locked.",
    "KeyringTimeout": "The secret store did not answer in time.",
    "KeyringUnavailable": "No usable keyring.",
    "VaultLocked": "keylink's vault is locked.",
    "VaultDamaged": "keylink's vault file is damaged.",
    "WrongPassphrase": "Wrong vault passphrase.",
    "SecretNotFound": "A secret is missing from the secret store.",
}


def format_checked_at(stamp: str) -> str:
    """An ISO UTC time stamp as local ``YYYY-MM-DD HH:MM`` (the raw text if it does not parse)."""
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return stamp
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


def _environment_label(account: Account) -> str:
    from tui.services.exchanges import exchange

    try:
        return exchange(account.exchange).environment(account.environment).label
    except KeyError:
        return f"Custom ({urlsplit(account.base_url).netloc or account.base_url})"


def _exchange_label(account: Account) -> str:
    from tui.services.exchanges import exchanges

    info = exchanges().get(account.exchange)
    return info.label if info else account.exchange


class AccountsScreen(SectionScreen):
    """Stored accounts: add, edit, rotate, delete and verify them from the keyboard."""

    SECTION: ClassVar[str] = "accounts"
    SECTION_TITLE: ClassVar[str] = "Accounts"
    #: The form opens from here, so its keys are listed with this section's in the help.
    WIDGET_BINDINGS: ClassVar[list[BindingType]] = [
        *AccountFormScreen.BINDINGS,
        *SecretInput.BINDINGS,
    ]

    DEFAULT_CSS = """
    AccountsScreen #store-status {
        height: 1;
        padding: 0 1;
        color: $text-muted;
    }
    AccountsScreen .banner {
        display: none;
        height: auto;
        margin: 0 1;
        padding: 0 1;
    }
    AccountsScreen .banner.-shown {
        display: block;
    }
    AccountsScreen #load-problem {
        color: $warning;
        border-left: thick $warning;
    }
    AccountsScreen #fault {
        color: $error;
        border-left: thick $error;
    }
    AccountsScreen #accounts {
        height: 1fr;
        margin: 0 1;
    }
    AccountsScreen #empty {
        display: none;
        height: 1fr;
        margin: 1 2;
        padding: 1 2;
        border: round $primary-muted;
        color: $text;
    }
    AccountsScreen.-empty #empty {
        display: block;
    }
    AccountsScreen.-empty #accounts {
        display: none;
    }
    AccountsScreen #verify-progress {
        display: none;
        height: 1;
        margin: 0 1;
    }
    AccountsScreen #verify-progress.-shown {
        display: block;
    }
    AccountsScreen #verify-progress Label {
        width: auto;
        padding-right: 1;
    }
    AccountsScreen #report {
        margin: 0 1;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "add", "Add", id="accounts.add",
                tooltip="Add an account: a name, the exchange, the API key and secret"),
        Binding("e", "edit", "Edit", id="accounts.edit",
                tooltip="Change the selected account's name, environment or whitelist"),
        Binding("r", "rotate", "Rotate", id="accounts.rotate",
                tooltip="Replace the selected account's key with a new one, same name"),
        Binding("d", "delete", "Delete", id="accounts.delete",
                tooltip="Delete the selected account and its stored secret"),
        Binding("v", "verify", "Verify", id="accounts.verify",
                tooltip="Check the selected key against the exchange"),
        Binding("V", "verify_all", "Verify all", key_display="V", id="accounts.verify_all",
                tooltip="Check every account's key, one after the other"),
        Binding("u", "unlock", "Unlock vault", id="accounts.unlock",
                tooltip="Enter the vault's passphrase to use the stored secrets"),
        # Off the footer (full at 80 columns; the file is re-read by itself); listed in help.
        Binding("ctrl+l", "reload", "Reload", id="accounts.reload", show=False,
                tooltip="Read the accounts file again (it is also re-read when it changes)"),
    ]

    #: Seconds between looks at accounts.json for changes made by the CLI or another window.
    WATCH_INTERVAL = 1.0

    def __init__(
        self,
        open_secrets: Callable[[], SecretStore] | None = None,
        config_dir: Path | None = None,
    ) -> None:
        """``open_secrets`` replaces ``SecretStore.open`` and ``config_dir`` the accounts folder
        (both for tests and embedding)."""
        super().__init__()
        self._open_secrets = open_secrets
        self._config_dir = config_dir
        self.secrets: SecretStore | None = None
        self.store: AccountStore | None = None
        self.accounts: list[Account] = []
        #: Reports of this session by account id (the stored LastCheck is only a summary).
        self.reports: dict[str, KeyReport] = {}

    # -- building ------------------------------------------------------------------------------

    def compose_body(self) -> ComposeResult:
        yield Static("Opening the secret store…", id="store-status", markup=False)
        yield Static("", id="load-problem", classes="banner", markup=False)
        yield Static("", id="fault", classes="banner", markup=False)
        table: DataTable[Any] = DataTable(id="accounts", cursor_type="row", zebra_stripes=True)
        table.add_column("Name", key="name")
        table.add_column("Exchange", key="exchange")
        table.add_column("Environment", key="environment")
        table.add_column("Checked", key="checked")
        table.add_column("Last check", key="check")
        yield table
        yield Static(
            "No accounts yet.\n\n"
            "Press a to add one: give it a name, pick the exchange, and paste the API key and "
            "secret you created on the exchange (and the passphrase, on exchanges that have one).\n"
            "Then press v to check that the key works and is restricted to the terminal's IPs.\n\n"
            "Not created a key yet? Press 1 for the step-by-step guide.",
            id="empty",
            markup=False,
        )
        with Horizontal(id="verify-progress"):
            yield Label("", id="verify-label")
            yield ProgressBar(id="verify-bar", show_eta=False)
        yield ReportPanel(id="report")

    def on_mount(self) -> None:
        self.set_class(True, "-empty")
        self.query_one("#report", ReportPanel).display = False
        self._open_store()
        #: accounts.json's (mtime, size, inode) at the last look; None while it is missing.
        self._file_seen: tuple[int, int, int] | None = None
        self._file_looked = False
        self.set_interval(self.WATCH_INTERVAL, self._watch_file)

    # -- following the file --------------------------------------------------------------------

    def _watch_file(self) -> None:
        if self.store is not None:
            self._look_at_file()

    @work(thread=True, exit_on_error=False, exclusive=True, group="accounts-watch")
    def _look_at_file(self) -> None:
        # A stat() is file I/O: done here, off the UI thread, like every other store access.
        store = self.store
        if store is None:
            return
        try:
            info = os.stat(store.path)
            seen: tuple[int, int, int] | None = (info.st_mtime_ns, info.st_size, info.st_ino)
        except OSError:
            seen = None
        self.app.call_from_thread(self._file_looked_at, seen)

    def _file_looked_at(self, seen: tuple[int, int, int] | None) -> None:
        if not self._file_looked:
            # The first look: the store has just been read, so this is the state shown.
            self._file_looked, self._file_seen = True, seen
            return
        if seen == self._file_seen:
            return
        if any(w.group == "accounts-store" and w.is_running for w in self.workers):
            return  # a save or reload is under way: look again next time
        self._file_seen = seen
        self._reload()

    def action_reload(self) -> None:
        """Read the accounts file again now."""
        if self.store is None:
            self.notify("The secret store is still opening; try again in a moment.")
            return
        self._reload()
        self.notify("Read the accounts file again.", title="Reloaded")

    # -- opening the store ---------------------------------------------------------------------

    @work(thread=True, exit_on_error=False, exclusive=True, group="accounts-store")
    def _open_store(self) -> None:
        from tui.services.accounts import AccountError, AccountStore
        from tui.services.secrets import PASSPHRASE_ENV, SecretStore, SecretStoreError

        try:
            secrets = self._open_secrets() if self._open_secrets else SecretStore.open()
        except SecretStoreError as exc:
            self.app.call_from_thread(self._store_unavailable, exc)
            return
        except Exception as exc:  # the type only: a backend's text may hold data
            error = SecretStoreError(f"the secret store could not be opened ({type(exc).__name__})")
            self.app.call_from_thread(self._store_unavailable, error)
            return
        given = os.environ.get(PASSPHRASE_ENV)
        if given and secrets.needs_unlock:
            # Same as the CLI: scripted sessions (screenshots, tmux tests) pass it this way.
            # If it does not open the vault, the unlock modal asks as usual.
            with contextlib.suppress(SecretStoreError):
                secrets.unlock(given)
        try:
            store = AccountStore(secrets, self._config_dir)
            accounts = store.list()
        except AccountError as exc:
            self.app.call_from_thread(self._store_failed, secrets, str(exc))
            return
        self.app.call_from_thread(self._store_opened, secrets, store, accounts)

    def _store_unavailable(self, exc: BaseException) -> None:
        self.query_one("#store-status", Static).update("Secrets: unavailable (see below)")
        self._show_fault(exc)

    def _store_failed(self, secrets: SecretStore, message: str) -> None:
        self.secrets = secrets
        self._update_status()
        self._show_banner("#load-problem", f"The accounts file cannot be used: {message}")

    def _store_opened(
        self, secrets: SecretStore, store: AccountStore, accounts: list[Account]
    ) -> None:
        self.secrets = secrets
        self.store = store
        self._show_accounts(accounts)
        if store.load_problem:
            self._show_banner("#load-problem", f"Accounts file: {store.load_problem}.")
        self._update_status()
        if secrets.needs_unlock:
            self._ask_unlock(then=None)

    def _update_status(self) -> None:
        secrets = self.secrets
        status = self.query_one("#store-status", Static)
        if secrets is None:
            status.update("Opening the secret store…")
        elif secrets.uses_vault:
            if secrets.needs_new_vault:
                state = "not created yet: you choose its passphrase when you add the first account"
            elif secrets.needs_unlock:
                state = "locked: press u to unlock"
            else:
                state = "unlocked"
            status.update(clean(f"Secrets: {secrets.backend_name}, {state} · {secrets.reason}"))
        else:
            status.update(clean(f"Secrets: {secrets.backend_name} · {secrets.reason}"))
        self.refresh_bindings()

    def _show_banner(self, selector: str, text: str) -> None:
        banner = self.query_one(selector, Static)
        banner.update(clean_lines(text))  # paths and store errors: outside text
        banner.set_class(bool(text), "-shown")

    def _show_fault(self, exc: BaseException) -> None:
        title = _FAULT_TITLES.get(type(exc).__name__, "The secret store failed.")
        self._show_banner(
            "#fault", f"{title} {str(exc).rstrip('.')}.\nYour accounts were not changed."
        )
        if self.secrets is not None:
            self._update_status()

    def _clear_fault(self) -> None:
        self._show_banner("#fault", "")

    # -- the table -----------------------------------------------------------------------------

    def _show_accounts(self, accounts: list[Account], select_id: str | None = None) -> None:
        table = self.query_one("#accounts", DataTable)
        current = select_id or self.selected_id
        self.accounts = list(accounts)
        table.clear()
        for account in self.accounts:
            table.add_row(*self._cells(account), key=account.id)
        self._fit_columns()
        self.set_class(not self.accounts, "-empty")
        if current is not None:
            for index, account in enumerate(self.accounts):
                if account.id == current:
                    table.move_cursor(row=index, animate=False)
                    break
        if self.accounts:
            table.focus()
        self.refresh_bindings()

    def _fit_columns(self) -> None:
        # The table measures plain strings only; its styled "Last check" cells are sized here.
        table = self.query_one("#accounts", DataTable)
        column = table.columns[ColumnKey("check")]
        widths = [cell_len(str(column.label))]
        widths += [cell_len(self._cells(a)[-1].plain) for a in self.accounts]
        column.content_width = max(widths)
        table.refresh()

    @staticmethod
    def _cells(account: Account) -> tuple[Any, ...]:
        check = account.last_check
        if check is None:
            result: Content = Content.styled("not checked", "$text-muted")
            when = ""
        else:
            mark, style = _CHECK_STYLES.get(check.worst, ("?", "$text-muted"))
            if not check.ok:
                mark, style = "✗", "$error"
            result = Content.styled(f"{mark} {clean(check.summary)}", style)
            when = format_checked_at(check.checked_at)
        # Names and labels come from accounts.json (outside text): Text cells, never markup.
        cells = (account.name, _exchange_label(account), _environment_label(account), when)
        return (*(Text(clean(cell)) for cell in cells), result)

    @property
    def selected_id(self) -> str | None:
        """The id of the account under the cursor (None when there are none)."""
        if not self.accounts or not self.is_mounted:
            return None
        table = self.query_one("#accounts", DataTable)
        row = table.cursor_row
        if 0 <= row < len(self.accounts):
            return self.accounts[row].id
        return None

    @property
    def selected(self) -> Account | None:
        account_id = self.selected_id
        return next((a for a in self.accounts if a.id == account_id), None)

    @on(DataTable.RowHighlighted, "#accounts")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        account = self.selected
        panel = self.query_one("#report", ReportPanel)
        report = self.reports.get(account.id) if account else None
        if account is not None and report is not None:
            panel.display = True
            panel.show_report(account.name, report, self._checked_text(account))
        elif panel.display and not self._verifying:
            panel.display = False

    @on(DataTable.RowSelected, "#accounts")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_verify()

    @work(thread=True, exit_on_error=False, exclusive=True, group="accounts-store")
    def _reload(self, select_id: str | None = None) -> None:
        from tui.services.accounts import AccountError

        store = self.store
        if store is None:
            return
        try:
            accounts = store.list()
        except AccountError as exc:
            self.app.call_from_thread(self._show_banner, "#load-problem", str(exc))
            return
        self.app.call_from_thread(self._show_accounts, accounts, select_id)

    # -- bindings ------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "unlock":
            return self.secrets is not None and self.secrets.needs_unlock
        if action == "add":
            return True if self.store is not None else None
        if action in {"edit", "rotate", "delete", "verify"}:
            return True if self.store is not None and self.selected is not None else None
        if action == "verify_all":
            return True if self.store is not None and self.accounts else None
        return True

    def palette_commands(self) -> Iterable[PaletteCommand]:
        """One "verify" entry per account, beside the bindings the palette lists already."""
        from functools import partial

        from tui.commands import PaletteCommand

        for account in self.accounts:
            yield PaletteCommand(
                f"Accounts: Verify {account.name}",
                f"Check the {_exchange_label(account)} key of {account.name}",
                partial(self.verify_accounts, [account]),
            )

    # -- secrets gate --------------------------------------------------------------------------

    def _with_secrets(self, then: Callable[[], None]) -> None:
        """Run ``then`` once the secret store can be used: create or unlock the vault first."""
        secrets = self.secrets
        if secrets is None or self.store is None:
            self.notify("The secret store is still opening; try again in a moment.")
            return
        if secrets.needs_new_vault:
            from tui.screens.vault import CreateVaultScreen

            self.app.push_screen(CreateVaultScreen(secrets), self._vault_done(then))
        elif secrets.needs_unlock:
            self._ask_unlock(then)
        else:
            then()

    def _ask_unlock(self, then: Callable[[], None] | None) -> None:
        from tui.screens.vault import UnlockVaultScreen

        assert self.secrets is not None
        self.app.push_screen(UnlockVaultScreen(self.secrets), self._vault_done(then))

    def _vault_done(self, then: Callable[[], None] | None) -> Callable[[bool | None], None]:
        def done(opened: bool | None) -> None:
            self._update_status()
            if opened:
                self._clear_fault()
                if then is not None:
                    then()

        return done

    def action_unlock(self) -> None:
        """Ask for the vault passphrase."""
        if self.secrets is not None and self.secrets.needs_unlock:
            self._ask_unlock(then=None)

    # -- add, edit, rotate, delete -------------------------------------------------------------

    def _open_form(self, mode_name: str, account: Account | None = None) -> None:
        from tui.screens.account_form import AccountFormScreen, FormMode

        assert self.store is not None
        mode = FormMode(mode_name)
        others = tuple(a for a in self.accounts if account is None or a.id != account.id)
        self.app.push_screen(
            AccountFormScreen(self.store, mode, account, existing=others), self._form_closed
        )

    def _form_closed(self, result: SaveResult | None) -> None:
        if result is None:
            return
        from tui.screens.account_form import FormMode

        self._clear_fault()
        self.reports.pop(result.account_id, None)
        self._reload(result.account_id)
        if result.mode is FormMode.EDIT:
            self.notify(f"Saved the changes to {result.name}.", title="Saved")
        else:
            self.notify(
                f"{result.name} is saved. Press v to check the key with the exchange now.",
                title="Saved",
            )

    def action_add(self) -> None:
        """Add an account."""
        self._with_secrets(lambda: self._open_form("add"))

    def action_edit(self) -> None:
        """Edit the selected account's settings (no secret is needed for that)."""
        account = self.selected
        if account is not None and self.store is not None:
            self._open_form("edit", account)

    def action_rotate(self) -> None:
        """Replace the selected account's key."""
        account = self.selected
        if account is not None:
            self._with_secrets(lambda: self._open_form("rotate", account))

    def action_delete(self) -> None:
        """Delete the selected account and its secret, after a confirmation."""
        account = self.selected
        if account is None:
            return
        from tui.screens.confirm import ConfirmScreen

        def answered(yes: bool | None) -> None:
            if not yes or self.secrets is None:
                return
            if self.secrets.needs_new_vault:
                # There is no vault, so there is no secret to remove: drop the account only.
                self._remove(account.id, account.name, force=True)
            else:
                self._with_secrets(lambda: self._remove(account.id, account.name))

        self.app.push_screen(
            ConfirmScreen(
                f"Delete {account.name}?",
                f"This removes the account and its stored key and secret from this machine. "
                f"The key itself stays active on {_exchange_label(account)}: delete it there "
                "too if you no longer use it.",
                yes="Delete",
                no="Keep",
                danger=True,
            ),
            answered,
        )

    @work(thread=True, exit_on_error=False, group="accounts-store")
    def _remove(self, account_id: str, name: str, force: bool = False) -> None:
        from tui.services.accounts import AccountError
        from tui.services.secrets import SecretStoreError

        assert self.store is not None
        try:
            self.store.remove(account_id, force=force)
        except SecretStoreError as exc:
            self.app.call_from_thread(self._show_fault, exc)
            self.app.call_from_thread(self._offer_forced_remove, account_id, name)
            return
        except AccountError as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error")
            return
        self.reports.pop(account_id, None)
        self.app.call_from_thread(self._clear_fault)
        self.app.call_from_thread(self.notify, f"Deleted {name}.", title="Deleted")
        self._reload()

    def _offer_forced_remove(self, account_id: str, name: str) -> None:
        """The secret store refused: offer to drop the account anyway (the fix may be elsewhere)."""
        from tui.screens.confirm import ConfirmScreen

        backend = self.secrets.backend_name if self.secrets is not None else "the secret store"

        def answered(yes: bool | None) -> None:
            if yes:
                self._remove(account_id, name, force=True)

        self.app.push_screen(
            ConfirmScreen(
                f"Remove {name} from keylink anyway?",
                f"Its secret could not be deleted (the reason is shown on the accounts screen). "
                f"Fix that and delete again to remove the secret too; or remove the account "
                f"now and its secret may stay in {backend}.",
                yes="Remove anyway",
                no="Keep it",
                danger=True,
            ),
            answered,
        )

    # -- verify --------------------------------------------------------------------------------

    @property
    def _verifying(self) -> bool:
        return any(
            w.group == "verify" and w.is_running for w in self.workers
        )

    def action_verify(self) -> None:
        """Check the selected account's key."""
        account = self.selected
        if account is not None:
            self._with_secrets(lambda: self.verify_accounts([account]))

    def action_verify_all(self) -> None:
        """Check every account's key, one after another."""
        if self.accounts:
            accounts = list(self.accounts)
            self._with_secrets(lambda: self.verify_accounts(accounts))

    def verify_accounts(self, accounts: list[Account]) -> None:
        """Start verifying ``accounts`` (replaces a verification still running)."""
        if self.secrets is not None and (self.secrets.needs_unlock or self.secrets.needs_new_vault):
            self._with_secrets(lambda: self.verify_accounts(accounts))
            return
        self._verify(accounts)

    def _progress(self, text: str, done: int | None, total: int) -> None:
        box = self.query_one("#verify-progress", Horizontal)
        box.set_class(done is not None, "-shown")
        self.query_one("#verify-label", Label).update(Content(clean(text)))  # names an account
        bar = self.query_one("#verify-bar", ProgressBar)
        bar.update(total=total, progress=done or 0)

    @work(exclusive=True, group="verify", exit_on_error=False)
    async def _verify(self, accounts: list[Account]) -> None:
        from tui.services.accounts import AccountError, LastCheck
        from tui.services.secrets import SecretStoreError
        from tui.services.verify import verify_account

        store = self.store
        assert store is not None
        panel = self.query_one("#report", ReportPanel)
        panel.display = True
        total = len(accounts)
        try:
            for done, account in enumerate(accounts):
                self._progress(f"Checking {account.name} ({done + 1} of {total})…", done, total)
                self.reports.pop(account.id, None)
                panel.loading = True
                try:
                    creds = await asyncio.to_thread(store.credentials, account)
                except SecretStoreError as exc:
                    panel.loading = False
                    self._show_fault(exc)
                    panel.show_message(f"{account.name}: the secret could not be read.")
                    continue
                try:
                    report = await verify_account(account, creds)
                except KeyError as exc:  # an exchange this keylink cannot check
                    panel.loading = False
                    panel.show_message(f"{account.name}: {exc.args[0] if exc.args else exc}")
                    continue
                finally:
                    del creds  # keep the secret alive no longer than the request
                self.reports[account.id] = report
                check = LastCheck(
                    ok=report.ok,
                    checked_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    summary=report.summary(),
                    worst=report.worst,
                )
                try:
                    updated = await asyncio.to_thread(store.record_check, account.id, check)
                except AccountError as exc:  # the check itself worked: say so and go on
                    self.notify(f"The result for {account.name} was not saved: {exc}",
                                severity="warning")
                    updated = account
                self._replace_account(updated)
                panel.loading = False
                if self.selected_id == account.id or total == 1:
                    panel.show_report(account.name, report, self._checked_text(updated))
            if total > 1:
                failed = sum(
                    1 for a in accounts if a.id not in self.reports or not self.reports[a.id].ok
                )
                self.notify(
                    f"Checked {total} accounts: {total - failed} passed, {failed} failed.",
                    title="Verify all",
                )
        finally:
            panel.loading = False
            self._progress("", None, total)

    def _replace_account(self, account: Account) -> None:
        if all(a.id != account.id for a in self.accounts):
            return  # deleted while it was being checked
        self.accounts = [account if a.id == account.id else a for a in self.accounts]
        table = self.query_one("#accounts", DataTable)
        for column, value in zip(
            ("name", "exchange", "environment", "checked", "check"),
            self._cells(account),
            strict=True,
        ):
            table.update_cell(account.id, column, value, update_width=column != "check")
        self._fit_columns()

    @staticmethod
    def _checked_text(account: Account) -> str:
        if account.last_check is None:
            return ""
        return f"checked {format_checked_at(account.last_check.checked_at)}"


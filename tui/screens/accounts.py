"""The accounts section (key 2): the linked keys, their last check, and what to do with them.

The secret store is opened in a thread worker when this screen first mounts, never at app start-up
(a keyring probe can take seconds). Every store call runs in a worker; the screen only renders.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
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
from textual.worker import Worker

from tui.screens.account_form.base import AccountFormScreen
from tui.screens.section import SectionScreen
from tui.services.core.status import CheckStatus, Severity
from tui.services.core.text import clean, clean_lines
from tui.styles import tcss
from tui.widgets.report_panel import SEVERITY_MARKS, ReportPanel
from tui.widgets.secret_input import SecretInput

if TYPE_CHECKING:
    from tui.commands import PaletteCommand
    from tui.screens.account_form import SaveResult
    from tui.services.store.accounts import AccountStore
    from tui.services.store.model import Account
    from tui.services.store.secrets import SecretStore
    from tui.services.verify.report import KeyReport

#: How each stored check level is drawn in the table: theme colour (the worst finding's).
_CHECK_STYLES = {
    Severity.OK: "$success",
    Severity.INFO: "$text-primary",
    Severity.WARNING: "$warning",
    Severity.DANGER: "$error",
    Severity.ERROR: "$error",
}
#: The status word leads the "Last check" cell so a narrow terminal never cuts it off.
_COPY_HINT = "Copy for the terminal: n name · k key · s secret · p passphrase"
_STATUS_MARKS = {CheckStatus.WORKS: "✓ works", CheckStatus.LOCKED: "● locked",
                 CheckStatus.FAILED: "✗ failed"}

def _tally(accounts: list[Account], reports: dict[str, KeyReport]) -> str:
    """"Checked 3 accounts: 1 works, 1 locked, 1 failed." (an account with no report failed)."""
    counts = dict.fromkeys(CheckStatus, 0)
    for account in accounts:
        report = reports.get(account.id)
        counts[report.status if report is not None and report.status else CheckStatus.FAILED] += 1
    parts = [f"{n} {status}" for status, n in counts.items() if n]
    text = f"Checked {len(accounts)} accounts: {', '.join(parts)}."
    if counts[CheckStatus.LOCKED]:
        text += " Locked keys are bound to other addresses, as a terminal's key should be."
    return text


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
    "RemovalUnfinished": "This account's removal was cut short.",
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


def _lock_time(seconds: float | None) -> str:
    """", locks in 15 min if unused" for the status line (nothing when there is no idle lock)."""
    if seconds is None:
        return ""
    minutes = math.ceil(seconds / 60)
    when = "in under a minute" if seconds < 60 else f"in {minutes} min"
    return f", locks {when} if unused"


def _has_passphrase(account: Account) -> bool:
    """False only for an exchange known to have none (an unknown one is left to the copy,
    which says what is wrong)."""
    from tui.services.handoff.fields import has_passphrase

    try:
        return has_passphrase(account)
    except KeyError:
        return True


def _exchange_label(account: Account) -> str:
    from tui.services.exchanges import exchanges

    info = exchanges().get(account.exchange)
    return info.label if info else account.exchange


class AccountsScreen(SectionScreen):
    """Stored accounts: add, edit, rotate, delete and verify them from the keyboard."""

    SECTION: ClassVar[str] = "accounts"
    SECTION_TITLE: ClassVar[str] = "Accounts"
    SUB_TITLE = "Your linked API keys"
    #: The form opens from here, so its keys are listed with this section's in the help.
    WIDGET_BINDINGS: ClassVar[list[BindingType]] = [
        *AccountFormScreen.BINDINGS,
        *SecretInput.BINDINGS,
    ]

    DEFAULT_CSS = tcss(__file__, "accounts.tcss")

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
        # Copy keys: the value goes to the clipboard, never to the screen (credential_copy).
        Binding("n", "copy('name')", "Copy name", show=False, id="accounts.copy_name",
                tooltip="Copy the selected account's display name, for the terminal's form"),
        Binding("k", "copy('key')", "Copy key", show=False, id="accounts.copy_key",
                tooltip="Copy the selected account's API key (cleared after a while)"),
        Binding("s", "copy('secret')", "Copy secret", show=False, id="accounts.copy_secret",
                tooltip="Copy the selected account's API secret (cleared after a while)"),
        Binding("p", "copy('passphrase')", "Copy passphrase", show=False,
                id="accounts.copy_passphrase",
                tooltip="Copy the selected account's API passphrase (OKX, Bitget)"),
        Binding("escape", "stop_verify", "Stop", id="accounts.stop",
                tooltip="While checking: stop after the account being checked"),
        # When an action above cannot run now its key would do nothing: these say why instead.
        # No description, so the footer, help and palette list only the real actions.
        *(Binding(key, f"explain('{action}')", "", show=False)
          for key, action in (("a", "add"), ("e", "edit"), ("r", "rotate"), ("d", "delete"),
                              ("v", "verify"), ("V", "verify_all"), ("u", "unlock"),
                              ("n", "copy"), ("k", "copy"), ("s", "copy"), ("p", "copy"))),
        Binding("l", "lock", "Lock", id="accounts.lock",
                tooltip="Lock the vault now: its passphrase is asked for again on next use"),
        # Off the footer (full at 80 columns; the file is re-read by itself); listed in help.
        Binding("ctrl+l", "reload", "Reload", id="accounts.reload", show=False,
                tooltip="Read the accounts file again (it is also re-read when it changes)"),
    ]

    #: Seconds between looks at accounts.json for changes made by the CLI or another window.
    WATCH_INTERVAL = 1.0
    #: A changed file is read once it has not changed for SETTLE_QUIET s (waiting at most
    #: SETTLE_LIMIT s): an editor may still be writing it. One that does not parse is tried
    #: PARSE_TRIES times, RETRY_DELAY s apart, and then left where it is: the watcher never
    #: moves a file aside (it once moved aside a file an editor was still writing). The table
    #: keeps the accounts last read, a notice names the file, and the next change is read again.
    SETTLE_QUIET = 0.3
    SETTLE_LIMIT = 3.0
    PARSE_TRIES = 3
    RETRY_DELAY = 0.7

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
        #: What to do once the store is open (the guide asked for the add form before it was).
        self._after_open: Callable[[], None] | None = None

    # -- building ------------------------------------------------------------------------------

    def compose_body(self) -> ComposeResult:
        yield Static("Opening the secret store…", id="store-status", markup=False)
        yield Static("", id="load-problem", classes="banner", markup=False)
        yield Static("", id="fault", classes="banner", markup=False)
        table: DataTable[Any] = DataTable(id="accounts", cursor_type="row", zebra_stripes=True)
        table.add_column("Name", key="name")
        # Second, so "✓ works" / "● locked" / "✗ failed" is never cut at 80 columns.
        table.add_column("Status", key="status")
        table.add_column("Exchange", key="exchange")
        table.add_column("Environment", key="environment")
        table.add_column("Checked", key="checked")
        table.add_column("Last check", key="check")
        yield table
        # The copy keys are too many for the footer at 80 columns: this line names them.
        yield Static(_COPY_HINT, id="copy-hint", markup=False)
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
        #: The load-problem notice is the watcher's (an unreadable file), cleared by a good read.
        self._watch_problem = False
        #: The store's load problem last shown (a new one, e.g. a save moved the file aside, is
        #: shown again).
        self._shown_problem: str | None = None
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
        self._reload_watched()

    def action_reload(self) -> None:
        """Read the accounts file again now."""
        if self.store is None:
            self.notify("The secret store is still opening; try again in a moment.")
            return
        self._reload_watched()
        self.notify("Read the accounts file again.", title="Reloaded")

    @work(thread=True, exit_on_error=False, exclusive=True, group="accounts-store")
    def _reload_watched(self) -> None:
        """Read a file that changed under us: settled first, retried, never moved aside."""
        import time

        from textual.worker import get_current_worker

        from tui.services.store.accounts import wait_until_settled
        from tui.services.store.model import AccountError, AccountsUnreadable

        store = self.store
        if store is None:
            return
        worker = get_current_worker()
        problem = ""
        for attempt in range(self.PARSE_TRIES):
            if attempt:
                time.sleep(self.RETRY_DELAY)
            wait_until_settled(store.path, self.SETTLE_QUIET, self.SETTLE_LIMIT)
            if worker.is_cancelled:
                return
            try:
                accounts = store.list(move_aside=False)
            except AccountsUnreadable as exc:
                problem = str(exc)
                continue
            except AccountError as exc:
                self.app.call_from_thread(self._show_banner, "#load-problem", str(exc))
                return
            self.app.call_from_thread(self._watched_read, accounts)
            return
        self.app.call_from_thread(self._watched_unreadable, problem)

    def _watched_read(self, accounts: list[Account]) -> None:
        if self._watch_problem:
            self._watch_problem = False
            self._show_banner("#load-problem", "")
        self._show_accounts(accounts)

    def _watched_unreadable(self, problem: str) -> None:
        self._watch_problem = True
        self._show_banner(
            "#load-problem",
            f"Accounts file: {problem}. keylink still shows the accounts it read last and moved "
            "nothing; it reads the file again when it changes (or press ctrl+l).",
        )

    # -- opening the store ---------------------------------------------------------------------

    @work(thread=True, exit_on_error=False, exclusive=True, group="accounts-store")
    def _open_store(self) -> None:
        from tui.services.store.accounts import AccountStore
        from tui.services.store.backends import PASSPHRASE_ENV
        from tui.services.store.errors import SecretStoreError
        from tui.services.store.model import AccountError
        from tui.services.store.secrets import SecretStore

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
            self._shown_problem = store.load_problem
            self._show_banner("#load-problem", f"Accounts file: {store.load_problem}.")
        self._update_status()
        after, self._after_open = self._after_open, None
        if after is not None:
            after()  # asks to unlock first itself where needed
        elif secrets.needs_unlock:
            self._ask_unlock(then=None)

    def _update_status(self) -> None:
        # One short line that fits 80 columns: the store and its state. Why this store was
        # chosen is in the tooltip and in `keylink doctor`.
        secrets = self.secrets
        status = self.query_one("#store-status", Static)
        if secrets is None:
            status.update("Opening the secret store…")
        elif secrets.uses_vault:
            if secrets.needs_new_vault:
                state = "not created yet (made when you add an account)"
            elif secrets.needs_unlock:
                state = "locked (press u to unlock)"
            else:
                state = "unlocked" + _lock_time(secrets.lock_due())
            status.update(Content(clean(f"Secrets: {secrets.backend_name}, {state}")))
        else:
            status.update(Content(clean(f"Secrets: {secrets.backend_name}")))
        if secrets is not None:
            status.tooltip = Text(clean(secrets.reason))
        self.refresh_bindings()

    def _show_banner(self, selector: str, text: str) -> None:
        banner = self.query_one(selector, Static)
        banner.update(clean_lines(text))  # paths and store errors: outside text
        banner.set_class(bool(text), "-shown")

    def _show_fault(self, exc: BaseException) -> None:
        from tui.services.store.errors import SecretStoreError

        title = _FAULT_TITLES.get(type(exc).__name__, "The secret store failed.")
        # A removal whose delete may have happened leaves its account marked: a change.
        marked = isinstance(exc, SecretStoreError) and exc.account_marked
        after = "" if marked else "\nYour accounts were not changed."
        self._show_banner("#fault", f"{title} {str(exc).rstrip('.')}.{after}")
        if self.secrets is not None:
            self._update_status()

    def _clear_fault(self) -> None:
        self._show_banner("#fault", "")

    # -- the table -----------------------------------------------------------------------------

    def _show_accounts(self, accounts: list[Account], select_id: str | None = None) -> None:
        table = self.query_one("#accounts", DataTable)
        if select_id is None and list(accounts) == self.accounts and table.row_count:
            return  # nothing changed (often our own write, seen again by the file watcher)
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
        if self.accounts and (self.focused is None or self.focused is table):
            table.focus()  # never pulled away from the report panel by a reload
        self.refresh_bindings()
        self._show_row_hint(self.selected)
        if not self._verifying:
            self._show_verdict(self.selected)

    def _fit_columns(self) -> None:
        # The table measures plain strings only; its styled "Last check" cells are sized here.
        table = self.query_one("#accounts", DataTable)
        for key, index in (("status", 1), ("check", -1)):
            column = table.columns[ColumnKey(key)]
            widths = [cell_len(str(column.label))]
            widths += [cell_len(self._cells(a)[index].plain) for a in self.accounts]
            column.content_width = max(widths)
        table.refresh()

    @staticmethod
    def _cells(account: Account) -> tuple[Any, ...]:
        check = account.last_check
        if account.removing is not None:
            # Its secret may be gone: the row says so and what finishes it, nothing else.
            status = Content.styled("! removal cut short", "$error")
            detail = Content("its secret may be gone: press d to finish removing it")
            when = ""
        elif check is None:
            # Italic in the table's own colour: readable on plain and zebra rows alike.
            status: Content = Content.styled("not checked", "italic")
            detail = Content("")
            when = ""
        else:
            outcome = check.outcome
            style = ("$error" if outcome == CheckStatus.FAILED
                     else _CHECK_STYLES.get(check.worst, ""))
            mark = _STATUS_MARKS[outcome]
            if outcome == CheckStatus.WORKS and check.worst in (Severity.WARNING, Severity.DANGER):
                # The report panel's marks: "‼" funds at risk (it can withdraw), "!" a warning.
                mark = f"{SEVERITY_MARKS[check.worst]} works"
            status = Content.styled(mark, style)
            # The stored summary starts with the status word: the table shows it once.
            if outcome == CheckStatus.WORKS:
                rest = check.summary.removeprefix(CheckStatus.WORKS).lstrip("; ")
            else:
                rest = check.summary.split(":", 1)[-1].strip()
            detail = Content(clean(rest))
            when = format_checked_at(check.checked_at)
        # Names, labels and the stored time come from accounts.json (outside text): Text cells,
        # never markup.
        name, exchange_label, environment, when = (
            Text(clean(cell)) for cell in (account.name, _exchange_label(account),
                                           _environment_label(account), when))
        return (name, status, exchange_label, environment, when, detail)

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
        self.refresh_bindings()  # a cut-short removal offers only delete
        self._show_row_hint(account)
        self._show_verdict(account)

    def _show_verdict(self, account: Account | None) -> None:
        """The report panel for the highlighted account: this session's full report, else the
        verdict stored in accounts.json by an earlier check (shown on start, no network)."""
        panel = self.query_one("#report", ReportPanel)
        report = self.reports.get(account.id) if account else None
        if account is not None and report is not None:
            panel.display = True
            panel.show_report(account.name, report, self._checked_text(account))
        elif (account is not None and account.last_check is not None
              and account.removing is None and not self._verifying):
            panel.display = True
            panel.show_last_check(account.name, account.last_check, self._checked_text(account))
        elif panel.display and not self._verifying:
            panel.display = False

    def _show_row_hint(self, account: Account | None) -> None:
        """The line under the table: the copy keys, or what a cut-short removal needs (its row
        is cut at 80 columns). What the last check found is in the report panel below."""
        hint = Content(_COPY_HINT)
        cut_short = account is not None and account.removing is not None
        if account is not None and cut_short:
            hint = Content(f"The removal of {clean(account.name)} was cut short: its secret may "
                           "already be gone. Press d to finish removing it.")
        box = self.query_one("#copy-hint", Static)
        box.update(hint)
        box.set_class(cut_short, "-removal")

    @on(DataTable.RowSelected, "#accounts")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_verify()

    @work(thread=True, exit_on_error=False, exclusive=True, group="accounts-store")
    def _reload(self, select_id: str | None = None) -> None:
        from tui.services.store.model import AccountError

        store = self.store
        if store is None:
            return
        try:
            accounts = store.list()
        except AccountError as exc:
            self.app.call_from_thread(self._show_banner, "#load-problem", str(exc))
            return
        self.app.call_from_thread(self._reloaded, accounts, select_id, store.load_problem)

    def _reloaded(self, accounts: list[Account], select_id: str | None,
                  problem: str | None) -> None:
        # A save reads the file first and moves a damaged one aside (as at start-up): say so,
        # in place of the watcher's "moved nothing", which is no longer true.
        if problem and problem != self._shown_problem:
            self._shown_problem = problem
            self._watch_problem = False
            self._show_banner("#load-problem", f"Accounts file: {problem}.")
        elif self._watch_problem:
            self._watch_problem = False
            self._show_banner("#load-problem", "")
        self._show_accounts(accounts, select_id)

    # -- bindings ------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "unlock":
            return self.secrets is not None and self.secrets.needs_unlock
        if action == "lock":
            return self.secrets is not None and self.secrets.can_lock
        if action == "add":
            return True if self.store is not None else None
        if action == "delete":
            return True if self.store is not None and self.selected is not None else None
        if action in {"edit", "rotate", "verify", "copy"}:
            account = self.selected
            # A cut-short removal is never used: only deleting (which finishes it) is offered.
            usable = account is not None and account.removing is None
            return True if self.store is not None and usable else None
        if action == "verify_all":
            return True if self.store is not None and self.accounts else None
        if action == "stop_verify":
            return self._verifying
        return True

    def unavailable_reason(self, action: str) -> str:
        """Why ``action`` cannot run now, in a sentence for the user."""
        if action == "stop_verify":
            return "No check is running."
        if self.store is None:
            if self.secrets is None and not self.query_one("#fault", Static).has_class("-shown"):
                return "The secret store is still opening: try again in a moment."
            return "The accounts cannot be used: see the message on the accounts screen."
        if action == "unlock":
            if self.secrets is not None and self.secrets.needs_new_vault:
                return "There is no vault to unlock yet: add an account to create it."
            return "Nothing to unlock: the secret store is open."
        if not self.accounts:
            return "No accounts yet: press a to add one."
        account = self.selected
        if account is not None and account.removing is not None:
            return "This account's removal was cut short: press d to finish removing it."
        return "Select an account first."

    def action_explain(self, action: str) -> None:
        """Say why an action's key did nothing (its real binding is disabled just now)."""
        if self.check_action(action, ()):
            return  # it can run after all: the real binding took the key
        self.notify(self.unavailable_reason(action), severity="warning")

    def explain_unavailable(self, action: str) -> None:
        """For the palette: the same answer as pressing the action's key."""
        self.action_explain(action)

    def palette_commands(self) -> Iterable[PaletteCommand]:
        """One "verify" entry per account, beside the bindings the palette lists already."""
        from functools import partial

        from tui.commands import PaletteCommand

        for account in self.accounts:
            if account.removing is not None:
                continue  # never used: only deleting it (d) is offered
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

    def action_copy(self, field: str) -> None:
        """Copy one field of the selected account; a locked vault is unlocked first."""
        from tui.screens.credential_copy import copy_field

        account = self.selected
        if account is None or self.store is None:
            return
        if field == "name":
            copy_field(self, self.store, account, field)
            return
        if field == "passphrase" and not _has_passphrase(account):
            # Information, not a failure: there is nothing to copy, and no unlock is needed.
            self.notify(f"{_exchange_label(account)} keys have no passphrase: leave the "
                        "terminal's passphrase field empty. Nothing to copy.",
                        title="No passphrase", markup=False)
            return

        def copy() -> None:
            if self.store is not None:
                copy_field(self, self.store, account, field)

        self._with_secrets(copy)

    def reveal(self, target: str) -> None:
        """``add:EXCHANGE`` opens the add form set to that exchange (the guide's "store it"
        step), once the store is open and unlocked."""
        from tui.services.exchanges import exchanges

        kind, _, exchange_id = target.partition(":")
        if kind != "add" or exchange_id not in exchanges():
            super().reveal(target)
        if self.store is None:
            self._after_open = lambda: self.reveal(target)
            return
        self._with_secrets(lambda: self._open_add_form(exchange_id))

    def _open_add_form(self, exchange_id: str) -> None:
        from tui.screens.account_form import AddAccountScreen

        assert self.store is not None
        # Opened on that exchange, not switched to it after: the exchange is then part of what
        # the form started with, and leaving it untouched asks nothing.
        form = AddAccountScreen(self.store, existing=tuple(self.accounts),
                                exchange_id=exchange_id)
        self.app.push_screen(form, self._form_closed)

    def on_unmount(self) -> None:
        from tui.screens.credential_copy import clear_now

        clear_now(self.app)

    def show_lock_state(self) -> None:
        """Show whether the vault is locked and when it will be (the app's idle lock, which
        covers every store of the process, calls this on each of its checks)."""
        if self.secrets is not None:
            self._update_status()

    def action_lock(self) -> None:
        """Lock the vault now (the derived key leaves memory)."""
        if self.secrets is not None and self.secrets.can_lock:
            self.secrets.lock()
            self._update_status()
            self.notify("Vault locked. Its passphrase is asked for on next use.",
                        title="Vault locked")

    def action_unlock(self) -> None:
        """Ask for the vault passphrase."""
        if self.secrets is not None and self.secrets.needs_unlock:
            self._ask_unlock(then=None)

    # -- add, edit, rotate, delete -------------------------------------------------------------

    def _open_form(self, mode_name: str, account: Account | None = None) -> None:
        from tui.screens.account_form import AddAccountScreen, EditAccountScreen, RotateKeyScreen

        assert self.store is not None
        others = tuple(a for a in self.accounts if account is None or a.id != account.id)
        form: AccountFormScreen
        if account is None:
            form = AddAccountScreen(self.store, existing=others)
        elif mode_name == "edit":
            form = EditAccountScreen(self.store, account, existing=others)
        else:
            form = RotateKeyScreen(self.store, account, existing=others)
        self.app.push_screen(form, self._form_closed)

    def _form_closed(self, result: SaveResult | None) -> None:
        if result is None:
            return
        from tui.screens.account_form import FormMode

        self._clear_fault()
        self.reports.pop(result.account_id, None)
        self._reload(result.account_id)
        if result.mode is FormMode.EDIT:
            self.notify(f"Saved the changes to {result.name}.", title="Saved")
        elif result.report is not None:
            # A generated key, switched to after its check: show that check.
            self.reports[result.account_id] = result.report
            panel = self.query_one("#report", ReportPanel)
            panel.display = True
            panel.show_report(result.name, result.report, "checked just now")
            self.notify(f"{result.name} now uses the new key ({result.report.status}). Delete "
                        "the old key on the exchange.", title="Switched", markup=False)
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
            in_this_store = (self.store is not None
                             and self.store.store_of(account) == self.secrets.store_id)
            if self.secrets.needs_new_vault and in_this_store:
                # There is no vault, so there is no secret to remove: drop the account only.
                self._remove(account.id, account.name, force=True)
            elif not in_this_store:
                # Its secret is in a store keylink cannot use now: removing says so and offers
                # to forget the account, rather than dropping it while the secret stays.
                self._remove(account.id, account.name)
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

    def _neighbour_of(self, account_id: str) -> str | None:
        """The account the cursor should land on once ``account_id`` is gone: the next row,
        or the one before when it was the last."""
        ids = [a.id for a in self.accounts]
        if account_id not in ids:
            return None
        index = ids.index(account_id)
        rest = ids[:index] + ids[index + 1:]
        return rest[min(index, len(rest) - 1)] if rest else None

    @work(thread=True, exit_on_error=False, group="accounts-store")
    def _remove(self, account_id: str, name: str, force: bool = False) -> None:
        from tui.services.store.errors import SecretStoreError
        from tui.services.store.model import AccountError

        assert self.store is not None
        neighbour = self._neighbour_of(account_id)
        try:
            left = self.store.remove(account_id, force=force)
        except SecretStoreError as exc:
            self.app.call_from_thread(self._show_fault, exc)
            self.app.call_from_thread(self._offer_forced_remove, account_id, name)
            self._reload(account_id)  # a delete that timed out left the account marked
            return
        except AccountError as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error")
            return
        self.reports.pop(account_id, None)
        self.app.call_from_thread(self._clear_fault)
        if left:  # forgotten, not deleted: say where the secret stays
            self.app.call_from_thread(self.notify, f"Removed {name} from keylink; {left}.",
                                      title="Removed", severity="warning", markup=False)
        else:
            self.app.call_from_thread(self.notify, f"Deleted {name}.", title="Deleted")
        self._reload(neighbour)

    def _offer_forced_remove(self, account_id: str, name: str) -> None:
        """The secret store refused: offer to drop the account anyway (the fix may be elsewhere)."""
        from tui.screens.confirm import ConfirmScreen
        from tui.services.store.backends import store_label

        # The account's own store: it may not be the one keylink could open now.
        account = next((a for a in self.accounts if a.id == account_id), None)
        backend = (store_label(self.store.store_of(account))
                   if account is not None and self.store is not None else "the secret store")

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

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "verify":
            self.refresh_bindings()  # "esc Stop" shows only while a check runs

    def action_stop_verify(self) -> None:
        """Stop a running check (the account being checked is dropped, the rest not started)."""
        if self._verifying:
            self.workers.cancel_group(self, "verify")
            self.notify("Stopped checking.", title="Verify")

    def action_verify_all(self) -> None:
        """Check every account's key, one after another."""
        accounts = [a for a in self.accounts if a.removing is None]
        if accounts:
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
        from tui.services.store.errors import SecretStoreError
        from tui.services.store.model import AccountError, LastCheck
        from tui.services.verify.run import verify_account

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
                try:
                    updated = await asyncio.to_thread(store.record_check, account.id,
                                                      LastCheck.of(report))
                except AccountError as exc:  # the check itself worked: say so and go on
                    self.notify(f"The result for {account.name} was not saved: {exc}",
                                severity="warning")
                    updated = account
                self._replace_account(updated)
                panel.loading = False
                if self.selected_id == account.id or total == 1:
                    panel.show_report(account.name, report, self._checked_text(updated))
            if total > 1:
                self.notify(_tally(accounts, self.reports), title="Verify all", markup=False)
        finally:
            panel.loading = False
            self._progress("", None, total)

    def _replace_account(self, account: Account) -> None:
        if all(a.id != account.id for a in self.accounts):
            return  # deleted while it was being checked
        self.accounts = [account if a.id == account.id else a for a in self.accounts]
        table = self.query_one("#accounts", DataTable)
        for column, value in zip(
            ("name", "status", "exchange", "environment", "checked", "check"),
            self._cells(account),
            strict=True,
        ):
            table.update_cell(account.id, column, value,
                              update_width=column not in ("status", "check"))
        self._fit_columns()
        if self.selected_id == account.id:
            self._show_row_hint(account)
            if account.id not in self.reports:
                self._show_verdict(account)

    @staticmethod
    def _checked_text(account: Account) -> str:
        if account.last_check is None:
            return ""
        return f"checked {format_checked_at(account.last_check.checked_at)}"


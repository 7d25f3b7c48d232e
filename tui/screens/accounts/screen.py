"""The accounts section (key 2): the linked keys, their last check, and what to do with them.

The accounts come from the app's one session (``self.app.session``), opened in a thread worker
when this screen first mounts, never at app start-up (a keyring probe can take seconds). The
session's messages keep the screen current: its state, the accounts (re-read when accounts.json
changes), the vault locking. Every store call runs in a worker; the screen only renders.

The screen is cut by job: the table is ``tui.widgets.accounts_table``; checking keys is
``verify_runner``, deleting ``delete_flow`` and the vault (status, unlock, copy, lock)
``vault_gate``, mixins of this screen. Its styles are in accounts.tcss beside it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import DataTable, Label, ProgressBar, Static

from tui.screens.account_form.base import AccountFormScreen
from tui.screens.accounts.delete_flow import DeleteFlow
from tui.screens.accounts.move_flow import MoveFlow
from tui.screens.accounts.vault_gate import VaultGate
from tui.screens.accounts.verify_runner import VerifyRunner, checked_text
from tui.screens.section import SectionScreen
from tui.services.core.text import clean
from tui.styles import tcss
from tui.widgets.accounts_table import AccountsTable, exchange_label
from tui.widgets.report_panel import ReportPanel
from tui.widgets.secret_input import SecretInput

if TYPE_CHECKING:
    from tui.commands import PaletteCommand
    from tui.screens.account_form import SaveResult
    from tui.services.session.session import Session
    from tui.services.store.accounts import AccountStore
    from tui.services.store.model import Account
    from tui.services.store.secrets import SecretStore
    from tui.services.verify.report import KeyReport
    from tui.session_messages import AccountsChanged, AccountsUnreadable, SessionStateChanged

#: What the session adds to an unreadable file's problem; the banner says it in its own words.
_LEFT_AS_IT_IS = "; it was left as it is"
_COPY_HINT = "Copy for the terminal: n name · k key · s secret · p passphrase"

class AccountsScreen(VerifyRunner, DeleteFlow, MoveFlow, VaultGate, SectionScreen):
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
        Binding("k", "copy('api_key')", "Copy key", show=False, id="accounts.copy_key",
                tooltip="Copy the selected account's API key (cleared after a while)"),
        Binding("s", "copy('secret')", "Copy secret", show=False, id="accounts.copy_secret",
                tooltip="Copy the selected account's API secret (cleared after a while)"),
        Binding("p", "copy('passphrase')", "Copy passphrase", show=False,
                id="accounts.copy_passphrase",
                tooltip="Copy the selected account's API passphrase (OKX, Bitget)"),
        # Off the footer (full at 80 columns); listed in help and the palette.
        Binding("h", "history", "History", show=False, id="accounts.history",
                tooltip="The selected account's kept checks and what changed at each"),
        # Offered only when the last check found the key in another environment (issue 17).
        Binding("b", "switch_environment", "Switch environment", id="accounts.switch_environment",
                tooltip="Move the account to the environment where its key works, and check it"),
        Binding("L", "access_uses", "Recent uses", key_display="L", show=False,
                id="accounts.access_uses",
                tooltip="The selected account's recent uses from the access log"),
        Binding("m", "move", "Move", show=False, id="accounts.move",
                tooltip="Move the selected account's secret to another store (vault, pass, …)"),
        Binding("escape", "stop_verify", "Stop", id="accounts.stop",
                tooltip="While checking: stop after the account being checked"),
        # When an action above cannot run now its key would do nothing: these say why instead.
        # No description, so the footer, help and palette list only the real actions.
        *(Binding(key, f"explain('{action}')", "", show=False)
          for key, action in (("a", "add"), ("e", "edit"), ("r", "rotate"), ("d", "delete"),
                              ("v", "verify"), ("V", "verify_all"), ("u", "unlock"),
                              ("n", "copy"), ("k", "copy"), ("s", "copy"), ("p", "copy"),
                              ("m", "move"), ("h", "history"))),
        Binding("l", "lock", "Lock", id="accounts.lock",
                tooltip="Lock the vault now: its passphrase is asked for again on next use"),
        # Off the footer (full at 80 columns; the file is re-read by itself); listed in help.
        Binding("ctrl+l", "reload", "Reload", id="accounts.reload", show=False,
                tooltip="Read the accounts file again (it is also re-read when it changes)"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.accounts: list[Account] = []
        #: Reports of this session by account id (the stored LastCheck is only a summary).
        self.reports: dict[str, KeyReport] = {}
        #: What to do once the store is open (the guide asked for the add form before it was).
        self._after_open: Callable[[], None] | None = None
        #: The session was seen open (the first time, a locked vault is asked for).
        self._greeted = False
        #: The load-problem notice is the watch's (an unreadable file), cleared by a good read.
        self._watch_problem = False
        #: The accounts file's problem last shown (a new one, e.g. a save moved the file aside,
        #: is shown again).
        self._shown_problem: str | None = None

    # -- the session ---------------------------------------------------------------------------

    @property
    def session(self) -> Session | None:
        """The app's session once it is made (None before: nothing of it imported yet)."""
        return getattr(self.app, "live_session", None)

    @property
    def secrets(self) -> SecretStore | None:
        """The session's secret store (None while it opens, or when it cannot be opened)."""
        session = self.session
        return session.secrets if session is not None else None

    @property
    def store(self) -> AccountStore | None:
        """The session's accounts (None until it is open and accounts.json can be used)."""
        session = self.session
        if session is None:
            return None  # nothing to import yet (the opening worker imports the store)
        from tui.services.session.session import SessionState

        return session.accounts if session.state is SessionState.OPEN else None

    def _table(self) -> AccountsTable:
        return self.query_one("#accounts", AccountsTable)

    # -- building ------------------------------------------------------------------------------

    def compose_body(self) -> ComposeResult:
        yield Static("Opening the secret store…", id="store-status", markup=False)
        yield Static("", id="load-problem", classes="banner", markup=False)
        yield Static("", id="fault", classes="banner", markup=False)
        yield AccountsTable(id="accounts")
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
        open_session = getattr(self.app, "open_session", None)
        if callable(open_session):
            open_session()  # the first screen that needs accounts opens the session
        self._session_state()

    def on_session_state_changed(self, message: SessionStateChanged) -> None:
        self._session_state()

    def on_accounts_changed(self, message: AccountsChanged) -> None:
        if self.store is not None:
            self._accounts_read(list(message.accounts), message.problem)

    def on_accounts_unreadable(self, message: AccountsUnreadable) -> None:
        self._watch_problem = True
        problem = message.problem.removesuffix(_LEFT_AS_IT_IS)
        self._show_banner(
            "#load-problem",
            f"Accounts file: {problem}. keylink still shows the accounts it read last and moved "
            "nothing; it reads the file again when it changes (or press ctrl+l).",
        )

    def _session_state(self) -> None:
        """Show what the session's state means here (it may have changed since the message)."""
        session = self.session
        if session is None:
            self._update_status()
            return
        from tui.services.session.session import SessionState

        if session.state is SessionState.OPENING:
            self._update_status()
        elif session.state is SessionState.UNAVAILABLE:
            self.query_one("#store-status", Static).update("Secrets: unavailable (see below)")
            self._show_fault(session.open_error or RuntimeError(session.reason))
        elif session.state is SessionState.FAILED:
            self._update_status()
            self._show_banner("#load-problem",
                              f"The accounts file cannot be used: {session.reason}")
        else:
            self._store_opened(session)

    def _store_opened(self, session: Session) -> None:
        self._show_accounts(list(session.known_accounts))
        problem = session.load_problem
        if problem and problem != self._shown_problem:
            self._shown_problem = problem
            self._show_banner("#load-problem", f"Accounts file: {problem}.")
        self._update_status()
        if self._greeted:
            return
        self._greeted = True
        after, self._after_open = self._after_open, None
        secrets = self.secrets
        if after is not None:
            after()  # asks to unlock first itself where needed
        elif secrets is not None and secrets.needs_unlock and self._vault_wanted(session):
            self._with_secrets(None)  # the session asks in its dialog

    @staticmethod
    def _vault_wanted(session: Session) -> bool:
        """Whether the locked vault is asked for as the screen opens: when an account keeps its
        secret in it (``Session.needs_vault_for``), or when there are no accounts yet (the first
        one goes there). Accounts whose secrets are all elsewhere (pass) ask nothing: the vault
        is asked for when something needs it. Pure (no store is asked): the UI thread decides."""
        accounts = session.known_accounts
        return not accounts or session.needs_vault_for(accounts, count_unreachable=False)

    def action_reload(self) -> None:
        """Read the accounts file again now."""
        if self.store is None:
            self.notify("The secret store is still opening; try again in a moment.")
            return
        self._reload()
        self.notify("Read the accounts file again.", title="Reloaded")


    # -- the table -----------------------------------------------------------------------------

    def _show_accounts(self, accounts: list[Account], select_id: str | None = None) -> None:
        table = self._table()
        if select_id is None and list(accounts) == self.accounts and table.row_count:
            return  # nothing changed (often our own write, seen again by the session's watch)
        current = select_id or self.selected_id
        self.accounts = list(accounts)
        table.fill(self.accounts)
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
            panel.show_report(account.name, report, checked_text(account))
        elif (account is not None and account.last_check is not None
              and account.removing is None and not self._verifying):
            panel.display = True
            panel.show_last_check(account.name, account.last_check, checked_text(account))
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

    def action_access_uses(self) -> None:
        """Show the selected account's recent uses (issue 19's access log)."""
        from tui.screens.access_uses import AccessUsesScreen

        account = self.selected
        if account is not None:
            self.app.push_screen(AccessUsesScreen(account.id, account.name))

    @on(DataTable.RowSelected, "#accounts")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_verify()
    @work(thread=True, exit_on_error=False, exclusive=True, group="accounts-store")
    def _reload(self, select_id: str | None = None) -> None:
        """Read accounts.json again through the session (after a save, a delete, ctrl+l): a
        damaged file is moved aside, as at start-up, and the notice says so."""
        from tui.services.session.unlock import SessionError
        from tui.services.store.model import AccountError

        session = self.session
        if session is None:
            return
        try:
            accounts = session.reload()
        except (AccountError, SessionError) as exc:
            self.app.call_from_thread(self._show_banner, "#load-problem", str(exc))
            return
        self.app.call_from_thread(self._accounts_read, list(accounts), session.load_problem,
                                  select_id)

    def _accounts_read(self, accounts: list[Account], problem: str | None,
                       select_id: str | None = None) -> None:
        # A save reads the file first and moves a damaged one aside (as at start-up): say so,
        # in place of the watch's "moved nothing", which is no longer true.
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
        if action == "access_uses":
            return True if self.selected is not None else None
        if action in {"edit", "rotate", "verify", "copy", "move"}:
            account = self.selected
            # A cut-short removal is never used: only deleting (which finishes it) is offered.
            usable = account is not None and account.removing is None
            return True if self.store is not None and usable else None
        if action == "history":
            return True if self.store is not None and self.selected is not None else None
        if action == "verify_all":
            return True if self.store is not None and self.accounts else None
        if action == "stop_verify":
            return self._verifying
        if action == "switch_environment":  # hidden unless a check found where the key belongs
            return (self.store is not None and self.session is not None
                    and self.belongs_to(self.selected) is not None and not self._verifying)
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
                f"Check the {exchange_label(account)} key of {account.name}",
                partial(self.verify_accounts, [account]),
            )

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

    def action_history(self) -> None:
        """Show the selected account's kept checks and their changes (read in a worker)."""
        from tui.screens.history import HistoryScreen

        account, session = self.selected, self.session
        if account is not None and session is not None:
            self.app.push_screen(HistoryScreen(account, session))

    def action_add(self) -> None:
        """Add an account."""
        self._with_secrets(lambda: self._open_form("add"))

    def action_edit(self) -> None:
        """Edit the selected account's settings (no secret is needed for that)."""
        account = self.selected
        if account is not None and self.store is not None:
            self._open_form("edit", account)

    def action_rotate(self) -> None:
        """Replace the selected account's key. The new secret goes where the old one is, so
        the vault is asked for only when the account keeps its secret there (a key kept in pass
        never opens, nor makes, a vault)."""
        account = self.selected
        if account is not None:
            self._with_secrets_for([account], lambda: self._open_form("rotate", account),
                                   create=True)

"""The set-up guide: one step in focus, the step list beside it, wording per exchange."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.widgets import Label, Static

from tui.content.faq import faq_topics
from tui.content.guide import DEFAULT_EXCHANGE, DEFAULT_TERMINAL, GuideStep, guide_steps
from tui.screens.section import SectionScreen
from tui.services.exchanges import exchange, exchanges
from tui.styles import tcss
from tui.widgets.choice_row import ChoiceRow
from tui.widgets.step_list import StepList

if TYPE_CHECKING:
    from tui.commands import PaletteCommand
    from tui.services.session.session import Session
    from tui.services.store.model import Account
    from tui.session_messages import AccountsChanged, SessionStateChanged

_SIDES = {"exchange": "On the exchange's website", "keylink": "In keylink",
          "terminal": "In the trading terminal"}



class GuideScreen(SectionScreen):
    """Walks through creating a key on the exchange and entering it in the terminal."""

    SECTION = "guide"
    SECTION_TITLE = "Guide"
    SUB_TITLE = "Set-up guide"
    AUTO_FOCUS = "StepList"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n,right,l", "next_step", "Next", tooltip="Go to the next step", id="guide.next"),
        Binding("p,left,h", "previous_step", "Prev", tooltip="Go to the previous step",
                id="guide.previous"),
        Binding("t", "choose_terminal", "Terminal",
                tooltip="Choose the terminal the key is for", id="guide.terminal"),
        Binding("e", "next_exchange", "Exchange",
                tooltip="Word the guide for the next exchange", id="guide.exchange"),
        Binding("w", "open_whitelist", "IP list",
                tooltip="Open the terminal's IP list for this exchange", id="guide.whitelist"),
        Binding("f", "related_faq", "Why?",
                tooltip="Open the question this step relates to", id="guide.faq"),
        Binding("a", "store_key", "Store key",
                tooltip="Open keylink's add form for this exchange", id="guide.store"),
        Binding("c", "copy_next", "Copy next",
                tooltip="Copy the checklist's next item for the terminal's form",
                id="guide.copy_next"),
        Binding("o", "other_account", "Other account",
                tooltip="Use another stored account of this exchange in the checklist",
                id="guide.other_account"),
        # When "Copy next" cannot run on the checklist step, c says why instead of nothing.
        # No description: the footer, help and palette list only the real action.
        Binding("c", "explain_copy", "", show=False),
    ]

    DEFAULT_CSS = tcss(__file__, "guide.tcss")

    def __init__(self) -> None:
        super().__init__()
        # The exchange picked last time, when the app remembers one (see Settings).
        settings = getattr(self.app, "settings", None)
        remembered = getattr(settings, "guide_exchange", "")
        self.exchange_id = remembered if remembered in exchanges() else DEFAULT_EXCHANGE
        from tui.services.terminals.catalogue import terminals

        chosen = getattr(settings, "guide_terminal", "")
        #: Whether the user chose the terminal (until then the guide names the default one and
        #: asks for theirs).
        self.terminal_chosen = chosen in terminals()
        self.terminal_id = chosen if self.terminal_chosen else DEFAULT_TERMINAL
        self.steps = guide_steps(self.exchange_id, self.terminal_id)
        self.step_list = StepList(id="steps")
        #: What the bindings' availability last depended on (see _render_step).
        self._binding_state: tuple[object, ...] = ()
        #: The steps and the index last drawn (see _step_highlighted).
        self._drawn: tuple[tuple[GuideStep, ...], int] | None = None
        #: The checklist: this exchange's accounts (from the app's session), the one in use,
        #: and the items done for it.
        self.checklist_accounts: list[Account] = []
        self.checklist_account: int = 0
        self.checklist_done: set[str] = set()
        self._checklist_problem = ""
        #: The exchange whose accounts were last read.
        self._checklist_exchange: str | None = None

    def compose_body(self) -> ComposeResult:
        from tui.services.terminals.catalogue import terminal

        with Horizontal(id="guide-bar"):
            yield Label("Terminal [dim](t)[/dim]")
            yield Label(terminal(self.terminal_id).name, id="terminal-name", markup=False)
            yield Label("Exchange [dim](e)[/dim]")
            yield ChoiceRow([(info.id, info.label) for info in exchanges().values()],
                            self.exchange_id, id="exchange")
        with Horizontal(id="guide-main"):
            yield self.step_list
            with VerticalScroll(id="step-detail", can_focus=False):
                yield Static(id="step-title")
                # Right under the title: notices (a copy's) stack up from the bottom right,
                # and at 80x24 they covered the checklist's next-item marker.
                yield Static(id="checklist")
                yield Static(id="step-body")
                yield Static(id="step-extra")
                yield Static(id="step-security")
                yield Static(id="step-links")

    def on_mount(self) -> None:
        self.step_list.set_steps([(s.id, s.title) for s in self.steps])
        self._render_step()

    # -- state -------------------------------------------------------------------------------

    @property
    def step_index(self) -> int:
        """Index of the step in focus."""
        return self.step_list.highlighted or 0

    @property
    def step(self) -> GuideStep:
        """The step in focus."""
        return self.steps[self.step_index]

    def go_to_step(self, index: int) -> None:
        """Focus step ``index`` (clamped to the list)."""
        index = max(0, min(index, len(self.steps) - 1))
        self.step_list.highlighted = index
        self._render_step()

    def _terminal_line(self) -> str:
        """How the terminal binds keys on this exchange, or a request to choose one (under the
        step: the guide asks for the terminal until one is chosen)."""
        from tui.screens.terminal_picker import binding_words
        from tui.services.terminals.catalogue import terminal

        item = terminal(self.terminal_id)
        if not self.terminal_chosen:
            return "Not your terminal? t picks yours"
        return f"{item.name}: {binding_words(item, self.exchange_id)}"

    def set_terminal(self, terminal_id: str) -> None:
        """Follow another terminal: its binding, list, form and field names; remembered."""
        if terminal_id == self.terminal_id and self.terminal_chosen:
            return
        self.terminal_id, self.terminal_chosen = terminal_id, True
        self._reword()
        remember = getattr(self.app, "remember", None)
        if callable(remember):
            remember(guide_terminal=terminal_id)

    def action_choose_terminal(self) -> None:
        from tui.screens.terminal_picker import TerminalPickerScreen

        def chosen(terminal_id: str | None) -> None:
            if terminal_id:
                self.set_terminal(terminal_id)

        self.app.push_screen(TerminalPickerScreen(self.exchange_id, self.terminal_id), chosen)

    def _reword(self) -> None:
        """Build the steps again for the exchange and terminal, on the same step if it exists."""
        from tui.services.terminals.catalogue import terminal

        current_id, current_index = self.step.id, self.step_index
        self.steps = guide_steps(self.exchange_id, self.terminal_id)
        ids = [s.id for s in self.steps]
        index = ids.index(current_id) if current_id in ids else current_index
        self.step_list.set_steps([(s.id, s.title) for s in self.steps], index)
        self.query_one("#terminal-name", Label).update(terminal(self.terminal_id).name)
        self._render_step()

    def set_exchange(self, exchange_id: str) -> None:
        """Word the guide for another exchange, staying on the same step where it exists."""
        if exchange_id == self.exchange_id:
            return
        self.exchange_id = exchange_id
        self.checklist_accounts, self.checklist_account, self.checklist_done = [], 0, set()
        # Setting the row's value posts nothing back (only a click does): see ChoiceRow.Changed.
        self.query_one("#exchange", ChoiceRow).value = exchange_id
        self._reword()
        remember = getattr(self.app, "remember", None)
        if callable(remember):
            remember(guide_exchange=exchange_id)

    def _render_step(self) -> None:
        step, index = self.step, self.step_index
        self._drawn = (self.steps, index)
        label = exchange(self.exchange_id).label
        self.step_list.border_title = f"Step {index + 1} of {len(self.steps)}"
        self.query_one("#step-title", Static).update(f"{index + 1}. {step.title}")
        detail = self.query_one("#step-detail", VerticalScroll)
        detail.border_title = _SIDES[step.side]
        # Names from the catalogue are data: plain Content, never parsed as markup.
        detail.border_subtitle = Content(self._terminal_line())
        self.query_one("#step-body", Static).update(step.body)
        extra = self.query_one("#step-extra", Static)
        extra.update(step.extra)
        extra.display = bool(step.extra)
        security = self.query_one("#step-security", Static)
        security.update(Content.assemble(("⚠ Security: ", "bold $text-warning"),
                                         Content.from_markup(step.security)))
        security.display = bool(step.security)
        checklist = self.query_one("#checklist", Static)
        checklist.display = step.checklist
        if step.checklist:
            checklist.update(self._checklist_content())
            self._load_checklist()
        links: list[str] = []
        if step.whitelist:
            links.append(f"[b]w[/b]  open the IP list for {label}")
        if step.faq:
            links.append(f"[b]f[/b]  {faq_topics()[step.faq].question}")
        links_widget = self.query_one("#step-links", Static)
        links_widget.update("\n".join(links))
        links_widget.display = bool(links)
        self.query_one("#step-detail", VerticalScroll).scroll_home(animate=False)
        # Refreshing bindings rebuilds the footer: only do it when what they depend on changed.
        state = (step.whitelist, step.faq is not None, index == 0, index == len(self.steps) - 1,
                 step.store, step.checklist)
        if state != self._binding_state:
            self._binding_state = state
            self.refresh_bindings()

    # -- events and actions ----------------------------------------------------------------

    @on(StepList.Highlighted, "#steps")
    def _step_highlighted(self) -> None:
        # The list also announces highlights this screen made itself and has already drawn
        # (on mount, on go_to_step): draw only what is new.
        if self._drawn != (self.steps, self.step_index):
            self._render_step()

    @on(ChoiceRow.Changed, "#exchange")
    def _exchange_chosen(self, event: ChoiceRow.Changed) -> None:
        self.set_exchange(event.value)

    def action_next_step(self) -> None:
        self.go_to_step(self.step_index + 1)

    def action_previous_step(self) -> None:
        self.go_to_step(self.step_index - 1)

    def action_next_exchange(self) -> None:
        ids = list(exchanges())
        self.set_exchange(ids[(ids.index(self.exchange_id) + 1) % len(ids)])

    async def action_store_key(self) -> None:
        """Open the accounts section's add form, set to this guide's exchange."""
        from tui.sections import SectionHost

        if self.step.store and isinstance(self.app, SectionHost):
            await self.app.show("accounts", f"add:{self.exchange_id}")

    # -- the paste-along checklist ----------------------------------------------------------

    def _items(self) -> list[tuple[str, str]]:
        """The form's items, in its order, each with the terminal's own name for it."""
        from tui.services.terminals.catalogue import FIELD_ITEMS, terminal

        item = terminal(self.terminal_id)
        fields = FIELD_ITEMS if exchange(self.exchange_id).has_passphrase else FIELD_ITEMS[:3]
        return [(field, item.field_name(field)) for field in fields]

    @property
    def checklist_current(self) -> Account | None:
        """The stored account the checklist copies from (None when there is none)."""
        if not self.checklist_accounts:
            return None
        return self.checklist_accounts[self.checklist_account % len(self.checklist_accounts)]

    def _checklist_content(self) -> Content:
        from tui.services.core.text import clean

        label = exchange(self.exchange_id).label
        account = self.checklist_current
        if self._checklist_problem:
            return Content(self._checklist_problem)
        if self._checklist_exchange != self.exchange_id:
            return Content("Reading the stored accounts…")
        if account is None:
            return Content.assemble(f"No {label} account is stored in keylink yet: go back to "
                                    "the step ", ("Store it in keylink", "bold"), " first.")
        parts: list[Content | str | tuple[str, str]] = [
            "From ", (clean(account.name, limit=24), "bold"),
        ]
        if len(self.checklist_accounts) > 1:
            number = self.checklist_account % len(self.checklist_accounts) + 1
            parts.append(f" ({number} of {len(self.checklist_accounts)}, o: another)")
        parts.append(":\n")
        items = self._items()
        next_field = next((f for f, _ in items if f not in self.checklist_done), None)
        for number, (field, name) in enumerate(items, start=1):
            done = field in self.checklist_done
            mark = ("✓", "$text-success") if done else ("→", "bold $text-accent") \
                if field == next_field else (" ", "")
            parts += [mark, f" {number}. {clean(name)}\n"]
        if not exchange(self.exchange_id).has_passphrase:
            from tui.services.terminals.catalogue import terminal

            passphrase = clean(terminal(self.terminal_id).field_name("passphrase"))
            parts.append(f"  {len(items) + 1}. {passphrase}: none on {label}, leave it empty\n")
        if next_field is None:
            parts.append(("All copied: submit the terminal's form.", "$text-success"))
        return Content.assemble(*parts).rstrip()

    def _redraw_checklist(self) -> None:
        if self.step.checklist:
            self.query_one("#checklist", Static).update(self._checklist_content())
            self.refresh_bindings()

    def _session(self) -> Session | None:
        """The app's session (None in an app without one, or until it is made), opened now if it
        was not yet: it is made and opened in a thread worker, and its messages tell this
        screen."""
        open_session = getattr(self.app, "open_session", None)
        if not callable(open_session):
            return None
        open_session()
        return getattr(self.app, "live_session", None)

    def _load_checklist(self) -> None:
        """Show this exchange's accounts from the session (the session's messages bring the
        accounts once it is open, and every change after)."""
        session = self._session()
        if session is None:
            return  # made and opened in a worker: its messages come back here
        from tui.services.session.session import SessionState

        if session.state is SessionState.OPEN:
            self._checklist_loaded(self.exchange_id, session.known_accounts)
        elif session.state in (SessionState.UNAVAILABLE, SessionState.FAILED):
            self._checklist_failed(session.reason)

    def on_session_state_changed(self, message: SessionStateChanged) -> None:
        if self.is_mounted and self.step.checklist:
            self._load_checklist()

    def on_accounts_changed(self, message: AccountsChanged) -> None:
        if self.is_mounted and self.step.checklist:
            self._checklist_loaded(self.exchange_id, message.accounts)

    def _checklist_failed(self, message: str) -> None:
        from tui.services.core.text import clean

        self._checklist_problem = f"The stored accounts cannot be read: {clean(message)}"
        self._redraw_checklist()

    def _checklist_loaded(self, exchange_id: str, every: Iterable[Account]) -> None:
        # This exchange's accounts for this terminal (or for no terminal named).
        accounts = [a for a in every if a.exchange == exchange_id
                    and getattr(a, "terminal", None) in (None, self.terminal_id)]
        before = self.checklist_current
        self._checklist_problem = ""
        self._checklist_exchange = exchange_id
        self.checklist_accounts = accounts
        ids = [a.id for a in accounts]
        if before is None or before.id not in ids:
            self.checklist_account, self.checklist_done = 0, set()
        else:
            self.checklist_account = ids.index(before.id)
        self._redraw_checklist()

    def on_screen_resume(self) -> None:
        # Back from the accounts section: an account may have been added there.
        if self.is_mounted and self.step.checklist:
            self._load_checklist()

    def action_other_account(self) -> None:
        """Use the next stored account of this exchange; its items start undone."""
        if len(self.checklist_accounts) > 1:
            self.checklist_account = (self.checklist_account + 1) % len(self.checklist_accounts)
            self.checklist_done = set()
            self._redraw_checklist()

    def action_copy_next(self) -> None:
        """Copy the next item not yet done (after the last, start again from the first); a
        locked vault is asked for by the session, in its dialog."""
        account, session = self.checklist_current, self._session()
        if not self.step.checklist or account is None or session is None:
            return
        items = [field for field, _ in self._items()]
        field = next((f for f in items if f not in self.checklist_done), None)
        if field is None:
            self.checklist_done = set()
            field = items[0]
        if session.secrets is None:
            return
        self._copy(session, account, field)

    def explain_unavailable(self, action: str) -> None:
        """For the palette: the same answer as pressing the action's key."""
        if action == "copy_next" and self.check_action("explain_copy", ()):
            self.action_explain_copy()
        else:
            self.notify("That cannot be used on this step.", markup=False)

    def _drop_copy_notices(self) -> None:
        """Take down the notices of earlier copies: the next copy replaces what they describe,
        and at 80x24 a stack of them covered the whole step, checklist included."""
        app = self.app
        # Textual has no public call to take down one notice (8.x): its own private one, kept
        # to this place; other notices (warnings, errors) stay.
        for notice in list(getattr(app, "_notifications", ())):
            if notice.title == "Copy":
                app._unnotify(notice)

    def action_explain_copy(self) -> None:
        """Why c copies nothing on the checklist step, and what to do about it."""
        if self._checklist_problem:
            message = self._checklist_problem
        elif self._checklist_exchange != self.exchange_id:
            message = "The stored accounts are still being read: press c again in a moment."
        else:
            label = exchange(self.exchange_id).label
            message = (f"Nothing to copy: no {label} account is stored in keylink yet. Go back "
                       "to the step \"Store it in keylink\" (p) and press a to add it.")
        self.notify(message, title="Nothing copied", severity="warning", markup=False)

    def _copy(self, session: Session, account: Account, field: str) -> None:
        from tui.screens.credential_copy import copy_field

        self._drop_copy_notices()

        def sent() -> None:
            current = self.checklist_current
            if current is not None and current.id == account.id:
                self.checklist_done.add(field)
                self._redraw_checklist()

        from tui.screens.handoff_gate import gated

        # The last check's verdict first (issue 19): a risky key is asked about.
        gated(self, session, account,
              lambda checked: copy_field(self, session, checked, field, on_sent=sent))

    def on_unmount(self) -> None:
        from tui.screens.credential_copy import clear_now

        clear_now(self.app)

    async def action_open_whitelist(self) -> None:
        from tui.sections import SectionHost

        if not isinstance(self.app, SectionHost):
            return
        from tui.services.terminals.catalogue import terminal

        entry = terminal(self.terminal_id).list_for(self.exchange_id)
        if entry is not None:
            await self.app.show("whitelist", entry.id)

    async def action_related_faq(self) -> None:
        from tui.sections import SectionHost

        if self.step.faq and isinstance(self.app, SectionHost):
            await self.app.show("faq", self.step.faq)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Works before the step list is mounted too (it then reads as step 1), so the footer's
        # first build already shows the first step's keys and need not be rebuilt.
        if action == "open_whitelist":
            return self.step.whitelist
        if action == "related_faq":
            return self.step.faq is not None
        if action == "store_key":
            return self.step.store
        if action == "copy_next":
            return self.step.checklist and (True if self.checklist_current else None)
        if action == "explain_copy":
            return self.step.checklist and self.checklist_current is None
        if action == "other_account":
            return self.step.checklist and len(self.checklist_accounts) > 1
        if action == "next_step":
            return None if self.step_index >= len(self.steps) - 1 else True
        if action == "previous_step":
            return None if self.step_index == 0 else True
        return True

    def reveal(self, target: str) -> None:
        """Focus the step with id ``target`` (ValueError if this exchange has no such step)."""
        ids = [s.id for s in self.steps]
        if target not in ids:
            raise ValueError(f"the guide has no step {target!r} for {self.exchange_id}")
        self.go_to_step(ids.index(target))

    def palette_commands(self) -> Iterable[PaletteCommand]:
        from tui.commands import PaletteCommand
        from tui.services.terminals.catalogue import terminals

        for item in terminals().values():
            yield PaletteCommand(f"Guide: terminal {item.name}",
                                 f"Follow how {item.name} binds keys and names its fields",
                                 partial(self.set_terminal, item.id))
        for info in exchanges().values():
            yield PaletteCommand(f"Guide: word it for {info.label}",
                                 f"Show the steps as they are on {info.label}",
                                 partial(self.set_exchange, info.id))
        for number, step in enumerate(self.steps, start=1):
            yield PaletteCommand(f"Guide: step {number}, {step.title}",
                                 f"Go to step {number} of the guide", partial(self.go_to_step,
                                                                              number - 1))

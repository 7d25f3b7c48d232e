"""One account's check history (``h`` on Accounts): every kept check, newest first, and what
changed at each.

The entries come from the session (``Session.history``) in a thread worker: the screen opens no
store and never blocks on the file. Everything shown is outside text (hosts, addresses, the
history file's words) and drawn as Text, never markup.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from tui.services.core.text import clean, plural
from tui.styles import tcss
from tui.widgets.report_panel import SEVERITY_MARKS

if TYPE_CHECKING:
    from tui.services.session.session import Session
    from tui.services.store.history import HistoryEntry
    from tui.services.store.model import Account

_STYLES = {"danger": "$error", "error": "$error", "warning": "$warning"}


def _rights(entry: HistoryEntry) -> str:
    if entry.status != "works":
        return "-"
    return "+".join(r for r in entry.rights if r != "read") or "read"


def _binding(entry: HistoryEntry) -> str:
    if entry.ip_restricted is None:
        return "-"
    if not entry.ip_restricted:
        return "none"
    return f"{len(entry.ips or ())} IPs" if entry.ips else "bound"


def _clock(entry: HistoryEntry) -> str:
    from tui.services.verify.changes import offset_words

    return "-" if entry.clock_offset_ms is None else offset_words(entry.clock_offset_ms)


def _when(stamp: str) -> str:
    return clean(stamp[:16].replace("T", " "))  # from the history file: outside text


class HistoryScreen(ModalScreen[None]):
    """The kept checks of one account and their changes; escape goes back."""

    DEFAULT_CSS = tcss(__file__, "history.tcss")

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,h,q", "close", "Back", id="history.close"),
    ]

    def __init__(self, account: Account, session: Session,
                 now: Callable[[], datetime] | None = None) -> None:
        super().__init__()
        self.account = account
        self._session = session
        #: The clock the age and staleness are told by (a test fixes it).
        self._now = now or (lambda: datetime.now(UTC))

    def compose(self) -> ComposeResult:
        yield Static(Text(f"History · {clean(self.account.name)}"), id="history-title")
        yield Static("Reading the history…", id="history-state", markup=False)
        yield DataTable(id="history-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="history-changes", markup=False)
        yield Static("escape back · ↑↓ move", id="history-keys", markup=False)

    def on_mount(self) -> None:
        table = self.query_one("#history-table", DataTable)
        for label in ("Checked (UTC)", "Status", "Worst", "Δ", "Rights", "IPs", "Expires",
                      "Clock"):
            # The worst cell is styled Content, which the table does not measure: sized here.
            table.add_column(label, width=7 if label == "Worst" else None)
        self._load()

    @work(thread=True, exit_on_error=False, exclusive=True)
    def _load(self) -> None:
        from tui.services.session.unlock import SessionError

        try:
            entries, problem = self._session.history().entries(self.account.id)
        except SessionError as exc:  # the session closed meanwhile: one line, nothing else
            entries, problem = [], str(exc)
        self.app.call_from_thread(self._show, entries, problem)

    def _show(self, entries: list[HistoryEntry], problem: str | None) -> None:
        from tui.services.core.check_age import check_max_age_or_default
        from tui.services.core.times import age_words, parse_utc
        from tui.services.verify.changes import change_words, drift_finding

        state = self.query_one("#history-state", Static)
        table = self.query_one("#history-table", DataTable)
        if problem:
            state.update(Text(clean(problem)))
            state.add_class("-warning")
            return
        if not entries:
            state.update("No checks kept yet: press v on Accounts to check this key.")
            return
        limit = check_max_age_or_default()
        last = parse_utc(entries[-1].checked_at)
        age = self._now() - last if last else None
        words = [f"{plural(len(entries), 'check')} kept, newest first; last {age_words(age)} ago"]
        stale = age is not None and age > limit
        if stale:
            words.append(f"stale (older than {age_words(limit)}): press v on Accounts")
        offsets = [e.clock_offset_ms for e in entries if e.clock_offset_ms is not None]
        drift = drift_finding(offsets)
        if drift is not None:
            words.append("the clock drifts further at each check")
        state.update(Text(" · ".join(words)))
        state.set_class(stale or drift is not None, "-warning")
        for entry in reversed(entries):
            worst_style = _STYLES.get(entry.worst, "")
            expires = clean((entry.expires_at or "-")[:10])
            worst = (Content.styled(clean(entry.worst), worst_style) if worst_style
                     else Content(clean(entry.worst)))
            table.add_row(Text(_when(entry.checked_at)), Text(clean(entry.status)), worst,
                          Text(str(len(entry.changes)) if entry.changes else ""),
                          Text(clean(_rights(entry))), Text(_binding(entry)), Text(expires),
                          Text(_clock(entry)))
        lines = []
        for entry in reversed(entries):
            for change in entry.changes:
                mark = SEVERITY_MARKS.get(change.severity, "·")
                # The words of the report's "Since last check": one wording per change.
                text = clean(f"{change_words(change)}.")
                lines.append(f"{_when(entry.checked_at)}  {mark} {text[:1].upper()}{text[1:]}")
        changes = self.query_one("#history-changes", Static)
        changes.update(Text("\n".join(lines) if lines else "No changes between these checks."))
        changes.border_title = "Changes"
        table.focus()

    def action_close(self) -> None:
        self.dismiss(None)


"""The accounts table: one row per stored account, its state and last check at a glance.

Every cell shows text from accounts.json (names, the stored check's summary and time), so each is
a Text or Content built from cleaned strings, never markup. The status word leads its cell and the
styled cells are sized here (the table measures plain strings only), so "✓ works" is never cut at
80 columns.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from rich.cells import cell_len
from rich.text import Text
from textual.content import Content
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey

from tui.services.core.status import CheckStatus, Severity
from tui.services.core.text import clean
from tui.widgets.report_panel import SEVERITY_MARKS

if TYPE_CHECKING:
    from tui.services.store.model import Account

#: How each stored check level is drawn in the table: theme colour (the worst finding's).
_CHECK_STYLES = {
    Severity.OK: "$success",
    Severity.INFO: "$text-primary",
    Severity.WARNING: "$warning",
    Severity.DANGER: "$error",
    Severity.ERROR: "$error",
}
_STATUS_MARKS = {CheckStatus.WORKS: "✓ works", CheckStatus.LOCKED: "● locked",
                 CheckStatus.FAILED: "✗ failed"}
#: The columns by key, in order; the status is second so a narrow terminal never cuts it off,
#: and the expiry third (a lapsing key is the one thing that stops a terminal by itself).
COLUMNS = (("Name", "name"), ("Status", "status"), ("Expires", "expires"),
           ("Exchange", "exchange"), ("Environment", "environment"), ("Checked", "checked"),
           ("Last check", "check"))
#: Styled cells the table cannot measure (it measures plain strings): sized in ``_fit_columns``.
_STYLED = (("status", 1), ("expires", 2), ("checked", -2), ("check", -1))


def expires_cell(account: Account, now: datetime | None = None) -> Content:
    """"12 d" to the key's expiry (by its exchange's rule, from the last check), "expired", or
    nothing; warning colour within 14 days, error colour within 3 or past."""
    from tui.services.core.times import days_left, parse_utc
    from tui.services.verify.expiry import expiry_severity

    check = account.last_check
    moment = parse_utc(check.expires_at) if check is not None else None
    if moment is None or account.removing is not None:
        return Content("")
    now = now or datetime.now(UTC)
    if moment <= now:
        return Content.styled("expired", "$error")
    days = days_left(moment, now)
    style = {Severity.DANGER: "$error", Severity.WARNING: "$warning"}.get(
        expiry_severity(days, False), "")
    return Content.styled(f"{days} d", style) if style else Content(f"{days} d")


def checked_cell(account: Account, now: datetime | None = None) -> Content:
    """When the last check ran; "stale" in warning colour once older than
    ``KEYLINK_CHECK_MAX_AGE`` (7 days unless set; a bad value counts as 7 here, ``keylink
    status`` says what is wrong with it)."""
    from tui.services.core.check_age import check_max_age_or_default
    from tui.services.core.times import parse_utc

    check = account.last_check
    if check is None or account.removing is not None:
        return Content("")
    when = clean(format_checked_at(check.checked_at))
    moment = parse_utc(check.checked_at)
    limit = check_max_age_or_default()
    if moment is not None and (now or datetime.now(UTC)) - moment > limit:
        return Content.styled(f"{when} stale", "$warning")
    return Content(when)


def format_checked_at(stamp: str) -> str:
    """An ISO UTC time stamp as local ``YYYY-MM-DD HH:MM`` (the raw text if it does not parse,
    or if its local time falls outside the calendar: 9999-12-31 23:59 UTC, east of Greenwich)."""
    from tui.services.core.times import parse_utc

    moment = parse_utc(stamp)
    if moment is None:
        return stamp
    try:
        return moment.astimezone().strftime("%Y-%m-%d %H:%M")
    except OverflowError:
        return stamp


def environment_label(account: Account) -> str:
    from tui.services.exchanges import exchange

    try:
        return exchange(account.exchange).environment(account.environment).label
    except KeyError:
        return f"Custom ({urlsplit(account.base_url).netloc or account.base_url})"


def exchange_label(account: Account) -> str:
    from tui.services.exchanges import exchanges

    info = exchanges().get(account.exchange)
    return info.label if info else account.exchange


def account_cells(account: Account) -> tuple[Any, ...]:
    """The row of ``account``: name, status, expires, exchange, environment, checked, last
    check."""
    check = account.last_check
    if account.removing is not None:
        # Its secret may be gone: the row says so and what finishes it, nothing else.
        status = Content.styled("! removal cut short", "$error")
        detail = Content("its secret may be gone: press d to finish removing it")
    elif check is None:
        # Italic in the table's own colour: readable on plain and zebra rows alike.
        status: Content = Content.styled("not checked", "italic")
        detail = Content("")
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
    # Names and labels come from accounts.json (outside text): Text cells, never markup. The
    # time is checked_cell's, with its stale mark.
    name, exchange_text, environment = (
        Text(clean(cell)) for cell in (account.name, exchange_label(account),
                                       environment_label(account)))
    return (name, status, expires_cell(account), exchange_text, environment,
            checked_cell(account), detail)


class AccountsTable(DataTable[Any]):
    """The accounts, one row each, keyed by account id (the screen keeps the list)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        for label, key in COLUMNS:
            self.add_column(label, key=key)

    def fill(self, accounts: list[Account]) -> None:
        """Show ``accounts`` in place of the rows shown (the cursor is the caller's)."""
        self.clear()
        rows = [account_cells(account) for account in accounts]
        for account, row in zip(accounts, rows, strict=True):
            self.add_row(*row, key=account.id)
        self._fit_columns(rows)

    def update_account(self, account: Account, accounts: list[Account]) -> None:
        """Redraw the row of ``account`` (``accounts``: every row, for the column widths)."""
        row = account_cells(account)
        rows = [row if a.id == account.id else account_cells(a) for a in accounts]
        for (_label, column), value in zip(COLUMNS, row, strict=True):
            self.update_cell(account.id, column, value,
                             update_width=column not in {key for key, _i in _STYLED})
        self._fit_columns(rows)

    def _fit_columns(self, rows: list[tuple[Any, ...]]) -> None:
        # The table measures plain strings only; its styled cells are sized here, from the
        # rows as drawn (each row's cells made once: they read the clock and the settings).
        for key, index in _STYLED:
            column = self.columns[ColumnKey(key)]
            widths = [cell_len(str(column.label))]
            widths += [cell_len(row[index].plain) for row in rows]
            column.content_width = max(widths)
        self.refresh()

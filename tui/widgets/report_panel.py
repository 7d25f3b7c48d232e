"""The result of verifying a key: findings coloured by severity, the facts, the whitelist diff."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from tui.services.core.status import CheckStatus, Severity
from tui.services.core.text import clean
from tui.services.exchanges.base import PERMISSIONS, ErrorKind

if TYPE_CHECKING:
    from tui.services.store.model import LastCheck
    from tui.services.verify.report import KeyReport

#: Finding severities, worst first, with the mark shown before each line. A danger (funds at
#: risk: the key can withdraw) has its own mark: "!" is a warning and "✗" a check that failed.
SEVERITY_MARKS = {Severity.DANGER: "‼", Severity.ERROR: "✗", Severity.WARNING: "!",
                  Severity.INFO: "i", Severity.OK: "✓"}
#: Plain words for the key types the exchanges report.
_KEY_TYPES = {
    "linked": "linked to a third-party app (IPs preset by the exchange)",
    "personal": "personal (system-generated)",
}


def _fmt_ms(value: float | None) -> str:
    return "not measured" if value is None else f"{value:.0f} ms"


def _fmt_offset(offset_ms: int | None) -> str:
    """The exchange's clock minus ours, with which way this computer is off."""
    if offset_ms is None:
        return "not measured"
    if offset_ms == 0:
        return "0 ms (in step with the exchange)"
    side = "behind" if offset_ms > 0 else "ahead of"
    return f"{offset_ms:+d} ms (this computer is {abs(offset_ms)} ms {side} the exchange)"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _headline(report: KeyReport) -> str:
    """One sentence: how the check ended, and how much needs attention."""
    if report.status == CheckStatus.FAILED:
        return "✗ The check failed: the key could not be confirmed."
    if report.status == CheckStatus.LOCKED:
        if report.error is not None and report.error.kind == ErrorKind.RIGHTS_HIDDEN:
            return "● The key exists, but the exchange will not show its rights to it."
        return ("● The key exists and is locked to other addresses: its rights cannot be read "
                "from here.")
    dangers = sum(f.severity == Severity.DANGER for f in report.findings)
    warnings = sum(f.severity == Severity.WARNING for f in report.findings)
    if not dangers and not warnings:
        return "✓ The key works and nothing needs attention."
    parts = []
    if dangers:
        parts.append(_plural(dangers, "problem"))
    if warnings:
        parts.append(_plural(warnings, "warning"))
    mark = SEVERITY_MARKS["danger" if dangers else "warning"]
    if report.can_withdraw:
        return f"{mark} The key works, but it can withdraw funds: {' and '.join(parts)}."
    return f"{mark} The key works, with {' and '.join(parts)} to look at."


def headline_class(report: KeyReport) -> str:
    """The headline's colour class: red for a failed check, else the worst finding's colour (a key
    that can withdraw is never green)."""
    if report.status == CheckStatus.FAILED:
        return "-danger"
    return f"-{report.worst}"


def stored_mark(check: LastCheck) -> tuple[str, str]:
    """The mark and severity class of a stored check ("✗", "danger" for one that failed): the same
    marks the table and a full report use."""
    outcome = check.outcome
    if outcome == "failed":
        return "✗", "danger"
    if outcome == "locked":
        return "●", check.worst if check.worst in SEVERITY_MARKS else "info"
    if check.worst in ("warning", "danger"):
        return SEVERITY_MARKS[check.worst], check.worst
    return "✓", check.worst if check.worst in SEVERITY_MARKS else "ok"


def _text(text: str) -> Content:
    """Outside text (exchange messages, addresses) as plain content: never markup."""
    return Content(clean(text))


class ReportPanel(VerticalScroll, can_focus=True):
    """Shows one :class:`KeyReport` (or a short message when there is none)."""

    DEFAULT_CSS = """
    ReportPanel {
        height: auto;
        max-height: 50%;
        border: round $primary-muted;
        border-title-color: $text;
        padding: 0 1;
    }
    ReportPanel:focus {
        border: round $primary;
    }
    ReportPanel .headline { text-style: bold; }
    ReportPanel .headline.-ok { color: $success; }
    ReportPanel .headline.-info { color: $text-primary; }
    ReportPanel .headline.-warning { color: $warning; }
    ReportPanel .headline.-error { color: $error; }
    ReportPanel .headline.-danger { color: $error; }
    ReportPanel .fact { color: $text; }
    ReportPanel .section { text-style: bold; margin-top: 1; }
    ReportPanel .finding.-danger { color: $error; }
    ReportPanel .finding.-error { color: $error; }
    ReportPanel .finding.-warning { color: $warning; }
    ReportPanel .finding.-info { color: $text-muted; }
    ReportPanel .finding.-ok { color: $success; }
    ReportPanel .hint { color: $text-muted; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.border_title = "Verification"

    def compose(self) -> ComposeResult:
        yield Static("Select an account and press v to check its key.", classes="hint")

    def show_message(self, text: str) -> None:
        """Replace the panel's content with one line of text."""
        self.remove_children()
        self.mount(Static(text, classes="hint", markup=False))

    def show_report(self, account_name: str, report: KeyReport, checked_at: str = "") -> None:
        """Render ``report`` for the account called ``account_name``."""
        self.border_title = Content(f"Verification · {clean(account_name)}")
        self.border_subtitle = Content(clean(checked_at))  # from accounts.json
        self.remove_children()
        self.mount_all(self._lines(report))
        self.scroll_home(animate=False)

    def show_last_check(self, account_name: str, check: LastCheck, checked_at: str = "") -> None:
        """Show the verdict kept in accounts.json from an earlier session: only its summary is
        stored, so the panel says that and how to see every finding (no network here)."""
        self.border_title = Content(f"Verification · {clean(account_name)}")
        self.border_subtitle = Content(clean(checked_at))
        mark, level = stored_mark(check)
        self.remove_children()
        self.mount_all([
            # The summary comes from accounts.json: outside text, never markup.
            Static(_text(f"{mark} Last check: {check.summary}"), classes=f"headline -{level}"),
            Static("Only this summary is kept between sessions: press v to check again and see "
                   "every finding.", classes="hint", markup=False),
        ])
        self.scroll_home(animate=False)

    def _lines(self, report: KeyReport) -> list[Static]:
        lines: list[Static] = []
        lines.append(Static(_headline(report), classes=f"headline {headline_class(report)}",
                            markup=False))
        if report.error is not None:
            # The error's words and fix are in the findings below; here: the code and what the
            # exchange itself said, for a support ticket.
            error = report.error
            said = error.exchange_message and f" · the exchange said: {error.exchange_message}"
            lines.append(Static(_text(f"Error code {error.code}{said}"), classes="fact"))

        # Changes are findings too (they count for the headline), shown under their own title
        # from the report's changes (the findings' words say since when; the title does here).
        findings = [f for f in report.findings if not f.code.startswith("changed-")]
        if report.previous_checked_at is not None:
            from tui.services.verify.changes import change_words

            since = report.previous_checked_at[:16].replace("T", " ")
            lines.append(Static(_text(f"Since last check ({since} UTC)"), classes="section"))
            if not report.changes:
                lines.append(Static("✓ Nothing changed.", classes="finding -ok"))
            for change in report.changes:
                mark = SEVERITY_MARKS.get(Severity(change.severity), "·")
                text = f"{change_words(change)}."
                lines.append(Static(_text(f"{mark} {text[:1].upper()}{text[1:]}"),
                                    classes=f"finding -{change.severity}"))
        if findings:
            lines.append(Static("Findings", classes="section"))
            for finding in findings:
                mark = SEVERITY_MARKS.get(finding.severity, "·")
                lines.append(Static(_text(f"{mark} {finding.message}"),
                                    classes=f"finding -{finding.severity}"))

        probe = report.probe
        if probe is not None and probe.asked:
            asked = ", ".join(answer.host for answer in probe.asked)
            lines.append(Static(_text(f"Hosts asked: {asked}"), classes="fact"))
        if probe is not None and probe.belongs_to is not None:
            lines.append(Static(_text(f"Press b to move this account to {probe.belongs_to} and "
                                      "check it again."), classes="hint"))

        if report.whitelist_checked:
            lines.append(Static("Whitelist", classes="section"))
            missing, extra = report.whitelist_missing, report.whitelist_extra
            if not missing and not extra:
                lines.append(Static("✓ The key's addresses cover the terminal's list.",
                                    classes="finding -ok"))
            if missing:
                lines.append(Static(_text(f"! Not covered by the key ({len(missing)}): "
                                          f"{', '.join(missing)}"),
                                    classes="finding -warning"))
            if extra:
                lines.append(Static(_text(f"! Bound but covering no terminal address "
                                          f"({len(extra)}): {', '.join(extra)}"),
                                    classes="finding -warning"))

        facts = [("Status", report.status or ""), ("Host", report.host or "unknown"),
                 ("Latency", _fmt_ms(report.latency_ms))]
        facts.append(("Clock offset", _fmt_offset(report.clock_offset_ms)))
        if report.seen_ip:
            facts.append(("Seen as", report.seen_ip))
        if report.key_type:
            facts.append(("Key type", _KEY_TYPES.get(report.key_type, report.key_type)))
        elif report.linked:
            facts.append(("Key type", "linked to the terminal (this account's setting)"))
        if report.status == CheckStatus.WORKS:
            shown = [p for p in PERMISSIONS if p in report.permissions]
            rights = ", ".join(shown) or "none"
            if report.unknown_rights:
                rights += f" ({', '.join(report.unknown_rights)})"
            facts.append(("Permissions", rights))
        else:
            facts.append(("Permissions", "not readable from here"))
        if report.ip_restricted is not None:
            if report.ips:
                count = len(report.ips)
                bound = f"bound to {count} address {'entry' if count == 1 else 'entries'}"
            elif report.ip_restricted:
                bound = "bound (the exchange does not list the addresses)"
            else:
                bound = "none: the key works from any address"
            facts.append(("IP binding", bound))
        if report.expires_at is not None and report.expires_at <= report.checked_at:
            facts.append(("Expires", f"lapsed on {report.expires_at:%Y-%m-%d}"))
        elif report.days_left is not None:
            when = (f" ({report.expires_at:%Y-%m-%d})"
                    if report.expires_at and report.expires_at > report.checked_at else "")
            left = "within a day" if report.days_left <= 1 else f"in {report.days_left} days"
            facts.append(("Expires", f"{left}{when}"))
        elif report.expires_at is not None:
            past = report.expires_at <= report.checked_at
            facts.append(("Expires", f"{'lapsed on' if past else 'on'} "
                                     f"{report.expires_at:%Y-%m-%d}"))
        if report.trading_lapses_at is not None:
            past = report.trading_lapses_at <= report.checked_at
            facts.append(("Trading right", f"{'lapsed on' if past else 'lapses on'} "
                                           f"{report.trading_lapses_at:%Y-%m-%d}"))
        lines.append(Static("Details", classes="section"))
        for label, value in facts:
            lines.append(Static(_text(f"{label + ':':<14} {value}"), classes="fact"))
        return lines

"""The result of verifying a key: findings coloured by severity, the facts, the whitelist diff."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from tui.services.exchanges.base import PERMISSIONS
from tui.services.text import clean

if TYPE_CHECKING:
    from tui.services.verify import KeyReport

#: Finding severities, worst first, with the mark shown before each line.
SEVERITY_MARKS = {"danger": "✗", "warning": "!", "info": "i", "ok": "✓"}
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


def _headline(report: KeyReport) -> str:
    """One sentence: did the key work, and how much needs attention."""
    if not report.ok:
        return "✗ The check failed: the key could not be confirmed."
    dangers = sum(f.severity == "danger" for f in report.findings)
    warnings = sum(f.severity == "warning" for f in report.findings)
    if not dangers and not warnings:
        return "✓ The key works and nothing needs attention."
    parts = []
    if dangers:
        parts.append(f"{dangers} problem{'s' if dangers > 1 else ''}")
    if warnings:
        parts.append(f"{warnings} warning{'s' if warnings > 1 else ''}")
    return f"✓ The key works, with {' and '.join(parts)} to look at."


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
    ReportPanel .headline.-failed { color: $error; }
    ReportPanel .fact { color: $text; }
    ReportPanel .section { text-style: bold; margin-top: 1; }
    ReportPanel .finding.-danger { color: $error; }
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

    def _lines(self, report: KeyReport) -> list[Static]:
        lines: list[Static] = []
        state = "-ok" if report.ok else "-failed"
        lines.append(Static(_headline(report), classes=f"headline {state}", markup=False))
        if report.error is not None:
            # The error's words and fix are in the findings below; here: the code and what the
            # exchange itself said, for a support ticket.
            error = report.error
            said = (error.exchange_message
                    and f" · the exchange said: {clean(error.exchange_message)}")
            lines.append(Static(f"Error code {error.code}{said}", classes="fact", markup=False))

        if report.findings:
            lines.append(Static("Findings", classes="section"))
            for finding in report.findings:
                mark = SEVERITY_MARKS.get(finding.severity, "·")
                lines.append(
                    Static(
                        f"{mark} {clean(finding.message)}",
                        classes=f"finding -{finding.severity}",
                        markup=False,
                    )
                )

        if report.whitelist_checked:
            lines.append(Static("Whitelist", classes="section"))
            missing, extra = report.whitelist_missing, report.whitelist_extra
            if not missing and not extra:
                lines.append(
                    Static("✓ The key's IPs match the terminal's list.", classes="finding -ok")
                )
            if missing:
                lines.append(
                    Static(
                        f"✗ Missing from the key ({len(missing)}): {clean(', '.join(missing))}",
                        classes="finding -danger",
                        markup=False,
                    )
                )
            if extra:
                lines.append(
                    Static(
                        f"! Bound but not in the list ({len(extra)}): {clean(', '.join(extra))}",
                        classes="finding -warning",
                        markup=False,
                    )
                )

        facts = [("Host", report.host or "unknown"), ("Latency", _fmt_ms(report.latency_ms))]
        facts.append(("Clock offset", _fmt_offset(report.clock_offset_ms)))
        if report.key_type:
            facts.append(("Key type", _KEY_TYPES.get(report.key_type, report.key_type)))
        if report.error is None:
            shown = [p for p in PERMISSIONS if p in report.permissions]
            facts.append(("Permissions", ", ".join(shown) or "none"))
        if report.ip_restricted is not None:
            if report.ips:
                bound = f"bound to {len(report.ips)} address(es)"
            elif report.ip_restricted:
                bound = "bound (the exchange does not list the addresses)"
            else:
                bound = "none: the key works from any address"
            facts.append(("IP binding", bound))
        if report.days_left is not None:
            facts.append(("Expires", f"in {report.days_left} day(s)"))
        elif report.expires_at is not None:
            facts.append(("Expires", report.expires_at.strftime("%Y-%m-%d")))
        lines.append(Static("Details", classes="section"))
        for label, value in facts:
            lines.append(Static(f"{label + ':':<14} {clean(value)}", classes="fact", markup=False))
        return lines

"""The yardstick for benchmarks/keys.py: a bare Textual app doing the same kind of work as
keylink's keys, with nothing of keylink in it.

First screen: Header + Static + Footer. `3`: a screen with a 20-row DataTable. `4`: a screen with
a Markdown document of FAQ size. `?`: a pushed modal help screen with a page of text; `?` again
closes it. ctrl+q quits (Textual's default).
"""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Header, Static

ADDRESSES = [f"18.167.{n}.{100 + n}" for n in range(20)]
MARKDOWN = "# Questions and answers\n\n" + "\n\n".join(
    f"## Question {n}: why would a key need this?\n\n"
    + "An answer of a few sentences, as a FAQ has. " * 6
    for n in range(1, 9)
)
HELP = "Keys and help\n\n" + "\n".join(
    f"  {key:<10} does what the key {n} does in this section" for n, key in enumerate(
        ["1", "2", "3", "4", "?", "esc", "^q", "^p", "n", "p", "e", "w", "f", "a", "e", "r",
         "d", "v", "V", "u", "c", "y", "f", "o", "s", "/", "a", "j", "k", "esc"] * 2)
)


class TableScreen(Screen[None]):
    DEFAULT_CSS = "TableScreen DataTable { border: round $primary; height: 1fr; }"

    def compose(self) -> ComposeResult:
        # Imported on first use, as keylink imports its screens: the first paint does not pay.
        from textual.widgets import DataTable

        yield Header()
        table: DataTable[str] = DataTable(cursor_type="row", zebra_stripes=True)
        table.border_title = "20 addresses"
        table.add_columns("#", "Address")
        for number, address in enumerate(ADDRESSES, start=1):
            table.add_row(str(number), address)
        yield table
        yield Footer()


class MarkdownScreen(Screen[None]):
    def compose(self) -> ComposeResult:
        from textual.widgets import Markdown

        yield Header()
        with VerticalScroll():
            yield Markdown(MARKDOWN)
        yield Footer()


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("question_mark,escape", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(HELP, markup=False)


class Bare(App[None]):
    BINDINGS = [
        Binding("3", "switch_mode('table')", "Table"),
        Binding("4", "switch_mode('markdown')", "Markdown"),
        Binding("question_mark", "help", "Help"),
    ]
    MODES = {"table": TableScreen, "markdown": MarkdownScreen}

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("hello")
        yield Footer()

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())


if __name__ == "__main__":
    Bare().run()

"""Which terminal will use the key: a list of every terminal, with how it binds keys on the
exchange in view. The guide opens it (t); its steps then follow the terminal chosen."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from tui.services.core.text import clean
from tui.services.exchanges import exchange
from tui.services.terminals.catalogue import Binding as KeyBinding
from tui.services.terminals.catalogue import Terminal, terminals
from tui.styles import tcss

#: How each binding reads in the list, short enough for 80 columns.
_SHORT = {
    KeyBinding.LINK: "linked by {exchange}",
    KeyBinding.MANUAL: "published IP list",
    KeyBinding.SERVED: "served IP list",
    KeyBinding.PER_USER: "your own IP list, from its app",
    KeyBinding.SELF_HOSTED: "your own server",
    KeyBinding.NONE: "no IP list",
}


def binding_words(item: Terminal, exchange_id: str) -> str:
    """How ``item`` binds keys on ``exchange_id``, in a few words."""
    return _SHORT[item.binding(exchange_id)].format(exchange=exchange(exchange_id).label)


class TerminalPickerScreen(ModalScreen["str | None"]):
    """Dismisses with the chosen terminal's id, or None (escape)."""

    DEFAULT_CSS = tcss(__file__, "terminal_picker.tcss")

    BINDINGS = [
        Binding("escape", "dismiss_none", "Cancel", id="terminal_picker.cancel"),
    ]

    def __init__(self, exchange_id: str, current: str) -> None:
        super().__init__()
        self.exchange_id = exchange_id
        self.current = current

    def compose(self) -> ComposeResult:
        label = exchange(self.exchange_id).label
        options = []
        for item in terminals().values():
            how = binding_words(item, self.exchange_id)
            # Names come from keylink's own catalogue; cleaned all the same.
            options.append(Option(f"{clean(item.name):<20} {how}", id=item.id))
        with Vertical(id="dialog"):
            yield Static(f"Which terminal will use the key? (on {label})", id="title",
                         markup=False)
            yield OptionList(*options, id="terminals", markup=False)
            yield Static("enter: choose · escape: keep the current one", id="hint",
                         markup=False)

    def on_mount(self) -> None:
        options = self.query_one("#terminals", OptionList)
        ids = list(terminals())
        options.highlighted = ids.index(self.current) if self.current in ids else 0
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)

"""Pick a secret store: the stores keylink could use here, each with why it can or cannot."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from tui.services.core.text import clean_lines
from tui.styles import tcss


class StoreChoiceScreen(ModalScreen[str | None]):
    """Dismisses with the chosen store's name, or None (escape). A store that cannot be used
    here is listed, greyed out, with why: the choice is never silently another store."""

    DEFAULT_CSS = tcss(__file__, "store_choice.tcss")

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="store_choice.cancel")]

    def __init__(self, title: str, options: list[tuple[str, bool, str]],
                 current: str | None = None) -> None:
        """``options``: (name, usable, why) each; ``current``: the account's store (shown, not
        offered)."""
        super().__init__()
        self._title = title
        self._options = options
        self._current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(clean_lines(self._title), id="title", markup=False)
            items = []
            for name, usable, why in self._options:
                here = name == self._current
                label = f"{name}{' (its store now)' if here else ''}: {why}"
                items.append(Option(clean_lines(label), id=name,
                                    disabled=here or not usable))
            yield OptionList(*items, id="stores", markup=False)
            yield Static("enter moves it there · escape cancels", id="hint", markup=False)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)

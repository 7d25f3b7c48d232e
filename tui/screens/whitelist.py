"""The whitelist viewer: a terminal's server addresses, ready for an exchange's IP field."""

from __future__ import annotations

import os
from collections.abc import Iterable
from functools import partial
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import DataTable, Input, Label, Select, Static

from tui.commands import PaletteCommand
from tui.screens.section import SectionScreen
from tui.services.core.text import clean
from tui.services.handoff.clipboard import CopyResult, copy_text
from tui.services.terminals import whitelist
from tui.styles import tcss
from tui.widgets.copy_panel import CopyPanel

_FILE_PREFIX = "file:"


def _count(count: int, singular: str, plural: str) -> str:
    return f"{count} {singular if count == 1 else plural}"


def _exchange_names(ids: Iterable[str]) -> str:
    from tui.services.terminals.catalogue import exchange_label

    if "*" in ids:
        return "every exchange"
    return ", ".join(exchange_label(i) for i in ids)


def _unroutable_warning(addresses: Iterable[str]) -> str:
    """A warning naming the addresses no exchange accepts ("" when there are none)."""
    found = whitelist.unroutable(addresses)
    if not found:
        return ""
    named = "; ".join(f"{address} is {why}" for address, why in found[:3])
    more = f"; and {len(found) - 3} more" if len(found) > 3 else ""
    noun = "address" if len(found) == 1 else "addresses"
    return (f"{len(found)} {noun} no exchange would accept: {named}{more}. "
            "Exchanges see the terminal's public address.")


class PathInput(Input):
    """The "load from file" path box: Tab completes the path, Escape closes the box."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel",
                tooltip="In the file box: close it without loading",
                id="whitelist.load.cancel"),
        Binding("tab", "complete", "Complete", show=False,
                tooltip="In the file box: complete the file or folder name",
                id="whitelist.load.complete"),
    ]

    def action_cancel(self) -> None:
        screen = self.screen
        if isinstance(screen, WhitelistScreen):
            screen.close_file_box()

    def action_complete(self) -> None:
        screen = self.screen
        if isinstance(screen, WhitelistScreen):
            screen.complete_in_box(self.value)


def complete_path(typed: str, cwd: Path) -> tuple[str, list[str]]:
    """Complete ``typed`` as far as the names in its folder agree.

    Returns the new text and the names that still match (more than one: the user must choose).
    A single folder match gets a trailing "/" so the next Tab goes inside it. Relative paths
    start from ``cwd``; ``~`` is the home folder.
    """
    head, _, prefix = typed.rpartition("/")
    folder_text = head + "/" if head or typed.startswith("/") else ""
    folder = Path(folder_text or ".").expanduser()
    if not folder.is_absolute():
        folder = cwd / folder
    try:
        entries = sorted(
            (entry.name + ("/" if entry.is_dir() else ""))
            for entry in os.scandir(folder)
            if entry.name.startswith(prefix) and (prefix.startswith(".") or
                                                  not entry.name.startswith("."))
        )
    except OSError:
        return typed, []
    if not entries:
        return typed, []
    # Character by character on purpose: the names share a folder, only their starts differ.
    common = os.path.commonprefix(entries)  # noqa: RUF071
    return folder_text + common, entries


class WhitelistScreen(SectionScreen):
    """Shows a whitelist profile (or a loaded file) and copies it in the chosen format."""

    SECTION = "whitelist"
    SECTION_TITLE = "Whitelist"
    SUB_TITLE = "Terminal IP whitelist"
    AUTO_FOCUS = "#addresses"
    WIDGET_BINDINGS = PathInput.BINDINGS

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("c", "copy_all", "Copy all",
                tooltip="Copy the whole list in the chosen format", id="whitelist.copy_all"),
        Binding("y,enter", "copy_address", "Copy one",
                tooltip="Copy the highlighted address", id="whitelist.copy_address"),
        Binding("f", "cycle_format", "Format",
                tooltip="Switch format: commas, one per line, spaces", id="whitelist.format"),
        Binding("o", "open_file_box", "Load file",
                tooltip="Load an updated list from a file", id="whitelist.load"),
        Binding("s", "next_profile", "Profile",
                tooltip="Show the next profile", id="whitelist.profile"),
        # Same words as the box's own Escape: the help shows one line for the two.
        Binding("escape", "close_file_box", "Close file box", show=False,
                tooltip="In the file box: close it without loading", id="whitelist.load.close"),
    ]

    DEFAULT_CSS = tcss(__file__, "whitelist.tcss")

    def __init__(self) -> None:
        super().__init__()
        #: Lists loaded from files this session, by their Select value.
        self.files: dict[str, whitelist.LoadResult] = {}
        self.list_id = whitelist.DEFAULT_PROFILE
        self.addresses: tuple[str, ...] = whitelist.profile(self.list_id).addresses
        self.fmt = whitelist.FORMATS[0]
        #: The last CopyResult (None before the first copy).
        self.last_copy: CopyResult | None = None

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="wl-bar"):
            yield Label("Profile")
            yield Select(self._profile_options(), value=self.list_id, allow_blank=False,
                         compact=True, id="profile")
        yield Static(id="wl-source", markup=False)
        yield Static(id="wl-warning", markup=False)
        yield Static(id="wl-error", markup=False)
        with Horizontal(id="wl-main"):
            yield DataTable(id="addresses", cursor_type="row", zebra_stripes=True)
            yield CopyPanel(id="copy")
        with Vertical(id="wl-load"):
            with Horizontal(id="wl-load-row"):
                yield Label("File")
                yield PathInput(placeholder="path to a text file of IP addresses, then Enter",
                                id="path")
            yield Static(id="wl-load-hint")

    def on_mount(self) -> None:
        table = self.query_one("#addresses", DataTable)
        table.add_columns("#", "Address")
        self.query_one("#wl-error", Static).display = False
        self._show_list()
        self._hint_folder()

    # -- what is shown -----------------------------------------------------------------------

    def _profile_options(self) -> list[tuple[Content | str, str]]:
        options: list[tuple[Content | str, str]] = [
            (p.name, p.id) for p in whitelist.profiles().values()
        ]
        # A path is outside text: shown escaped, as Content so "[" in it is not markup.
        options += [(Content(f"File: {clean(result.source)}"), key)
                    for key, result in self.files.items()]
        return options

    def _source_line(self) -> Content:
        if self.list_id.startswith(_FILE_PREFIX):
            result = self.files[self.list_id]
            line = f"Loaded from {clean(result.source)}"
            if result.duplicates:
                line += f" ({_count(len(result.duplicates), 'duplicate', 'duplicates')} dropped)"
            return Content(line)
        profile = whitelist.profile(self.list_id)
        # The address on a line of its own, without "https://" (browsers add it): a long
        # one then fits 100 columns and wraps less at 80.
        where = profile.source_url.removeprefix("https://") or profile.source
        # Provenance as it is: an undated page says so, and so does a copy from a page that
        # is not the vendor's.
        when = f"taken {profile.date}" if profile.date else "undated,"
        copy = "" if profile.official else "unofficial copy: "
        return Content(
            f"{profile.terminal} · for {_exchange_names(profile.exchanges)} · "
            f"{when} from:\n{copy}{where}"
        )

    def _warning_line(self) -> str:
        if self.list_id.startswith(_FILE_PREFIX):
            return _unroutable_warning(self.addresses)
        profile = whitelist.profile(self.list_id)
        return whitelist.stale_warning(profile.date) or _unroutable_warning(profile.addresses)

    def _show_list(self) -> None:
        table = self.query_one("#addresses", DataTable)
        table.clear()
        for number, address in enumerate(self.addresses, start=1):
            table.add_row(str(number), Text(address), key=address)
        table.border_title = _count(len(self.addresses), "address", "addresses")
        self.query_one("#wl-source", Static).update(self._source_line())
        warning = self._warning_line()
        box = self.query_one("#wl-warning", Static)
        box.update(Content(warning))
        box.display = bool(warning)
        self._show_preview()

    def _show_preview(self) -> None:
        label = whitelist.FORMAT_LABELS[self.fmt]
        panel = self.query_one(CopyPanel)
        panel.show_preview(
            whitelist.format_addresses(self.addresses, self.fmt),
            Content.assemble(("c", "bold"), f" copies all {len(self.addresses)} as {label}; ",
                             ("f", "bold"), " changes the format; ", ("y", "bold"),
                             " copies one."),
        )
        panel.border_title = f"Preview · {label}"

    def show_list(self, list_id: str) -> None:
        """Show a shipped profile (its id) or a loaded file (its Select value)."""
        if list_id.startswith(_FILE_PREFIX):
            addresses = self.files[list_id].addresses
        else:
            addresses = whitelist.profile(list_id).addresses
        self.list_id, self.addresses = list_id, addresses
        select = self.query_one("#profile", Select)
        if select.value != list_id:
            # Set by us, so not a choice to act on: without this the Changed message would
            # come back to _profile_chosen after the list was already shown.
            with self.prevent(Select.Changed):
                select.value = list_id
        self._show_list()

    # -- loading a file ----------------------------------------------------------------------

    def load_path(self, path: str) -> None:
        """Load a whitelist file off the UI thread and show it. On failure the message names the
        bad lines and the list on screen stays as it was; the path box closes on success."""
        self._read_file(path)

    @work(thread=True, exclusive=True, group="load")
    def _read_file(self, path: str) -> None:
        # A slow disk or network mount must not freeze the screen; load_file itself refuses
        # FIFOs, terminals and devices, which would block or never end.
        try:
            result: whitelist.LoadResult | whitelist.WhitelistError = whitelist.load_file(path)
        except whitelist.WhitelistError as exc:
            result = exc
        self.app.call_from_thread(self._file_read, result)

    def _file_read(self, result: whitelist.LoadResult | whitelist.WhitelistError) -> None:
        error = self.query_one("#wl-error", Static)
        if isinstance(result, whitelist.WhitelistError):
            message = str(result)  # load_file escapes the path and the bad lines
            error.border_title = "File not loaded: the list below is unchanged"
            error.update(Content(message))
            error.display = True
            self.notify(message, title="File not loaded", severity="error", markup=False)
            return
        error.display = False
        key = f"{_FILE_PREFIX}{result.source}"
        self.files[key] = result
        select = self.query_one("#profile", Select)
        # set_options resets the value to the first option and says so with a Changed message;
        # that message is ours, not the user's, and must not switch the list back.
        with self.prevent(Select.Changed):
            select.set_options(self._profile_options())
        self.show_list(key)
        path_box = self.query_one("#path", PathInput)
        path_box.value = ""
        self.close_file_box()
        message = f"Loaded {_count(len(result.addresses), 'address', 'addresses')}"
        unroutable = _unroutable_warning(result.addresses)
        if result.duplicates:
            message += (f"; dropped {_count(len(result.duplicates), 'duplicate', 'duplicates')}: "
                        f"{', '.join(dict.fromkeys(result.duplicates))}")
        if unroutable:
            message += f". {unroutable}"
        if result.duplicates or unroutable:
            self.notify(message, title="Loaded, with a warning", severity="warning", markup=False)
        else:
            self.notify(message, title="File loaded", markup=False)
        return True

    def action_open_file_box(self) -> None:
        self.query_one("#wl-load").add_class("-open")
        self.query_one("#path", PathInput).focus()

    def _hint_folder(self, matches: list[str] | None = None) -> None:
        """The line under the path box: the names that match, "none matches" for an empty
        list, or the plain how-to for None."""
        hint = f"Tab completes names. Relative paths start from {clean(str(Path.cwd()))}"
        if matches:
            shown = ", ".join(clean(m) for m in matches[:8])
            more = f" and {len(matches) - 8} more" if len(matches) > 8 else ""
            hint = f"{len(matches)} names match: {shown}{more}"
        elif matches is not None:
            hint = "No file or folder starts with that name. " + hint
        self.query_one("#wl-load-hint", Static).update(Content(hint))

    @work(thread=True, exclusive=True, group="complete", exit_on_error=False)
    def complete_in_box(self, typed: str) -> None:
        """Complete the path in the file box (a folder is read off the UI thread)."""
        completed, matches = complete_path(typed, Path.cwd())
        self.app.call_from_thread(self._completed, typed, completed, matches)

    def _completed(self, typed: str, completed: str, matches: list[str]) -> None:
        path_box = self.query_one("#path", PathInput)
        if path_box.value != typed:
            return  # typed on meanwhile: that wins
        path_box.value = completed
        path_box.cursor_position = len(completed)
        # One match: completed, so the plain hint; none: say so; several: name them.
        self._hint_folder(matches if len(matches) != 1 else None)

    def action_close_file_box(self) -> None:
        self.close_file_box()

    def close_file_box(self) -> None:
        """Hide the path box and go back to the address table."""
        self.query_one("#wl-load").remove_class("-open")
        self.query_one("#addresses", DataTable).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "close_file_box":
            # Only while the box is open; otherwise Escape goes back to the previous section.
            return self.is_mounted and bool(self.query("#wl-load.-open"))
        return True

    @on(Input.Submitted, "#path")
    def _path_submitted(self, event: Input.Submitted) -> None:
        path = event.value.strip()
        if not path:
            self.notify("Type the path of a file first.", severity="warning")
            return
        self.load_path(path)

    # -- copying -----------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="copy")
    def copy(self, text: str, what: str) -> CopyResult:
        """Copy ``text`` (described as ``what``) off the UI thread: pyperclip may run a
        clipboard program. OSC 52 itself is written by the app, on its own thread."""
        from tui.services.handoff.clipboard import OSC52, tmux_advice, tmux_set_clipboard

        app = self.app
        result = copy_text(text, partial(app.call_from_thread, app.copy_to_clipboard))
        advice = tmux_advice(tmux_set_clipboard()) if OSC52 in result.ways else ""
        app.call_from_thread(self._copied, result, what, advice)
        return result

    def _copied(self, result: CopyResult, what: str, advice: str = "") -> None:
        self.last_copy = result
        how = result.describe()
        status = f"{what[0].upper()}{what[1:]}: {how}."
        if advice:
            status += f"\n{advice}"
        # Content, not markup: a loaded file's addresses and tmux's answer are outside text.
        self.query_one(CopyPanel).show_copied(
            result.text,
            Content(f"{status}\nNo luck pasting? Select the text below and copy it by hand."),
        )
        # No toast: the panel says it where the user is looking, and toasts would pile up over
        # the panel itself at 80 columns.

    def action_copy_all(self) -> None:
        label = whitelist.FORMAT_LABELS[self.fmt]
        count = _count(len(self.addresses), "address", "addresses")
        self.copy(whitelist.format_addresses(self.addresses, self.fmt), f"{count} ({label})")

    def action_copy_address(self) -> None:
        table = self.query_one("#addresses", DataTable)
        if not self.addresses:
            return
        row = max(0, min(table.cursor_row, len(self.addresses) - 1))
        address = self.addresses[row]
        self.copy(address, f"{address} (address {row + 1} of {len(self.addresses)})")

    @on(DataTable.RowSelected, "#addresses")
    def _row_selected(self) -> None:
        self.action_copy_address()

    def action_cycle_format(self) -> None:
        formats = whitelist.FORMATS
        self.set_format(formats[(formats.index(self.fmt) + 1) % len(formats)])

    def set_format(self, fmt: str) -> None:
        """Use format ``fmt`` (one of ``whitelist.FORMATS``) for copying the whole list."""
        if fmt not in whitelist.FORMATS:
            raise ValueError(f"unknown format {fmt!r}")
        self.fmt = fmt
        self._show_preview()

    def action_next_profile(self) -> None:
        keys = [value for _, value in self._profile_options()]
        self.show_list(keys[(keys.index(self.list_id) + 1) % len(keys)])

    @on(Select.Changed, "#profile")
    def _profile_chosen(self, event: Select.Changed) -> None:
        # A message about a value the selector no longer holds is stale: acting on it would
        # switch back to an old list (and the switch would send another one, for ever).
        value = event.value
        if isinstance(value, str) and value == event.select.value and value != self.list_id:
            self.show_list(value)

    # -- hooks for the app -------------------------------------------------------------------

    def reveal(self, target: str) -> None:
        """Show profile ``target`` (ValueError for an unknown profile)."""
        try:
            whitelist.profile(target)
        except KeyError as exc:
            raise ValueError(exc.args[0]) from None
        self.show_list(target)

    def palette_commands(self) -> Iterable[PaletteCommand]:
        for profile in whitelist.profiles().values():
            yield PaletteCommand(f"Whitelist: show {profile.name}",
                                 f"{len(profile.addresses)} addresses, {profile.date}",
                                 partial(self.show_list, profile.id))
        for fmt in whitelist.FORMATS:
            yield PaletteCommand(f"Whitelist: format {whitelist.FORMAT_LABELS[fmt]}",
                                 "Use this format when copying the whole list",
                                 partial(self.set_format, fmt))

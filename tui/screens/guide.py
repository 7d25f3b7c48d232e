"""The set-up guide: one step in focus, the step list beside it, wording per exchange."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from functools import cache, partial
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.widgets import Label, OptionList, Static

from tui.screens.faq_topics import CONTENT_DIR, faq_topics
from tui.screens.section import SectionScreen
from tui.services.exchanges import exchange, exchanges
from tui.widgets.choice_row import ChoiceRow
from tui.widgets.step_list import StepList

if TYPE_CHECKING:
    from tui.commands import PaletteCommand

DEFAULT_EXCHANGE = "bybit"


class GuideStep(NamedTuple):
    """One step of the guide, worded for one exchange."""

    id: str
    #: "exchange" or "terminal": where the user does this step.
    side: str
    title: str
    body: str
    #: A warning that must stand out ("" when the step has none).
    security: str
    #: Exchange-specific additions and notes ("" when none).
    extra: str
    #: Id of the related FAQ topic, if any.
    faq: str | None
    #: True on the step that needs the terminal's IP list.
    whitelist: bool


@cache
def _raw_steps() -> tuple[dict[str, Any], ...]:
    raw = (CONTENT_DIR / "guide.toml").read_text(encoding="utf-8")
    return tuple(tomllib.loads(raw)["step"])


def guide_steps(exchange_id: str) -> tuple[GuideStep, ...]:
    """The guide's steps for one exchange: its button names, and its passphrase step only
    where the exchange has passphrases. KeyError for an unknown exchange."""
    info = exchange(exchange_id)
    secret_fields = (
        "the API key, the secret and the passphrase"
        if info.has_passphrase
        else "the API key and the secret"
    )
    words = {
        "exchange": info.label,
        "create_button": info.create_button,
        "linked_option": info.linked_option,
        "secret_fields": secret_fields,
    }
    steps: list[GuideStep] = []
    for raw in _raw_steps():
        if raw.get("requires") == "passphrase" and not info.has_passphrase:
            continue
        extra_parts = [raw.get("extra", {}).get(exchange_id, "").strip()]
        if raw.get("notes"):
            extra_parts.extend(f"{info.label}: {note}" for note in info.notes)
        steps.append(
            GuideStep(
                id=raw["id"],
                side=raw["side"],
                title=raw["title"],
                body=raw["body"].strip().format_map(words),
                security=raw.get("security", "").strip().format_map(words),
                extra="\n\n".join(part for part in extra_parts if part).format_map(words),
                faq=raw.get("faq"),
                whitelist=bool(raw.get("whitelist", False)),
            )
        )
    return tuple(steps)


_SIDES = {"exchange": "On the exchange's website", "terminal": "In the trading terminal"}


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
        Binding("e", "next_exchange", "Exchange",
                tooltip="Word the guide for the next exchange", id="guide.exchange"),
        Binding("w", "open_whitelist", "IP list",
                tooltip="Open the terminal's IP list for this exchange", id="guide.whitelist"),
        Binding("f", "related_faq", "Why?",
                tooltip="Open the question this step relates to", id="guide.faq"),
    ]

    DEFAULT_CSS = """
    GuideScreen {
        #guide-bar { height: 1; padding: 0 1; }
        #guide-bar Label { padding: 0 1 0 0; }
        #step-counter { dock: right; color: $text-muted; }
        #guide-main { height: 1fr; }
        #step-detail {
            width: 1fr;
            padding: 0 1;
            border: round $border-blurred;
            border-title-color: $text-muted;
        }
        #step-title { text-style: bold; color: $text-primary; margin-bottom: 1; }
        #step-extra { margin-top: 1; color: $text-secondary; }
        /* Security notes must stand out in every theme: a warning bar and tint. */
        #step-security {
            margin-top: 1;
            padding: 0 1;
            border-left: outer $warning;
            background: $warning 15%;
        }
        #step-links { margin-top: 1; color: $text-muted; }
    }
    """

    def __init__(self) -> None:
        super().__init__()
        # The exchange picked last time, when the app remembers one (see Settings).
        settings = getattr(self.app, "settings", None)
        remembered = getattr(settings, "guide_exchange", "")
        self.exchange_id = remembered if remembered in exchanges() else DEFAULT_EXCHANGE
        self.steps = guide_steps(self.exchange_id)
        self.step_list = StepList(id="steps")
        #: What the bindings' availability last depended on (see _render_step).
        self._binding_state: tuple[object, ...] = ()
        #: The steps and the index last drawn (see _step_highlighted).
        self._drawn: tuple[tuple[GuideStep, ...], int] | None = None

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="guide-bar"):
            yield Label("Exchange [dim](e)[/dim]")
            yield ChoiceRow([(info.id, info.label) for info in exchanges().values()],
                            self.exchange_id, id="exchange")
            yield Label(id="step-counter")
        with Horizontal(id="guide-main"):
            yield self.step_list
            with VerticalScroll(id="step-detail", can_focus=False):
                yield Static(id="step-title")
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

    def set_exchange(self, exchange_id: str) -> None:
        """Word the guide for another exchange, staying on the same step where it exists."""
        if exchange_id == self.exchange_id:
            return
        current_id, current_index = self.step.id, self.step_index
        self.exchange_id = exchange_id
        self.steps = guide_steps(exchange_id)
        ids = [s.id for s in self.steps]
        index = ids.index(current_id) if current_id in ids else current_index
        self.step_list.set_steps([(s.id, s.title) for s in self.steps], index)
        # Setting the row to the same value again posts nothing, so this does not loop.
        self.query_one("#exchange", ChoiceRow).value = exchange_id
        self._render_step()
        remember = getattr(self.app, "remember", None)
        if callable(remember):
            remember(guide_exchange=exchange_id)

    def _render_step(self) -> None:
        step, index = self.step, self.step_index
        self._drawn = (self.steps, index)
        label = exchange(self.exchange_id).label
        self.query_one("#step-counter", Label).update(f"Step {index + 1} of {len(self.steps)}")
        self.query_one("#step-title", Static).update(f"{index + 1}. {step.title}")
        self.query_one("#step-detail", VerticalScroll).border_title = _SIDES[step.side]
        self.query_one("#step-body", Static).update(step.body)
        extra = self.query_one("#step-extra", Static)
        extra.update(step.extra)
        extra.display = bool(step.extra)
        security = self.query_one("#step-security", Static)
        security.update(Content.assemble(("⚠ Security: ", "bold $text-warning"),
                                         Content.from_markup(step.security)))
        security.display = bool(step.security)
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
        state = (step.whitelist, step.faq is not None, index == 0, index == len(self.steps) - 1)
        if state != self._binding_state:
            self._binding_state = state
            self.refresh_bindings()

    # -- events and actions ----------------------------------------------------------------

    @on(OptionList.OptionHighlighted, "#steps")
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

    async def action_open_whitelist(self) -> None:
        from tui.sections import SectionHost

        if isinstance(self.app, SectionHost):
            await self.app.show("whitelist", exchange(self.exchange_id).default_whitelist)

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

        for info in exchanges().values():
            yield PaletteCommand(f"Guide: word it for {info.label}",
                                 f"Show the steps as they are on {info.label}",
                                 partial(self.set_exchange, info.id))
        for number, step in enumerate(self.steps, start=1):
            yield PaletteCommand(f"Guide: step {number}, {step.title}",
                                 f"Go to step {number} of the guide", partial(self.go_to_step,
                                                                              number - 1))

"""StepList: the numbered steps of a procedure beside the step in focus."""

from __future__ import annotations

from collections.abc import Sequence

from textual.widgets import OptionList
from textual.widgets.option_list import Option


class StepList(OptionList):
    """A numbered list of step titles; the highlighted option is the current step.

    Steps are given as ``(id, title)`` pairs; option ids are the step ids.
    """

    DEFAULT_CSS = """
    StepList {
        width: 28;
        height: 1fr;
        border: round $border-blurred;
        border-title-color: $text-muted;
        padding: 0;
        &:focus { border: round $border; border-title-color: $text; }
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Steps"

    def set_steps(self, steps: Sequence[tuple[str, str]], current: int = 0) -> None:
        """Replace the steps and highlight the one at index ``current``."""
        # Numbers right-aligned to the widest one, after a space: "  9" and " 10" line up and
        # neither touches the border.
        width = len(str(len(steps)))
        self.set_options(
            Option(f" {number:>{width}}  {title}", id=step_id)
            for number, (step_id, title) in enumerate(steps, start=1)
        )
        if steps:
            self.highlighted = max(0, min(current, len(steps) - 1))

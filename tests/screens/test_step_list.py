"""StepList on its own: keys, mouse, scrolling and what it announces, as the OptionList it
replaced did."""

from __future__ import annotations

from rich.style import Style
from textual import on
from textual.app import App, ComposeResult
from textual.strip import Strip

from tui.widgets.step_list import StepList

STEPS = [(f"s{n}", f"Step number {n}") for n in range(1, 13)]


class ListApp(App[None]):
    CSS = "StepList { height: 8; }"  # 6 rows inside the border: the 12 steps must scroll

    def __init__(self, steps: list[tuple[str, str]] = STEPS) -> None:
        super().__init__()
        self.steps = steps
        self.seen: list[tuple[int, str]] = []

    def compose(self) -> ComposeResult:
        yield StepList(id="steps")

    def on_mount(self) -> None:
        self.query_one(StepList).set_steps(self.steps)

    @on(StepList.Highlighted, "#steps")
    def _seen(self, event: StepList.Highlighted) -> None:
        self.seen.append((event.index, event.step_id))


def _style(strip: Strip) -> Style | None:
    return next(iter(strip)).style  # one style per row: the text's


async def test_keys_move_the_highlight_and_announce_it() -> None:
    app = ListApp()
    async with app.run_test(size=(40, 12)) as pilot:
        steps = app.query_one(StepList)
        steps.focus()
        await pilot.pause()
        assert steps.highlighted == 0 and app.seen == [(0, "s1")]
        await pilot.press("down", "down")
        assert steps.highlighted == 2 and app.seen[-1] == (2, "s3")
        await pilot.press("up", "up", "up")  # round the top, as an OptionList goes
        assert steps.highlighted == 11 and app.seen[-1] == (11, "s12")
        await pilot.press("down")  # and round the bottom
        assert steps.highlighted == 0
        await pilot.press("end")
        assert steps.highlighted == 11
        await pilot.press("home")
        assert steps.highlighted == 0
        await pilot.press("pagedown")  # a page is the rows shown, less one
        assert steps.highlighted == 5
        await pilot.press("pagedown", "pagedown", "pagedown")  # stops at the end
        assert steps.highlighted == 11
        await pilot.press("pageup")
        assert steps.highlighted == 6


async def test_the_highlight_stays_in_view() -> None:
    app = ListApp()
    async with app.run_test(size=(40, 12)) as pilot:
        steps = app.query_one(StepList)
        steps.focus()
        await pilot.press("end")
        await pilot.pause()
        assert steps.scroll_offset.y == 6  # the last six of twelve rows show
        assert steps.render_line(5).text.startswith(" 12  Step number 12")
        await pilot.press("home")
        await pilot.pause()
        assert steps.scroll_offset.y == 0
        assert steps.render_line(0).text.startswith("  1  Step number 1")


async def test_a_click_picks_the_step_under_the_mouse() -> None:
    app = ListApp()
    async with app.run_test(size=(40, 12)) as pilot:
        steps = app.query_one(StepList)
        await pilot.pause()
        # Row 3 of the content is the fourth step; the border is row 0 and column 0.
        assert await pilot.click(StepList, offset=(3, 4))
        assert steps.highlighted == 3 and app.seen[-1] == (3, "s4")
        assert await pilot.click(StepList, offset=(3, 0))  # the border: nothing
        assert steps.highlighted == 3


async def test_the_hovered_row_is_drawn_apart_and_cleared_on_leave() -> None:
    app = ListApp()
    async with app.run_test(size=(40, 12)) as pilot:
        steps = app.query_one(StepList)
        await pilot.pause()
        plain = _style(steps.render_line(2))
        await pilot.hover(StepList, offset=(3, 3))  # content row 2
        await pilot.pause()
        assert _style(steps.render_line(2)) != plain
        await pilot.hover(StepList, offset=(30, 3))  # outside the list
        await pilot.pause()
        assert _style(steps.render_line(2)) == plain
        # The list scrolls under a still mouse: the step that was hovered moves up a row, and
        # neither it nor the row now under the mouse is shaded until the mouse moves.
        steps.focus()
        await pilot.hover(StepList, offset=(3, 3))  # content row 2: step 3
        await pilot.pause()
        focused_plain = _style(steps.render_line(4))
        assert _style(steps.render_line(2)) != focused_plain
        await pilot.press(*["down"] * 6)  # step 7 highlighted: one row of scroll
        await pilot.pause()
        assert steps.scroll_offset.y == 1
        assert _style(steps.render_line(1)) == focused_plain
        assert _style(steps.render_line(2)) == focused_plain


async def test_new_steps_announce_the_step_even_at_the_same_index() -> None:
    app = ListApp()
    async with app.run_test(size=(40, 12)) as pilot:
        steps = app.query_one(StepList)
        await pilot.pause()
        app.seen.clear()
        steps.set_steps([("a", "Alpha"), ("b", "Beta")], 0)
        await pilot.pause()
        assert app.seen == [(0, "a")]
        steps.set_steps([("c", "Gamma")], 5)  # clamped to the last step
        await pilot.pause()
        assert steps.highlighted == 0 and app.seen[-1] == (0, "c")
        steps.set_steps([])
        await pilot.pause()
        assert steps.highlighted is None
        assert steps.render_line(0).text.strip() == ""


async def test_a_title_too_wide_ends_in_an_ellipsis_and_never_wraps() -> None:
    app = ListApp([("long", "A title far too long for twenty-six columns")])
    async with app.run_test(size=(40, 12)) as pilot:
        steps = app.query_one(StepList)
        await pilot.pause()
        width = steps.scrollable_content_region.width
        first, second = steps.render_line(0).text, steps.render_line(1).text
        assert len(first) == width and first.endswith("…")
        assert first.startswith(" 1  A title far too")
        assert second.strip() == ""  # the title did not wrap onto a second row
        assert steps.labels == (" 1  A title far too long for twenty-six columns",)

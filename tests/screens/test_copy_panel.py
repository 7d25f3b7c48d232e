"""The hand-copy text: line breaks only after a comma or a space, so no address is ever split."""

from __future__ import annotations

import random
import re

from tests.services.test_whitelist import GENERAL
from tui.app import KeylinkApp
from tui.services.terminals import whitelist
from tui.widgets.copy_panel import CopyPanel, reflow

ADDRESS_LINE = re.compile(r"(?:\d{1,3}(?:\.\d{1,3}){3},)*(?:\d{1,3}(?:\.\d{1,3}){3},?)")


def test_reflow_breaks_only_after_commas_and_loses_nothing() -> None:
    rng = random.Random(8)
    for _ in range(200):
        addresses = [".".join(str(rng.randint(0, 255)) for _ in range(4))
                     for _ in range(rng.randint(1, 30))]
        text = ",".join(addresses)
        width = rng.randint(16, 90)
        lines = reflow(text, width).split("\n")
        assert "".join(lines) == text
        for line in lines:
            assert ADDRESS_LINE.fullmatch(line), line
            assert len(line) <= width
        for line in lines[:-1]:
            assert line.endswith(",")


def test_reflow_other_formats() -> None:
    assert reflow("a b c d", 3) == "a b\nc d"
    assert reflow("1.2.3.4\n5.6.7.8", 4) == "1.2.3.4\n5.6.7.8"  # too wide alone: kept whole
    assert reflow('["1.2.3.4", "5.6.7.8"]', 12) == '["1.2.3.4",\n"5.6.7.8"]'
    assert reflow("", 10) == ""


async def test_the_whitelist_panel_at_80_columns_keeps_every_address_whole() -> None:
    app = KeylinkApp(start_screen="whitelist")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        panel = app.screen.query_one(CopyPanel)
        assert panel.text == GENERAL  # the comma-separated list, exactly
        shown = panel.shown.split("\n")
        assert len(shown) > 1 and "".join(shown) == GENERAL
        assert all(ADDRESS_LINE.fullmatch(line) for line in shown)
        # Framed above and below (it looked unfinished with a top rule alone), but no box
        # border on the text's rows.
        assert panel.styles.border_top[0] == "round" and panel.styles.border_bottom[0] == "round"
        assert panel.styles.border_left[0] == "" and panel.styles.border_right[0] == ""
        await pilot.press("f")  # one per line
        await pilot.pause()
        assert panel.shown == whitelist.format_addresses(GENERAL.split(","), "lines")

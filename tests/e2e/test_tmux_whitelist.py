"""The installed keylink in a real tmux pane: `3` opens the whitelist, `c` copies it via OSC 52."""

from __future__ import annotations

import pytest

from tests.e2e.tmux import TmuxPane, installed_keylink
from tests.services.test_whitelist import GENERAL

pytestmark = pytest.mark.tmux


def test_copy_lands_the_exact_list_in_tmux_buffer(tmux_pane: TmuxPane) -> None:
    tmux_pane.start([installed_keylink()])
    tmux_pane.wait_for("keylink")
    tmux_pane.send("3")
    tmux_pane.wait_for("18.167.89.125")
    assert tmux_pane.buffer() is None
    tmux_pane.send("c")
    assert tmux_pane.wait_for_buffer() == GENERAL
    # The copied text also stays on screen for terminals without OSC 52.
    tmux_pane.wait_for("20 addresses (comma")
    tmux_pane.send("C-q")

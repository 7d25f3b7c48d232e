"""Copy text to the user's clipboard by every way that can work where they are.

OSC 52 always: the terminal itself sets the clipboard, which reaches the user's own machine
through SSH and tmux. pyperclip as well where a local clipboard exists (a display, macOS,
Windows); its failure is ignored. The caller keeps the text on screen for terminals that
support neither.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass

OSC52 = "OSC 52"
SYSTEM = "system clipboard"


@dataclass(frozen=True)
class CopyResult:
    """What was copied and the ways it was sent."""

    text: str
    ways: tuple[str, ...]

    def describe(self) -> str:
        """Plain words for the ways, e.g. "via OSC 52 and the system clipboard"."""
        names = {OSC52: "OSC 52 (your terminal's clipboard)", SYSTEM: "the system clipboard"}
        spoken = [names.get(way, way) for way in self.ways]
        if not spoken:
            return "nowhere: select the text on screen to copy it"
        return "via " + " and ".join(spoken)


def has_local_clipboard(
    environ: Mapping[str, str] | None = None, platform: str | None = None
) -> bool:
    """Whether a clipboard on this machine is likely to be reachable (a display, macOS, Windows)."""
    env = os.environ if environ is None else environ
    plat = sys.platform if platform is None else platform
    if plat == "darwin" or plat.startswith("win"):
        return True
    return bool(env.get("WAYLAND_DISPLAY") or env.get("DISPLAY"))


def _pyperclip_copy(text: str) -> bool:
    try:
        import pyperclip  # imported here: it probes for clipboard tools, not needed at start-up

        pyperclip.copy(text)
    except Exception:
        return False
    return True


def copy_text(
    text: str,
    osc52: Callable[[str], None],
    *,
    local_copy: Callable[[str], bool] = _pyperclip_copy,
    local_available: bool | None = None,
) -> CopyResult:
    """Send ``text`` through OSC 52 (``osc52``: e.g. Textual's ``App.copy_to_clipboard``) and,
    where a local clipboard exists, through ``local_copy`` too. A failing clipboard never raises.
    """
    ways: list[str] = []
    try:
        osc52(text)
    except Exception:
        pass
    else:
        ways.append(OSC52)
    if (has_local_clipboard() if local_available is None else local_available) and local_copy(text):
        ways.append(SYSTEM)
    return CopyResult(text, tuple(ways))

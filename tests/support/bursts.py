"""Keys in a burst, as a laggy ssh link delivers them, and a meter for an app that must go quiet.

``burst`` hands the app what Textual's driver makes of ONE read of the terminal: the text is
parsed by Textual's own input parser and every event is handed to the driver before the app runs
again, the way the driver's input thread does for a read of several keys. ``pilot.press`` is not
that: it waits for the app to go idle after every key.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from textual._xterm_parser import XTermParser
from textual.app import App
from textual.constants import ESCAPE_DELAY
from textual.message_pump import MessagePump
from textual.pilot import Pilot


def _parse(text: str) -> list[Any]:
    """The events Textual's driver makes of ``text`` read in one go. A lone Escape at the end is
    reported after ESCAPE_DELAY (it might start a sequence): waited for here, the app not run."""
    parser = XTermParser(False)
    events = list(parser.feed(text))
    if text.endswith("\x1b"):
        time.sleep(ESCAPE_DELAY + 0.01)
    events += parser.tick()
    assert events, f"{text!r} parses to no event"
    return events


def burst(app: App[Any], text: str) -> None:
    """Deliver ``text`` (keys as the terminal sends them) as one read of the terminal."""
    driver = app._driver
    assert driver is not None
    for event in _parse(text):
        driver.process_message(event)


async def one_at_a_time(pilot: Pilot[Any], text: str, pause: float = 0.15) -> None:
    """The same keys (the same events), each as a read of its own, with time between them."""
    for event in _parse(text):
        driver = pilot.app._driver
        assert driver is not None
        driver.process_message(event)
        await pilot.pause()
        await asyncio.sleep(pause)
        await pilot.pause()


def screen_text(app: App[Any]) -> str:
    """The screen as drawn, as plain text (what a person would see)."""
    return "\n".join(strip.text.rstrip() for strip in app.screen._compositor.render_strips())


@dataclass
class Activity:
    """What the app did in a window of time: messages handled and the process's CPU seconds."""

    messages: int
    cpu: float
    seconds: float


class ActivityMeter:
    """Counts every message any part of the app handles (installed with ``counting``)."""

    def __init__(self) -> None:
        self.messages = 0

    async def measure(self, seconds: float) -> Activity:
        """Let the app run for ``seconds`` and say what it did meanwhile.

        The garbage collector is held off meanwhile: a full collection of the test process's
        heap (every app the session ran) takes ~80 ms and is not the app's doing."""
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            before, cpu = self.messages, time.process_time()
            await asyncio.sleep(seconds)
            return Activity(self.messages - before, time.process_time() - cpu, seconds)
        finally:
            if was_enabled:
                gc.enable()

    async def settle(self, limit: float = 5.0, window: float = 0.2, messages: int = 2) -> bool:
        """Wait until a ``window`` passes with at most ``messages`` handled and under 5 % of a
        core used (a slow first mount of a section, the start-up's imports in a thread take a
        while; a loop never ends): False if that never came in ``limit``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit
        while loop.time() < deadline:
            activity = await self.measure(window)
            if activity.messages <= messages and activity.cpu < 0.05 * window:
                return True
        return False


@contextmanager
def counting() -> Iterator[ActivityMeter]:
    """Count the messages dispatched by every message pump (app, screens, widgets)."""
    meter = ActivityMeter()
    original = MessagePump._dispatch_message

    async def dispatch(self: MessagePump, message: Any) -> None:
        meter.messages += 1
        await original(self, message)

    MessagePump._dispatch_message = dispatch  # type: ignore[method-assign]
    try:
        yield meter
    finally:
        MessagePump._dispatch_message = original  # type: ignore[method-assign]

"""The garbage collector at start-up (the `keylink` process only): paused while keylink loads,
and what loading made frozen out of its way.

Loading keylink and Textual makes a few hundred thousand objects that live as long as the
process (modules, classes, Textual's and Rich's tables) and little garbage: about 5,000 objects
in cycles (0.6 MB) by the first paint. Python's collector still walks the young ones every 700
allocations, about 130 collections and 25 ms of the first paint on two cores
(benchmarks/startup.py). So the `keylink` entry point pauses it before its first import.

``resume`` ends the pause: a command calls it before it runs, the app once its first screen is
up. It freezes first (``gc.freeze``): full collections never walk those objects again, and the
start-up garbage stays, a one-off 0.6 MB. ``freeze_loaded`` does the same for
what the app loads next, ahead of need (the other sections' modules), after dropping that
batch's garbage: left young, it made the first full collection walk it all (15 ms), and in
benchmarks/keys.py that collection fell on the first `?`.

Only a process that paused here is changed: a program that imports keylink (the tests, say)
keeps its collector as it had it.
"""

from __future__ import annotations

import gc

_paused = False
#: This process paused the collector at its start (it is the `keylink` command).
_tuned = False


def pause() -> None:
    """Stop automatic collection until ``resume``; nothing if it is already off."""
    global _paused, _tuned
    if gc.isenabled():
        gc.disable()
        _paused = _tuned = True


def is_paused() -> bool:
    """Whether collection is off because of ``pause``."""
    return _paused


def resume() -> None:
    """Freeze what exists and turn automatic collection back on, if ``pause`` turned it off."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()


def freeze_loaded() -> None:
    """Collect, then freeze what is left (modules loaded ahead of need), in a process that
    paused. Meant for the app's warm-up thread, while the user reads (about 2 ms)."""
    if _tuned:
        gc.collect()
        gc.freeze()

"""Screen styles live in .tcss files beside their screens and load as the screen's DEFAULT_CSS.

Why not Textual's CSS_PATH on a screen: Textual 8 adds that file when the screen is first shown
and then parses the app's whole stylesheet again from scratch (``Stylesheet.reparse`` starts a
fresh stylesheet, without the parse cache): about 10 ms on every first visit of a screen, paid
between a key press and its paint (benchmarks/keys.py), and a CSS_PATH file outranks every
widget's DEFAULT_CSS and app.tcss's equal rules. As DEFAULT_CSS the file is parsed alone, once,
when the screen is first used, scoped to the screen, and ranked as it was when these styles sat in
Python strings. Reusable widgets (tui/widgets) keep their DEFAULT_CSS in the class.
"""

from __future__ import annotations

from pathlib import Path


def tcss(module_file: str, name: str) -> str:
    """The text of the .tcss file ``name`` beside ``module_file`` (pass ``__file__``)."""
    return Path(module_file).with_name(name).read_text(encoding="utf-8")

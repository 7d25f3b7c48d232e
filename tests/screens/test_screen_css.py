"""Screen styles live in .tcss files beside their screens (loaded as DEFAULT_CSS, tui/styles.py).

Every screen's own DEFAULT_CSS must be the text of one of those files (not CSS written in Python),
every file must belong to a screen, and every rule in it starts with its screen's type, so a file
says what it styles. Reusable widgets (tui/widgets) keep their DEFAULT_CSS in the class.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest
from textual.app import App
from textual.css.stylesheet import Stylesheet
from textual.screen import Screen

import tui.screens

SCREENS_DIR = Path(tui.screens.__file__).parent
CSS_FILES = sorted(SCREENS_DIR.rglob("*.tcss"))


def _screen_classes() -> list[type[Screen]]:
    """Every Screen subclass defined in a module under tui/screens."""
    found: list[type[Screen]] = []
    for module_info in pkgutil.walk_packages(tui.screens.__path__, "tui.screens."):
        module = importlib.import_module(module_info.name)
        for _name, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, Screen) and cls.__module__ == module.__name__:
                found.append(cls)
    return sorted(found, key=lambda cls: cls.__qualname__)


SCREENS = _screen_classes()
STYLED = [cls for cls in SCREENS if cls.__dict__.get("DEFAULT_CSS")]


def _css_file(cls: type[Screen]) -> Path | None:
    """The .tcss file beside the screen's module whose text is the screen's own DEFAULT_CSS."""
    here = Path(inspect.getfile(cls)).parent
    css = cls.__dict__.get("DEFAULT_CSS")
    for path in here.glob("*.tcss"):
        if path.read_text(encoding="utf-8") == css:
            return path
    return None


def test_the_screens_are_found() -> None:
    names = {cls.__name__ for cls in SCREENS}
    assert {"AccountsScreen", "AddAccountScreen", "ConfirmScreen", "GuideScreen",
            "HelpScreen", "UnlockVaultScreen"} <= names
    assert {"AccountsScreen", "AccountFormScreen", "ConfirmScreen", "_VaultDialog"} <= {
        cls.__name__ for cls in STYLED}


@pytest.mark.parametrize("cls", SCREENS, ids=lambda cls: cls.__qualname__)
def test_a_screen_keeps_no_css_in_python(cls: type[Screen]) -> None:
    assert not cls.__dict__.get("CSS"), f"{cls.__qualname__}: put its CSS in a .tcss file"
    if cls.__dict__.get("DEFAULT_CSS"):
        assert _css_file(cls) is not None, (
            f"{cls.__qualname__}: DEFAULT_CSS = tcss(__file__, '<name>.tcss'), not a string")


@pytest.mark.parametrize("cls", STYLED, ids=lambda cls: cls.__qualname__)
def test_every_rule_of_a_screen_file_starts_with_its_screen(cls: type[Screen]) -> None:
    path = _css_file(cls)
    assert path is not None
    stylesheet = Stylesheet(variables=App().get_css_variables())
    stylesheet.add_source(path.read_text(encoding="utf-8"), read_from=(str(path), ""))
    stylesheet.parse()
    assert stylesheet.rules
    for rule in stylesheet.rules:
        for selectors in rule.selector_set:
            first = selectors.selectors[0].name
            assert first == cls.__name__, (
                f"{path.name}: a rule starts with {first!r}, not {cls.__name__!r}")


def test_every_screen_css_file_belongs_to_a_screen() -> None:
    assert CSS_FILES
    assert set(CSS_FILES) == {_css_file(cls) for cls in STYLED}

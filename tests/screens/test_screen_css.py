"""Screen styles live in .tcss files beside their screens, and stay on their screens.

A screen's CSS_PATH file joins the app's whole stylesheet (Textual does not scope it as it scopes
DEFAULT_CSS), so a rule that does not start with its screen's type would style every screen.
Reusable widgets (tui/widgets) keep their DEFAULT_CSS.
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


def _css_file(cls: type[Screen]) -> Path | None:
    """The file a screen's own CSS_PATH names (None: it sets none of its own)."""
    css_path = cls.__dict__.get("CSS_PATH")
    if css_path is None:
        return None
    assert isinstance(css_path, str), f"{cls.__qualname__}: one file name, beside the module"
    return Path(inspect.getfile(cls)).parent / css_path


def test_the_screens_are_found() -> None:
    names = {cls.__name__ for cls in SCREENS}
    assert {"AccountsScreen", "AddAccountScreen", "ConfirmScreen", "GuideScreen",
            "HelpScreen", "UnlockVaultScreen"} <= names


@pytest.mark.parametrize("cls", SCREENS, ids=lambda cls: cls.__qualname__)
def test_a_screen_keeps_no_css_in_python(cls: type[Screen]) -> None:
    assert not cls.__dict__.get("DEFAULT_CSS"), f"{cls.__qualname__}: move DEFAULT_CSS to .tcss"
    assert not cls.__dict__.get("CSS"), f"{cls.__qualname__}: move CSS to a .tcss file"


@pytest.mark.parametrize("cls", [cls for cls in SCREENS if _css_file(cls) is not None],
                         ids=lambda cls: cls.__qualname__)
def test_every_rule_of_a_screen_file_starts_with_its_screen(cls: type[Screen]) -> None:
    path = _css_file(cls)
    assert path is not None and path.is_file()
    stylesheet = Stylesheet(variables=App().get_css_variables())
    stylesheet.add_source(path.read_text(encoding="utf-8"), read_from=(str(path), ""))
    stylesheet.parse()
    assert stylesheet.rules
    for rule in stylesheet.rules:
        for selectors in rule.selector_set:
            first = selectors.selectors[0].name
            assert first == cls.__name__, (
                f"{path.name}: a rule starts with {first!r}, not {cls.__name__!r}: it would "
                "style every screen")


@pytest.mark.parametrize("cls", SCREENS, ids=lambda cls: cls.__qualname__)
def test_every_screen_finds_its_css_file(cls: type[Screen]) -> None:
    # Textual resolves CSS_PATH beside the module of the screen's own class, not of the class
    # that set it: a form in add.py finds account_form.tcss only because both sit in one folder.
    if cls.CSS_PATH is None:
        return
    assert isinstance(cls.CSS_PATH, str)
    assert (Path(inspect.getfile(cls)).parent / cls.CSS_PATH).is_file()


def test_every_screen_css_file_belongs_to_a_screen() -> None:
    used = {_css_file(cls) for cls in SCREENS} - {None}
    on_disk = set(SCREENS_DIR.rglob("*.tcss"))
    assert on_disk == used

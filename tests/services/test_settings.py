"""The settings file: remembered theme and guide exchange, atomic writes, damage ignored."""

from __future__ import annotations

import os
from pathlib import Path

from tui.app import KeylinkApp
from tui.screens.guide import GuideScreen
from tui.services.core.settings import Settings, load_settings, save_settings, settings_path


def _config() -> Path:
    return Path(os.environ["XDG_CONFIG_HOME"]) / "keylink"


def test_round_trip_and_private_file() -> None:
    save_settings(Settings(theme="nord", guide_exchange="okx"))
    assert load_settings() == (Settings(theme="nord", guide_exchange="okx"), None)
    assert settings_path().stat().st_mode & 0o077 == 0
    assert not [p for p in settings_path().parent.iterdir() if p.name.endswith(".tmp")]


def test_missing_damaged_and_odd_files() -> None:
    assert load_settings() == (Settings(), None)
    _config().mkdir(parents=True)
    settings_path().write_text("{not json")
    assert load_settings() == (Settings(), "the settings file is damaged")
    settings_path().write_text('["a list"]')
    assert load_settings()[1] == "the settings file is damaged"
    # Unknown keys are dropped quietly; a value of the wrong kind is dropped and said.
    settings_path().write_text('{"theme": 5, "guide_exchange": "bitget", "evil": "x"}')
    assert load_settings() == (Settings(guide_exchange="bitget"),
                               "the settings file has a value of the wrong kind (theme)")
    settings_path().write_text('{"guide_exchange": "bitget", "evil": [1]}')
    assert load_settings() == (Settings(guide_exchange="bitget"), None)


def test_bombs_fall_back_to_defaults() -> None:
    # A deeply nested file made json.loads raise RecursionError, which stopped the app starting.
    _config().mkdir(parents=True)
    for bomb in ('{"theme": ' + "[" * 20_000 + "]" * 20_000 + "}",
                 "[" * 30_000,
                 '{"theme": ' + "9" * 5000 + "}",
                 '{"theme": {"a": ' * 40 + "1" + "}" * 41):
        settings_path().write_text(bomb)
        settings, problem = load_settings()
        assert settings == Settings()
        assert problem is not None and problem.startswith("the settings file")


async def test_theme_and_guide_exchange_are_remembered() -> None:
    app = KeylinkApp()
    async with app.run_test(size=(80, 24)) as pilot:
        app.theme = "nord"
        await pilot.press("e")  # the guide's next exchange: OKX
        await app.workers.wait_for_complete()
        await pilot.pause()
    assert load_settings() == (Settings(theme="nord", guide_exchange="okx"), None)

    again = KeylinkApp()
    async with again.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert again.theme == "nord"
        screen = again.screen
        assert isinstance(screen, GuideScreen) and screen.exchange_id == "okx"


async def test_a_damaged_file_is_ignored_with_a_notice() -> None:
    _config().mkdir(parents=True)
    settings_path().write_bytes(b"\xff\xfe garbage")
    app = KeylinkApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.theme == "textual-dark"
        notes = [n.message for n in app._notifications]
        assert any(m.startswith("The settings file is damaged: keylink uses its defaults")
                   for m in notes), notes
        app.theme = "gruvbox"
        await pilot.pause()
        await app.workers.wait_for_complete()
    assert load_settings() == (Settings(theme="gruvbox"), None)


async def test_a_deeply_nested_file_does_not_stop_the_app() -> None:
    _config().mkdir(parents=True)
    settings_path().write_text('{"theme": ' + "[" * 20_000 + "]" * 20_000 + "}")
    app = KeylinkApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.theme == "textual-dark"
        notes = [n.message for n in app._notifications]
        assert any(m.startswith("The settings file is damaged: keylink uses its defaults")
                   for m in notes), notes

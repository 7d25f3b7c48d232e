"""Where keylink keeps its files (platformdirs; XDG variables are honoured on Linux)."""

from __future__ import annotations

from pathlib import Path

from platformdirs import user_config_path, user_data_path, user_state_path

APP_NAME = "keylink"


def config_dir() -> Path:
    """The user's config dir for keylink (accounts metadata lives here)."""
    return user_config_path(APP_NAME, appauthor=False)


def data_dir() -> Path:
    """The user's data dir for keylink (the encrypted vault lives here)."""
    return user_data_path(APP_NAME, appauthor=False)


def state_dir() -> Path:
    """The user's state dir for keylink (the access log lives here)."""
    return user_state_path(APP_NAME, appauthor=False)

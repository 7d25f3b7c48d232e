"""The user's few preferences: the colour theme and the exchange last picked in the guide.

A small JSON file in keylink's config dir, written by atomic replace. A damaged or unreadable
file is ignored (defaults are used) and reported once, never an error that stops the app; the
next change rewrites it whole.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from tui.services.core.paths import config_dir
from tui.services.core.private_files import atomic_write, ensure_private_dir

FILE_NAME = "settings.json"
#: A settings file bigger than this is not one of ours.
_MAX_BYTES = 64 * 1024
#: Ours holds one flat object; a file with more brackets than this is not ours.
_MAX_BRACKETS = 100


@dataclass(frozen=True)
class Settings:
    """What keylink remembers between runs ("" = not chosen yet)."""

    theme: str = ""
    guide_exchange: str = ""
    #: The terminal picked in the guide (a terminal id of content/terminals.toml).
    guide_terminal: str = ""


def settings_path(directory: Path | None = None) -> Path:
    return (directory or config_dir()) / FILE_NAME


def load_settings(directory: Path | None = None) -> tuple[Settings, str | None]:
    """The saved settings, and a problem to tell the user (None: the file was fine or absent)."""
    path = settings_path(directory)
    try:
        with path.open("rb") as handle:
            data = handle.read(_MAX_BYTES + 1)
    except FileNotFoundError:
        return Settings(), None
    except OSError as exc:
        return Settings(), f"the settings file could not be read ({exc.strerror or 'error'})"
    try:
        if len(data) > _MAX_BYTES:
            raise ValueError("too large")
        if data.count(b"[") + data.count(b"{") > _MAX_BRACKETS:
            # Ours has one object; thousands of brackets are a file nested too deep to parse
            # (json recurses once per level, and RecursionError is no ValueError).
            raise ValueError("nested too deeply")
        raw = json.loads(data.decode("utf-8"))
        if not isinstance(raw, dict):
            raise ValueError("not an object")
    except (ValueError, UnicodeDecodeError, RecursionError, MemoryError):
        # Settings are advice: whatever is wrong with the file, the app starts on its defaults.
        return Settings(), "the settings file is damaged"
    # Only known keys with text values; anything else is dropped, not trusted. Unknown keys are
    # ignored quietly (a newer keylink may have written them); a known one of the wrong kind is
    # said, as it means the file was edited by hand or damaged.
    known = ("theme", "guide_exchange", "guide_terminal")
    values = {key: raw[key] for key in known
              if isinstance(raw.get(key), str) and len(raw[key]) <= 100}
    wrong = [key for key in known if key in raw and key not in values]
    problem = (f"the settings file has a value of the wrong kind ({', '.join(wrong)})"
               if wrong else None)
    return Settings(**values), problem


def save_settings(settings: Settings, directory: Path | None = None) -> None:
    """Write ``settings`` (OSError when the config dir cannot be written)."""
    path = settings_path(directory)
    ensure_private_dir(path.parent)
    atomic_write(path, (json.dumps(asdict(settings), indent=2) + "\n").encode("utf-8"))


def updated(settings: Settings, **changes: str) -> Settings:
    """``settings`` with ``changes`` applied."""
    return replace(settings, **changes)

"""What keylink ships as data: the guide, the FAQ, the help text, and the terminals and
environments catalogues (TOML and Markdown files), with the loaders for the guide and the FAQ."""

from __future__ import annotations

from pathlib import Path

#: The packaged content files. Read by path: importlib.resources would add about 4 ms of imports
#: and a first lookup to the first paint, and keylink is never run from a zip.
CONTENT_DIR = Path(__file__).parent


def shipped_text(name: str) -> str:
    """The text of the content file ``name`` as shipped (UTF-8)."""
    return (CONTENT_DIR / name).read_text(encoding="utf-8")

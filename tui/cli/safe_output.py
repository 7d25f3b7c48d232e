"""The command line's last line of defence for outside text: stdout and stderr escaped.

Each command cleans the outside text it prints (names, paths, an exchange's answers), but one
missed field would let an escape sequence (OSC 52 writing the clipboard, a title change) or a
bidi override reach the user's terminal. While a sub-command runs, ``sys.stdout`` and
``sys.stderr`` are wrapped so that everything written through them passes
:func:`tui.services.core.text.clean` (line breaks and tabs kept). keylink's own output is plain
text, so for it this changes nothing.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from tui.services.core.text import clean

__all__ = ["CleanWriter", "clean_streams"]


class CleanWriter:
    """A text stream that writes ``clean(text, keep_newlines=True)`` to the stream it wraps."""

    def __init__(self, stream: TextIO) -> None:
        self.wrapped = stream

    def write(self, text: str) -> int:
        self.wrapped.write(clean(text, keep_newlines=True))
        # The caller's count: print() and friends compare it with what they passed in.
        return len(text)

    def writelines(self, lines: list[str]) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        # flush, fileno, isatty, encoding, buffer...: the wrapped stream's own.
        return getattr(self.wrapped, name)


@contextmanager
def clean_streams() -> Iterator[None]:
    """Wrap sys.stdout and sys.stderr in :class:`CleanWriter` for the duration."""
    saved = sys.stdout, sys.stderr
    if saved[0] is not None:
        sys.stdout = CleanWriter(saved[0])  # type: ignore[assignment]
    if saved[1] is not None:
        sys.stderr = CleanWriter(saved[1])  # type: ignore[assignment]
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved

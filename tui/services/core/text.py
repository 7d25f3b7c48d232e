"""Outside text is data: one place that makes it safe to show.

Everything keylink did not write itself (an exchange's answer or error, an account name, a line of
a file, a path, an environment variable) goes through :func:`clean` before it reaches a terminal,
and the app draws it as ``Content``/``Text``, never as markup. ``clean`` turns every character that
a terminal would act on rather than print into a visible escape:

- C0 controls (including ESC, so no escape sequence, OSC 52 or title change survives), DEL and C1
  controls (U+0080-U+009F: CSI and OSC have 8-bit forms);
- bidirectional overrides and isolates (U+202A-U+202E, U+2066-U+2069), which can make text read
  differently from what it is, and the other invisible format characters (zero-width space/joiners,
  BOM, soft hyphen), which hide inside names and addresses;
- line and paragraph separators, unless the caller keeps line breaks.

The escapes use Python's spelling (``\\x1b``, ``\\u202e``), so what a user sees can be searched for.
"""

from __future__ import annotations

import unicodedata

__all__ = ["clean", "clean_lines", "is_clean", "markup_literal"]


def _escape(char: str) -> str:
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _unsafe(char: str) -> bool:
    if char.isprintable():
        return False
    # Not printable: controls (Cc), format characters (Cf), separators other than space (Zl, Zp,
    # and the odd spaces Python calls unprintable), surrogates and unassigned code points.
    return unicodedata.category(char) != "Zs" or char in "\u2028\u2029"


def clean(text: object, *, keep_newlines: bool = False, limit: int | None = None) -> str:
    """``text`` (anything; ``str()`` of it) with every character a terminal would act on escaped.

    ``keep_newlines`` keeps ``\\n`` (and turns ``\\r\\n`` into ``\\n``); tabs are kept with it.
    ``limit`` cuts the result to that many characters, marking the cut with an ellipsis.
    """
    text = text if isinstance(text, str) else str(text)
    if keep_newlines:
        text = text.replace("\r\n", "\n")
    out: list[str] = []
    for char in text:
        if keep_newlines and char in "\n\t":
            out.append(char)
        elif _unsafe(char):
            out.append(_escape(char))
        else:
            out.append(char)
    result = "".join(out)
    if limit is not None and len(result) > limit:
        result = result[: max(limit - 1, 0)] + "…"
    return result


def clean_lines(text: object) -> str:
    """:func:`clean` keeping line breaks and tabs: for multi-line outside text."""
    return clean(text, keep_newlines=True)


def is_clean(text: str) -> bool:
    """True when :func:`clean` would leave ``text`` as it is."""
    return not any(_unsafe(char) for char in text)


def markup_literal(text: str) -> str:
    """``text`` to put inside Textual markup, shown as written: no tag, style or link in it acts.

    Textual's markup reads ``\\[`` as a literal bracket and keeps every other backslash as
    written, so escaping each ``[`` is enough, and backslashes are left alone (doubling them would
    show them doubled). The one case markup cannot write is a backslash at the very end, before
    the caller's next tag (``[b]a\\[/b]`` would escape the tag): a space after it keeps the tag
    a tag. (``textual.markup.escape`` escapes only brackets that look like tags, and misses some:
    tests/services/test_text.py.)
    """
    text = text.replace("[", "\\[")
    return text + " " if text.endswith("\\") else text


def plural(n: int, word: str, many: str | None = None) -> str:
    """``1 warning``, ``2 warnings``; ``many`` for irregular plurals (address -> addresses)."""
    return f"{n} {word}" if n == 1 else f"{n} {many or word + 's'}"

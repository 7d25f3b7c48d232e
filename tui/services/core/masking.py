"""One masker: every copy of a secret in text keylink did not write becomes ``***``.

Outside text can echo what it was given: a keyring backend's error can quote the value it was
asked to store, an exchange's refusal can quote the key or the signature. Before such text reaches
a message it goes through :func:`mask_secrets`, which also keeps it to one short line.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["MASK", "MESSAGE_CHARS", "mask_secrets"]

#: What a masked value is shown as.
MASK = "***"
#: How much of someone else's text a message carries along.
MESSAGE_CHARS = 200


def mask_secrets(text: str, secrets: Iterable[str], *, limit: int = MESSAGE_CHARS) -> str:
    """``text`` with each of ``secrets`` masked, as one line of at most ``limit`` characters.

    Longest first: when one value holds another (a key inside a secret, the secrets inside the
    JSON they are stored as), masking the short one first would break up the long one and leave
    its other parts readable. Unprintable characters and runs of white space become one space, so
    an echo cannot start a new line or move the cursor; the cut comes after the masking, so a
    secret on the cut is never half shown.
    """
    for value in sorted({value for value in secrets if value}, key=len, reverse=True):
        text = text.replace(value, MASK)
    text = "".join(char if char.isprintable() else " " for char in text)
    return " ".join(text.split())[:limit]

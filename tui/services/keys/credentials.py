"""The credential value types, apart from the stores that keep them.

accounts, secrets and vault all need ``Credentials``; keeping it here (importing nothing of
keylink's) lets each of them import it at the top instead of in a circle through accounts.py.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

_PR_SET_DUMPABLE = 4  # from <linux/prctl.h>
_protected = False


def protect_process() -> bool:
    """Make this process non-dumpable (Linux): no core file, no ptrace or /proc/PID/mem reading
    by other processes of the same user. Called whenever a secret or passphrase comes into memory;
    it stays so for the rest of the process (a secret's copies cannot be tracked to their end).
    True if the process is protected; elsewhere a no-op that returns False.
    """
    global _protected
    if _protected or not sys.platform.startswith("linux"):
        return _protected
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        _protected = libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0) == 0
    except (OSError, AttributeError):  # no libc prctl (e.g. a static or unusual runtime)
        _protected = False
    return _protected


@dataclass(frozen=True)
class Credentials:
    """An API key with its secret and (OKX, Bitget) passphrase. repr/str never show the secrets."""

    api_key: str
    secret: str
    passphrase: str = ""

    def __post_init__(self) -> None:
        protect_process()

    def __repr__(self) -> str:
        shown = f"{self.api_key[:4]}…" if len(self.api_key) > 4 else "…"
        passphrase = "***" if self.passphrase else "''"
        return f"Credentials(api_key={shown!r}, secret=***, passphrase={passphrase})"

    __str__ = __repr__


# -- vault passphrases -----------------------------------------------------------------------------

MIN_PASSPHRASE = 12
#: zxcvbn's score 3 is "safely unguessable" for a slow hash; the vault's scrypt is one.
MIN_SCORE = 3


def passphrase_strength(passphrase: str) -> tuple[int, str]:
    """Score a new vault passphrase 0..4 with zxcvbn, and a hint in plain words.

    zxcvbn (Dropbox's estimator) knows repeats, sequences, keyboard walks, dates and common words,
    which a length rule does not: ``aaaaaaaaaaaa`` is twelve characters and guessed at once.
    """
    if not passphrase:
        return 0, f"type a passphrase of at least {MIN_PASSPHRASE} characters"
    if len(passphrase) < MIN_PASSPHRASE:
        return 0, f"too short: {len(passphrase)} of at least {MIN_PASSPHRASE} characters"
    from zxcvbn import zxcvbn  # loads its word lists: only when a passphrase is being chosen

    # zxcvbn's matching is quadratic in length; past 100 characters the rest adds only strength.
    result = zxcvbn(passphrase[:100])
    score = int(result["score"])
    feedback = result.get("feedback") or {}
    # One piece of advice, so it fits one line of the vault dialog: the warning, else a tip.
    advice = [feedback.get("warning") or "", *(feedback.get("suggestions") or [])]
    hint = next((part.rstrip(".") for part in advice if part), "")
    if score < MIN_SCORE:
        return score, hint or "add more uncommon words"
    return score, "hard to guess"


def check_new_passphrase(passphrase: str) -> None:
    """ValueError with one line when ``passphrase`` is too weak for a new vault."""
    score, hint = passphrase_strength(passphrase)
    if len(passphrase) < MIN_PASSPHRASE:
        raise ValueError(f"use at least {MIN_PASSPHRASE} characters for the vault passphrase")
    if score < MIN_SCORE:
        raise ValueError(f"that vault passphrase is too easy to guess ({hint})")

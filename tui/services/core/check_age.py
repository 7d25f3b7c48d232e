"""How old a key's last check may be before it counts as stale: ``KEYLINK_CHECK_MAX_AGE``.

One function because two features read it: ``keylink status --strict`` (and the app's stale mark)
and the hand-off gates (issue 19). A bad value is one clear line, never a silent default: a gate
that quietly fell back to 7 days would let a typo pass stale keys.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import timedelta

VARIABLE = "KEYLINK_CHECK_MAX_AGE"
DEFAULT = timedelta(days=7)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "": 86400}
_FORM = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([smhdw]?)\s*\Z", re.IGNORECASE)  # ASCII digits


def check_max_age(environ: Mapping[str, str] | None = None) -> timedelta:
    """``KEYLINK_CHECK_MAX_AGE`` as a timedelta (default 7 days).

    A number of days (``7``, ``0.5``) or a number with a unit: ``90m``, ``36h``, ``3d``,
    ``2w``, ``600s``. ValueError with one line naming the variable for anything else, zero included.
    """
    env = os.environ if environ is None else environ
    text = env.get(VARIABLE)
    if text is None or not text.strip():
        return DEFAULT
    match = _FORM.fullmatch(text)
    if match is None:
        raise ValueError(f"{VARIABLE}={text[:40]!r} is not a duration: use days (7) or a "
                         "number with s, m, h, d or w (36h)")
    seconds = float(match.group(1)) * _UNITS[match.group(2).lower()]
    if seconds <= 0 or seconds > 3650 * 86400:
        raise ValueError(f"{VARIABLE}={text[:40]!r} must be more than 0 and at most 10 years")
    return timedelta(seconds=seconds)


def check_max_age_or_default(environ: Mapping[str, str] | None = None) -> timedelta:
    """``check_max_age``, or the default when the variable is bad: for what only marks a check
    as stale on screen (the CLI and the hand-off gate say what is wrong instead)."""
    try:
        return check_max_age(environ)
    except ValueError:
        return DEFAULT

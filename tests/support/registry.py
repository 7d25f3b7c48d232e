"""A KEYLINK_ENVIRONMENTS file for tests: every host on this machine.

With ``replace = true`` the shipped registry (real exchange hosts) is out of reach: a check, and
the "where does this key belong" probe with it, can only ask the loopback fakes listed here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pytest


def loopback_registry(path: Path, monkeypatch: pytest.MonkeyPatch,
                      entries: Mapping[tuple[str, str], str | tuple[str, dict[str, str]]],
                      *, replace: bool = True) -> Path:
    """Write ``{(exchange, environment): url or (url, headers)}`` as an override file at ``path``
    and point KEYLINK_ENVIRONMENTS at it. Refuses a non-loopback URL: tests stay on this machine."""
    lines = ["replace = true"] if replace else []
    for (exchange, env), where in entries.items():
        url, headers = (where, {}) if isinstance(where, str) else where
        assert url.startswith(("http://127.0.0.1:", "http://localhost:")), url
        lines += ["", f"[{exchange}.{env}]", f"label = {json.dumps(env.title())}",
                  f"rest = {json.dumps(url)}", 'source = "tests: a loopback fake exchange"',
                  'date = "2026-12-05"']
        if headers:
            pairs = ", ".join(f"{json.dumps(k)} = {json.dumps(v)}" for k, v in headers.items())
            lines.append(f"headers = {{ {pairs} }}")
    path.write_text("\n".join(lines) + "\n")
    monkeypatch.setenv("KEYLINK_ENVIRONMENTS", str(path))
    return path

"""Finding the detached clipboard clearers that `keylink copy` starts, by their HOME."""

from __future__ import annotations

from pathlib import Path


def clearer_processes(home: str) -> list[tuple[int, bytes, bytes]]:
    """(pid, argv, environment) of the clear helpers started under this HOME."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes()
            environ = (proc / "environ").read_bytes()
        except OSError:
            continue
        if b"tui.services.handoff.clipboard" in argv and f"HOME={home}".encode() in environ:
            found.append((int(proc.name), argv, environ))
    return found

#!/usr/bin/env python3
"""Set up and run keylink from a fresh checkout, with nothing but Python >= 3.11.

    python3 dev.py app     create .venv if needed, install keylink into it, launch the app
    python3 dev.py test    create .venv if needed, install keylink with its test extras, run every test
    python3 dev.py test --quick   the same less the slow tests (-m "not slow")

Tests run on 4+ workers (pytest-xdist); pass -n 0 to run them in one process.

Anything after the sub-command is passed on (to keylink, or to pytest).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")


def _say(line: str) -> None:
    """Report set-up progress on stderr, so piped output stays clean."""
    print(line, file=sys.stderr, flush=True)


def _ensure_venv(extras: str) -> None:
    """Create .venv and (re)install keylink when pyproject.toml or the extras changed.

    Everything this prints, pip's own output included, goes to stderr: stdout belongs to the command
    run after.
    """
    if sys.version_info < (3, 11):
        sys.exit(f"keylink needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if not PYTHON.exists():
        _say("dev.py: creating .venv")
        venv.EnvBuilder(with_pip=True).create(VENV)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extras.encode()).hexdigest()
    stamp = VENV / f".keylink-installed{extras}"
    if stamp.exists() and stamp.read_text() == digest:
        return
    _say(f"dev.py: installing keylink{extras} into .venv")
    pip = [str(PYTHON), "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", "--upgrade", "pip"], check=True, stdout=sys.stderr)
    subprocess.run([*pip, "install", "-e", f"{ROOT}{extras}"], check=True, stdout=sys.stderr)
    stamp.write_text(digest)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"app", "test"}:
        print(__doc__.strip())
        return 2
    command, rest = argv[0], argv[1:]
    if command == "app":
        _ensure_venv("")
        return subprocess.call([str(BIN / "keylink"), *rest])
    _ensure_venv("[test]")
    if "--quick" in rest:
        # The lane to run while working: the whole suite less the slow tests. CI runs the whole.
        rest = ["-m", "not slow", *[arg for arg in rest if arg != "--quick"]]
    if not any(a.startswith(("-n", "--numprocesses")) for a in rest):
        # Most of the suite's time is waiting on app pilots and real processes (tmux, sshd, the
        # keyring daemon), so four workers (pytest-xdist) pay even on two cores. `-n 0` runs
        # everything in one process.
        rest = ["-n", str(max(4, os.cpu_count() or 1)), *rest]
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.call([str(PYTHON), "-m", "pytest", *rest], cwd=ROOT, env=env)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

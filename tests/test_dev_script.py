"""dev.py keeps stdout for the command it runs: set-up progress goes to stderr."""

from __future__ import annotations

import shutil
import stat
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _script(path: Path, body: str) -> None:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def test_setup_lines_stay_out_of_piped_output(tmp_path: Path) -> None:
    """A fresh install prints its progress, but `dev.py app ... | cmd` sees only keylink's lines.

    The checkout is a copy with a stand-in .venv whose python plays pip (and prints like pip
    does) and whose keylink prints one whitelist line: no network and no real install needed.
    """
    shutil.copy(ROOT / "dev.py", tmp_path / "dev.py")
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "stand-in"\n')
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    _script(bin_dir / "python", 'echo "Successfully installed stand-in"\n')
    _script(bin_dir / "keylink", 'echo "203.0.113.7"\n')
    done = subprocess.run(
        [sys.executable, str(tmp_path / "dev.py"), "app", "whitelist", "--format", "lines"],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "203.0.113.7\n"
    assert "dev.py: installing keylink into .venv" in done.stderr
    assert "Successfully installed" in done.stderr


def test_the_test_command_runs_on_workers_unless_told_otherwise(tmp_path: Path) -> None:
    """The whole suite and the quick lane both run on pytest-xdist workers; `-n 0` (or any -n
    given) is passed through as it is. The stand-in python prints the arguments it was run with."""
    shutil.copy(ROOT / "dev.py", tmp_path / "dev.py")
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "stand-in"\n')
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    _script(bin_dir / "python", 'echo "$@"\n')

    def run(*args: str) -> list[str]:
        done = subprocess.run([sys.executable, str(tmp_path / "dev.py"), "test", *args],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout.split()

    whole = run("-q")
    assert whole[:3] == ["-m", "pytest", "-n"] and int(whole[3]) >= 4 and whole[4:] == ["-q"]
    quick = run("--quick", "-x")
    assert quick[:3] == ["-m", "pytest", "-n"] and quick[4:] == ["-m", "not", "slow", "-x"]
    assert run("-n", "0", "tests/x.py") == ["-m", "pytest", "-n", "0", "tests/x.py"]

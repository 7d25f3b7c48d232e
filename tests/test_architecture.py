"""The layers of the code check themselves: the import contracts in pyproject.toml
(``[tool.importlinter]``) hold, they can break, and the service layer loads no Textual.

Why a test and not only a CI step: a contract that breaks should fail the same ``python3 dev.py
test`` a developer runs before committing, with import-linter's own report of the import chain.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint_imports(config: Path, cwd: Path, pythonpath: Path | None = None):
    """Run lint-imports on ``config``; no cache, so nothing is written into the checkout."""
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", str(config)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_import_contracts_hold() -> None:
    """Every contract in pyproject.toml is kept by the code as it is."""
    run = _lint_imports(ROOT / "pyproject.toml", ROOT)
    assert run.returncode == 0, f"import contracts broken:\n{run.stdout}\n{run.stderr}"
    assert "0 broken" in run.stdout, run.stdout


def test_import_contracts_catch_each_breach(tmp_path: Path) -> None:
    """A copy of tui/ with one bad import per contract fails every contract: they are not vacuous.

    The copy is put first on PYTHONPATH, so import-linter reads it instead of the installed
    (editable) package.
    """
    copy = tmp_path / "tui"
    shutil.copytree(ROOT / "tui", copy, ignore=shutil.ignore_patterns("__pycache__"))
    breaches = {
        # services-plain: the service layer imports Textual.
        "services/core/text.py": "import textual  # breach\n",
        # services-layers: a low layer imports a higher one (keys -> session).
        "services/keys/credentials.py": "import tui.services.session.rotation  # breach\n",
        # exchanges-no-store (and layers): an exchange client imports the store.
        "services/exchanges/base.py": "import tui.services.store.accounts  # breach\n",
        # exchanges-independent: one exchange imports another.
        "services/exchanges/okx.py": "import tui.services.exchanges.bybit  # breach\n",
        # ui-not-cli: a widget imports the CLI.
        "widgets/section_bar.py": "import tui.cli.common  # breach\n",
        # cli-not-ui: the CLI imports a screen directly.
        "cli/common.py": "import tui.screens.help  # breach\n",
    }
    for name, line in breaches.items():
        path = copy / name
        path.write_text(path.read_text() + "\n" + line)
    run = _lint_imports(ROOT / "pyproject.toml", tmp_path, pythonpath=tmp_path)
    assert run.returncode != 0, run.stdout
    # A new contract in pyproject.toml needs its own breach above: until then this fails.
    assert "0 kept, 6 broken" in run.stdout, run.stdout


def test_service_layer_loads_no_textual() -> None:
    """Importing every module under tui.services loads neither textual nor rich.

    A fresh interpreter, so nothing the test run already imported can hide a stray import
    (lint-imports sees only static imports; this sees what really runs at import time).
    """
    script = textwrap.dedent(
        """
        import importlib, pkgutil, sys
        import tui.services
        names = [m.name for m in pkgutil.walk_packages(tui.services.__path__, "tui.services.")]
        for name in names:
            importlib.import_module(name)
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in {"textual", "rich"})
        print(len(names))
        print(",".join(loaded))
        """
    )
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert run.returncode == 0, run.stderr
    count, loaded = run.stdout.splitlines()
    assert int(count) >= 30, f"walked only {count} modules"
    tops = sorted({name.split(".")[0] for name in loaded.split(",") if name})
    assert not tops, f"the service layer loaded {tops} ({loaded.count(',') + 1} modules)"

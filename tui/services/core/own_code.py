"""Run one of keylink's own modules in a child Python, loading the same code as this process.

``python -m tui.…`` would look in the current directory first: started from a folder that holds
some other ``tui`` package (a cloned project, a download), the child would run that code and be
handed what keylink meant for its own helper (a private key, a clipboard digest). The child gets
``-P`` (no unsafe path entry) and this process's own package root first on its path instead.
"""

from __future__ import annotations

import sys
from pathlib import Path


def package_root() -> Path:
    """The directory that holds this process's ``tui`` package."""
    import tui

    return Path(tui.__file__).resolve().parent.parent


def module_command(module: str, *args: str) -> list[str]:
    """argv that runs ``module`` as ``__main__`` with ``args`` (its ``sys.argv[1:]``)."""
    launcher = (f"import sys; sys.path.insert(0, {str(package_root())!r}); import runpy; "
                f"runpy.run_module({module!r}, run_name='__main__', alter_sys=True)")
    return [sys.executable, "-P", "-c", launcher, *args]

"""Put on PYTHONPATH by the tests: every Python process they start keeps to loopback too
(tests/support/netguard.py). Loaded by ``site`` at start-up; nothing else lives here."""

import importlib.util
import os
from pathlib import Path

_guard = Path(__file__).resolve().parents[1] / "netguard.py"
if os.environ.get("KEYLINK_TEST_NETGUARD_LOG") and _guard.exists():
    _spec = importlib.util.spec_from_file_location("_keylink_netguard", _guard)
    if _spec is not None and _spec.loader is not None:
        _module = importlib.util.module_from_spec(_spec)
        _spec.loader.exec_module(_module)
        _module.install()

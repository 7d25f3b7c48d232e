#!/usr/bin/env python3
"""Time to first paint: keylink against a bare Textual app, measured in the same run.

Each sample is a fresh Python process: the clock starts when the process is spawned and stops
when the app has painted its first screen (headless, so the terminal's speed is not measured).
The two apps alternate so that machine noise hits both alike. keylink's modules are byte-compiled
first, as `pip install` does for Textual's (an editable install with PYTHONDONTWRITEBYTECODE set
would otherwise recompile keylink from source on every start). Prints the medians and the ratio
(target: keylink / bare <= 1.3), and which heavy modules were already imported at first paint.

    .venv/bin/python benchmarks/startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

HEAVY = ("httpx", "keyring", "cryptography", "pyperclip", "filelock")

CHILD = r"""
import os, sys, json

which = sys.argv[1]
if which == "keylink":
    # Loaded as the `keylink` command loads it (its entry module first: it pauses the garbage
    # collector while keylink loads), then the app as the command makes it.
    sys.argv = ["keylink"]
    import tui.cli
    from tui.app import KeylinkApp

    app = KeylinkApp()
else:
    from textual.app import App
    from textual.widgets import Footer, Header, Static

    class Bare(App):
        def compose(self):
            yield Header()
            yield Static("hello")
            yield Footer()

    app = Bare()


async def first_paint(pilot):
    await pilot.pause()  # the first screen has been composed and rendered
    heavy = [m for m in HEAVY if m in sys.modules]
    os.write(1, (json.dumps(heavy) + "\n").encode())
    pilot.app.exit()


app.run(headless=True, size=(100, 30), auto_pilot=first_paint)
"""


def sample(which: str) -> tuple[float, list[str]]:
    code = f"HEAVY = {HEAVY!r}\n" + CHILD
    start = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-c", code, which],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    assert child.stdout is not None
    line = child.stdout.readline()
    elapsed = time.perf_counter() - start
    child.wait(timeout=30)
    if not line:
        raise SystemExit(f"{which}: the app exited without painting (exit code {child.returncode})")
    return elapsed, json.loads(line)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="samples per app (at least 5)")
    args = parser.parse_args()
    runs = max(5, args.runs)
    times: dict[str, list[float]] = {"bare": [], "keylink": []}
    heavy_seen: set[str] = set()
    import compileall

    import tui

    compileall.compile_dir(str(Path(tui.__file__).parent), quiet=1)
    sample("bare")  # warm the OS file cache; not counted
    sample("keylink")
    for _ in range(runs):
        for which in ("bare", "keylink"):
            elapsed, heavy = sample(which)
            times[which].append(elapsed)
            if which == "keylink":
                heavy_seen.update(heavy)
    bare = statistics.median(times["bare"])
    keylink = statistics.median(times["keylink"])
    print(f"time to first paint, median of {runs} runs each (headless, 100x30)")
    print(f"  bare Textual app : {bare * 1000:7.1f} ms")
    print(f"  keylink          : {keylink * 1000:7.1f} ms")
    print(f"  ratio            : {keylink / bare:7.2f}x  (target <= 1.30)")
    print(f"  heavy modules imported before first paint: {', '.join(sorted(heavy_seen)) or 'none'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

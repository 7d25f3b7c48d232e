#!/usr/bin/env python3
"""Drive keylink headless and write an SVG of every screen to screenshots/ (shown in the README).

    .venv/bin/python scripts/screenshots.py [--out screenshots] [--size 100x32]

Runs against throwaway config and data dirs, so nothing of the user's is read or shown.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from textual.pilot import Pilot

ROOT = Path(__file__).resolve().parent.parent

Step = Callable[[Pilot], Awaitable[None]]


async def _keys(pilot: Pilot, *keys: str) -> None:
    await pilot.press(*keys)
    await pilot.pause()


SHOTS: dict[str, Step] = {
    "guide": lambda p: _keys(p, "1"),
    "guide-okx": lambda p: _keys(p, "1", "e", "n", "n", "n", "n"),
    "whitelist": lambda p: _keys(p, "3", "c"),
    "faq": lambda p: _keys(p, "4"),
    "help": lambda p: _keys(p, "question_mark"),
}


async def shoot(out: Path, size: tuple[int, int]) -> list[Path]:
    from tui.app import KeylinkApp

    written: list[Path] = []
    for name, step in SHOTS.items():
        app = KeylinkApp()
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            await step(pilot)
            await pilot.pause(0.3)
            path = out / f"{name}.svg"
            app.save_screenshot(filename=path.name, path=str(out))
            written.append(path)
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "screenshots"))
    parser.add_argument("--size", default="100x32", help="terminal size, COLSxROWS")
    args = parser.parse_args()
    cols, rows = (int(n) for n in args.size.split("x"))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="keylink-shots-") as tmp:
        os.environ["XDG_CONFIG_HOME"] = f"{tmp}/config"
        os.environ["XDG_DATA_HOME"] = f"{tmp}/data"
        for path in asyncio.run(shoot(out, (cols, rows))):
            print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

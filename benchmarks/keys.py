#!/usr/bin/env python3
"""Key-to-paint in a real terminal: keylink against a bare Textual app, in one run.

Both apps run in the same 80x24 pane of a tmux server that is already running (so the cost of
painting a full screen through a real terminal is measured, which headless runs hide). For each
step the clock starts when the key is sent and stops when the pane shows the step's marker (or,
for a closing key, stops showing it). Between steps the app is left idle for a moment, as a person
reading the screen would. The two apps alternate run by run so machine noise hits both alike;
the table shows medians and the ratio against the targets (first paint <= 1.3x, keys <= 1.5x).

    .venv/bin/python benchmarks/keys.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Step:
    label: str
    key: str | None  # None: the app's start
    marker: str  # text that shows once the step has painted
    gone: bool = False  # the step is done when the marker disappears
    target: float = 1.5


def _steps(app: str) -> list[Step]:
    faq = "What is an API key" if app == "keylink" else "Question 1"
    return [
        Step("first paint", None, "palette", target=1.3),
        Step("`3` whitelist, first visit", "3", "20 addresses"),
        Step("`4` FAQ, first visit", "4", faq),
        Step("`?` help", "?", "Keys and help"),
        Step("`?` closes help", "?", "Keys and help", gone=True),
        Step("`?` help, second time", "?", "Keys and help"),
    ]


class Pane:
    def __init__(self, tmp: Path) -> None:
        self.tmux = shutil.which("tmux") or sys.exit("tmux is needed: apt-get install tmux")
        self.socket = str(tmp / "bench.sock")
        config = tmp / "tmux.conf"
        config.write_text("set -g escape-time 0\nset -g status off\nset -g remain-on-exit on\n"
                          "set -g default-terminal screen-256color\n")
        self._base = [self.tmux, "-S", self.socket, "-f", str(config)]
        subprocess.run([*self._base, "new-session", "-d", "-s", "bench", "-x", "80", "-y", "24",
                        "sleep 86400"], check=True)

    def tmux_cmd(self, *args: str) -> str:
        return subprocess.run([*self._base, *args], capture_output=True, text=True,
                              check=True).stdout

    def screen(self) -> str:
        return self.tmux_cmd("capture-pane", "-p", "-t", "bench")

    def wait(self, marker: str, gone: bool, start: float, timeout: float = 20.0) -> float:
        while True:
            shown = marker in self.screen()
            now = time.perf_counter()
            if shown != gone:
                return now - start
            if now - start > timeout:
                raise RuntimeError(f"{marker!r} never {'went' if gone else 'showed'}:\n"
                                   + self.screen())

    def close(self) -> None:
        subprocess.run([*self._base, "kill-server"], check=False)


def run_once(pane: Pane, app: str, env: dict[str, str], settle: float) -> list[float]:
    if app == "keylink":
        keylink = Path(sys.executable).with_name("keylink")
        command = [str(keylink)]
    else:
        command = [sys.executable, str(HERE / "bare_app.py")]
    assignments = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    times = []
    for step in _steps(app):
        start = time.perf_counter()
        if step.key is None:
            pane.tmux_cmd("respawn-pane", "-k", "-t", "bench",
                          f"env -u DISPLAY -u DBUS_SESSION_BUS_ADDRESS {assignments} "
                          f"{shlex.join(command)}")
        else:
            pane.tmux_cmd("send-keys", "-t", "bench", "-l", step.key)
        times.append(pane.wait(step.marker, step.gone, start))
        time.sleep(settle)
    pane.tmux_cmd("send-keys", "-t", "bench", "C-q")
    time.sleep(0.5)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per app (default 5)")
    parser.add_argument("--settle", type=float, default=1.0,
                        help="idle seconds after each paint (default 1.0)")
    args = parser.parse_args()
    # Compile keylink's modules first, as an installed package would have them.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(HERE.parent / "tui")],
                   check=True)
    with tempfile.TemporaryDirectory(prefix="keylink-keys-") as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        env = {"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
               "XDG_DATA_HOME": str(home / ".local/share"), "TERM": "screen-256color",
               "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        pane = Pane(Path(tmp))
        results: dict[str, list[list[float]]] = {"keylink": [], "bare": []}
        try:
            run_once(pane, "bare", env, args.settle)  # warm the disk cache for both
            run_once(pane, "keylink", env, args.settle)
            for _ in range(args.runs):
                for app in ("keylink", "bare"):
                    results[app].append(run_once(pane, app, env, args.settle))
        finally:
            pane.close()
    print(f"key-to-paint in an 80x24 tmux pane, median of {args.runs} runs each, alternated\n")
    print("| key | keylink | bare Textual | ratio | target |")
    print("|---|---|---|---|---|")
    failed = False
    for index, step in enumerate(_steps("keylink")):
        ours = statistics.median(run[index] for run in results["keylink"]) * 1000
        bare = statistics.median(run[index] for run in results["bare"]) * 1000
        ratio = ours / bare
        ok = ratio <= step.target
        failed |= not ok
        print(f"| {step.label} | {ours:.0f} ms | {bare:.0f} ms | {ratio:.2f}x | "
              f"<= {step.target}x {'ok' if ok else 'MISSED'} |")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

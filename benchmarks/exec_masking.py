#!/usr/bin/env python3
"""`keylink exec`'s masking throughput: a CMD writing 200 MB through the masker against the same
CMD without keylink (issue 19). Target: masked / plain >= 0.7.

Both sides pipe CMD's output to the same reader (`cat > /dev/null`), so only the masker sits
between them: the masked side runs CMD through ``run_masked`` (the code `keylink exec` runs),
with a 64-byte secret, a passphrase and an API key to look for; CMD's output is log-like text
that holds the secret's first bytes often (the costly case: each is checked). keylink's own
start-up (about 0.4 s, once per bot) is not part of the figure. Runs alternate.

Two figures: the best run of each side, and the median. On a 2-core machine the run without
keylink swings by up to 4x from run to run (where the scheduler puts CMD and `cat`: two processes
on two cores, sometimes sharing a cache), while the masked run (three processes) stays within
about 20%; the best run of the plain side is its luckiest. The target is read on the medians,
and both are printed.

With ``--writes lines`` CMD writes one line per system call, as a logger that flushes each record
does; keylink then reads many lines per call from its larger pipe, which can make the masked run
faster than the plain one (there, `cat` wakes once per line): that figure is about batching, the
default one about the masker's own cost.

    .venv/bin/python benchmarks/exec_masking.py [--mb 200] [--runs 3] [--writes blocks|lines]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tui.services.handoff.masked_exec import run_masked

SECRET = b"Zq" + b"9" * 62
VALUES = [SECRET, b"Passphrase-2026", b"APIKEY0123456789ABCDEF"]

#: CMD: argv[1] MB of log lines, in 64 KiB blocks ("blocks": the most a program can push through
#: a pipe, the worst case for the masker) or one write per line ("lines": as a bot's logger that
#: flushes each record writes).
WRITER = r"""
import os, sys
line = b"2026-12-05 04:00:00 INFO  Zq bot: order filled on BTC/USDT at 97000.5, size 0.01\n"
unit = line * (65536 // len(line)) if sys.argv[2] == "blocks" else line
total = int(sys.argv[1]) * 1024 * 1024
done = 0
while done < total:
    os.write(1, unit)
    done += len(unit)
"""
MODE = "blocks"


def plain(mb: int) -> float:
    started = time.perf_counter()
    with open(os.devnull, "wb") as devnull:
        reader = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=devnull)
        writer = subprocess.Popen([sys.executable, "-c", WRITER, str(mb), MODE],
                                  stdout=reader.stdin)
        assert reader.stdin is not None
        reader.stdin.close()
        writer.wait()
        reader.wait()
    return time.perf_counter() - started


def masked(mb: int) -> float:
    started = time.perf_counter()
    with open(os.devnull, "wb") as devnull:
        reader = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=devnull)
        assert reader.stdin is not None
        ended = run_masked([sys.executable, "-c", WRITER, str(mb), MODE], sys.executable,
                           dict(os.environ), VALUES, stdout=reader.stdin.fileno(),
                           stderr=reader.stdin.fileno())
        reader.stdin.close()
        reader.wait()
    if ended.code != 0:
        raise SystemExit(f"the writer failed: {ended}")
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=200)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--writes", choices=("blocks", "lines"), default="blocks",
                        help="CMD writes 64 KiB blocks (default) or one line per write")
    args = parser.parse_args()
    global MODE
    MODE = args.writes
    plain_times, masked_times = [], []
    for _ in range(args.runs):
        plain_times.append(plain(args.mb))
        masked_times.append(masked(args.mb))
    print(f"{args.mb} MB written in {args.writes}, {args.runs} runs each")
    print("  without keylink: " + " ".join(f"{t:.2f}" for t in plain_times) + " s")
    print("  masked:          " + " ".join(f"{t:.2f}" for t in masked_times) + " s")
    for label, pick in (("best", min), ("median", statistics.median)):
        plain_s, masked_s = pick(plain_times), pick(masked_times)
        print(f"  {label:6}: without {plain_s:.2f} s ({args.mb / plain_s:.0f} MB/s), masked "
              f"{masked_s:.2f} s ({args.mb / masked_s:.0f} MB/s): {plain_s / masked_s:.2f}")
    ratio = statistics.median(plain_times) / statistics.median(masked_times)
    print(f"  masked / plain throughput (medians): {ratio:.2f} (target >= 0.70): "
          f"{'met' if ratio >= 0.7 else 'NOT met'}")
    return 0 if ratio >= 0.7 else 1


if __name__ == "__main__":
    raise SystemExit(main())

#!/usr/bin/env python3
"""`keylink exec`'s masking throughput: a CMD writing 200 MB through the masker against the same
CMD without keylink (issue 19). Target: masked / plain >= 0.7.

Both sides pipe CMD's output to the same reader (`cat > /dev/null`), so only the masker sits
between them: the masked side runs CMD through ``run_masked`` (the code `keylink exec` runs),
with a 64-byte secret, a passphrase and an API key to look for; CMD's output is log-like text
that holds the secret's first bytes often (the costly case: each is checked). keylink's own
start-up (about 0.4 s, once per bot) is not part of the figure. Runs alternate; best of N.

With ``--writes lines`` CMD writes one line per system call, as a logger that flushes each record
does; keylink then reads many lines per call from its larger pipe, which can make the masked run
faster than the plain one (there, `cat` wakes once per line): that figure is about batching, the
default one about the masker's own cost.

    .venv/bin/python benchmarks/exec_masking.py [--mb 200] [--runs 3] [--writes blocks|lines]
"""

from __future__ import annotations

import argparse
import os
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
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--writes", choices=("blocks", "lines"), default="blocks",
                        help="CMD writes 64 KiB blocks (default) or one line per write")
    args = parser.parse_args()
    global MODE
    MODE = args.writes
    plain_times, masked_times = [], []
    for _ in range(args.runs):
        plain_times.append(plain(args.mb))
        masked_times.append(masked(args.mb))
    best_plain, best_masked = min(plain_times), min(masked_times)
    ratio = best_plain / best_masked
    print(f"{args.mb} MB written in {args.writes}, best of {args.runs}")
    print(f"  without keylink: {best_plain:.2f} s  ({args.mb / best_plain:.0f} MB/s)")
    print(f"  masked:          {best_masked:.2f} s  ({args.mb / best_masked:.0f} MB/s)")
    print(f"  masked / plain throughput: {ratio:.2f} (target >= 0.70): "
          f"{'met' if ratio >= 0.7 else 'NOT met'}")
    return 0 if ratio >= 0.7 else 1


if __name__ == "__main__":
    raise SystemExit(main())

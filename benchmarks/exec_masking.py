#!/usr/bin/env python3
"""`keylink exec`'s masking throughput: a CMD writing 200 MB through the masker against the same
CMD without keylink (issue 19). Target: masked / plain >= 0.7.

Both sides pipe CMD's output to the same reader (`cat > /dev/null`), so only the masker sits
between them: the masked side runs CMD through ``run_masked`` (the code `keylink exec` runs),
with a 64-byte secret, a passphrase and an API key to look for; CMD's output is log-like text
that holds the secret's first bytes often (the costly case: each is checked). keylink's own
start-up (about 0.4 s, once per bot) is not part of the figure. Runs alternate; best of N.

    .venv/bin/python benchmarks/exec_masking.py [--mb 200] [--runs 3]
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

WRITER = r"""
import sys
line = b"2026-12-05 04:00:00 INFO  Zq bot: order filled on BTC/USDT at 97000.5, size 0.01\n"
block = line * (65536 // len(line))
write = sys.stdout.buffer.write
total = int(sys.argv[1]) * 1024 * 1024
done = 0
while done < total:
    write(block)
    done += len(block)
sys.stdout.buffer.flush()
"""


def plain(mb: int) -> float:
    started = time.perf_counter()
    with open(os.devnull, "wb") as devnull:
        reader = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=devnull)
        writer = subprocess.Popen([sys.executable, "-c", WRITER, str(mb)], stdout=reader.stdin)
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
        ended = run_masked([sys.executable, "-c", WRITER, str(mb)], sys.executable,
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
    args = parser.parse_args()
    plain_times, masked_times = [], []
    for _ in range(args.runs):
        plain_times.append(plain(args.mb))
        masked_times.append(masked(args.mb))
    best_plain, best_masked = min(plain_times), min(masked_times)
    ratio = best_plain / best_masked
    print(f"{args.mb} MB, best of {args.runs}")
    print(f"  without keylink: {best_plain:.2f} s  ({args.mb / best_plain:.0f} MB/s)")
    print(f"  masked:          {best_masked:.2f} s  ({args.mb / best_masked:.0f} MB/s)")
    print(f"  masked / plain throughput: {ratio:.2f} (target >= 0.70): "
          f"{'met' if ratio >= 0.7 else 'NOT met'}")
    return 0 if ratio >= 0.7 else 1


if __name__ == "__main__":
    raise SystemExit(main())

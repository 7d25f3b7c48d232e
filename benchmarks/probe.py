#!/usr/bin/env python3
"""A failed check with the "where does this key belong" probe, against the same failed check
without it (``verify --no-probe``), both against loopback fakes that add a fixed latency (default
50 ms) to every answer. Target: with / without <= 1.5 (issue 17).

The key is a Bybit testnet key checked on mainnet: mainnet answers 10003, the probe asks the other
environments at once. A first refusal can only be probed after it arrives (about one more round
trip: the key is not sent to other hosts before a refusal says it must be); a check of a key whose
last check was refused that way asks the same hosts beside the check ("again" below).
``--targets N`` sets how many other environments the registry lists (one
fake each, only the first knows the key), to show that concurrent probes cost about one.
The registry is a ``replace = true`` KEYLINK_ENVIRONMENTS file: every host is 127.0.0.1.

    .venv/bin/python benchmarks/probe.py [--runs N] [--latency-ms MS] [--targets N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.fakes.exchange import DEFAULT_KEYS, FakeExchange
from tui.services.keys.credentials import Credentials
from tui.services.verify.run import verify_key

ENVIRONMENTS = ("testnet", "demo", "region-nl", "region-tr", "region-kz", "region-ge",
                "region-ae", "region-eu", "region-id")


def write_registry(path: Path, main: str, others: list[tuple[str, str]]) -> None:
    lines = ["replace = true"]
    for env, url in [("mainnet", main), *others]:
        lines += [f"[bybit.{env}]", f'rest = "{url}"', 'source = "benchmark"',
                  'date = "2026-12-05"']
    path.write_text("\n".join(lines) + "\n")
    os.environ["KEYLINK_ENVIRONMENTS"] = str(path)


async def once(url: str, creds: Credentials, probe: bool, early: bool = False) -> float:
    started = time.perf_counter()
    report = await verify_key("bybit", url, creds, environment="mainnet", probe=probe,
                              probe_early=early)
    elapsed = time.perf_counter() - started
    if report.error is None or report.error.code != "10003":
        raise SystemExit(f"the check did not fail as planned: {report.error}")
    if probe and (report.probe is None or report.probe.belongs_to != "testnet"):
        raise SystemExit("the probe did not find the testnet key")
    return elapsed


async def run(runs: int, latency_ms: int, targets: int) -> tuple[list[float], list[float],
                                                                 list[float]]:
    key = replace(DEFAULT_KEYS["bybit"], environment="testnet")
    creds = Credentials(key.api_key, key.secret)
    with ExitStack() as stack, tempfile.TemporaryDirectory() as folder:
        main = stack.enter_context(FakeExchange(keys={"bybit": [key]}))
        others = [stack.enter_context(FakeExchange(keys={"bybit": [key]}))
                  for _ in range(targets)]
        others[0].config.bybit_environment = "testnet"
        for fake in others[1:]:
            fake.config.bybit_environment = "demo"  # knows no such key
        write_registry(Path(folder) / "env.toml", main.url,
                       [(env, fake.url) for env, fake in zip(ENVIRONMENTS, others, strict=False)])
        await once(main.url, creds, True)  # warm-up: imports, TLS context
        await once(main.url, creds, False)
        for fake in (main, *others):
            fake.config.latency_ms = latency_ms
        with_probe: list[float] = []
        without: list[float] = []
        again: list[float] = []
        for _ in range(runs):  # alternating, so machine noise hits all alike
            with_probe.append(await once(main.url, creds, True))
            without.append(await once(main.url, creds, False))
            again.append(await once(main.url, creds, True, early=True))
    return with_probe, without, again


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="samples per side (>= 5)")
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--targets", type=int, default=1, choices=range(1, len(ENVIRONMENTS) + 1),
                        metavar=f"1..{len(ENVIRONMENTS)}")
    args = parser.parse_args()
    if args.runs < 5:
        parser.error("use at least 5 runs")
    with_probe, without, again = asyncio.run(run(args.runs, args.latency_ms, args.targets))
    w, wo = statistics.median(with_probe) * 1000, statistics.median(without) * 1000
    a = statistics.median(again) * 1000
    print(f"injected latency {args.latency_ms} ms per answer, {args.targets} probe target(s), "
          f"{args.runs} runs each (median)")
    print(f"failed check with the probe:    {w:7.1f} ms")
    print(f"failed check, --no-probe:       {wo:7.1f} ms")
    print(f"failed again (probe beside it): {a:7.1f} ms")
    print(f"ratio with / without: {w / wo:.3f}; again / without: {a / wo:.3f} (target <= 1.5)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

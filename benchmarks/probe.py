#!/usr/bin/env python3
"""A failed check with the "where does this key belong" probe, against the same failed check
without it (``verify --no-probe``), both against loopback fakes 50 ms (``--latency-ms``) away.
Target: with / without <= 1.5 (issue 17).

The key is a Bybit testnet key checked on mainnet: mainnet answers 10003, the probe asks the other
environments at once. The key is not sent to another host before a refusal says it must be, so a
first refusal is probed after it arrives; what goes before it is the connection (the hosts'
public time call, no key: ``verify.probe.WarmHosts``), so the probe then costs one round trip.

Two models of the network, both printed:
- **HTTPS** (the figure the target is read on): a new connection costs two round trips before
  its first answer (TCP's handshake, then TLS 1.3's), as every check's and probe's does on a real
  network; each later answer on it costs one.
- **answers only**: only each answer costs a round trip, as if connections were free. There a
  check is one round trip and any probe after it is a second, so no probe that waits for the
  refusal can stay under 2x; this model shows that floor.

Lines: the first failed check of a key with the probe (connections opened beside it); the same
for a key whose last check worked (no connections opened beforehand); ``--no-probe``; and a key
whose last check was refused as unknown, whose probe goes beside the check ("again").
``--targets N`` sets how many other environments the registry lists (one fake each, only the
first knows the key); the default, 9, is what a Bybit mainnet key's probe asks. The fakes run in
a process of their own, as remote hosts would. The registry is a
``replace = true`` KEYLINK_ENVIRONMENTS file: every host is 127.0.0.1.

    .venv/bin/python benchmarks/probe.py [--runs N] [--latency-ms MS] [--targets N]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import replace
from multiprocessing.connection import Connection
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


async def once(url: str, creds: Credentials, probe: bool, early: bool = False,
               warm: bool = True) -> float:
    started = time.perf_counter()
    report = await verify_key("bybit", url, creds, environment="mainnet", probe=probe,
                              probe_early=early, probe_warm=warm)
    elapsed = time.perf_counter() - started
    if report.error is None or report.error.code != "10003":
        raise SystemExit(f"the check did not fail as planned: {report.error}")
    if probe and (report.probe is None or report.probe.belongs_to != "testnet"):
        raise SystemExit("the probe did not find the testnet key")
    return elapsed


KEY = replace(DEFAULT_KEYS["bybit"], environment="testnet")


def serve(conn: Connection, targets: int, latency_ms: int, handshake_rtts: int) -> None:
    """The fakes, in a process of their own (as remote hosts are): their threads do not take
    the checking process's time. Sends the URLs, serves until told to stop."""
    with ExitStack() as stack:
        main = stack.enter_context(FakeExchange(keys={"bybit": [KEY]}))
        others = [stack.enter_context(FakeExchange(keys={"bybit": [KEY]}))
                  for _ in range(targets)]
        others[0].config.bybit_environment = "testnet"
        for fake in others[1:]:
            fake.config.bybit_environment = "demo"  # knows no such key
        for fake in (main, *others):
            fake.config.latency_ms = latency_ms
            fake.config.handshake_rtts = handshake_rtts
        conn.send((main.url, [fake.url for fake in others]))
        conn.recv()


async def run(runs: int, latency_ms: int, targets: int,
              handshake_rtts: int) -> dict[str, list[float]]:
    creds = Credentials(KEY.api_key, KEY.secret)
    ours, theirs = multiprocessing.Pipe()
    server = multiprocessing.get_context("fork").Process(
        target=serve, args=(theirs, targets, latency_ms, handshake_rtts), daemon=True)
    server.start()
    try:
        main_url, other_urls = ours.recv()
        with tempfile.TemporaryDirectory() as folder:
            write_registry(Path(folder) / "env.toml", main_url,
                           list(zip(ENVIRONMENTS, other_urls, strict=False)))
            await once(main_url, creds, True)  # warm-up: imports, TLS context
            await once(main_url, creds, False)
            times: dict[str, list[float]] = {"first": [], "cold": [], "without": [], "again": []}
            for _ in range(runs):  # alternating, so machine noise hits all alike
                times["first"].append(await once(main_url, creds, True))
                times["cold"].append(await once(main_url, creds, True, warm=False))
                times["without"].append(await once(main_url, creds, False))
                times["again"].append(await once(main_url, creds, True, early=True))
    finally:
        ours.send("stop")
        server.join(timeout=10)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="samples per side (>= 5)")
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--targets", type=int, default=len(ENVIRONMENTS),
                        choices=range(1, len(ENVIRONMENTS) + 1), metavar=f"1..{len(ENVIRONMENTS)}",
                        help="other environments to probe (default: as many as Bybit's "
                        "mainnet probe asks in keylink's registry)")
    args = parser.parse_args()
    if args.runs < 5:
        parser.error("use at least 5 runs")
    print(f"latency {args.latency_ms} ms a round trip, {args.targets} probe target(s), "
          f"{args.runs} runs each (median)")
    met = True
    for name, rtts in (("HTTPS (a new connection: 2 round trips first)", 2),
                       ("answers only (connections free)", 0)):
        times = asyncio.run(run(args.runs, args.latency_ms, args.targets, rtts))
        ms = {key: statistics.median(values) * 1000 for key, values in times.items()}
        without = ms["without"]
        print(f"\n{name}")
        print(f"  first failed check, with the probe:       {ms['first']:7.1f} ms  "
              f"{ms['first'] / without:.2f}x")
        print(f"  same, key that worked last time:          {ms['cold']:7.1f} ms  "
              f"{ms['cold'] / without:.2f}x")
        print(f"  failed check, --no-probe:                 {without:7.1f} ms")
        print(f"  failed again (probe beside the check):    {ms['again']:7.1f} ms  "
              f"{ms['again'] / without:.2f}x")
        if rtts:
            ratio = ms["first"] / without
            met = ratio <= 1.5
            print(f"  first failed check with / without: {ratio:.2f} (target <= 1.5): "
                  f"{'met' if met else 'NOT met'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())

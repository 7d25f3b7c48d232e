#!/usr/bin/env python3
"""keylink's verify wall time against one raw httpx request, both against the fake exchange.

The fake adds a fixed latency to every answer (default 50 ms). keylink makes two calls (server time
and the signed key-info call) but runs them concurrently, so its wall time should stay close to
one request: the target is keylink / raw <= 1.15. Both sides create a fresh httpx client per
sample, as keylink does per verification, with a TLS context built once per process (as keylink
does), and they alternate so machine noise hits both alike.

    .venv/bin/python benchmarks/verify.py [--runs N] [--latency-ms MS] [--exchange ID]
"""

from __future__ import annotations

import argparse
import asyncio
import ssl
import statistics
import sys
import time
from functools import cache
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from tests.fakes.exchange import FakeExchange
from tui.services.exchanges import exchange
from tui.services.keys.credentials import Credentials
from tui.services.verify.run import verify_key


async def keylink_once(fake: FakeExchange, exchange_id: str, creds: Credentials) -> float:
    started = time.perf_counter()
    report = await verify_key(exchange_id, fake.url, creds)
    elapsed = time.perf_counter() - started
    if not report.ok:
        raise SystemExit(f"verify failed during the benchmark: {report.error}")
    return elapsed


@cache
def _tls_context() -> ssl.SSLContext:
    return httpx.create_ssl_context()


async def raw_once(fake: FakeExchange, exchange_id: str, creds: Credentials) -> float:
    api = exchange(exchange_id).api
    assert api is not None
    started = time.perf_counter()
    request = api.sign_key_info(creds, int(time.time() * 1000))
    async with httpx.AsyncClient(base_url=fake.url, timeout=10.0,
                                 verify=_tls_context()) as client:
        response = await client.get(request.path, headers=list(request.headers))
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise SystemExit(f"raw request failed during the benchmark: HTTP {response.status_code}")
    return elapsed


async def run(runs: int, latency_ms: int, exchange_id: str) -> tuple[list[float], list[float]]:
    ours: list[float] = []
    raw: list[float] = []
    with FakeExchange() as fake:
        key = fake.key(exchange_id)
        creds = Credentials(key.api_key, key.secret, key.passphrase)
        # Warm-up (imports, first TLS-context creation) outside the measurement.
        await keylink_once(fake, exchange_id, creds)
        await raw_once(fake, exchange_id, creds)
        fake.config.latency_ms = latency_ms
        for _ in range(runs):
            ours.append(await keylink_once(fake, exchange_id, creds))
            raw.append(await raw_once(fake, exchange_id, creds))
    return ours, raw


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="samples per side (>= 5)")
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--exchange", default="bybit")
    args = parser.parse_args()
    if args.runs < 5:
        parser.error("use at least 5 runs")
    ours, raw = asyncio.run(run(args.runs, args.latency_ms, args.exchange))
    k, r = statistics.median(ours) * 1000, statistics.median(raw) * 1000
    print(f"exchange {args.exchange}, injected latency {args.latency_ms} ms, "
          f"{args.runs} runs each (median)")
    print(f"keylink verify (time + key-info, concurrent): {k:7.1f} ms")
    print(f"raw httpx, one key-info request:              {r:7.1f} ms")
    print(f"ratio keylink / raw: {k / r:.3f} (target <= 1.15)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""`keylink verify` with the secret in pass against the same account with it in the vault.

One account against the fake exchange (50 ms injected latency by default), moved between the two
stores with `keylink accounts move`; the GPG agent is warm (a first read is made before timing,
as it is for a user who read an entry once). Two figures, samples alternating in blocks so machine
noise hits both stores alike:

- the whole command, `keylink verify NAME` as a process: what a script or cron job runs (the
  vault's key is derived from KEYLINK_VAULT_PASSPHRASE with keylink's own scrypt cost);
- in one process, the session already open and the vault unlocked (the app's case): reading the
  secret from its store plus the check.

Target: pass / vault <= 1.5 (issue 21). Everything runs in a temporary HOME: a GPG key without a
passphrase, a pass store and keylink's dirs; nothing of the user's is touched.

    .venv/bin/python benchmarks/verify_pass.py [--runs N] [--latency-ms MS]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakes.exchange import FakeExchange  # noqa: E402
from tests.support.gpg import init_store, make_person  # noqa: E402

PASSPHRASE = "benchmark vault passphrase 42"


def keylink(env: dict[str, str], *args: str, stdin: str = "") -> float:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "tui", *args], input=stdin, text=True,
                          capture_output=True, env=env, timeout=120)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"`keylink {' '.join(args)}` failed: {done.stderr.strip()}")
    return elapsed


def in_process(runs: int) -> float:
    """Median seconds of credentials_for + check in an open session (vault unlocked)."""
    from tui.services.session.session import Session

    session = Session()
    session.open()
    session.ensure_unlocked()
    account = session.known_accounts[0]
    samples = []

    async def once() -> float:
        started = time.perf_counter()
        finished = await session.check_and_record(account)
        if not finished.report.ok:
            raise SystemExit(f"verify failed: {finished.report.error}")
        return time.perf_counter() - started

    asyncio.run(once())  # warm: imports, the TLS context, the GPG agent
    for _ in range(runs):
        samples.append(asyncio.run(once()))
        account = session.accounts.get(account.id) if session.accounts else account
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="samples per store (>= 6)")
    parser.add_argument("--latency-ms", type=int, default=50)
    args = parser.parse_args()
    if args.runs < 6:
        parser.error("use at least 6 runs")
    with tempfile.TemporaryDirectory(prefix="keylink-bench-") as tmp, FakeExchange() as fake:
        base = Path(tmp)
        me = make_person(base / "gnupg", "bench", "bench@keylink.test")
        store = init_store(base / "password-store", me)
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("KEYLINK_", "XDG_", "PYTHON_KEYRING", "DBUS_"))}
        env.update(HOME=str(base), XDG_CONFIG_HOME=str(base / "config"),
                   XDG_DATA_HOME=str(base / "data"), XDG_CACHE_HOME=str(base / "cache"),
                   GNUPGHOME=str(me.home), PASSWORD_STORE_DIR=str(store),
                   KEYLINK_SECRET_BACKEND="vault", KEYLINK_VAULT_PASSPHRASE=PASSPHRASE,
                   PYTHONPATH=str(ROOT))
        key = fake.key("bybit")
        keylink(env, "accounts", "add", "Bench", "--exchange", "bybit", "--base-url", fake.url,
                stdin=f"{key.api_key}\n{key.secret}\n")
        fake.config.latency_ms = args.latency_ms
        times: dict[str, list[float]] = {"vault": [], "pass": []}
        here = "vault"
        block = max(args.runs // 3, 2)
        keylink(env, "verify", "Bench")  # warm
        while min(len(v) for v in times.values()) < args.runs:
            for _ in range(block):
                if len(times[here]) < args.runs:
                    times[here].append(keylink(env, "verify", "Bench"))
            here = "pass" if here == "vault" else "vault"
            keylink(env, "accounts", "move", "Bench", "--to", here)
            keylink(env, "verify", "Bench")  # warm the agent after a move
        whole = {k: statistics.median(v) * 1000 for k, v in times.items()}
        session: dict[str, float] = {}
        saved = dict(os.environ)
        os.environ.clear()
        os.environ.update(env)
        try:
            for where in ("vault", "pass"):
                keylink(env, "accounts", "move", "Bench", "--to", where)
                session[where] = in_process(args.runs) * 1000
        finally:
            os.environ.clear()
            os.environ.update(saved)
            me.stop_agent()
    print(f"bybit against the fake exchange, injected latency {args.latency_ms} ms, "
          f"{args.runs} runs per store (median), GPG agent warm")
    print(f"`keylink verify` as a process:  vault {whole['vault']:7.1f} ms   pass "
          f"{whole['pass']:7.1f} ms   ratio pass/vault {whole['pass'] / whole['vault']:.3f}")
    print(f"in an open session (unlocked):  vault {session['vault']:7.1f} ms   pass "
          f"{session['pass']:7.1f} ms   ratio pass/vault {session['pass'] / session['vault']:.3f}")
    print("target: ratio <= 1.5")
    return 0


if __name__ == "__main__":
    sys.exit(main())

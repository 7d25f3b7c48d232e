#!/usr/bin/env python3
"""`keylink status` against `keylink accounts list`, 200 accounts with full histories.

Both are real `python -m tui` processes over the same files in a throwaway config dir: 200
accounts in accounts.json (each with a last check) and 50 history entries per account in
history.json (10,000 entries, each with bound addresses and a change). Neither needs the vault
unlocked or the network. The runs alternate so machine noise hits both alike; the target is
median(status) / median(list) <= 1.5.

    .venv/bin/python benchmarks/status.py [--runs N] [--accounts N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tui.services.store.history import KEEP, Change, HistoryEntry, HistoryStore
from tui.services.store.model import Account, LastCheck, account_json

TARGET = 1.5


def build(config: Path, count: int) -> None:
    """accounts.json with ``count`` checked accounts, and a full history for each."""
    config.mkdir(parents=True, mode=0o700)
    accounts = []
    history: dict[str, list[HistoryEntry]] = {}
    ips = tuple(f"203.0.113.{n}" for n in range(1, 21))
    for n in range(count):
        account_id = f"{n:032x}"
        check = LastCheck(ok=True, checked_at="2026-12-05T00:00:00Z",
                          summary="works; read+trade; IP-bound (20); 1 change", worst="warning",
                          status="works", expires_at="2026-12-30T00:00:00Z")
        accounts.append(Account(
            id=account_id, name=f"account {n}", exchange="bybit", environment="mainnet",
            base_url="https://api.bybit.com", whitelist="insilico-general",
            created_at="2026-01-01T00:00:00Z", updated_at="2026-01-01T00:00:00Z",
            secret_ref=f"account-{account_id}-000000000000", last_check=check,
            secret_store="vault"))
        history[account_id] = [HistoryEntry(
            checked_at=f"2026-12-{1 + i % 5:02d}T00:{i:02d}:00Z", status="works",
            worst="warning", host="api.bybit.com", rights=("read", "trade"), ips=ips,
            ip_restricted=True, expires_at="2026-12-30T00:00:00Z",
            expiry_rule="bybit-bound-deadline", key_kind="hmac", key_type="personal",
            clock_offset_ms=40 + i,
            changes=(Change("clock_offset", "+0.0 s", "+0.5 s", "warning"),))
            for i in range(KEEP)]
    (config / "accounts.json").write_text(json.dumps(
        {"version": 1, "accounts": [account_json(a) for a in accounts]}, indent=2))
    (config / "history.json").write_bytes(HistoryStore._serialize(history))
    entries, problem = HistoryStore(config).entries(accounts[0].id)
    assert problem is None and len(entries) == KEEP


def once(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "tui", *argv], env=env,
                          capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"keylink {' '.join(argv)} failed: {done.stderr.strip()}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--accounts", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        build(root / "config" / "keylink", args.accounts)
        env = {**os.environ, "XDG_CONFIG_HOME": str(root / "config"),
               "XDG_DATA_HOME": str(root / "data"), "XDG_CACHE_HOME": str(root / "cache"),
               "KEYLINK_SECRET_BACKEND": "vault"}
        env.pop("KEYLINK_VAULT_PASSPHRASE", None)
        size = (root / "config" / "keylink" / "history.json").stat().st_size
        once(["status"], env), once(["accounts", "list"], env)  # warm the caches
        status, listing = [], []
        for _ in range(args.runs):
            status.append(once(["status", "--json"], env))
            listing.append(once(["accounts", "list", "--json"], env))
    s, a = statistics.median(status), statistics.median(listing)
    print(f"{args.accounts} accounts, history.json {size / 2**20:.1f} MiB, {args.runs} runs each")
    print(f"keylink status --json         median {s * 1000:6.0f} ms  "
          f"(min {min(status) * 1000:.0f})")
    print(f"keylink accounts list --json  median {a * 1000:6.0f} ms  "
          f"(min {min(listing) * 1000:.0f})")
    print(f"ratio {s / a:.2f} (target <= {TARGET})")
    return 0 if s / a <= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())

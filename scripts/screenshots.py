#!/usr/bin/env python3
"""Drive keylink headless and write an SVG of every screen to screenshots/ (shown in the README).

    .venv/bin/python scripts/screenshots.py [--out screenshots] [--size 100x32]

Runs against throwaway config and data dirs, so nothing of the user's is read or shown.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from textual.pilot import Pilot

ROOT = Path(__file__).resolve().parent.parent

Step = Callable[[Pilot], Awaitable[None]]


async def _keys(pilot: Pilot, *keys: str) -> None:
    await pilot.press(*keys)
    await pilot.pause()


async def _until(pilot: Pilot, ready: Callable[[], bool], timeout: float = 15.0) -> None:
    """Let workers (store, verify) finish before the picture is taken."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not ready() and loop.time() < deadline:
        await pilot.pause(0.1)


def _text(pilot: Pilot) -> str:
    """What the screen shows now, as plain-ish text (the SVG with its spaces restored)."""
    return pilot.app.export_screenshot().replace("&#160;", " ")


async def _accounts_verify(pilot: Pilot) -> None:
    await _keys(pilot, "2")
    await _until(pilot, lambda: "Bybit main" in _text(pilot))
    await _keys(pilot, "v")
    await _until(pilot, lambda: "Findings" in _text(pilot))


async def _account_form(pilot: Pilot) -> None:
    await _keys(pilot, "2")
    await _until(pilot, lambda: "Bybit main" in _text(pilot))
    await _keys(pilot, "a")
    await _until(pilot, lambda: "Add an account" in _text(pilot))
    await _keys(pilot, *"OKX swing")
    await _keys(pilot, "tab", "enter", "down", "enter")  # exchange: OKX
    await pilot.pause(0.3)
    # Straight to the API key: the tab count depends on the exchange's fields (key kind, ...),
    # and a digit typed into a select would switch sections.
    from tui.services.store import validation

    pilot.app.screen.query_one(f"#{validation.API_KEY}").focus()
    await pilot.pause()
    await _keys(pilot, *"1f0c8a9e-5b7d-4c3e-9a21-6d4e8b2f7c1", "tab")  # one character short
    await _keys(pilot, *"A1B2C3D4E5F60718293A4B5C6D7E8F90", "tab")
    await _keys(pilot, "ctrl+s")
    await _until(pilot, lambda: "passphrase" in _text(pilot).lower())


async def _guide_gainium(pilot: Pilot) -> None:
    """The terminal picked with t (Gainium), then its list step on Binance."""
    await _keys(pilot, "1", "t")
    await _until(pilot, lambda: "Which terminal" in _text(pilot))
    await _keys(pilot, "down", "enter")  # Gainium, second in the catalogue
    screen = pilot.app.screen
    screen.set_exchange("binance")
    screen.reveal("whitelist")
    await pilot.pause()


SHOTS: dict[str, Step] = {
    "guide": lambda p: _keys(p, "1"),
    "guide-okx": lambda p: _keys(p, "1", "e", "n", "n", "n", "n"),
    "guide-terminal": lambda p: _keys(p, "1", "t"),
    # Picks Gainium: the shots after it (the account form's Terminal field) follow it.
    "guide-gainium": _guide_gainium,
    "whitelist": lambda p: _keys(p, "3", "c"),
    "whitelist-bitget": lambda p: _keys(p, "3", "s"),
    "faq": lambda p: _keys(p, "4"),
    "help": lambda p: _keys(p, "question_mark"),
    "accounts-verify": _accounts_verify,
    "account-form": _account_form,
}


def _seed_accounts(fake_url: str, keys: dict[str, dict[str, str]]) -> None:
    """Two accounts pointing at the fake exchange, stored the real way (vault + metadata)."""
    from tui.services.keys.credentials import Credentials
    from tui.services.store.accounts import AccountStore
    from tui.services.store.secrets import SecretStore

    secrets = SecretStore.open()
    if secrets.needs_new_vault:
        secrets.create_vault(os.environ["KEYLINK_VAULT_PASSPHRASE"])
    store = AccountStore(secrets)
    for name, exchange in (("Bybit main", "bybit"), ("Bitget hedge", "bitget")):
        k = keys[exchange]
        store.add(name, exchange, "custom", Credentials(k["api_key"], k["secret"], k["passphrase"]),
                  base_url=fake_url)


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
    sys.path.insert(0, str(ROOT))
    from tests.fakes.exchange import FakeExchange, credentials_json

    with tempfile.TemporaryDirectory(prefix="keylink-shots-") as tmp, FakeExchange() as fake:
        os.environ["XDG_CONFIG_HOME"] = f"{tmp}/config"
        os.environ["XDG_DATA_HOME"] = f"{tmp}/data"
        os.environ["XDG_STATE_HOME"] = f"{tmp}/state"  # the access log of the checks it makes
        os.environ["KEYLINK_SECRET_BACKEND"] = "vault"
        # A throwaway vault for the pictures; never a real user's passphrase.
        os.environ["KEYLINK_VAULT_PASSPHRASE"] = "screenshots only, not a secret"
        # The Bybit key: can withdraw and is not IP-bound, so the report has findings to show.
        fake.key("bybit").permissions = frozenset({"read", "trade", "withdraw"})
        _seed_accounts(fake.url, credentials_json(fake)["keys"])
        for path in asyncio.run(shoot(out, (cols, rows))):
            print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

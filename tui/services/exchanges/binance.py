"""Binance (spot API host; the key-restrictions call lives under /sapi, which testnet lacks)."""

from __future__ import annotations

from tui.services.exchanges.base import Environment, ExchangeInfo, KeyShape

INFO = ExchangeInfo(
    id="binance",
    label="Binance",
    rank=3,
    has_passphrase=False,
    environments=(Environment("mainnet", "Mainnet", "https://api.binance.com"),),
    key_shape=KeyShape(r"[A-Za-z0-9]{64}", "64 letters and digits"),
    secret_shape=KeyShape(r"[A-Za-z0-9]{64}", "64 letters and digits"),
)

"""Bitget V2."""

from __future__ import annotations

from tui.services.exchanges.base import Environment, ExchangeInfo, KeyShape

INFO = ExchangeInfo(
    id="bitget",
    label="Bitget",
    rank=2,
    has_passphrase=True,
    environments=(
        Environment("mainnet", "Mainnet", "https://api.bitget.com"),
        Environment(
            "demo", "Demo trading", "https://api.bitget.com", headers=(("paptrading", "1"),)
        ),
    ),
    key_shape=KeyShape(r"bg_[0-9a-f]{32}", "bg_ followed by 32 hex digits"),
    secret_shape=KeyShape(r"[0-9a-f]{64}", "64 hex digits"),
    default_whitelist="insilico-bitget",
    notes=("Insilico Terminal accepts Bitget key names of at most 26 characters.",),
)

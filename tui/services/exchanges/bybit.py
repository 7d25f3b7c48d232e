"""Bybit V5."""

from __future__ import annotations

from tui.services.exchanges.base import Environment, ExchangeInfo, KeyShape

_REGIONAL = (
    ("nl", "Netherlands", "api.bybit.nl"),
    ("tr", "Turkey", "api.bybit.tr"),
    ("kz", "Kazakhstan", "api.bybit.kz"),
    ("ge", "Georgia", "api.bybitgeorgia.ge"),
    ("ae", "UAE", "api.bybit.ae"),
    ("eu", "EU", "api.bybit.eu"),
    ("id", "Indonesia", "api.bybit.id"),
)

INFO = ExchangeInfo(
    id="bybit",
    label="Bybit",
    rank=0,
    has_passphrase=False,
    environments=(
        Environment("mainnet", "Mainnet", "https://api.bybit.com"),
        Environment("mainnet-bytick", "Mainnet (bytick host)", "https://api.bytick.com"),
        Environment("testnet", "Testnet", "https://api-testnet.bybit.com"),
        Environment("demo", "Demo trading", "https://api-demo.bybit.com"),
        *(
            Environment(f"region-{code}", f"Bybit {name}", f"https://{host}")
            for code, name, host in _REGIONAL
        ),
    ),
    key_shape=KeyShape(r"[A-Za-z0-9]{18}", "18 letters and digits"),
    secret_shape=KeyShape(r"[A-Za-z0-9]{36}", "36 letters and digits"),
    create_button="Create New Key (V5)",
    linked_option="Connect to Third-Party Applications",
)

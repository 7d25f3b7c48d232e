"""OKX V5."""

from __future__ import annotations

from tui.services.exchanges.base import Environment, ExchangeInfo, KeyShape

_DEMO = (("x-simulated-trading", "1"),)

INFO = ExchangeInfo(
    id="okx",
    label="OKX",
    rank=1,
    has_passphrase=True,
    environments=(
        Environment("mainnet", "Live (www.okx.com)", "https://www.okx.com"),
        Environment("mainnet-openapi", "Live (openapi.okx.com)", "https://openapi.okx.com"),
        Environment("demo", "Demo trading", "https://www.okx.com", headers=_DEMO),
        Environment("eea", "EEA (eea.okx.com)", "https://eea.okx.com"),
        # UNCONFIRMED in our facts: the US host. Kept selectable; a wrong host fails verify clearly.
        Environment("us", "US (us.okx.com)", "https://us.okx.com"),
    ),
    key_shape=KeyShape(
        r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
        "a UUID (8-4-4-4-12 hex digits)",
    ),
    secret_shape=KeyShape(r"[0-9A-F]{32}", "32 upper-case hex digits"),
)

"""What every exchange module provides: hosts, key shapes, and how to sign and read a key.

One exchange = one module in this package exposing a module-level ``INFO`` object.
The registry in ``__init__`` discovers the modules, so adding a fifth exchange touches one file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Environment:
    """One place an exchange's API can be reached: mainnet, testnet, demo, a regional host."""

    id: str
    label: str
    base_url: str
    #: Extra headers that select this environment on a shared host (OKX demo, Bitget demo).
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class KeyShape:
    """The usual shape of a credential field, for a paste check that warns but never blocks."""

    pattern: str
    #: Plain words for the shape, e.g. "18 letters and digits".
    description: str

    def matches(self, value: str) -> bool:
        return re.fullmatch(self.pattern, value) is not None


@dataclass(frozen=True)
class ExchangeInfo:
    """Static facts about an exchange: enough to build the account form and pick a host."""

    id: str
    label: str
    #: Position in lists (Bybit, the reference exchange, first).
    rank: int
    has_passphrase: bool
    environments: tuple[Environment, ...]
    key_shape: KeyShape
    secret_shape: KeyShape
    #: The whitelist profile a terminal uses for this exchange (see content/whitelists.toml).
    default_whitelist: str = "insilico-general"
    #: Words the guide uses where exchanges differ.
    create_button: str = "Create API key"
    linked_option: str = "Linking third-party apps"
    notes: tuple[str, ...] = field(default=())

    def environment(self, env_id: str) -> Environment:
        for env in self.environments:
            if env.id == env_id:
                return env
        raise KeyError(f"{self.label} has no environment {env_id!r}")

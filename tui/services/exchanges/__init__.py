"""The exchange registry: every module in this package with an ``INFO`` is an exchange.

Adding an exchange means adding one module (and its tests); nothing here changes.
"""

from __future__ import annotations

import pkgutil
from functools import cache
from importlib import import_module

from tui.services.exchanges.base import ExchangeInfo


@cache
def exchanges() -> dict[str, ExchangeInfo]:
    """All known exchanges by id, in the order the UI lists them (Bybit first)."""
    found: list[ExchangeInfo] = []
    for module in pkgutil.iter_modules(__path__):
        if module.name == "base" or module.name.startswith("_"):
            continue
        info = getattr(import_module(f"{__name__}.{module.name}"), "INFO", None)
        if isinstance(info, ExchangeInfo):
            found.append(info)
    return {info.id: info for info in sorted(found, key=lambda i: (i.rank, i.id))}


def exchange(exchange_id: str) -> ExchangeInfo:
    """The exchange with this id; KeyError with a readable message otherwise."""
    try:
        return exchanges()[exchange_id]
    except KeyError:
        known = ", ".join(exchanges())
        raise KeyError(f"unknown exchange {exchange_id!r} (known: {known})") from None

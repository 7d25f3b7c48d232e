"""The terminal catalogue (tui/content/terminals.toml): every terminal of FACTS §8, how each binds
keys per exchange, its lists with provenance, and rotation ("next" addresses)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from tui.services.terminals import catalogue
from tui.services.terminals.catalogue import Binding

#: FACTS §8, row by row: terminal id -> {exchange: binding} (plus "*": the rest).
FACTS_BINDINGS = {
    "insilico": {"bybit": Binding.LINK, "okx": Binding.MANUAL, "bitget": Binding.MANUAL,
                 "binance": Binding.MANUAL},
    "gainium": {"bybit": Binding.LINK, "okx": Binding.LINK, "binance": Binding.MANUAL,
                "binanceus": Binding.MANUAL, "bitget": Binding.MANUAL,
                "coinbase": Binding.MANUAL, "kraken": Binding.MANUAL, "kucoin": Binding.MANUAL,
                "krakenfutures": Binding.NONE},
    "veles": {"bybit": Binding.MANUAL, "binance": Binding.MANUAL},
    "3commas": {"binance": Binding.LINK, "okx": Binding.LINK, "bybit": Binding.SERVED,
                "bitget": Binding.SERVED},
    "altrady": {"bybit": Binding.LINK, "kucoin": Binding.LINK, "okx": Binding.LINK,
                "binance": Binding.PER_USER, "bitget": Binding.PER_USER},
    "bitsgap": {"bybit": Binding.PER_USER, "binance": Binding.PER_USER},
    "tradesanta": {"okx": Binding.PER_USER},
    "cornix": {"bitget": Binding.PER_USER},
    "tealstreet": {"binance": Binding.PER_USER},
    "freqtrade": {"bybit": Binding.SELF_HOSTED},
    "hummingbot": {"okx": Binding.SELF_HOSTED},
    "own-bot": {"binance": Binding.SELF_HOSTED},
}


def test_every_terminal_of_facts_8_with_its_binding_per_exchange() -> None:
    terminals = catalogue.terminals()
    assert set(FACTS_BINDINGS) <= set(terminals)
    for terminal_id, bindings in FACTS_BINDINGS.items():
        for exchange_id, expected in bindings.items():
            assert terminals[terminal_id].binding(exchange_id) is expected, (terminal_id,
                                                                             exchange_id)


def test_published_lists_with_source_date_and_exchanges() -> None:
    insilico = catalogue.terminal("insilico")
    general = insilico.list_for("okx")
    assert general is not None and general.id == "insilico-general"
    assert len(general.addresses) == 20 and general.official is False
    # Copied from an article: the provenance says so, in words.
    assert general.provenance.startswith("unofficial copy; ")
    bitget = insilico.list_for("bitget")
    assert bitget is not None and bitget.date == "2023-08-14" and len(bitget.addresses) == 30
    assert bitget.official and "unofficial" not in bitget.provenance

    gainium = catalogue.terminal("Gainium").list_for("binance")
    assert gainium is not None
    assert gainium.addresses == tuple(f"62.84.191.{n}" for n in range(108, 113))
    assert gainium.previous[0] == "78.128.60.89" and gainium.previous_until == "2026-08-01"
    assert gainium.source_url == "https://gainium.io/help/enhancing-security"
    # Gainium's list is not for Bybit or OKX (the link flow binds those).
    assert catalogue.terminal("gainium").list_for("bybit") is None
    assert "not needed for Bybit" in " ".join(catalogue.terminal("gainium").notes_for("bybit"))

    veles = catalogue.terminal("veles").list_for("bitget")
    assert veles is not None and len(veles.addresses) == 15
    assert veles.date == "" and "undated" in veles.provenance

    served = catalogue.terminal("3commas").list_for("bybit")
    assert served is not None and served.addresses == ()
    assert served.endpoint.startswith("https://api.3commas.io/")


def test_per_user_and_self_hosted_terminals_ship_no_list() -> None:
    for terminal_id in ("altrady", "bitsgap", "tradesanta", "cornix", "tealstreet",
                        "freqtrade", "hummingbot", "own-bot"):
        assert catalogue.terminal(terminal_id).list_for("binance") is None


def test_notes_and_form_fields() -> None:
    tealstreet = catalogue.terminal("tealstreet")
    assert "read-only key" in " ".join(tealstreet.notes_for("binance"))
    assert "read-only key" not in " ".join(tealstreet.notes_for("bybit"))
    freqtrade = catalogue.terminal("freqtrade")
    assert freqtrade.field_name("passphrase") == "password" and freqtrade.form_confirmed
    assert catalogue.terminal("3commas").field_name("secret") == "API Secret"
    insilico = catalogue.terminal("insilico")
    assert insilico.form.startswith("Settings") and insilico.field_name("name") == "Display name"


def test_old_profile_names_and_aliases_find_the_terminal() -> None:
    assert catalogue.terminal("insilico-general").id == "insilico"
    assert catalogue.terminal("insilico-bitget").id == "insilico"
    assert catalogue.terminal(" Insilico Terminal ").id == "insilico"
    assert catalogue.find_list("insilico-bitget").terminal == "insilico"
    with pytest.raises(catalogue.CatalogueError, match="known: insilico, gainium"):
        catalogue.terminal("nope")
    with pytest.raises(catalogue.CatalogueError, match="unknown whitelist"):
        catalogue.find_list("nope")


def test_next_addresses_take_over_on_their_date_and_warn_the_week_before() -> None:
    base = catalogue.terminal("gainium").list_for("binance")
    assert base is not None
    rotating = replace(base, next=("62.84.191.200",), next_date="2027-01-10")
    assert not rotating.rotation_due(date(2027, 1, 2))  # 8 days ahead: quiet
    assert rotating.rotation_due(date(2027, 1, 3))  # 7 days ahead
    assert rotating.rotation_due(date(2027, 1, 9))
    assert not rotating.rotation_due(date(2027, 1, 10))  # the day itself: it is the list now
    assert rotating.current(date(2027, 1, 9)).addresses == base.addresses
    now = rotating.current(date(2027, 1, 10))
    assert now.addresses == ("62.84.191.200",) and now.previous == base.addresses
    assert not now.rotation_due(date(2027, 1, 10))


def test_a_served_list_holds_one_set_per_exchange() -> None:
    served = catalogue.terminal("3commas").list_for("okx")
    assert served is not None
    fetched = replace(served, by_exchange={"binance": ("1.2.3.4",), "okx": ("103.26.9.0/24",)})
    assert fetched.addresses_for("okx") == ("103.26.9.0/24",)
    assert fetched.addresses_for() == ("1.2.3.4", "103.26.9.0/24")
    assert fetched.applies_to("binance") and not fetched.applies_to("bitget")


def test_exchange_limits() -> None:
    assert catalogue.max_entries("okx") == 20
    assert catalogue.max_entries("bybit") == 100


def test_every_shipped_address_is_valid_canonical_and_unique() -> None:
    """The catalogue takes its own lists as written (no parsing on start-up): this is where
    they are checked, each as the whitelist parser would read it from outside."""
    import tomllib
    from importlib import resources

    from tui.services.terminals.whitelist import parse_addresses

    raw = tomllib.loads(resources.files("tui.content").joinpath("terminals.toml")
                        .read_text(encoding="utf-8"))
    seen = 0
    for entry in raw["terminal"]:
        for item in entry.get("list", ()):
            for key in ("addresses", "next", "previous"):
                written = tuple(item.get(key, ()))
                if written:
                    parsed = parse_addresses(",".join(written), source=item["id"], ranges=True)
                    assert parsed.addresses == written, (item["id"], key)
                    assert not parsed.duplicates, (item["id"], key)
                    seen += len(written)
    assert seen > 20

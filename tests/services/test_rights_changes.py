"""Rights that change (issue 17, item 5): unknown groups by name, deprecated groups ignored,
Bybit's 2026 groups classified, and Binance's unrestricted key beyond reading as a danger."""

from __future__ import annotations

from datetime import UTC, datetime

from tui.services.core.status import Severity
from tui.services.exchanges import exchange
from tui.services.exchanges.bybit import DEPRECATED_GROUPS, NAMED_GROUPS
from tui.services.verify.audit import key_findings

BYBIT = exchange("bybit").api
BINANCE = exchange("binance").api


def bybit_key(groups: dict, read_only: int = 0):
    return BYBIT.parse_key_info({"readOnly": read_only, "permissions": groups,
                                 "ips": ["1.2.3.4"], "type": 1})


def test_deprecated_groups_add_no_right_and_are_not_unknown():
    key = bybit_key({"CopyTrading": ["CopyTrading"], "NFT": ["NFTQueryProductList"]})
    assert key.permissions == {"read"} and key.unknown_rights == ()
    assert {"NFT", "CopyTrading"} == DEPRECATED_GROUPS


def test_bybit_2026_groups_are_classified_and_shown_by_name_with_why():
    key = bybit_key({"BitCard": ["A"], "ByXPost": ["B"], "FiatBitPay": ["C"], "Spot":
                     ["SpotTrade"], "Brand-New": ["X", "Y"]})
    assert key.permissions == {"read", "trade", "unknown"}
    assert {"BitCard", "ByXPost", "FiatBitPay", "FiatBybitPay"} <= set(NAMED_GROUPS)
    found = key_findings(key, exchange_label="Bybit", now=datetime.now(UTC))
    unknown = next(f for f in found if f.code == "unknown-rights")
    assert unknown.severity == Severity.WARNING
    assert unknown.message.startswith("Other rights: BitCard (Bybit Card, added 2026")
    assert "ByXPost (added 2026, master keys only" in unknown.message
    assert "Brand-New." in unknown.message  # an unknown group by name, once
    assert not any(f.code == "no-withdraw" for f in found)  # never read as harmless


def test_a_read_only_bybit_key_ignores_the_groups_it_lists():
    key = bybit_key({"BitCard": ["A"]}, read_only=1)
    assert key.permissions == {"read"} and key.rights_notes == ()


def binance_key(ip_restrict: bool, **flags):
    return BINANCE.parse_key_info({"ipRestrict": ip_restrict, "enableReading": True, **flags})


def test_binance_unrestricted_key_beyond_reading_is_a_danger_with_its_certainty():
    warnings = BINANCE.key_warnings(binance_key(False, enableSpotAndMarginTrading=True))
    [(severity, code, message)] = warnings
    assert severity == Severity.DANGER and code == "binance-unrestricted"
    assert "freqtrade#13089" in message and "not confirmed" in message
    assert "(trade)" in message


def test_binance_unrestricted_read_only_or_restricted_trading_key_is_not():
    assert BINANCE.key_warnings(binance_key(False)) == []
    assert BINANCE.key_warnings(binance_key(True, enableSpotAndMarginTrading=True)) == []
    assert BINANCE.key_warnings(binance_key(False, enableSomethingNew=True))  # unknown counts


def test_other_exchanges_have_no_such_rule():
    okx = exchange("okx").api
    key = okx.parse_key_info([{"perm": "read_only,trade", "ip": ""}])
    assert okx.key_warnings(key) == []

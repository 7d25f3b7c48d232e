"""The guide's self-generated-key section follows each exchange's key kinds (issue 11)."""

from __future__ import annotations

from tui.content.guide import guide_steps
from tui.services.exchanges import exchanges


def test_create_step_offers_a_key_pair_exactly_where_the_exchange_takes_one() -> None:
    for info in exchanges().values():
        create = {s.id: s for s in guide_steps(info.id)}["create"]
        asymmetric = [k for k in info.key_kinds if k.kind != "hmac"]
        if not asymmetric:
            assert "public key" not in (create.extra or ""), info.id
            continue
        assert "public key" in create.extra, info.id
        # The kind the guide names is one the form offers for this exchange.
        named = "Ed25519" if info.key_kind("ed25519") else "RSA 2048"
        assert f"Key kind: {named}" in create.extra, info.id

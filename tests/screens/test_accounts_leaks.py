"""Secrets typed into the TUI never land in plain text on disk or in a screenshot; generated
pastes through the real form never crash it and never lose what was pasted."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.accounts_fixtures import (
    accounts_app,
    keylink_home,
    paste,
    screen_name,
    type_text,
    unlock,
    vault_home,
    wait_for,
)
from tui.services.store import validation
from tui.widgets.field_row import FieldRow

__all__ = ["keylink_home", "vault_home"]  # fixtures used by name below

# Unique values, shaped like real ones, that occur nowhere else.
LEAK_ACCOUNTS = [
    ("Leak one", "bybit", "LKbybitLEAKkey0001", "LKbybitLEAKsecretQ7w9Z2x4C6v8B1n3M5k", ""),
    ("Leak two", "okx", "7e1d9c3b-2a4f-4b6e-8d0c-1f2e3d4c5b6a", "C0FFEE00DEADBEEF0123456789ABCDEF",
     "Leak-Passphrase-Zz9"),
]


def files_containing(root: Path, needles: list[str]) -> list[tuple[Path, str]]:
    hits = []
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            hits += [(path, n) for n in needles if n.encode() in data]
    return hits


@pytest.mark.slow  # one of the longest app flows: in the full suite, not the quick lane
async def test_no_secret_in_files_or_screenshots(vault_home: Path) -> None:
    secrets = [s for *_, secret, passphrase in LEAK_ACCOUNTS for s in (secret, passphrase) if s]
    shots: list[str] = []
    async with accounts_app().run_test(size=(120, 40)) as pilot:
        await unlock(pilot)
        for name, exchange_id, key, secret, passphrase in LEAK_ACCOUNTS:
            await pilot.press("a")
            await wait_for(pilot, lambda: screen_name(pilot) == "AddAccountScreen")
            await type_text(pilot, name)
            if exchange_id == "okx":
                from tests.support.accounts_fixtures import choose

                await choose(pilot, "exchange", "OKX", "okx")
            await paste(pilot, "api_key", key)
            await paste(pilot, "secret", secret)
            if passphrase:
                await paste(pilot, "passphrase", passphrase)
            shots.append(pilot.app.export_screenshot())  # the filled form, secrets masked
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: screen_name(pilot) == "AccountsScreen")
        shots.append(pilot.app.export_screenshot())

        # Control: revealing a field does show the secret, so the search below can find one.
        await pilot.press("a")
        await wait_for(pilot, lambda: screen_name(pilot) == "AddAccountScreen")
        await paste(pilot, "secret", "LKrevealCONTROLsecret0000000000000001")
        await pilot.press("ctrl+r")
        assert "LKrevealCONTROLsecret0000000000000001" in pilot.app.export_screenshot()
        # Leaving the field hides it again.
        await pilot.press("shift+tab")
        assert "LKrevealCONTROLsecret0000000000000001" not in pilot.app.export_screenshot()

    for shot in shots:
        for secret in secrets:
            assert secret not in shot
    assert files_containing(vault_home, secrets) == []
    # ...and the search itself works: the account names are in the (plain) accounts file.
    assert files_containing(vault_home, ["Leak one"])


PASTES = st.one_of(
    st.text(max_size=60),
    st.builds(
        lambda a, b, c: a + b + c,
        st.sampled_from(["", " ", "\n", "\t", "\r\n"]),
        st.text(alphabet="ABCDEFabcdef0123456789-_ \n\t\x1b\u200b“é", max_size=50),
        st.sampled_from(["", " ", "\n", "\x00"]),
    ),
)


def generated_pastes(count: int) -> list[str]:
    """Draw ``count`` pastes with hypothesis (derandomized, so the run is repeatable)."""
    drawn: list[str] = []

    @settings(max_examples=count, derandomize=True, database=None, deadline=None)
    @given(PASTES)
    def collect(text: str) -> None:
        drawn.append(text)

    collect()
    return drawn


@pytest.mark.slow  # one of the longest app flows: in the full suite, not the quick lane
async def test_generated_pastes_through_the_real_form(vault_home: Path) -> None:
    # The 1000-per-field run is in tests/services/test_validation.py; this proves the widget path.
    pastes = generated_pastes(60)
    assert len(pastes) >= 40
    async with accounts_app().run_test(size=(100, 40)) as pilot:
        await unlock(pilot)
        await pilot.press("a")
        await wait_for(pilot, lambda: screen_name(pilot) == "AddAccountScreen")
        form = pilot.app.screen
        for index, text in enumerate(pastes):
            field_id = ("api_key", "secret")[index % 2]
            field = form.query_one(f"#{field_id}")
            field.value = ""
            await paste(pilot, field_id, text)
            # Nothing lost but what the clean-up removes (and says it removed): the rest of the
            # paste is in the field, ends trimmed, controls made visible.
            assert field.value == validation.visible_paste(validation.tidy_paste(text)[0])
            assert "\x1b" not in field.value
            row = form.query_one(f"#row-{field_id}", FieldRow)
            problem = validation.paste_problem("x", field.value) if field.value.strip() else None
            if problem:
                assert row.has_class("-error") and row.message
        await pilot.press("ctrl+s")
        assert screen_name(pilot) == "AddAccountScreen"

"""The account form with self-generated keys (issue 11), through Pilot against the fake exchange:
generate -> register the public key -> paste the API key -> save -> verify; and a pasted PEM
showing its kind and public key, an encrypted one asking for its password."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Select, Static

from tests.fakes.exchange import FakeExchange
from tests.screens.test_accounts_verify import panel_text
from tests.support.accounts_fixtures import (
    accounts_app,
    choose,
    field_message,
    keylink_home,
    open_store,
    paste,
    screen_name,
    type_text,
    unlock,
    vault_home,
    wait_for,
)
from tui.services.keys import keypairs

__all__ = ["keylink_home", "vault_home"]  # fixtures used by name below


def key_info(pilot) -> str:
    return str(pilot.app.screen.query_one("#key-info", Static).content)


def generated_account(fake: FakeExchange, exchange_id: str, kind: str,
                      name: str) -> tuple[str, keypairs.ParsedKey]:
    """An account with a generated key registered on the fake: (account id, its pair)."""
    from tui.services.keys.credentials import Credentials

    old = keypairs.generate(kind)
    first = fake.register_public_key(exchange_id, old.public_pem)
    account = open_store().add(name, exchange_id, "custom",
                               Credentials(first.api_key, old.private_pem), base_url=fake.url)
    return account.id, old


async def start_rotation(pilot, kind: str) -> str:
    """Unlock, r on the (only) account, generate a pair of ``kind``: its public key PEM."""
    await unlock(pilot)
    await pilot.press("r")
    await wait_for(pilot, lambda: screen_name(pilot) == "RotateKeyScreen")
    label = "Ed25519" if kind == keypairs.ED25519 else "RSA"
    await choose(pilot, "key_kind", label, f"generate-{kind}")
    await wait_for(pilot, lambda: "-----END PUBLIC KEY-----" in key_info(pilot), timeout=20)
    text = key_info(pilot)
    end = "-----END PUBLIC KEY-----"
    return text[text.index("-----BEGIN PUBLIC KEY-----"):text.index(end) + len(end)]


async def open_form(pilot, fake: FakeExchange, exchange_id: str, name: str) -> None:
    await unlock(pilot)
    await pilot.press("a")
    await wait_for(pilot, lambda: screen_name(pilot) == "AddAccountScreen")
    await type_text(pilot, name)
    pilot.app.screen.query_one("#exchange", Select).value = exchange_id
    await pilot.pause()
    pilot.app.screen.query_one("#environment", Select).value = "custom"
    await pilot.pause()
    await paste(pilot, "url", fake.url)


async def save_and_verify(pilot, name: str) -> None:
    await pilot.press("ctrl+s")
    await wait_for(pilot, lambda: screen_name(pilot) == "AccountsScreen")
    await pilot.press("v")
    await wait_for(pilot, lambda: "Findings" in panel_text(pilot), timeout=20)
    [account] = [a for a in open_store().list() if a.name == name]
    await wait_for(pilot, lambda: open_store().get(account.id).last_check is not None)
    assert open_store().get(account.id).last_check.ok


@pytest.mark.parametrize(("exchange_id", "label", "kind"), [
    ("binance", "Ed25519", "ed25519"), ("bybit", "RSA", "rsa-2048")])
@pytest.mark.slow
async def test_generate_in_the_form_register_and_verify(vault_home: Path, fake, exchange_id,
                                                        label, kind) -> None:
    async with accounts_app().run_test(size=(100, 50)) as pilot:
        await open_form(pilot, fake, exchange_id, "Made here")
        await choose(pilot, "key_kind", label, f"generate-{kind.split('-')[0]}")
        await wait_for(pilot, lambda: "-----END PUBLIC KEY-----" in key_info(pilot), timeout=20)
        text = key_info(pilot)
        end = "-----END PUBLIC KEY-----"
        public_pem = text[text.index("-----BEGIN PUBLIC KEY-----"):text.index(end) + len(end)]
        assert "The private key stays in keylink" in text
        assert "PRIVATE" not in text
        # Where it was copied to is said in the form, under the key (a toast would cover the
        # key's lines at 80x24), as a sentence.
        await wait_for(pilot, lambda: "The public key was sent to your terminal's clipboard "
                       "(OSC 52)." in key_info(pilot))
        assert not any("public key" in n.message for n in list(pilot.app._notifications))
        # The secret field is gone: the generated private key is the secret.
        assert not pilot.app.screen.query_one("#row-secret").display
        registered = fake.register_public_key(exchange_id, public_pem)
        await paste(pilot, "api_key", registered.api_key)
        await save_and_verify(pilot, "Made here")
    [account] = open_store().list()
    secret = open_store().secrets.get(account.secret_ref).secret
    parsed = keypairs.parse(secret)
    assert parsed.public_pem == public_pem and parsed.kind.id == kind


@pytest.mark.slow
async def test_pasted_pem_shows_kind_and_public_key_then_verifies(vault_home: Path,
                                                                  fake) -> None:
    pair = keypairs.generate(keypairs.RSA)
    registered = fake.register_public_key("bybit", pair.public_pem)
    async with accounts_app().run_test(size=(100, 50)) as pilot:
        await open_form(pilot, fake, "bybit", "Brought")
        await paste(pilot, "api_key", registered.api_key)
        await paste(pilot, "secret", pair.private_pem.replace("\n", "\r\n"))
        await wait_for(pilot, lambda: "Recognised an RSA 2048-bit" in key_info(pilot))
        assert pair.public_pem in key_info(pilot)
        assert field_message(pilot, "secret") == ""
        await save_and_verify(pilot, "Brought")


@pytest.mark.slow
async def test_encrypted_and_wrong_kind_pems_get_one_message(vault_home: Path, fake) -> None:
    from cryptography.hazmat.primitives import serialization

    pair = keypairs.generate(keypairs.ED25519)
    encrypted = serialization.load_pem_private_key(pair.private_pem.encode(), None).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"form pass 1")).decode()
    registered = fake.register_public_key("binance", pair.public_pem)
    async with accounts_app().run_test(size=(100, 50)) as pilot:
        await open_form(pilot, fake, "bybit", "Wrong kind")
        await paste(pilot, "secret", pair.private_pem)
        assert field_message(pilot, "secret") == (
            "Bybit does not take Ed25519 keys (it takes HMAC or RSA).")
        pilot.app.screen.query_one("#exchange", Select).value = "binance"
        await pilot.pause()
        await paste(pilot, "api_key", registered.api_key)
        await paste(pilot, "secret", encrypted)
        assert field_message(pilot, "secret") == (
            "This private key is encrypted: enter its passphrase.")
        assert pilot.app.screen.query_one("#row-key_passphrase").display
        await paste(pilot, "key_passphrase", "not it")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert field_message(pilot, "secret") == (
            "The passphrase does not open this private key: check it and try again.")
        pilot.app.screen.query_one("#key_passphrase").value = ""
        await paste(pilot, "key_passphrase", "form pass 1")
        await wait_for(pilot, lambda: "Recognised an Ed25519" in key_info(pilot))
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: screen_name(pilot) == "AccountsScreen")
    [account] = open_store().list()
    assert open_store().secrets.get(account.secret_ref).secret == pair.private_pem


@pytest.mark.slow
async def test_going_back_to_hmac_or_another_exchange_drops_the_generated_pair(
        vault_home: Path, fake) -> None:
    async with accounts_app().run_test(size=(100, 50)) as pilot:
        await open_form(pilot, fake, "binance", "Changed mind")
        await choose(pilot, "key_kind", "Ed25519", "generate-ed25519")
        await wait_for(pilot, lambda: "-----END PUBLIC KEY-----" in key_info(pilot), timeout=20)
        await choose(pilot, "key_kind", "HMAC", "hmac")
        screen = pilot.app.screen
        assert screen.query_one("#row-secret").display
        assert not screen.query_one("#key-info").has_class("-shown")
        assert screen._generated is None
        await choose(pilot, "key_kind", "Ed25519", "generate-ed25519")
        await wait_for(pilot, lambda: screen._generated is not None, timeout=20)
        screen.query_one("#exchange", Select).value = "okx"
        await pilot.pause()
        kinds = screen.query_one("#key_kind", Select)
        assert kinds.value == "hmac" and screen._generated is None
        assert screen.query_one("#row-secret").display
        # OKX takes HMAC keys only: no key pair is offered.
        assert [value for _label, value in screen._kind_offer] == ["hmac"]


@pytest.mark.slow
async def test_rotating_to_a_generated_key_switches_only_after_its_check(vault_home: Path,
                                                                         fake) -> None:
    account_id, old = generated_account(fake, "binance", keypairs.ED25519, "Rotated")
    async with accounts_app().run_test(size=(100, 50)) as pilot:
        new_public = await start_rotation(pilot, keypairs.ED25519)

        # The API key of another public key: the check fails, the form stays with its pair.
        wrong = fake.register_public_key("binance", keypairs.generate(keypairs.ED25519).public_pem)
        await paste(pilot, "api_key", wrong.api_key)
        await pilot.press("ctrl+s")
        banner = pilot.app.screen.query_one("#form-banner", Static)
        await wait_for(pilot, lambda: "did not pass its check" in str(banner.content), timeout=20)
        assert "keeps its old key" in str(banner.content)
        assert screen_name(pilot) == "RotateKeyScreen" and new_public in key_info(pilot)
        kept = open_store().get(account_id)
        assert open_store().credentials(kept).secret == old.private_pem

        # Registered right: the same pair passes, and the account switches to it.
        right = fake.register_public_key("binance", new_public)
        pilot.app.screen.query_one("#api_key").value = ""
        await paste(pilot, "api_key", right.api_key)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: screen_name(pilot) == "AccountsScreen", timeout=20)
        await wait_for(pilot, lambda: "Findings" in panel_text(pilot))
    switched = open_store().get(account_id)
    secret = open_store().credentials(switched)
    assert secret.api_key == right.api_key
    assert keypairs.parse(secret.secret).public_pem == new_public
    assert switched.last_check is not None and switched.last_check.status == "works"
    assert open_store().secrets.refs() == [switched.secret_ref]  # the old private key is gone


@pytest.mark.slow
async def test_a_pasted_pem_is_read_once_however_often_the_form_checks(vault_home: Path, fake,
                                                                       monkeypatch) -> None:
    pair = keypairs.generate(keypairs.RSA)
    registered = fake.register_public_key("bybit", pair.public_pem)
    reads: list[str] = []
    real_parse = keypairs.parse_elsewhere

    def counting_parse(text: str, passphrase: str | None = None) -> keypairs.ParsedKey:
        reads.append(text)
        return real_parse(text, passphrase)

    # An RSA key is read by a child process (its full check would freeze the screen), once.
    monkeypatch.setattr(keypairs, "parse_elsewhere", counting_parse)
    async with accounts_app().run_test(size=(100, 50)) as pilot:
        await open_form(pilot, fake, "bybit", "Once")
        await paste(pilot, "secret", pair.private_pem)  # checked on paste
        await wait_for(pilot, lambda: "Recognised an RSA" in key_info(pilot))
        await paste(pilot, "api_key", registered.api_key)  # the secret field blurs: checked
        await pilot.press("end", "x", "backspace")  # edits re-run the credential checks
        await pilot.press("ctrl+s")  # and saving checks everything again
        await wait_for(pilot, lambda: screen_name(pilot) == "AccountsScreen")
    assert len(reads) == 1
    [account] = open_store().list()
    assert open_store().credentials(account).secret == pair.private_pem


@pytest.mark.slow
async def test_an_rsa_key_is_read_off_the_screen_and_save_waits_for_it(vault_home: Path,
                                                                      fake) -> None:
    pair = keypairs.generate(keypairs.RSA, 4096)
    registered = fake.register_public_key("bybit", pair.public_pem)
    async with accounts_app().run_test(size=(100, 50)) as pilot:
        await open_form(pilot, fake, "bybit", "Big key")
        await paste(pilot, "api_key", registered.api_key)
        await paste(pilot, "secret", pair.private_pem)
        # The full check runs in a child process: the screen says so, with no red message...
        assert key_info(pilot) == "Reading the private key…"
        assert field_message(pilot, "secret") == ""
        # ... and a save meanwhile waits for it rather than saving an unchecked key.
        await pilot.press("ctrl+s")
        banner = str(pilot.app.screen.query_one("#form-banner", Static).content)
        assert "still being read" in banner
        await wait_for(pilot, lambda: "Recognised an RSA 4096-bit" in key_info(pilot), timeout=20)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: screen_name(pilot) == "AccountsScreen")
    [account] = open_store().list()
    assert open_store().credentials(account).secret == pair.private_pem


@pytest.mark.slow
async def test_a_locked_check_switches_only_on_a_second_save(vault_home: Path, fake) -> None:
    """A new key bound to the terminal's addresses is refused from here ("locked"): the form
    says what that does not prove, keeps the old key, and a second ctrl+s switches."""
    # Bybit: 10010 (the address) is "locked"; Binance's -2015 names three causes, so it fails.
    account_id, old = generated_account(fake, "bybit", keypairs.RSA, "Bound")
    async with accounts_app().run_test(size=(100, 50)) as pilot:
        new_public = await start_rotation(pilot, keypairs.RSA)
        bound = fake.register_public_key("bybit", new_public, ips=("18.167.89.125",))
        await paste(pilot, "api_key", bound.api_key)
        await pilot.press("ctrl+s")
        banner = pilot.app.screen.query_one("#form-banner", Static)
        await wait_for(pilot, lambda: "Not switched yet" in str(banner.content), timeout=20)
        assert "does not prove" in str(banner.content)
        assert open_store().credentials(open_store().get(account_id)).secret == old.private_pem
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: screen_name(pilot) == "AccountsScreen", timeout=20)
    switched = open_store().get(account_id)
    assert keypairs.parse(open_store().credentials(switched).secret).public_pem == new_public
    assert switched.last_check is not None and switched.last_check.status == "locked"

"""One masker for echoed secrets and one loopback rule, used by every place that needs them."""

from __future__ import annotations

import pytest

from tui.services.core.hosts import is_loopback_host
from tui.services.core.masking import MASK, mask_secrets
from tui.services.keys.credentials import Credentials
from tui.services.store.errors import SecretStoreError
from tui.services.store.model import resolve_base_url
from tui.services.verify.answers import Scrubber
from tui.services.verify.transport import plain_http_elsewhere

#: A key that is also part of the secret: masking the key first would cut the secret in pieces.
KEY = "KEYPART1234"
SECRET = f"SECRETHEAD-{KEY}-SECRETTAIL"


def test_a_value_inside_another_is_masked_whole_whatever_the_order():
    text = f"backend said: {{'secret': '{SECRET}', 'key': '{KEY}'}}"
    for order in ((KEY, SECRET), (SECRET, KEY)):
        masked = mask_secrets(text, order)
        assert "SECRETHEAD" not in masked and "SECRETTAIL" not in masked and KEY not in masked
        assert masked.count(MASK) == 2


def test_echoed_text_becomes_one_short_line_cut_after_masking():
    text = "refused:\n\x1b[31m" + "x" * 190 + SECRET + " end"
    masked = mask_secrets(text, [SECRET, ""], limit=200)
    assert "\n" not in masked and "\x1b" not in masked and len(masked) <= 200
    assert "SECRET" not in masked and masked.startswith("refused: [31m")
    assert mask_secrets("  a \t b  ", []) == "a b"


def test_a_backend_echo_of_a_secret_holding_its_key_shows_no_part_of_it(memory_secrets,
                                                                        memory_keyring):
    memory_keyring.fail.add("set")
    with pytest.raises(SecretStoreError) as info:
        memory_secrets.set("ref", Credentials(KEY, SECRET, "PASS-QRS"))
    text = str(info.value)
    for part in ("SECRETHEAD", "SECRETTAIL", KEY, "PASS-QRS"):
        assert part not in text
    assert MASK in text


def test_the_check_masks_an_exchange_echo_with_the_same_rule():
    scrub = Scrubber(Credentials(KEY, SECRET, ""))
    scrub.add("signature-abc")
    said = scrub(f"bad sign signature-abc for\n{SECRET}")
    assert said == mask_secrets(f"bad sign signature-abc for\n{SECRET}",
                                [KEY, SECRET, "signature-abc"])
    assert "SECRET" not in said and "signature" not in said


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "::1", "localhost", "LOCALHOST"])
def test_loopback_hosts(host):
    assert is_loopback_host(host)


@pytest.mark.parametrize("host", ["", "10.0.0.1", "0.0.0.0", "::", "localhost.example.com",
                                  "example.com", "127.0.0.1.nip.io", "::ffff:8.8.8.8"])
def test_hosts_that_are_not_this_machine(host):
    assert not is_loopback_host(host)


@pytest.mark.parametrize("host", ["127.0.0.1", "[::1]", "localhost", "10.0.0.1", "example.com",
                                  "127.0.0.2:8080", "[::ffff:127.0.0.1]"])
def test_the_account_form_and_the_check_agree_on_plain_http(host):
    url = f"http://{host}/api"
    try:
        resolve_base_url("bybit", "custom", url)
        saved = True
    except ValueError:
        saved = False
    assert saved == (not plain_http_elsewhere(url))

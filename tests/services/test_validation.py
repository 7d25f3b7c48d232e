"""Form-level credential checks: paste clean-up, shape warnings, key == secret, passphrase."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tui.services.exchanges import exchange
from tui.services.store import validation
from tui.services.store.model import resolve_base_url, validate_name

BYBIT_KEY = "AbCdEfGhIjKlMnOpQr"  # 18
BYBIT_SECRET = "A" * 18 + "b" * 18  # 36
OKX_KEY = "1f0c8a9e-5b7d-4c3e-9a21-6d4e8b2f7c10"
OKX_SECRET = "A1B2C3D4E5F60718293A4B5C6D7E8F90"

# Pastes: mostly credential-like text, with the characters bad pastes carry mixed in.
_PASTE_ALPHABET = st.characters(
    codec="utf-8",
    categories=("Lu", "Ll", "Nd", "Pd", "Po", "Zs", "Cc", "Cf", "So", "Lo"),
)
pastes = st.one_of(
    st.text(alphabet=_PASTE_ALPHABET, max_size=80),
    st.builds(
        lambda pre, core, post: pre + core + post,
        st.sampled_from(["", " ", "\n", "\t", "\r\n", "  \n"]),
        st.text(alphabet="ABCDEFabcdef0123456789-_ \n\t\u200b“”é", min_size=0, max_size=70),
        st.sampled_from(["", " ", "\n", "\t", "\r\n", "\n\n"]),
    ),
)

_MANY = settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _pictured(text: str) -> str:
    """What visible_paste must show for ``text``: every character kept, controls as pictures."""
    out = []
    for ch in text.strip():
        if ord(ch) < 0x20:
            out.append(chr(0x2400 + ord(ch)))
        elif ord(ch) == 0x7F:
            out.append("\u2421")
        elif 0x80 <= ord(ch) < 0xA0:  # C1 controls have no picture of their own
            out.append("\u2426")
        else:
            out.append(ch)
    return "".join(out)


def test_good_bybit_credentials_pass_cleanly() -> None:
    check = validation.check_credentials(exchange("bybit"), f"  {BYBIT_KEY}\n", BYBIT_SECRET)
    assert check.ok and not check.issues
    assert check.values == {"api_key": BYBIT_KEY, "secret": BYBIT_SECRET, "passphrase": ""}


def test_short_key_is_a_warning_that_names_both_lengths() -> None:
    check = validation.check_credentials(exchange("bybit"), BYBIT_KEY[:-1], BYBIT_SECRET)
    assert check.ok  # a warning never blocks
    issue = check.warnings["api_key"]
    assert "18" in issue.message and "17" in issue.message and "cut short" in issue.message


def test_long_secret_warns_about_extra_text() -> None:
    check = validation.check_credentials(exchange("bybit"), BYBIT_KEY, BYBIT_SECRET + "x")
    assert "37" in check.warnings["secret"].message


def test_right_length_wrong_characters_warns() -> None:
    check = validation.check_credentials(exchange("okx"), OKX_KEY, OKX_SECRET.lower(), "pass")
    assert "looks different" in check.warnings["secret"].message


def test_key_equal_to_secret_is_an_error() -> None:
    check = validation.check_credentials(exchange("bybit"), BYBIT_KEY, BYBIT_KEY)
    assert not check.ok
    assert "same as the API key" in check.errors["secret"].message


def test_swapped_key_and_secret_are_spotted() -> None:
    check = validation.check_credentials(exchange("bybit"), BYBIT_SECRET, BYBIT_KEY)
    assert check.ok
    assert "swapped" in check.warnings["api_key"].message


def test_passphrase_required_only_where_the_exchange_has_one() -> None:
    okx = validation.check_credentials(exchange("okx"), OKX_KEY, OKX_SECRET, "")
    assert "passphrase" in okx.errors["passphrase"].message
    bybit = validation.check_credentials(exchange("bybit"), BYBIT_KEY, BYBIT_SECRET, "ignored")
    assert bybit.ok and bybit.values["passphrase"] == ""


def test_empty_fields_are_required() -> None:
    check = validation.check_credentials(exchange("bitget"), "", "  ", "")
    assert set(check.errors) == {"api_key", "secret", "passphrase"}


def test_inner_line_break_is_refused_and_located() -> None:
    shown = validation.visible_paste("\nABCDEFGHI\nJKLMNOPQR\n")
    assert shown == "ABCDEFGHI\u240aJKLMNOPQR"
    check = validation.check_credentials(exchange("bybit"), shown, BYBIT_SECRET)
    message = check.errors["api_key"].message
    assert "line break" in message and "character 10" in message


@pytest.mark.parametrize(
    ("paste", "words"),
    [("ABC DEF", "space"), ("ABC\u00e9DEF", "non-ASCII"), ("ABC“DEF", "non-ASCII")],
)
def test_inner_bad_characters_are_refused(paste: str, words: str) -> None:
    check = validation.check_credentials(exchange("bybit"), paste, BYBIT_SECRET)
    assert words in check.errors["api_key"].message


@pytest.mark.parametrize(
    "secret",
    ["Zq7Yp2Lm9Xw4Vn6Tb1", "Zq7Yp2Lm9X w4Vn6Tb1Kk", "Zq7Yp2Lm9Xw4Vn6Tb1" * 2, "Zq7Y“p2L"],
)
def test_messages_never_repeat_the_value(secret: str) -> None:
    for field_id in ("api_key", "secret", "passphrase"):
        values = {"api_key": BYBIT_KEY, "secret": BYBIT_SECRET, "passphrase": "Pass-phrase1"}
        values[field_id] = secret
        for exchange_id in ("bybit", "okx"):
            check = validation.check_credentials(exchange(exchange_id), **values)
            for issue in check.issues.values():
                assert secret not in issue.message and secret[:8] not in issue.message


def test_a_check_never_shows_the_secret_or_passphrase_in_its_repr() -> None:
    # Textual prints tracebacks with locals; a check held in a local would show its values.
    okx = exchange("okx")
    secret, passphrase = "A1B2C3D4E5F60718293A4B5C6D7E8F90", "Kl-pass-0ne!"
    check = validation.check_credentials(okx, "1f0c8a9e-5b7d-4c3e-9a21-6d4e8b2f7c10", secret,
                                         passphrase)
    assert check.values["secret"] == secret  # the cleaned values are still there to use
    for text in (repr(check), str(check)):
        assert secret not in text and passphrase not in text, text


def test_escape_character_never_reaches_the_screen() -> None:
    assert "\x1b" not in validation.visible_paste("ab\x1b[31mcd")


@pytest.mark.slow
@pytest.mark.parametrize("field_id", ["api_key", "secret", "passphrase"])
@_MANY
@given(paste=pastes, exchange_id=st.sampled_from(["bybit", "okx", "bitget", "binance"]))
def test_any_paste_into_a_credential_field(field_id: str, paste: str, exchange_id: str) -> None:
    """1000 pastes per field: never a crash, nothing lost, a blocking message for a bad paste."""
    if field_id == "passphrase":
        exchange_id = "okx" if exchange_id in ("bybit", "binance") else exchange_id
    shown = validation.visible_paste(paste)
    assert shown == _pictured(paste)  # nothing dropped, only ends trimmed
    assert not any(ord(ch) < 32 or ord(ch) == 127 for ch in shown)
    values = {"api_key": BYBIT_KEY, "secret": BYBIT_SECRET, "passphrase": "Pass-phrase1"}
    values[field_id] = shown
    check = validation.check_credentials(exchange(exchange_id), **values)
    issue = check.issues.get(field_id)
    # What tidy_paste removes (labels, wrapping quotes, invisible characters) is never kept.
    tidied, _removed = validation.tidy_paste(shown)
    if tidied and (validation.paste_problem("x", tidied) is None):
        assert check.values[field_id] == tidied
        if issue is not None and issue.blocking:
            # A secret pasted as a PEM (it has a -----BEGIN) is read as a private key, and one
            # that does not read says so; any other blocking message would lose a paste.
            pem = field_id == "secret" and validation.pem_text(tidied) is not None
            assert "same as the API key" in issue.message or (
                pem and "private key" in issue.message), issue.message
    else:
        assert issue is not None and issue.blocking


@_MANY
@given(name=pastes)
def test_any_paste_into_the_name_field(name: str) -> None:
    try:
        cleaned = validate_name(name)
    except ValueError as exc:
        assert str(exc)
    else:
        assert cleaned == name.strip() and 0 < len(cleaned) <= 40


@_MANY
@given(url=st.one_of(pastes, st.builds("https://{}".format, pastes),
                     st.builds("http://127.0.0.1:{}".format, st.integers(-5, 70000))))
def test_any_paste_into_the_url_field(url: str) -> None:
    try:
        resolved = resolve_base_url("bybit", "custom", url)
    except ValueError as exc:
        assert str(exc)
    else:
        assert resolved.startswith(("https://", "http://127.0.0.1", "http://localhost",
                                    "http://[::1]"))


def test_tidy_paste_removes_only_what_is_never_part_of_a_key() -> None:
    from tui.services.store.validation import tidy_paste

    assert tidy_paste('API key: "abc123"') == ("abc123", ["the label 'API key:'",
                                                           "the quotes around it"])
    assert tidy_paste("Secret = 'xyz'") == ("xyz", ["the label 'Secret ='",
                                                    "the quotes around it"])
    assert tidy_paste("\u201cabcdef\u201d") == ("abcdef", ["the quotes around it"])
    value, removed = tidy_paste("\u200babc\u200d12\ufeff")
    assert value == "abc12" and removed == [
        "3 invisible characters (byte order mark, zero-width joiner, zero-width space)"]
    assert tidy_paste("\u00a0abc\u00a0") == ("abc", ["non-breaking spaces at the ends"])
    # Left alone: a value that only looks odd, a lone quote, a label with nothing after it.
    assert tidy_paste("abc") == ("abc", [])
    assert tidy_paste('"abc') == ('"abc', [])
    assert tidy_paste("secret:") == ("secret:", [])
    assert tidy_paste("ab\u00a0cd") == ("ab\u00a0cd", [])  # inside: flagged by the check


def test_check_credentials_saves_the_tidied_value() -> None:
    from tui.services.exchanges import exchange
    from tui.services.store.validation import check_credentials

    key, secret = "KLbybitUIkey000001", "KLbybitUIsecret000000000000000000001"
    check = check_credentials(exchange("bybit"), f'"{key}"', f"Secret: {secret}")
    assert check.ok and not check.issues
    assert check.values["api_key"] == key and check.values["secret"] == secret

"""Form-level checks for the account form: pure functions, no Textual.

Each field gets at most one message. An *error* blocks saving (a bad paste, a missing passphrase,
the key pasted twice); a *warning* does not (a key whose shape differs from what the exchange
usually issues — the user may know better, so they can save again to accept it).

Secrets never appear in a message: messages speak of lengths and positions only.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tui.services.exchanges.base import ExchangeInfo, KeyShape
from tui.services.store.model import clean_paste

if TYPE_CHECKING:
    from collections.abc import Callable

    from tui.services.keys.keypairs import ParsedKey

#: Form field ids, in the order the form shows them.
API_KEY = "api_key"
SECRET = "secret"
PASSPHRASE = "passphrase"

FIELD_LABELS = {API_KEY: "API key", SECRET: "Secret", PASSPHRASE: "Passphrase"}

# Control characters are shown as their Unicode "control picture" (U+2400 block) so a pasted line
# break is visible where it sits, and no raw escape byte ever reaches the terminal.
_CONTROL_PICTURES = {code: chr(0x2400 + code) for code in range(0x20)} | {0x7F: "\u2421"}
#: C1 controls (U+0080..U+009F) have no picture of their own; some terminals obey them.
_OTHER_CONTROL = "\u2426"
_PICTURE_NAMES = {
    "\u240a": "a line break",
    "\u240d": "a line break",
    "\u2409": "a tab",
    "\u241b": "an escape character",
}


@dataclass(frozen=True)
class FieldIssue:
    """What is wrong with one field. ``blocking`` issues stop the save; warnings do not."""

    field: str
    message: str
    blocking: bool


@dataclass(frozen=True)
class CredentialCheck:
    """The cleaned credential values and the issues found, by field id."""

    #: Holds the secret and passphrase: kept out of repr (Textual's tracebacks show locals).
    values: dict[str, str] = field(repr=False)
    issues: dict[str, FieldIssue] = field(default_factory=dict)
    #: The private key read from a PEM secret (its kind and public key, to show the user).
    key: ParsedKey | None = field(default=None, repr=False)
    #: The PEM secret is encrypted and no passphrase for it was given yet: ask for it once.
    needs_key_passphrase: bool = False

    @property
    def errors(self) -> dict[str, FieldIssue]:
        return {k: v for k, v in self.issues.items() if v.blocking}

    @property
    def warnings(self) -> dict[str, FieldIssue]:
        return {k: v for k, v in self.issues.items() if not v.blocking}

    @property
    def ok(self) -> bool:
        return not self.errors


#: Invisible characters web pages and chat apps put into copied text; never part of a key.
_ZERO_WIDTH = {
    "\u200b": "zero-width space",
    "\u200c": "zero-width non-joiner",
    "\u200d": "zero-width joiner",
    "\u2060": "word joiner",
    "\ufeff": "byte order mark",
    "\u00ad": "soft hyphen",
}
#: Non-breaking spaces: removed at the ends only (inside, one may separate two pasted values).
_NBSP = "\u00a0\u202f\u2007"
#: Opening and closing quote pairs a value may be wrapped in.
_QUOTES = {'"': '"', "'": "'", "`": "`", "\u201c": "\u201d", "\u2018": "\u2019",
           "\u00ab": "\u00bb", "\u201e": "\u201c"}
#: A label copied along with the value: "API key: ...", "Secret = ...", "Passphrase: ...".
_LABEL = re.compile(
    r"^(?:api[ _-]?key|api[ _-]?secret|secret[ _-]?key|secret|key|passphrase|password)"
    r"\s*[:=]\s*",
    re.IGNORECASE,
)


def tidy_paste(text: str) -> tuple[str, list[str]]:
    """Remove what is certainly not part of a credential, and say what was removed.

    Zero-width characters (anywhere), non-breaking spaces and whitespace at the ends, quotes
    wrapping the whole value and a leading label such as ``API key:``. Anything else that looks
    wrong is left for :func:`check_credentials` to point at: a guess could change a real key.
    """
    removed: list[str] = []
    count = sum(text.count(ch) for ch in _ZERO_WIDTH)
    if count:
        names = sorted({_ZERO_WIDTH[ch] for ch in text if ch in _ZERO_WIDTH})
        noun = "invisible character" if count == 1 else "invisible characters"
        removed.append(f"{count} {noun} ({', '.join(names)})")
        text = "".join(ch for ch in text if ch not in _ZERO_WIDTH)
    # str.strip() takes non-breaking spaces too; say so when there were some.
    value = text.strip()
    ends = text[: len(text) - len(text.lstrip())] + text[len(text.rstrip()):]
    if any(ch in _NBSP for ch in ends):
        removed.append("non-breaking spaces at the ends")
    changed = True
    while changed and value:
        changed = False
        label = _LABEL.match(value)
        if label and label.end() < len(value):
            removed.append(f"the label {label.group(0).strip()!r}")
            value = value[label.end():].strip(_NBSP + " \t")
            changed = True
        closing = _QUOTES.get(value[0])
        if closing and len(value) > 2 and value.endswith(closing):
            removed.append("the quotes around it")
            value = value[1:-1].strip(_NBSP + " \t")
            changed = True
    return value, removed


def visible_paste(text: str) -> str:
    """Pasted text ready for a one-line input: ends trimmed, inner control characters made visible.

    Nothing is dropped (a stock input keeps only the first line of a multi-line paste, which could
    silently cut a key short); the caller's check then refuses the visible marks with a message.
    """
    trimmed = text.strip()
    return "".join(
        _CONTROL_PICTURES.get(ord(ch), _OTHER_CONTROL) if _is_control(ch) else ch
        for ch in trimmed
    )


def _is_control(ch: str) -> bool:
    return unicodedata.category(ch) == "Cc"


def paste_problem(label: str, value: str) -> str | None:
    """Why ``value`` cannot be a credential (one line for the field), or None if it can."""
    for index, ch in enumerate(value.strip(), start=1):
        name = _PICTURE_NAMES.get(ch)
        if name is None and ord(ch) in range(0x2400, 0x2427):
            name = "a control character"
        if name:
            return (
                f"{label} has {name} inside (at character {index}): a copy of more than the "
                "value. Paste the value on its own."
            )
    try:
        clean_paste(label, value)
    except ValueError as exc:
        message = str(exc)
        return message if message.endswith(".") else f"{message}."
    return None


def _fixed_length(shape: KeyShape) -> int | None:
    """The one length every value of ``shape`` has, or None when lengths vary."""
    # The regex parser knows the width of a pattern; it is what `re` itself uses for look-behinds.
    try:
        low, high = re._parser.parse(shape.pattern).getwidth()  # type: ignore[attr-defined]
    except Exception:
        return None
    return low if low == high else None


def shape_warning(info: ExchangeInfo, field_id: str, value: str) -> str | None:
    """A warning when a cleaned key or secret does not look like what ``info`` issues."""
    shape = info.key_shape if field_id == API_KEY else info.secret_shape
    if not value or shape.matches(value):
        return None
    noun = "API keys" if field_id == API_KEY else "secrets"
    expected = _fixed_length(shape)
    usual = f"{info.label} {noun} are usually {shape.description}"
    if expected is not None and len(value) < expected:
        why = f"this one has {len(value)} characters. Was the copy cut short?"
    elif expected is not None and len(value) > expected:
        why = f"this one has {len(value)} characters. Did the copy pick up something extra?"
    else:
        why = "this one looks different. Is it the right value for this field?"
    return f"{usual}; {why}"


def pem_text(value: str) -> str | None:
    """The PEM text of a pasted private key (line breaks the one-line input showed as control
    pictures put back), or None when ``value`` is not a PEM paste at all."""
    if "-----BEGIN" not in value:
        return None
    return value.replace("\u240d\u240a", "\n").replace("\u240a", "\n").replace("\u240d", "\n")


def check_pem_secret(info: ExchangeInfo, text: str, key_passphrase: str = "",
                     read: Callable[[str, str | None], ParsedKey] | None = None,
                     ) -> tuple[ParsedKey | None, str | None, bool]:
    """Read a PEM secret for ``info``: the key, or one message (and whether it is only the
    passphrase that is missing). ``read`` replaces ``keypairs.parse`` (e.g. ``parse_elsewhere``)."""
    from tui.services.keys import keypairs

    try:
        parsed = (read or keypairs.parse)(text, key_passphrase or None)
    except keypairs.PassphraseNeeded as exc:
        return None, str(exc), True
    except keypairs.KeyPemError as exc:
        return None, str(exc), False
    problem = info.kind_problem(parsed.kind.kind, parsed.kind.bits)
    return (None, problem, False) if problem else (parsed, None, False)


#: What ``check_pem_secret`` returns: (key, message, only the passphrase is missing).
PemResult = tuple["ParsedKey | None", "str | None", bool]


def check_credentials(
    info: ExchangeInfo, api_key: str, secret: str, passphrase: str = "",
    key_passphrase: str = "",
    pem_check: Callable[[ExchangeInfo, str, str], PemResult] | None = None,
) -> CredentialCheck:
    """Check the credential fields of the form for ``info``'s exchange.

    Returns cleaned values (ends trimmed) and at most one issue per field. A PEM private key as
    the secret (a self-generated key) is read, decrypted with ``key_passphrase`` if it is
    encrypted, checked against the kinds the exchange takes, and kept as plain PKCS#8.
    ``pem_check`` replaces ``check_pem_secret`` (the form remembers its last answer: a full
    RSA-4096 check takes about 0.3 s and holds the GIL).
    """
    parsed: ParsedKey | None = None
    needs_passphrase = False
    pem = pem_text(secret)
    raw = {API_KEY: api_key, SECRET: secret, PASSPHRASE: passphrase if info.has_passphrase else ""}
    values: dict[str, str] = {}
    issues: dict[str, FieldIssue] = {}
    for field_id, value in raw.items():
        label = FIELD_LABELS[field_id]
        # What a paste's clean-up removes is never part of a key, however it got into the field.
        value, _removed = tidy_paste(value)
        if field_id == PASSPHRASE and not info.has_passphrase:
            values[field_id] = ""
            continue
        if not value.strip():
            if field_id == PASSPHRASE:
                message = (
                    f"{info.label} keys need the passphrase you set when you created the key."
                )
            else:
                message = f"{label} is required."
            issues[field_id] = FieldIssue(field_id, message, blocking=True)
            values[field_id] = ""
            continue
        if field_id == SECRET and pem is not None:
            parsed, problem, needs_passphrase = (pem_check or check_pem_secret)(
                info, pem, key_passphrase)
            if problem:
                issues[field_id] = FieldIssue(field_id, problem, blocking=True)
            values[field_id] = parsed.private_pem if parsed else value
            continue
        problem = paste_problem(label, value)
        if problem:
            issues[field_id] = FieldIssue(field_id, problem, blocking=True)
            values[field_id] = value
            continue
        values[field_id] = value.strip()

    key, sec = values[API_KEY], values[SECRET]
    if key and key == sec and SECRET not in issues:
        issues[SECRET] = FieldIssue(
            SECRET,
            "The secret is the same as the API key: one of them was pasted twice.",
            blocking=True,
        )
    if (
        key
        and sec
        and API_KEY not in issues
        and SECRET not in issues
        and not info.key_shape.matches(key)
        and not info.secret_shape.matches(sec)
        and info.key_shape.matches(sec)
        and info.secret_shape.matches(key)
    ):
        issues[API_KEY] = FieldIssue(
            API_KEY,
            "The API key and the secret look swapped: the key field holds a secret-shaped value.",
            blocking=False,
        )
    for field_id in (API_KEY, SECRET):
        if field_id in issues or (field_id == SECRET and parsed is not None):
            continue
        warning = shape_warning(info, field_id, values[field_id])
        if warning:
            issues[field_id] = FieldIssue(field_id, warning, blocking=False)
    return CredentialCheck(values, issues, key=parsed, needs_key_passphrase=needs_passphrase)

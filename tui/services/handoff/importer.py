"""Import keys from the plaintext files bots read them from, then help remove the plaintext.

Two shapes: a freqtrade ``config.json`` (``exchange.name``, ``key``, ``secret``, ``password``) and a
``.env`` file (the usual variable names per exchange, or the user's own with a mapping). Every
account found is added through the normal AccountStore, all or none, and read back before the
import counts as done. The user's file is left alone unless
:func:`tui.services.handoff.scrub.scrub` is asked for (that module removes the values from it).

Why ~520 lines in one module: reading a file and adding what it holds are one job (what the reader
records, ``Found.places`` and the .env lines, is what the import reports and the scrub edits); the
JSONC token scan here is shared with ``scrub.py``, which edits the file at its positions.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tui.services.core.text import clean

if TYPE_CHECKING:
    from tui.services.keys.credentials import Credentials
    from tui.services.store.accounts import AccountStore
    from tui.services.store.model import Account

FREQTRADE = "freqtrade config"
DOTENV = ".env file"
#: Files larger than this are not credential configs (and would only fill memory).
MAX_FILE_BYTES = 1_000_000

#: The .env names people use for each field, after an exchange prefix (BYBIT_API_KEY, ...).
_SUFFIXES = {
    "api_key": ("API_KEY", "APIKEY", "KEY"),
    "secret": ("API_SECRET", "SECRET_KEY", "API_SECRET_KEY", "SECRET"),
    "passphrase": ("API_PASSPHRASE", "PASSPHRASE", "API_PASSWORD", "PASSWORD"),
}
_FREQTRADE_ENV = {"api_key": "FREQTRADE__EXCHANGE__KEY",
                  "secret": "FREQTRADE__EXCHANGE__SECRET",
                  "passphrase": "FREQTRADE__EXCHANGE__PASSWORD"}
DOTENV_LINE = re.compile(r"\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*\Z")


class ImportProblem(Exception):
    """The file cannot be imported as it is; one line saying why (never a value)."""


@dataclass(frozen=True)
class Found:
    """One account's credentials found in the file, and where each field sits there."""

    exchange: str
    creds: Credentials
    #: field ("api_key", "secret", "passphrase") -> where: "exchange.key", "BYBIT_API_KEY", ...
    places: dict[str, str]


@dataclass(frozen=True)
class Source:
    """A file read for import: its kind, what it holds, and (for .env) the lines of each place."""

    path: Path
    kind: str
    found: tuple[Found, ...]
    raw: bytes = field(repr=False)
    lines: dict[str, int] = field(default_factory=dict, repr=False)


def read_bytes(path: Path) -> bytes:
    """The file's bytes. A FIFO or device is refused before it can stall the import; a symlinked
    config (common for dotfiles) is followed to its target."""
    from tui.services.core.private_files import RefusedFile, read_regular

    try:
        return read_regular(path.resolve(), MAX_FILE_BYTES)
    except RefusedFile as exc:
        raise ImportProblem(f"{exc}: not a credential config") from None
    except FileNotFoundError:
        raise ImportProblem(f"no file at {clean(path)}") from None
    except IsADirectoryError:
        raise ImportProblem(f"{clean(path)} is a folder, not a file") from None
    except OSError as exc:
        raise ImportProblem(f"cannot read {clean(path)}: {exc.strerror}") from None


def _check_exchange(name: object, where: str) -> str:
    from tui.services.exchanges import exchanges

    known = exchanges()
    if name is None or name == "":
        raise ImportProblem(f"{where} is missing: say which exchange with --exchange")
    if not isinstance(name, str) or name.strip().lower() not in known:
        raise ImportProblem(f"{where} is '{clean(name)}', an exchange keylink does not know "
                            f"(known: {', '.join(known)})")
    return name.strip().lower()


def _credentials(exchange: str, values: Mapping[str, str], places: Mapping[str, str],
                 where: str) -> Found:
    """A Found, or ImportProblem naming the field that is missing or malformed."""
    from tui.services.exchanges import exchange as exchange_info
    from tui.services.keys.credentials import Credentials
    from tui.services.store.model import clean_paste
    from tui.services.store.validation import check_credentials

    info = exchange_info(exchange)
    needed = ("api_key", "secret", "passphrase") if info.has_passphrase else ("api_key", "secret")
    for name in needed:
        if not values.get(name, "").strip():
            place = places.get(name) or {"api_key": "the API key", "secret": "the API secret",
                                         "passphrase": "the API passphrase"}[name]
            wanted = "a key, a secret and a passphrase" if info.has_passphrase \
                else "a key and a secret"
            raise ImportProblem(f"{where}: {place} is missing or empty ({info.label} keys need "
                                f"{wanted})")
    cleaned: dict[str, str] = {}
    for name in needed:
        try:
            cleaned[name] = clean_paste(f"{where}: {places[name]}", values[name])
        except ValueError as exc:
            raise ImportProblem(str(exc)) from None
    check = check_credentials(info, cleaned["api_key"], cleaned["secret"],
                              cleaned.get("passphrase", ""))
    for issue in check.errors.values():
        raise ImportProblem(f"{where}: {issue.message}")
    creds = Credentials(cleaned["api_key"], cleaned["secret"], cleaned.get("passphrase", ""))
    return Found(exchange, creds, {name: places[name] for name in needed})


#: Limits of a freqtrade config's shape; anything beyond is refused before it is parsed.
_NESTING_LIMIT = 64
_NUMBER_LIMIT = 64


@dataclass(frozen=True)
class _Token:
    """One JSON token or comment and where it sits in the text (character offsets)."""

    kind: str  # "string", "comment", "number", "word", or the punctuation itself: { } [ ] : ,
    start: int
    end: int
    #: For a string or comment: the object keys leading to it (["exchange", "ccxt_config"]).
    path: tuple[str, ...] = ()
    is_key: bool = False
    #: For a string that is an object member's value: that member's key.
    key: str | None = None


def line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def jsonc_tokens(text: str, where: str) -> list[_Token]:
    """The tokens of a JSON-with-comments text, with positions, so a scrub can edit the values in
    place (comments, order and layout stay). It does not judge the grammar (rapidjson does); it
    refuses what would only cost time and memory: nesting deeper than ``_NESTING_LIMIT`` and
    numbers longer than ``_NUMBER_LIMIT`` characters. Runs without recursion."""
    tokens: list[_Token] = []
    stack: list[tuple[str, str | None]] = []  # (bracket, key of the member it is the value of)
    path: list[str] = []
    pending_key: str | None = None
    i, size = 0, len(text)
    while i < size:
        char = text[i]
        if char in " \t\r\n\ufeff":
            i += 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            end = size if end < 0 else end
            tokens.append(_Token("comment", i, end, tuple(path)))
            i = end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                raise ImportProblem(f"{where} line {line_of(text, i)}: a /* comment is never "
                                    "closed")
            tokens.append(_Token("comment", i, end + 2, tuple(path)))
            i = end + 2
        elif char == '"':
            j = i + 1
            while j < size and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            if j >= size:
                raise ImportProblem(f"{where} line {line_of(text, i)}: a string is never closed")
            k = j + 1
            while k < size and text[k] in " \t\r\n":
                k += 1
            in_object = bool(stack) and stack[-1][0] == "{"
            is_key = in_object and k < size and text[k] == ":"
            tokens.append(_Token("string", i, j + 1, tuple(path), is_key,
                                 None if is_key or not in_object else pending_key))
            if is_key:
                try:
                    pending_key = json.loads(text[i:j + 1])
                except ValueError:
                    pending_key = None
            i = j + 1
        elif char in "{[":
            if len(stack) >= _NESTING_LIMIT:
                raise ImportProblem(f"{where} line {line_of(text, i)}: nested more than "
                                    f"{_NESTING_LIMIT} levels deep: not a freqtrade config")
            stack.append((char, pending_key))
            if pending_key is not None:
                path.append(pending_key)
            pending_key = None
            tokens.append(_Token(char, i, i + 1))
            i += 1
        elif char in "}]":
            if stack:
                _bracket, key = stack.pop()
                if key is not None and path:
                    path.pop()
            pending_key = None
            tokens.append(_Token(char, i, i + 1))
            i += 1
        elif char in ":,":
            if char == ",":
                pending_key = None
            tokens.append(_Token(char, i, i + 1))
            i += 1
        else:
            j = i
            while j < size and text[j] not in ' \t\r\n{}[]:,"/':
                j += 1
            j = max(j, i + 1)
            if char in "-0123456789" and j - i > _NUMBER_LIMIT:
                raise ImportProblem(f"{where} line {line_of(text, i)}: a number "
                                    f"{j - i} characters long: not a freqtrade config")
            tokens.append(_Token("number" if char in "-0123456789" else "word", i, j))
            i = j
    return tokens


def parse_jsonc(text: str, raw: bytes, where: str) -> object:
    """The value of a freqtrade config, read as freqtrade reads it (rapidjson with comments and
    trailing commas). ImportProblem with the line for anything else."""
    import rapidjson

    try:
        return rapidjson.loads(
            text, parse_mode=rapidjson.PM_COMMENTS | rapidjson.PM_TRAILING_COMMAS)
    except RecursionError:  # the token scan's depth limit comes first; this is a second guard
        raise ImportProblem(f"{where} is nested too deeply: not a freqtrade config") from None
    except ValueError as exc:
        message = str(exc)
        match = re.match(r"Parse error at offset (\d+): (.*)", message)
        if match is None:
            raise ImportProblem(f"{where} is not valid JSON ({message[:80]})") from None
        line = raw[:int(match.group(1))].count(b"\n") + 1
        reason = match.group(2).rstrip(".!").lower()
        raise ImportProblem(f"{where} is not valid JSON (line {line}: {reason})") from None


def _read_freqtrade(path: Path, raw: bytes) -> Source:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ImportProblem(f"{clean(path)} is not UTF-8 text") from None
    jsonc_tokens(text, clean(path))
    config = parse_jsonc(text, raw, clean(path))
    section = config.get("exchange") if isinstance(config, dict) else None
    if not isinstance(section, dict):
        raise ImportProblem(f"{clean(path)} has no \"exchange\" section: is it a freqtrade config?")
    exchange = _check_exchange(section.get("name"), f"{clean(path)}: exchange.name")
    values: dict[str, str] = {}
    for name, json_key in (("api_key", "key"), ("secret", "secret"), ("passphrase", "password")):
        value = section.get(json_key, "")
        if not isinstance(value, str):
            raise ImportProblem(f"{clean(path)}: exchange.{json_key} is not a string")
        values[name] = value
    places = {"api_key": "exchange.key", "secret": "exchange.secret",
              "passphrase": "exchange.password"}
    return Source(path, FREQTRADE, (_credentials(exchange, values, places, clean(path)),), raw)


def dotenv_value(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    if " #" in value:  # a comment after an unquoted value
        return value.split(" #", 1)[0].rstrip()
    return value


def _parse_dotenv(path: Path, raw: bytes) -> tuple[dict[str, str], dict[str, int]]:
    """{name: value} and {name: line}. A name set twice with different values is refused: which
    one a program reads depends on the program, so keylink cannot tell which to store."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ImportProblem(f"{clean(path)} is not UTF-8 text") from None
    values: dict[str, str] = {}
    lines: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = DOTENV_LINE.match(line)
        if match is None:
            raise ImportProblem(f"{clean(path)} line {number} is not NAME=value: "
                                "is it a .env file?")
        name, value = match.group(1), dotenv_value(match.group(2))
        if name in values and values[name] != value:
            raise ImportProblem(f"{clean(path)} sets {clean(name)} twice with different values "
                                f"(lines {lines[name]} and {number}): keep the right one")
        values.setdefault(name, value)
        lines.setdefault(name, number)
    return values, lines


def _pick(values: Mapping[str, str], lines: Mapping[str, int], names: Sequence[str],
          where: str) -> str | None:
    """The first of ``names`` the file sets; when several are set (BYBIT_API_SECRET and
    BYBIT_SECRET), they must agree, else ImportProblem naming both."""
    present = [name for name in names if name in values]
    for other in present[1:]:
        if values[other] != values[present[0]]:
            raise ImportProblem(f"{where} holds two different values for one field: "
                                f"{clean(present[0])} (line {lines[present[0]]}) and "
                                f"{clean(other)} (line {lines[other]}): keep the right one")
    return present[0] if present else None


def _read_dotenv(path: Path, raw: bytes, mapping: Mapping[str, str],
                 exchange: str | None) -> Source:
    from tui.services.exchanges import exchanges

    values, lines = _parse_dotenv(path, raw)
    where = clean(path)
    found: list[Found] = []
    if mapping:
        for var in mapping.values():
            if var not in values:
                raise ImportProblem(f"{where} has no variable {clean(var)} (given with --map)")
        if exchange is None:
            raise ImportProblem("--map needs --exchange: the file does not say which exchange")
        chosen = {name: values[var] for name, var in mapping.items()}
        found.append(_credentials(_check_exchange(exchange, "--exchange"), chosen,
                                  dict(mapping), where))
    else:
        groups: list[tuple[str, dict[str, str]]] = []
        if _FREQTRADE_ENV["api_key"] in values:
            name = values.get("FREQTRADE__EXCHANGE__NAME") or exchange
            groups.append((_check_exchange(name, f"{where}: FREQTRADE__EXCHANGE__NAME"),
                           {f: v for f, v in _FREQTRADE_ENV.items() if v in values}))
        for exchange_id in exchanges():
            prefix = exchange_id.upper() + "_"
            places = {}
            for name, suffixes in _SUFFIXES.items():
                var = _pick(values, lines, [prefix + suffix for suffix in suffixes], where)
                if var is not None:
                    places[name] = var
            if places:
                groups.append((exchange_id, places))
        if not groups:
            hints = ", ".join(f"{exchange_id.upper()}_API_KEY" for exchange_id in exchanges())
            raise ImportProblem(f"{where} holds none of the usual key variables ({hints}, "
                                "FREQTRADE__EXCHANGE__KEY): name yours with --map key=VAR "
                                "--map secret=VAR and --exchange")
        for exchange_id, places in groups:
            chosen = {name: values[var] for name, var in places.items()}
            found.append(_credentials(exchange_id, chosen, places, where))
    used = {place for item in found for place in item.places.values()}
    return Source(path, DOTENV, tuple(found), raw, {var: lines[var] for var in used})


def parse_mapping(items: Sequence[str]) -> dict[str, str]:
    """``--map field=VAR`` items (the field by its public name) -> {field: VAR}; ImportProblem
    for a bad one."""
    from tui.services.handoff.fields import SECRET_FIELDS, field_named

    mapping: dict[str, str] = {}
    for item in items:
        name, sep, var = item.partition("=")
        field = field_named(name)
        if not sep or field not in SECRET_FIELDS or not var:
            raise ImportProblem(f"--map wants key=VAR, secret=VAR or passphrase=VAR, got "
                                f"'{clean(item)}'")
        mapping[field] = var
    if mapping and not {"api_key", "secret"} <= mapping.keys():
        raise ImportProblem("--map needs at least key=VAR and secret=VAR")
    return mapping


def read_source(path: str | os.PathLike[str], *, mapping: Mapping[str, str] | None = None,
                exchange: str | None = None) -> Source:
    """Read ``path`` as a freqtrade config (JSON) or a .env file; ImportProblem when it cannot be
    imported whole (a missing secret, an unknown exchange, a broken line)."""
    target = Path(path).expanduser()
    raw = read_bytes(target)
    looks_json = target.suffix.lower() == ".json" or raw.lstrip().startswith(b"{")
    if looks_json:
        if mapping:
            raise ImportProblem("--map is for .env files; a freqtrade config is read by its fields")
        return _read_freqtrade(target, raw)
    return _read_dotenv(target, raw, mapping or {}, exchange)


#: What the import did with each key found in the file.
ADDED = "added"
STORED = "already stored"
UPDATED = "updated"
REFUSED = "refused"
#: The field names as the user reads them.
_FIELD_WORDS = {"api_key": "API key", "secret": "secret", "passphrase": "passphrase"}


@dataclass(frozen=True)
class Imported:
    """A key found in the file and what the import did with it: added as a new account, found
    already stored (every field the same), stored over an account's differing fields (updated),
    or left alone because that update was not allowed (refused)."""

    account: Account
    found: Found
    status: str
    #: For updated and refused: the fields that differ from the stored ones ("passphrase").
    differing: tuple[str, ...] = ()

    @property
    def already_stored(self) -> bool:
        return self.status == STORED


def import_accounts(store: AccountStore, source: Source, *, name: str | None = None,
                    environment: str | None = None,
                    update: bool | Callable[[Account, Found, tuple[str, ...]], bool] = False,
                    ) -> list[Imported]:
    """Add every key found in ``source``, all or none, and read each back.

    A key counts as stored only when an account of the same exchange holds every field byte for
    byte the same; that one is reported, not added twice, so a second run (say, with --scrub) is
    harmless. An account with the same API key but another secret or passphrase is updated only
    when ``update`` says so (True, or a question answered yes before anything is written); else
    it is refused and its values must stay in the file (the caller scrubs only what is stored)."""
    from tui.services.exchanges import exchange as exchange_info
    from tui.services.store.model import AccountError, validate_name

    if name is not None and len(source.found) > 1:
        raise ImportProblem(f"the file holds {len(source.found)} accounts: --name works for one")
    existing = store.list()
    plans: list[tuple[Found, str, str | None, Account | None, tuple[str, ...]]] = []
    taken = list(existing)
    for found in source.found:
        match, differing = _stored_match(store, existing, found)
        if match is not None and not differing:
            plans.append((found, STORED, None, match, ()))
            continue
        if match is not None:
            allowed = update(match, found, differing) if callable(update) else update
            plans.append((found, UPDATED if allowed else REFUSED, None, match, differing))
            continue
        label = exchange_info(found.exchange).label
        wanted = name or f"{label} from {source.path.name}"[:40].strip()
        try:
            cleaned = validate_name(wanted, taken)
        except ValueError as exc:
            raise ImportProblem(f"{exc}: give another with --name") from None
        taken.append(_placeholder(cleaned))
        plans.append((found, ADDED, cleaned, None, ()))
    done: list[Imported] = []
    added: list[Account] = []
    updated: list[tuple[Account, Credentials]] = []
    try:
        for found, action, new_name, match, differing in plans:
            if action in (STORED, REFUSED):
                assert match is not None
                done.append(Imported(match, found, action, differing))
                continue
            if action == UPDATED:
                assert match is not None
                old = store.credentials(match)
                account = store.rotate(match.id, found.creds)
                updated.append((account, old))
            else:
                assert new_name is not None
                env = environment or exchange_info(found.exchange).default_environment()
                account = store.add(new_name, found.exchange, env, found.creds)
                added.append(account)
            if store.credentials(account) != found.creds:
                raise AccountError(f"{account.name} did not read back as saved")
            done.append(Imported(account, found, action, differing))
    except BaseException:
        # Best effort: the first error is the one to report. An update is undone by storing the
        # old values again (a failure there keeps the new ones: stored, not lost).
        for account in reversed(added):
            with contextlib.suppress(Exception):
                store.remove(account.id, force=True)
        for account, old in reversed(updated):
            with contextlib.suppress(Exception):
                store.rotate(account.id, old)
        raise
    return done


def _placeholder(name: str) -> Account:
    from tui.services.store.model import Account

    return Account(id="", name=name, exchange="", environment="", base_url="", whitelist="",
                   created_at="", updated_at="", secret_ref="")


def _stored_match(store: AccountStore, existing: Sequence[Account],
                  found: Found) -> tuple[Account | None, tuple[str, ...]]:
    """The account that holds ``found`` exactly (no differing fields), else one of the same
    exchange with the same API key and the fields that differ, else (None, ())."""
    partial: tuple[Account | None, tuple[str, ...]] = (None, ())
    for account in existing:
        if account.exchange != found.exchange:
            continue
        try:
            creds = store.credentials(account)
        except Exception:  # an unreadable secret is not a match; the add reports real faults
            continue
        differing = tuple(field for field in ("api_key", "secret", "passphrase")
                          if getattr(creds, field) != getattr(found.creds, field))
        if not differing:
            return account, ()
        if creds.api_key == found.creds.api_key and partial[0] is None:
            partial = (account, differing)
    return partial


def field_words(fields: Sequence[str]) -> str:
    """("secret", "passphrase") -> "secret and passphrase"."""
    words = [_FIELD_WORDS[field] for field in fields]
    return " and ".join([", ".join(words[:-1]), words[-1]] if len(words) > 1 else words)

"""Import keys from the plaintext files bots read them from, then help remove the plaintext.

Two shapes: a freqtrade ``config.json`` (``exchange.name``, ``key``, ``secret``, ``password``) and a
``.env`` file (the usual variable names per exchange, or the user's own with a mapping). Every
account found is added through the normal AccountStore, all or none, and read back before the
import counts as done. The user's file is left alone unless :func:`scrub` is asked for.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tui.services.text import clean

if TYPE_CHECKING:
    from tui.services.accounts import Account, AccountStore, Credentials

FREQTRADE = "freqtrade config"
DOTENV = ".env file"
#: Files larger than this are not credential configs (and would only fill memory).
MAX_FILE_BYTES = 1_000_000

#: The .env names people use for each field, after an exchange prefix (BYBIT_API_KEY, ...).
_SUFFIXES = {
    "key": ("API_KEY", "APIKEY", "KEY"),
    "secret": ("API_SECRET", "SECRET_KEY", "API_SECRET_KEY", "SECRET"),
    "passphrase": ("API_PASSPHRASE", "PASSPHRASE", "API_PASSWORD", "PASSWORD"),
}
_FREQTRADE_ENV = {"key": "FREQTRADE__EXCHANGE__KEY", "secret": "FREQTRADE__EXCHANGE__SECRET",
                  "passphrase": "FREQTRADE__EXCHANGE__PASSWORD"}
_LINE = re.compile(r"\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*\Z")


class ImportProblem(Exception):
    """The file cannot be imported as it is; one line saying why (never a value)."""


@dataclass(frozen=True)
class Found:
    """One account's credentials found in the file, and where each field sits there."""

    exchange: str
    creds: Credentials
    #: field ("key", "secret", "passphrase") -> where: "exchange.key", "BYBIT_API_KEY", ...
    places: dict[str, str]


@dataclass(frozen=True)
class Source:
    """A file read for import: its kind, what it holds, and (for .env) the lines of each place."""

    path: Path
    kind: str
    found: tuple[Found, ...]
    raw: bytes = field(repr=False)
    lines: dict[str, int] = field(default_factory=dict, repr=False)


def _read_bytes(path: Path) -> bytes:
    """The file's bytes. A FIFO or device is refused before it can stall the import; a symlinked
    config (common for dotfiles) is followed to its target."""
    from tui.services.private_files import RefusedFile, read_regular

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
    from tui.services.accounts import Credentials, clean_paste
    from tui.services.exchanges import exchange as exchange_info
    from tui.services.validation import check_credentials

    info = exchange_info(exchange)
    needed = ("key", "secret", "passphrase") if info.has_passphrase else ("key", "secret")
    for name in needed:
        if not values.get(name, "").strip():
            place = places.get(name) or {"key": "the API key", "secret": "the API secret",
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
    check = check_credentials(info, cleaned["key"], cleaned["secret"],
                              cleaned.get("passphrase", ""))
    for issue in check.errors.values():
        raise ImportProblem(f"{where}: {issue.message}")
    creds = Credentials(cleaned["key"], cleaned["secret"], cleaned.get("passphrase", ""))
    return Found(exchange, creds, {name: places[name] for name in needed})


def _read_freqtrade(path: Path, raw: bytes) -> Source:
    try:
        config = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ImportProblem(f"{clean(path)} is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise ImportProblem(f"{clean(path)} is not valid JSON (line {exc.lineno}: {exc.msg}); "
                            "freqtrade's comments are not read: remove them first") from None
    section = config.get("exchange") if isinstance(config, dict) else None
    if not isinstance(section, dict):
        raise ImportProblem(f"{clean(path)} has no \"exchange\" section: is it a freqtrade config?")
    exchange = _check_exchange(section.get("name"), f"{clean(path)}: exchange.name")
    values: dict[str, str] = {}
    for name, json_key in (("key", "key"), ("secret", "secret"), ("passphrase", "password")):
        value = section.get(json_key, "")
        if not isinstance(value, str):
            raise ImportProblem(f"{clean(path)}: exchange.{json_key} is not a string")
        values[name] = value
    places = {"key": "exchange.key", "secret": "exchange.secret", "passphrase": "exchange.password"}
    return Source(path, FREQTRADE, (_credentials(exchange, values, places, clean(path)),), raw)


def _parse_dotenv(path: Path, raw: bytes) -> tuple[dict[str, str], dict[str, int]]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ImportProblem(f"{clean(path)} is not UTF-8 text") from None
    values: dict[str, str] = {}
    lines: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _LINE.match(line)
        if match is None:
            raise ImportProblem(f"{clean(path)} line {number} is not NAME=value: "
                                "is it a .env file?")
        name, value = match.groups()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        elif " #" in value:  # a comment after an unquoted value
            value = value.split(" #", 1)[0].rstrip()
        values[name] = value
        lines[name] = number
    return values, lines


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
        if _FREQTRADE_ENV["key"] in values:
            name = values.get("FREQTRADE__EXCHANGE__NAME") or exchange
            groups.append((_check_exchange(name, f"{where}: FREQTRADE__EXCHANGE__NAME"),
                           {f: v for f, v in _FREQTRADE_ENV.items() if v in values}))
        for exchange_id in exchanges():
            prefix = exchange_id.upper() + "_"
            places = {}
            for name, suffixes in _SUFFIXES.items():
                for suffix in suffixes:
                    if prefix + suffix in values:
                        places[name] = prefix + suffix
                        break
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
    """``--map field=VAR`` items -> {field: VAR}; ImportProblem for a bad one."""
    mapping: dict[str, str] = {}
    for item in items:
        name, sep, var = item.partition("=")
        if not sep or name not in ("key", "secret", "passphrase") or not var:
            raise ImportProblem(f"--map wants key=VAR, secret=VAR or passphrase=VAR, got "
                                f"'{clean(item)}'")
        mapping[name] = var
    if mapping and not {"key", "secret"} <= mapping.keys():
        raise ImportProblem("--map needs at least key=VAR and secret=VAR")
    return mapping


def read_source(path: str | os.PathLike[str], *, mapping: Mapping[str, str] | None = None,
                exchange: str | None = None) -> Source:
    """Read ``path`` as a freqtrade config (JSON) or a .env file; ImportProblem when it cannot be
    imported whole (a missing secret, an unknown exchange, a broken line)."""
    target = Path(path).expanduser()
    raw = _read_bytes(target)
    looks_json = target.suffix.lower() == ".json" or raw.lstrip().startswith(b"{")
    if looks_json:
        if mapping:
            raise ImportProblem("--map is for .env files; a freqtrade config is read by its fields")
        return _read_freqtrade(target, raw)
    return _read_dotenv(target, raw, mapping or {}, exchange)


@dataclass(frozen=True)
class Imported:
    """An account the import stored, or the existing one that already held the same key."""

    account: Account
    found: Found
    already_stored: bool


def import_accounts(store: AccountStore, source: Source, *, name: str | None = None,
                    environment: str | None = None) -> list[Imported]:
    """Add every account found in ``source``, all or none, and read each back.

    A key that is already stored (same exchange, same API key and secret) is not added twice; the
    existing account is reported instead, so a second run (say, with --scrub) is harmless."""
    from tui.services.accounts import AccountError, validate_name
    from tui.services.exchanges import exchange as exchange_info

    if name is not None and len(source.found) > 1:
        raise ImportProblem(f"the file holds {len(source.found)} accounts: --name works for one")
    existing = store.list()
    plans: list[tuple[Found, str | None, Account | None]] = []
    taken = list(existing)
    for found in source.found:
        match = _already_stored(store, existing, found)
        if match is not None:
            plans.append((found, None, match))
            continue
        label = exchange_info(found.exchange).label
        wanted = name or f"{label} from {source.path.name}"[:40].strip()
        try:
            cleaned = validate_name(wanted, taken)
        except ValueError as exc:
            raise ImportProblem(f"{exc}: give another with --name") from None
        taken.append(_placeholder(cleaned))
        plans.append((found, cleaned, None))
    done: list[Imported] = []
    added: list[Account] = []
    try:
        for found, new_name, match in plans:
            if match is not None:
                done.append(Imported(match, found, True))
                continue
            assert new_name is not None
            env = environment or exchange_info(found.exchange).environments[0].id
            account = store.add(new_name, found.exchange, env, found.creds)
            added.append(account)
            if store.credentials(account) != found.creds:
                raise AccountError(f"{account.name} did not read back as saved")
            done.append(Imported(account, found, False))
    except BaseException:
        for account in reversed(added):
            # Best effort: the first error is the one to report.
            with contextlib.suppress(Exception):
                store.remove(account.id, force=True)
        raise
    return done


def _placeholder(name: str) -> Account:
    from tui.services.accounts import Account

    return Account(id="", name=name, exchange="", environment="", base_url="", whitelist="",
                   created_at="", updated_at="", secret_ref="")


def _already_stored(store: AccountStore, existing: Sequence[Account],
                    found: Found) -> Account | None:
    for account in existing:
        if account.exchange != found.exchange:
            continue
        try:
            creds = store.credentials(account)
        except Exception:  # an unreadable secret is not a match; the add reports real faults
            continue
        if creds.api_key == found.creds.api_key and creds.secret == found.creds.secret:
            return account
    return None


def plaintext_places(source: Source) -> list[str]:
    """Where the file holds plaintext credentials, in its own terms ("exchange.secret",
    "BYBIT_API_SECRET (line 3)")."""
    places: list[str] = []
    for found in source.found:
        for where in found.places.values():
            line = source.lines.get(where)
            places.append(f"{where} (line {line})" if line else where)
    return places


def scrub(source: Source, *, backup: bool = False) -> Path | None:
    """Rewrite the file without the credentials, atomically; the backup's path when asked for.

    A freqtrade config keeps its fields as empty strings (freqtrade expects them; the
    environment fills them); a .env file loses those lines, every other byte kept. The backup
    (the original bytes) is 0600: it still holds the plaintext. The file must not have changed
    since it was read."""
    from tui.services.private_files import atomic_write

    path = source.path.resolve()
    if _read_bytes(path) != source.raw:
        raise ImportProblem(f"{clean(path)} changed while keylink was reading it; run again")
    if source.kind == FREQTRADE:
        config = json.loads(source.raw.decode("utf-8"))
        for found in source.found:
            for where in found.places.values():
                config["exchange"][where.split(".", 1)[1]] = ""
        data = (json.dumps(config, indent=4, ensure_ascii=False) + "\n").encode("utf-8")
    else:
        drop = set(source.lines.values())
        kept = [line for number, line in
                enumerate(source.raw.decode("utf-8").splitlines(keepends=True), start=1)
                if number not in drop]
        data = "".join(kept).encode("utf-8")
    mode = path.stat().st_mode & 0o777
    backup_path = None
    if backup:
        backup_path = path.with_name(path.name + ".keylink-backup")
        atomic_write(backup_path, source.raw)
    atomic_write(path, data)
    # atomic_write makes the new file 0600; a file the user had tighter or wider keeps its mode
    # (a bot under another user may need to read it).
    os.chmod(path, mode)
    return backup_path

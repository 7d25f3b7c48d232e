"""The environment registry: every exchange's hosts as data (tui/content/environments.toml).

A key works only on the environment (mainnet, testnet, demo) and regional entity that issued it,
so the hosts are facts with a source and a date, not code. The exchange modules, the account
form, the guide, verify and the CLI all read them from here.

``KEYLINK_ENVIRONMENTS=FILE`` (same schema) is merged over the shipped file, table by table: a
test or a private deployment can point ``[bybit.testnet] rest`` at its own server. With a
top-level ``replace = true`` the file replaces the shipped registry entirely, so a test can confine
every host (the "where does this key belong" probe included) to this machine. Plain ``http://`` is
accepted only for loopback hosts, as for a custom account URL.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tui.content import shipped_text
from tui.services.core.hosts import is_loopback_host

#: The variable naming an override file.
OVERRIDE_VAR = "KEYLINK_ENVIRONMENTS"

_FIELDS = {"label", "rest", "headers", "keys_page", "key_group", "checkable", "probe", "pickable",
           "confirmed", "note", "source", "date"}


class RegistryError(ValueError):
    """The registry (or the override file) cannot be used; the message is one line naming where."""


@dataclass(frozen=True)
class Environment:
    """One place an exchange's API can be reached: mainnet, testnet, demo, a regional host."""

    id: str
    label: str
    base_url: str
    #: Extra headers that select this environment on a shared host (OKX demo, Bitget demo).
    headers: tuple[tuple[str, str], ...] = ()
    #: Where this environment's keys are made, as text to type (not a link to follow).
    keys_page: str = ""
    #: Entries with the same group take the same keys (one environment behind two hosts).
    key_group: str = ""
    #: False when the host has no key-info call keylink can use (Binance's spot testnet).
    checkable: bool = True
    #: False keeps the "where does this key belong" probe from asking this host.
    probe: bool = True
    #: False keeps it out of the environment picker (Binance.US: a separate exchange).
    pickable: bool = True
    #: False when the facts mark the host UNCONFIRMED.
    confirmed: bool = True
    note: str = ""
    source: str = field(default="", compare=False)
    date: str = field(default="", compare=False)

    @property
    def group(self) -> str:
        """The key group: the entry's own id unless it shares keys with another entry."""
        return self.key_group or self.id

    @property
    def host(self) -> str:
        """host[:port] of the REST URL, as reports name it."""
        return urlsplit(self.base_url).netloc


def _shipped_text() -> str:
    return shipped_text("environments.toml")


def _where(origin: str, exchange: str | None = None, env: str | None = None,
           key: str | None = None) -> str:
    place = f"[{exchange}.{env}]" if env else f"[{exchange}]" if exchange else ""
    return " ".join(part for part in (f"{origin}:", place, f"{key}:" if key else "") if part)


def _check_url(url: Any, where: str) -> str:
    if not isinstance(url, str) or not url.strip():
        raise RegistryError(f"{where} needs a URL such as https://api.example.com")
    parts = urlsplit(url.strip())
    try:
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise RegistryError(f"{where} has a bad port in {url.strip()[:80]!r}") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise RegistryError(f"{where} must be an https:// URL with a host")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise RegistryError(f"{where} must be a plain base URL (no user, query or fragment)")
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise RegistryError(f"{where} uses plain http to {parts.hostname}: http is only allowed "
                            "to this machine (127.0.0.1, ::1, localhost); use https://")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def _entry(origin: str, exchange: str, env: str, raw: dict[str, Any]) -> Environment:
    """One checked entry; RegistryError naming the table and the field otherwise."""
    unknown = sorted(set(raw) - _FIELDS)
    if unknown:
        raise RegistryError(f"{_where(origin, exchange, env)} unknown field {unknown[0]!r} "
                            f"(known: {', '.join(sorted(_FIELDS))})")
    for name in ("label", "keys_page", "key_group", "note", "source", "date"):
        if name in raw and not isinstance(raw[name], str):
            raise RegistryError(f"{_where(origin, exchange, env, name)} must be text")
    for name in ("checkable", "probe", "pickable", "confirmed"):
        if name in raw and not isinstance(raw[name], bool):
            raise RegistryError(f"{_where(origin, exchange, env, name)} must be true or false")
    headers = raw.get("headers", {})
    if not isinstance(headers, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and k.isascii() and v.isascii()
            and k.strip() and "\n" not in k + v for k, v in headers.items()):
        raise RegistryError(f"{_where(origin, exchange, env, 'headers')} must be a table of "
                            "text values, e.g. headers = {{ \"x-simulated-trading\" = \"1\" }}")
    for name in ("source", "date"):
        if not str(raw.get(name, "")).strip():
            raise RegistryError(f"{_where(origin, exchange, env)} has no {name} (every host "
                                "says where it comes from and when)")
    return Environment(
        id=env,
        label=str(raw.get("label") or env),
        base_url=_check_url(raw.get("rest"), _where(origin, exchange, env, "rest")),
        headers=tuple(headers.items()),
        keys_page=raw.get("keys_page", ""),
        key_group=raw.get("key_group", ""),
        checkable=raw.get("checkable", True),
        probe=raw.get("probe", True),
        pickable=raw.get("pickable", True),
        confirmed=raw.get("confirmed", True),
        note=raw.get("note", ""),
        source=raw["source"],
        date=raw["date"],
    )


def _tables(origin: str, data: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """The file's ``[exchange.environment]`` tables, shape-checked."""
    found: dict[str, dict[str, dict[str, Any]]] = {}
    for exchange, envs in data.items():
        if exchange == "replace":
            continue
        if not isinstance(envs, dict):
            raise RegistryError(f"{origin}: {exchange!r} must be a table of environments, e.g. "
                                f"[{exchange}.mainnet]")
        for env, raw in envs.items():
            if not isinstance(raw, dict):
                raise RegistryError(f"{origin}: {exchange}.{env} must be a table, e.g. "
                                    f"[{exchange}.{env}] with rest = \"https://…\"")
            if not env or not all(c.isalnum() or c in "-_" for c in env) or env == "custom":
                raise RegistryError(f"{origin}: {exchange}.{env!r} is not a usable environment "
                                    "name (letters, digits, - and _; not 'custom')")
        found[exchange] = envs
    return found


def _parse(origin: str, text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RegistryError(f"{origin}: not valid TOML ({exc})") from None


def build(shipped: str, override: str | None = None, override_origin: str = "") -> dict[
        str, tuple[Environment, ...]]:
    """The registry from the shipped text and an override's text: exchange -> environments, in
    file order (the shipped order, then entries the override adds)."""
    base = _tables("environments.toml", _parse("environments.toml", shipped))
    merged: dict[str, dict[str, dict[str, Any]]] = {
        ex: {env: dict(raw) for env, raw in envs.items()} for ex, envs in base.items()}
    if override is not None:
        origin = override_origin or OVERRIDE_VAR
        data = _parse(origin, override)
        replace = data.get("replace", False)
        if not isinstance(replace, bool):
            raise RegistryError(f"{origin}: replace must be true or false")
        tables = _tables(origin, data)
        if replace:
            merged = {}
        for exchange, envs in tables.items():
            target = merged.setdefault(exchange, {})
            for env, raw in envs.items():
                target[env] = {**target.get(env, {}), **raw}
        origins = {(ex, env): origin for ex, envs in tables.items() for env in envs}
    else:
        origins = {}
    registry: dict[str, tuple[Environment, ...]] = {}
    for exchange, envs in merged.items():
        entries = tuple(_entry(origins.get((exchange, env), "environments.toml"), exchange, env,
                               raw) for env, raw in envs.items())
        groups = {entry.id for entry in entries}
        for entry in entries:
            if entry.key_group and entry.key_group not in groups:
                raise RegistryError(f"{_where('environments', exchange, entry.id, 'key_group')} "
                                    f"names {entry.key_group!r}, which {exchange} does not have")
        registry[exchange] = entries
    return registry


#: The registry in force and whether it replaces the shipped one (``replace = true``), under
#: the override's path and its file's (mtime, size): one entry, the last one built.
_cache: dict[tuple[str, tuple[int, int] | None],
             tuple[dict[str, tuple[Environment, ...]], bool]] = {}


def _override_key() -> tuple[str, tuple[int, int] | None]:
    """The override file's path and (modification time, size), from a stat only: the file is
    read again only when these change (the registry is asked for on every host lookup)."""
    path = os.environ.get(OVERRIDE_VAR, "").strip()
    if not path:
        return "", None
    try:
        info = Path(path).expanduser().stat()
    except OSError as exc:
        raise RegistryError(f"{OVERRIDE_VAR}={path}: cannot be read "
                            f"({exc.strerror or exc})") from None
    return path, (info.st_mtime_ns, info.st_size)


def _read_override(path: str) -> str:
    try:
        return Path(path).expanduser().read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise RegistryError(f"{OVERRIDE_VAR}={path}: not a text file") from None
    except OSError as exc:
        raise RegistryError(f"{OVERRIDE_VAR}={path}: cannot be read "
                            f"({exc.strerror or exc})") from None


def _in_force() -> tuple[dict[str, tuple[Environment, ...]], bool]:
    key = _override_key()
    found = _cache.get(key)
    if found is None:
        path = key[0]
        text = _read_override(path) if path else None
        built = build(_shipped_text(), text, f"{OVERRIDE_VAR}={path}" if path else "")
        found = (built, text is not None and tomllib.loads(text).get("replace") is True)
        _cache.clear()
        _cache[key] = found
    return found


def registry() -> dict[str, tuple[Environment, ...]]:
    """The registry in force: shipped, with the override file (if any) applied.

    Re-read when ``KEYLINK_ENVIRONMENTS`` or its file changes. RegistryError (one line naming
    the file, table and field) when either cannot be used: keylink never guesses a host.
    """
    return _in_force()[0]


def replaced() -> bool:
    """True when the override in force replaces the shipped registry: then no host outside it
    is used, not even an account's saved one (a test confines every host this way)."""
    return _in_force()[1]


def environments_of(exchange_id: str) -> tuple[Environment, ...]:
    """Every environment of one exchange in registry order (empty when it has none)."""
    return registry().get(exchange_id, ())


def find(exchange_id: str, env_id: str) -> Environment | None:
    """One environment, or None when the registry does not have it."""
    return next((env for env in environments_of(exchange_id) if env.id == env_id), None)


def check() -> str | None:
    """Why the registry in force cannot be used, in one line; None when it can (for start-up)."""
    try:
        registry()
    except RegistryError as exc:
        return str(exc)
    return None

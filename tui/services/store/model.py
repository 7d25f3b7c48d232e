"""What an account is: its record, the errors of account operations, the checks of what a user
types or pastes for one, and how one account is written to and read from ``accounts.json``.

Plain values and pure functions: nothing here opens a file, a lock or a secret store, so a form can
check its input (and a test can build an account) without touching the disk. The file and its
operations are ``store.accounts``; the repairs ``keylink doctor`` makes are ``store.doctor``.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from tui.services.core.hosts import is_loopback_host
from tui.services.core.status import CheckStatus, Severity
from tui.services.core.times import utc_stamp
from tui.services.exchanges import exchange as exchange_info
from tui.services.exchanges.base import PERMISSIONS
from tui.services.keys.credentials import Credentials

NAME_MAX = 40
CUSTOM_ENV = "custom"
WORST_LEVELS = tuple(Severity)
CHECK_STATUSES = tuple(CheckStatus)


def now_stamp() -> str:
    """Now in UTC, to the second, as every time in accounts.json is written."""
    return utc_stamp()


# -- values ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LastCheck:
    """The summary of the last verification of an account's key (never anything secret)."""

    ok: bool
    checked_at: str
    summary: str
    worst: str
    #: "works", "locked" or "failed"; files written before it existed give "" and are read from
    #: ``ok`` (see ``outcome``).
    status: str = ""
    #: When the key lapses by its exchange's rule (UTC, ISO), if a rule applies; older files
    #: have none. The accounts table's "Expires" column and ``keylink status`` count from it.
    expires_at: str | None = None
    #: The rights the check found, normalised (words of ``exchanges.base.PERMISSIONS``, in that
    #: order; () when the check read none: a refusal, or a key with no rights). None in records
    #: written before keylink kept them: see ``rights``.
    permissions: tuple[str, ...] | None = None
    #: The code of the refusal that ended a failed or locked check, as ``ExchangeError.code``
    #: has it: the exchange's own code ("10003"), an HTTP status ("429") or keylink's word for
    #: a fault before any answer ("timeout"); "" when the check was not refused. None in records
    #: written before keylink kept it: see ``refused_with``.
    error_code: str | None = None

    @classmethod
    def of(cls, report: Any) -> LastCheck:  # report: verify.KeyReport
        """The record of a check that just ended (stamped now), with the expiry, the rights
        and the refusal's code it found."""
        lapses = getattr(report, "expires_at", None)
        error = report.error
        return cls(ok=report.ok, checked_at=now_stamp(), summary=report.summary(),
                   worst=report.worst, status=report.status or "",
                   expires_at=utc_stamp(lapses) if lapses else None,
                   permissions=tuple(p for p in PERMISSIONS if p in report.permissions),
                   error_code=str(error.code) if error is not None else "")

    @property
    def outcome(self) -> CheckStatus:
        """The check's status, for records that predate the field."""
        if self.status in CHECK_STATUSES:
            return CheckStatus(self.status)
        return CheckStatus.WORKS if self.ok else CheckStatus.FAILED

    @property
    def rights(self) -> frozenset[str]:
        """The key's rights at the check (empty for a refused one): what decides whether a
        hand-off may give out a key that can withdraw."""
        if self.permissions is None:
            return legacy_summary_rights(self)
        return frozenset(self.permissions)

    def refused_with(self, codes: Iterable[str]) -> bool:
        """True when the check was refused with one of ``codes`` (an exchange's error codes):
        what decides whether the next check asks the other environments at once."""
        if self.ok:
            return False
        if self.error_code is None:
            return legacy_summary_refused_with(self, codes)
        return self.error_code in set(codes)


# Records written before LastCheck kept ``permissions`` and ``error_code`` have only the one-line
# summary (``KeyReport.summary``) to tell the rights and the refusal's code. These two read them
# from its words, as keylink did before, so that such a record is judged as it was until its
# next check rewrites it; a record with the fields never comes here (a change of the summary's
# wording then changes no decision).


def legacy_summary_rights(check: LastCheck) -> frozenset[str]:
    """The rights a pre-field record's summary names: "works; read+trade+withdraw; ..."."""
    if check.outcome is not CheckStatus.WORKS:
        return frozenset()
    parts = check.summary.split(";")
    return frozenset(parts[1].strip().split("+")) if len(parts) > 1 else frozenset()


def legacy_summary_refused_with(check: LastCheck, codes: Iterable[str]) -> bool:
    """True when a pre-field record's summary names one of ``codes`` in brackets, as a refusal's
    summary does ("failed: key not found (10003)")."""
    return any(f"({code})" in check.summary for code in codes)


@dataclass(frozen=True)
class OwnList:
    """An account's own server addresses: the list a terminal shows each user (or each key) in
    its app, or the public address of the user's own server. Kept with the account, dated."""

    addresses: tuple[str, ...]
    #: The day the list was pasted, loaded or typed (YYYY-MM-DD).
    taken: str
    #: Where it came from, in a few words ("pasted in the form", "file NAME", "typed").
    source: str


@dataclass(frozen=True)
class Account:
    """One linked key's metadata. The secret lives in the SecretStore under ``secret_ref``."""

    id: str
    name: str
    exchange: str
    environment: str
    base_url: str
    whitelist: str
    created_at: str
    updated_at: str
    secret_ref: str
    last_check: LastCheck | None = None
    #: Which store holds the secret (see ``secrets.store_id``); None in files from before keylink
    #: recorded it: such accounts are looked up in the store in use, as keylink always did.
    secret_store: str | None = None
    #: When a removal of this account began (UTC, ISO), if one began and was cut short before
    #: its commit (a kill -9, a power cut): the secret may already be gone. Such an account is
    #: never used; removing it again finishes the removal (see ``AccountStore.remove``).
    removing: str | None = None
    #: Another copy of this account's secret that it does not use, left by a move between
    #: stores that was cut short: (store id, ref), in the file ``{"store": …, "ref": …}``.
    #: Before the move's commit it names the new copy, after it the old one; the move (run
    #: again) or ``keylink doctor --repair`` deletes it. The account is used as usual meanwhile.
    other_copy: tuple[str, str] | None = None
    #: The trading terminal the key is for (a terminal id of content/terminals.toml); None in
    #: files from before keylink asked, and for accounts added without one.
    terminal: str | None = None
    #: The account's own list (whitelist "own": per-user or self-hosted), None when it has none.
    own_list: OwnList | None = None


class AccountError(Exception):
    """An account operation failed; the message is one user-facing line without secrets."""


class DuplicateName(AccountError, ValueError):
    """Another account already has this name (names are compared case-insensitively)."""


class AccountNotFound(AccountError):
    """No account with this name or id."""


class AccountsUnreadable(AccountError):
    """accounts.json does not parse, and this read was asked not to move it aside."""


# -- input checks ----------------------------------------------------------------------------------


def clean_paste(field_label: str, value: str) -> str:
    """Clean a pasted credential: trim whitespace and line breaks at the ends, refuse them inside.

    A space, line break, control character or non-ASCII character inside a key is always a bad paste
    (keys, secrets and passphrases are printable ASCII), so it is refused with a message naming the
    field rather than silently "fixed".
    """
    cleaned = value.strip()
    if not cleaned:
        raise ValueError(f"{field_label} is empty")
    from tui.services.keys import keypairs

    if keypairs.looks_like_pem(cleaned):
        # A self-generated key's private PEM is the one multi-line value a credential may be.
        return keypairs.tidy_pem(cleaned)
    for position, char in enumerate(cleaned, start=1):
        if char.isspace():
            kind = "a line break" if char in "\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029" else "a space"
            raise ValueError(
                f"{field_label} has {kind} inside (character {position}): copy it again"
            )
        if ord(char) < 32 or ord(char) == 127:
            raise ValueError(
                f"{field_label} has a control character inside (character {position}): "
                "copy it again"
            )
        if not char.isascii():
            raise ValueError(
                f"{field_label} has a non-ASCII character inside (character {position}), "
                "e.g. a typographic quote or an invisible character: copy it again"
            )
    return cleaned


def validate_name(name: str, existing: Iterable[Account] = (), ignore_id: str | None = None) -> str:
    """The cleaned display name; ValueError (DuplicateName for a clash) with a message otherwise."""
    cleaned = name.strip()
    if not cleaned:
        raise ValueError("the account name is empty")
    if len(cleaned) > NAME_MAX:
        raise ValueError(f"the account name is {len(cleaned)} characters; keep it to {NAME_MAX}")
    if any(not char.isprintable() for char in cleaned):
        raise ValueError("the account name has a line break or control character inside")
    folded = cleaned.casefold()
    for account in existing:
        if account.id != ignore_id and account.name.casefold() == folded:
            raise DuplicateName(f"an account named {account.name!r} already exists")
    return cleaned


_HOST_RE = re.compile(
    r"(?=.{1,253}\Z)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*"
    r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
)


def _custom_url(url: str) -> str:
    text = url.strip()
    if not text:
        raise ValueError("the custom base URL is empty")
    if any(char.isspace() or not char.isprintable() or not char.isascii() for char in text):
        raise ValueError("the custom base URL has spaces or unusual characters inside")
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise ValueError("the custom base URL must start with https://")
    if parts.username is not None or parts.password is not None:
        raise ValueError("the custom base URL must not contain a user name or password")
    if parts.query or parts.fragment:
        raise ValueError("the custom base URL must not have a ?query or #fragment")
    host = parts.hostname or ""
    try:
        port = parts.port
    except ValueError:
        raise ValueError("the custom base URL has an invalid port") from None
    is_ip = True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        is_ip = False
    if not host or not (is_ip or _HOST_RE.fullmatch(host)):
        raise ValueError("the custom base URL has no valid host name")
    if scheme == "http" and not is_loopback_host(host):
        raise ValueError(
            "the custom base URL must use https:// (plain http is only allowed to this machine: "
            "127.0.0.1, ::1 or localhost)"
        )
    netloc = f"[{host}]" if ":" in host else host.lower()
    if port is not None:
        netloc += f":{port}"
    return f"{scheme}://{netloc}{parts.path.rstrip('/')}"


def resolve_base_url(exchange_id: str, environment: str, custom_url: str | None = None) -> str:
    """The API base URL for an exchange environment, or the checked custom URL for "custom"."""
    try:
        info = exchange_info(exchange_id)
    except KeyError as exc:
        raise ValueError(exc.args[0]) from None
    if environment == CUSTOM_ENV:
        if custom_url is None:
            raise ValueError("a custom environment needs a base URL")
        return _custom_url(custom_url)
    if custom_url is not None:
        raise ValueError("a base URL can only be given with the custom environment")
    try:
        env = info.environment(environment)
    except KeyError:
        known = ", ".join([env.id for env in info.pickable] + [CUSTOM_ENV])
        raise ValueError(
            f"{info.label} has no environment {environment!r} (known: {known})"
        ) from None
    if not env.pickable:  # in the registry only to be named (Binance.US: another exchange)
        raise ValueError(f"{info.label} {environment!r} cannot be used here: "
                         f"{env.note or env.label}")
    return env.base_url


def check_whitelist(whitelist: str) -> str:
    """The trimmed whitelist profile id; ValueError for an empty or odd one."""
    cleaned = whitelist.strip()
    if not cleaned or len(cleaned) > 200 or any(not char.isprintable() for char in cleaned):
        raise ValueError("the whitelist profile id is empty or has unusual characters")
    return cleaned


def check_terminal(terminal: str) -> str:
    """The trimmed terminal id; ValueError for an empty or odd one (which terminals exist is the
    catalogue's business, one layer up: the CLI and the form resolve names before saving)."""
    cleaned = terminal.strip()
    if not cleaned or len(cleaned) > 60 or any(not char.isprintable() for char in cleaned):
        raise ValueError("the terminal id is empty or has unusual characters")
    return cleaned


def clean_credentials(exchange_id: str, creds: Credentials) -> Credentials:
    """The pasted credentials cleaned for this exchange (a passphrase only where it takes one);
    ValueError naming the field otherwise."""
    info = exchange_info(exchange_id)
    api_key = clean_paste("API key", creds.api_key)
    secret = clean_paste("API secret", creds.secret)
    if info.has_passphrase:
        passphrase = clean_paste("API passphrase", creds.passphrase)
    elif creds.passphrase.strip():
        raise ValueError(f"{info.label} keys have no passphrase; leave it empty")
    else:
        passphrase = ""
    return Credentials(api_key, secret, passphrase)


# -- in accounts.json ------------------------------------------------------------------------------


class Damaged(Exception):
    """Part of an accounts file does not read as what keylink writes; the message says which.

    Never shown alone: the file's reader wraps it in a line that names the file."""


def account_from_json(item: Any) -> Account:
    """One entry of the file's account list as an Account; Damaged when any field is missing or
    of the wrong type (a half-read account is never used)."""
    if not isinstance(item, dict):
        raise Damaged("an account entry is not an object")
    fields = (
        "id",
        "name",
        "exchange",
        "environment",
        "base_url",
        "whitelist",
        "created_at",
        "updated_at",
        "secret_ref",
    )
    values: dict[str, Any] = {}
    for key in fields:
        value = item.get(key)
        if not isinstance(value, str) or not value:
            raise Damaged(f"an account entry has no valid {key!r}")
        values[key] = value
    check = item.get("last_check")
    if check is not None:
        if not isinstance(check, dict):
            raise Damaged("an account's last check is not an object")
        try:
            last = LastCheck(
                ok=check["ok"],
                checked_at=check["checked_at"],
                summary=check["summary"],
                worst=check["worst"],
                status=check.get("status", ""),
                expires_at=check.get("expires_at"),
                error_code=check.get("error_code"),
            )
        except KeyError as exc:
            raise Damaged(f"an account's last check has no {exc.args[0]!r}") from None
        rights = check.get("permissions")
        if not (
            isinstance(last.ok, bool)
            and isinstance(last.checked_at, str)
            and isinstance(last.summary, str)
            and isinstance(last.worst, str)
            and isinstance(last.status, str)
            and (last.expires_at is None or isinstance(last.expires_at, str))
            and (rights is None
                 or (isinstance(rights, list) and all(isinstance(r, str) for r in rights)))
            and (last.error_code is None or isinstance(last.error_code, str))
        ):
            raise Damaged("an account's last check has values of the wrong type")
        if rights is not None:
            last = replace(last, permissions=tuple(rights))
        values["last_check"] = last
    store = item.get("secret_store")
    if store is not None and (not isinstance(store, str) or not store):
        raise Damaged("an account's secret store is not text")
    values["secret_store"] = store
    removing = item.get("removing")
    if removing is not None and (not isinstance(removing, str) or not removing):
        raise Damaged("an account's removal mark is not text")
    values["removing"] = removing
    other = item.get("other_copy")
    if other is not None and not (
        isinstance(other, dict) and set(other) == {"store", "ref"}
        and all(isinstance(v, str) and v for v in other.values())
    ):
        raise Damaged("an account's other copy is not a store and a ref")
    values["other_copy"] = (other["store"], other["ref"]) if other is not None else None
    terminal = item.get("terminal")
    if terminal is not None and (not isinstance(terminal, str) or not terminal):
        raise Damaged("an account's terminal is not text")
    values["terminal"] = terminal
    values["own_list"] = _own_list_from_json(item.get("own_list"))
    return Account(**values)


#: Most entries an own list may hold (no exchange takes more in one key's list).
OWN_LIST_MAX = 100


def check_own_list(own: OwnList) -> OwnList:
    """``own`` with its addresses checked (addresses or networks, at most OWN_LIST_MAX);
    ValueError naming the first bad entry."""
    if not own.addresses:
        raise ValueError("the list has no addresses")
    if len(own.addresses) > OWN_LIST_MAX:
        raise ValueError(f"the list has {len(own.addresses)} entries; an exchange takes at "
                         f"most {OWN_LIST_MAX}")
    for entry in own.addresses:
        try:
            ipaddress.ip_network(entry, strict=False)
        except (ValueError, TypeError):
            from tui.services.core.text import clean

            raise ValueError(f"{clean(entry, limit=40)!r} is not an IP address") from None
    return own


def _own_list_from_json(raw: Any) -> OwnList | None:
    if raw is None:
        return None
    try:
        addresses = raw["addresses"]
        own = OwnList(tuple(addresses), raw["taken"], raw["source"])
        if not (isinstance(addresses, list) and all(isinstance(a, str) for a in addresses)
                and isinstance(own.taken, str) and isinstance(own.source, str)):
            raise TypeError
        return check_own_list(own)
    except (KeyError, TypeError, ValueError):
        raise Damaged("an account's own address list is not what keylink writes") from None


def account_json(account: Account) -> dict[str, Any]:
    """One account as the JSON object the file holds."""
    item = asdict(account)
    if item["removing"] is None:
        del item["removing"]  # files without a cut-short removal stay as older keylinks wrote them
    if account.other_copy is None:
        del item["other_copy"]
    else:
        item["other_copy"] = {"store": account.other_copy[0], "ref": account.other_copy[1]}
    if item["last_check"] is not None and item["last_check"]["expires_at"] is None:
        del item["last_check"]["expires_at"]  # likewise for a key without an expiry
    if item["last_check"] is not None:
        # Written only when known: a record from before them stays as it was read.
        for key in ("permissions", "error_code"):
            if item["last_check"][key] is None:
                del item["last_check"][key]
            elif key == "permissions":
                item["last_check"][key] = list(item["last_check"][key])
    if item["terminal"] is None:
        del item["terminal"]  # likewise for an account with no terminal named
    if item["own_list"] is None:
        del item["own_list"]
    else:
        item["own_list"]["addresses"] = list(item["own_list"]["addresses"])
    return item


def removal_note(account: Account) -> str:
    """One line on an account whose removal was cut short, and how to finish it."""
    import shlex

    from tui.services.core.text import clean

    name = clean(account.name)
    return (f"the removal of {name!r} was cut short (begun {account.removing}); its secret may "
            f"already be gone: run `keylink accounts remove {shlex.quote(name)}` again to "
            "finish it")

"""What every exchange module provides: hosts, key shapes, and how to sign and read a key.

One exchange = one module in this package exposing a module-level ``INFO`` object.
The registry in ``__init__`` discovers the modules, so adding a fifth exchange touches one file.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from tui.services.core.status import Severity
from tui.services.exchanges.environments import Environment, environments_of


@dataclass(frozen=True)
class KeyShape:
    """The usual shape of a credential field, for a paste check that warns but never blocks."""

    pattern: str
    #: Plain words for the shape, e.g. "18 letters and digits".
    description: str

    def matches(self, value: str) -> bool:
        return re.fullmatch(self.pattern, value) is not None


@dataclass(frozen=True)
class KeyKindSpec:
    """One kind of API key an exchange accepts: "hmac", "ed25519" or "rsa" (with allowed sizes)."""

    kind: str
    #: RSA key sizes in bits the exchange documents; empty for HMAC and Ed25519.
    sizes: tuple[int, ...] = ()
    #: The exchange's own name for the kind, for the guide and the form ("Self-generated").
    name: str = ""


HMAC_ONLY = (KeyKindSpec("hmac", name="System-generated"),)


@dataclass(frozen=True)
class ExchangeInfo:
    """Static facts about an exchange: enough to build the account form.

    Its hosts are not here: ``environments`` reads them from the registry
    (tui/content/environments.toml and ``KEYLINK_ENVIRONMENTS``)."""

    id: str
    label: str
    #: Position in lists (Bybit, the reference exchange, first).
    rank: int
    has_passphrase: bool
    key_shape: KeyShape
    secret_shape: KeyShape
    #: The Insilico Terminal list for this exchange (a list id in content/terminals.toml).
    default_whitelist: str = "insilico-general"
    #: Words the guide uses where exchanges differ.
    create_button: str = "Create API key"
    linked_option: str = "Linking third-party apps"
    notes: tuple[str, ...] = field(default=())
    #: Key kinds this exchange accepts, HMAC first (see ``KeyKindSpec``).
    key_kinds: tuple[KeyKindSpec, ...] = HMAC_ONLY
    #: How to sign and read this exchange's key-info call (see ``ExchangeApi``).
    api: ExchangeApi | None = field(default=None, compare=False, repr=False)

    def key_kind(self, kind: str) -> KeyKindSpec | None:
        """The accepted kind named ``kind``, or None when this exchange does not take it."""
        return next((spec for spec in self.key_kinds if spec.kind == kind), None)

    def kind_problem(self, kind: str, bits: int | None = None) -> str | None:
        """Why a key of ``kind`` (and size) cannot be used here, in one sentence; None if it can."""
        spec = self.key_kind(kind)
        name = {"ed25519": "Ed25519", "rsa": "RSA", "hmac": "HMAC"}.get(kind, kind)
        if spec is None:
            takes = " or ".join({"ed25519": "Ed25519", "rsa": "RSA", "hmac": "HMAC"}[k.kind]
                                for k in self.key_kinds)
            return f"{self.label} does not take {name} keys (it takes {takes})."
        if spec.sizes and bits not in spec.sizes:
            sizes = " or ".join(str(size) for size in spec.sizes)
            return f"{self.label} takes RSA keys of {sizes} bits; this one has {bits}."
        return None

    @property
    def environments(self) -> tuple[Environment, ...]:
        """Every environment the registry lists for this exchange (the picker's offer is
        ``pickable``); read on each use, so an override file takes effect."""
        return environments_of(self.id)

    @property
    def pickable(self) -> tuple[Environment, ...]:
        """The environments the account form and the CLI offer (not Binance.US, for one)."""
        return tuple(env for env in self.environments if env.pickable)

    def default_environment(self) -> str:
        """The environment a new account starts on: the first one offered, else "custom"."""
        offered = self.pickable
        return offered[0].id if offered else "custom"

    def environment(self, env_id: str) -> Environment:
        for env in self.environments:
            if env.id == env_id:
                return env
        raise KeyError(f"{self.label} has no environment {env_id!r}")


# --- the verification protocol -------------------------------------------------------------------

#: Permission names every exchange's key info is normalised to. "unknown" stands for rights an
#: exchange reports that its documentation does not let keylink place: never read as safe.
PERMISSIONS = ("read", "trade", "transfer", "withdraw", "unknown")


class ErrorKind(StrEnum):
    """What an exchange's error code means for the user, whatever the exchange calls it."""

    TIMESTAMP = "timestamp-rejected"
    IP_NOT_ALLOWED = "bound-to-other-ips"
    WRONG_ENVIRONMENT = "wrong-environment"
    INVALID_KEY = "invalid-key"
    BAD_SIGNATURE = "bad-signature"
    BAD_PASSPHRASE = "bad-passphrase"
    MISSING_CREDENTIAL = "missing-credential"
    PERMISSION_DENIED = "permission-denied"
    RATE_LIMITED = "rate-limited"
    SERVER_ERROR = "exchange-server-error"
    KEY_EXPIRED = "key-expired"
    KEY_FROZEN = "key-frozen"
    REGION_BLOCKED = "region-blocked"
    IP_BANNED = "ip-banned"
    #: One code for several causes (Binance -2015): not proof of anything.
    REFUSED = "key-refused"
    #: The key authenticated but may not read the key-info endpoint (Bitget 40014 for a key
    #: without spot read): the key exists, its rights cannot be read from here.
    RIGHTS_HIDDEN = "rights-unreadable"
    BAD_REQUEST = "bad-request"
    UNKNOWN = "exchange-error"


@dataclass(frozen=True)
class ErrorInfo:
    """One row of an exchange's error table: plain words for a code, and the fix."""

    kind: ErrorKind
    meaning: str
    fix: str


# Fix texts several exchanges' error tables share, word for word.
CLOCK_FIX = ("Turn on network time (Linux: `timedatectl set-ntp true`; macOS/Windows: set date and "
             "time automatically) and try again.")
SECRET_FIX = "Paste the secret again; if it is lost, delete the key and create a new one."
PASSPHRASE_FIX = ("Enter the passphrase chosen when the key was created. It cannot be recovered: "
                  "if it is lost, delete the key and create a new one.")
IP_BOUND_FIX = ("Nothing to fix if the key is meant for the terminal only. To see its rights, open "
                "the key on the exchange's API page, or add this machine's address to the key for "
                "a moment and check again.")


def ip_bound_elsewhere(label: str) -> ErrorInfo:
    """The IP-mismatch rejection: the key exists and is bound to other addresses (``locked``)."""
    return ErrorInfo(
        ErrorKind.IP_NOT_ALLOWED,
        f"{label} knows this key but refuses it from this machine: it is bound to other IP "
        "addresses.",
        IP_BOUND_FIX,
    )


class CredentialsLike(Protocol):
    """What signing needs from a credentials object (``accounts.Credentials`` fits)."""

    api_key: str
    secret: str
    passphrase: str


@dataclass(frozen=True)
class SignedRequest:
    """A ready-to-send GET: path with query, and headers. Headers hold the signature: never log."""

    path: str
    headers: tuple[tuple[str, str], ...] = field(repr=False)
    #: Parts of the request that are secret-derived and must be scrubbed from any text we show.
    sensitive: tuple[str, ...] = field(default=(), repr=False)


@dataclass(frozen=True)
class Reply:
    """An exchange's JSON envelope reduced to error code (None = success), message and data."""

    code: str | None
    message: str
    data: Any = field(repr=False, default=None)


@dataclass(frozen=True)
class KeyInfo:
    """What an exchange told us about a key, normalised across exchanges."""

    #: Normalised subset of ``PERMISSIONS``.
    permissions: frozenset[str]
    #: The exchange's own permission names, e.g. ``Wallet:Withdraw`` or ``enableWithdrawals``.
    raw_permissions: tuple[str, ...]
    read_only: bool
    #: Bound addresses (may be empty even when restricted: Binance does not list them here).
    ips: tuple[str, ...]
    ip_restricted: bool
    #: "personal", "linked" (created through a third-party app link) or None when not reported.
    key_type: str | None = None
    expires_at: datetime | None = None
    #: Days left before the exchange disables the key (Bybit's deadlineDay for unbound keys).
    deadline_days: int | None = None
    label: str = ""
    #: The exchange's own names of rights its documentation does not let keylink place.
    unknown_rights: tuple[str, ...] = ()
    #: Binance: when the spot/margin trading right of an unrestricted key lapses (not the key's
    #: own expiry; binding IPs restores it).
    trading_lapses_at: datetime | None = None
    #: OKX: an unbound key with trade or withdraw rights is disabled after this many days unused.
    idle_expiry_days: int | None = None
    #: (group, why) for unknown rights the exchange's table names without placing them (Bybit's
    #: 2026 groups): shown beside the names.
    rights_notes: tuple[tuple[str, str], ...] = ()


class ExchangeApi(ABC):
    """How keylink talks to one exchange: two GET calls, their signing, and their replies.

    Implementations are pure (no I/O) so they are easy to test against published vectors.
    """

    #: Public server-time endpoint.
    time_path: str
    #: Signed endpoint describing the calling key.
    key_info_path: str
    #: Error table keyed by the exchange's code as a string ("10010", "-2015"): codes are stable,
    #: message texts drift.
    errors: Mapping[str, ErrorInfo]

    @abstractmethod
    def sign_key_info(self, creds: CredentialsLike, timestamp_ms: int) -> SignedRequest:
        """The key-info request signed for ``timestamp_ms`` (UTC, milliseconds)."""

    @abstractmethod
    def parse_time(self, payload: Any) -> int:
        """Server time in UTC milliseconds from the time call's JSON; ValueError if unreadable."""

    @abstractmethod
    def reply(self, payload: Any) -> Reply:
        """Reduce a JSON body to a ``Reply``; ValueError if it is not this exchange's envelope."""

    @abstractmethod
    def parse_key_info(self, data: Any) -> KeyInfo:
        """Read the key-info ``Reply.data``; ValueError if the shape is unusable."""

    def explain(self, code: str) -> ErrorInfo | None:
        """The table row for an error code, or None for a code we do not know."""
        return self.errors.get(code)

    def key_warnings(self, key: KeyInfo) -> list[tuple[Severity, str, str]]:
        """This exchange's own findings about a key it described, as (severity, code, message):
        rules only one exchange has (Binance: an unrestricted key beyond reading)."""
        return []


# --- small pure pieces the exchange modules share -------------------------------------------------


def hmac_sha256(secret: str, message: str) -> bytes:
    """Raw HMAC-SHA256 of ``message`` keyed by ``secret`` (both UTF-8)."""
    import hashlib
    import hmac

    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()


def asymmetric_signature(secret: str, message: str) -> str | None:
    """Base64 Ed25519 / RSA-SHA256 (PKCS#1 v1.5) signature when ``secret`` is a PEM private key;
    None for an HMAC secret (the caller signs those its own way)."""
    from tui.services.keys import keypairs

    if not keypairs.is_pem_secret(secret):
        return None
    return keypairs.sign_b64(secret, message)


def text_list(value: Any) -> tuple[str, ...]:
    """A comma string or a list of strings as a tuple of non-empty trimmed strings."""
    if value is None:
        return ()
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise ValueError(f"expected a list or a comma-separated string, got {type(value).__name__}")
    return tuple(str(item).strip() for item in items if str(item).strip())


def epoch_ms_to_datetime(value: Any) -> datetime | None:
    """A UTC datetime from epoch milliseconds (int or numeric string); None for empty/zero."""
    from datetime import UTC

    if value in (None, "", 0, "0"):
        return None
    return datetime.fromtimestamp(int(value) / 1000, tz=UTC)

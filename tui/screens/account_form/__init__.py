"""The account form (moved into this package, to be cut into one form per job)."""

from __future__ import annotations

from tui.screens.account_form.base import (
    KIND_ED25519,
    KIND_HMAC,
    KIND_RSA,
    AccountFormScreen,
    FieldRow,
    FormMode,
    SaveResult,
)

__all__ = [
    "KIND_ED25519",
    "KIND_HMAC",
    "KIND_RSA",
    "AccountFormScreen",
    "FieldRow",
    "FormMode",
    "SaveResult",
]

"""The account forms, one per job: add an account, edit its settings, give it a new key.

    base.py         the frame they share: title, banner, settings fields, saving, leaving
    credentials.py  the key fields of the add and rotate forms (kinds, PEM reading, key pairs)
    add.py          AddAccountScreen: chooses the exchange; asks before storing a key twice
    edit.py         EditAccountScreen: name, environment, whitelist
    rotate.py       RotateKeyScreen: a new key, switched to only once a generated one works
"""

from __future__ import annotations

from tui.screens.account_form.add import AddAccountScreen
from tui.screens.account_form.base import AccountFormScreen, FormMode, SaveResult
from tui.screens.account_form.credentials import KIND_ED25519, KIND_HMAC, KIND_RSA
from tui.screens.account_form.edit import EditAccountScreen
from tui.screens.account_form.rotate import RotateKeyScreen

__all__ = [
    "KIND_ED25519",
    "KIND_HMAC",
    "KIND_RSA",
    "AccountFormScreen",
    "AddAccountScreen",
    "EditAccountScreen",
    "FormMode",
    "RotateKeyScreen",
    "SaveResult",
]

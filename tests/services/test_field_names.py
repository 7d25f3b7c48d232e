"""One name per credential field inside keylink (``Credentials``'); users keep typing ``key``.

The hand-off fields, the import's found places and its differing fields, the account form's
fields and the clipboard labels all name the API key ``api_key``; only what a user types
(``copy --field key``, ``exec --env VAR=key``, ``import --map key=VAR``) says ``key``, through
the one table in ``handoff/fields.py``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from tui.services.handoff import fields, importer
from tui.services.keys.credentials import Credentials
from tui.services.store import validation
from tui.services.store.model import Account

CREDENTIAL_FIELDS = {f.name for f in dataclasses.fields(Credentials)}


def test_the_secret_fields_are_the_credentials_fields():
    assert fields.SECRET_FIELDS == CREDENTIAL_FIELDS
    assert set(validation.FIELD_LABELS) == CREDENTIAL_FIELDS
    assert set(fields.FIELDS) == CREDENTIAL_FIELDS | {"name"}
    assert set(fields.DEFAULT_ENV.values()) <= set(fields.ENV_FIELDS)
    for preset in fields.PRESETS.values():
        assert set(preset.values()) <= set(fields.ENV_FIELDS)


def test_field_value_reads_each_credentials_field():
    account = Account(id="a1", name="Main", exchange="okx", environment="live", base_url="",
                      whitelist="", created_at="", updated_at="", secret_ref="a1")
    creds = Credentials("the-key", "the-secret", "the-passphrase")
    for field in fields.SECRET_FIELDS:
        assert fields.field_value(account, creds, field) == getattr(creds, field)
    with pytest.raises(fields.HandoffError, match="one of: name, key, secret"):
        fields.field_value(account, creds, "colour")


def test_users_type_key_and_only_key():
    assert fields.field_named("key") == "api_key"
    assert fields.field_named("api_key") is None  # one spelling per field
    assert fields.public_names(fields.FIELDS) == ("name", "key", "secret", "passphrase")
    assert fields.parse_env_mapping("K=key") == ("K", "api_key")
    with pytest.raises(fields.HandoffError, match="unknown field 'api_key'"):
        fields.parse_env_mapping("K=api_key")
    assert importer.parse_mapping(["key=K", "secret=S"]) == {"api_key": "K", "secret": "S"}
    with pytest.raises(importer.ImportProblem, match="--map wants key=VAR"):
        importer.parse_mapping(["api_key=K", "secret=S"])


def test_the_import_names_its_found_fields_as_credentials_does(tmp_path: Path):
    env = tmp_path / "bot.env"
    env.write_text("BYBIT_API_KEY=AbCdEfGh1234567890\nBYBIT_API_SECRET=" + "S" * 36 + "\n")
    (found,) = importer.read_source(env).found
    assert set(found.places) <= CREDENTIAL_FIELDS
    assert found.places["api_key"] == "BYBIT_API_KEY"
    mapped = importer.read_source(env, mapping={"api_key": "BYBIT_API_KEY",
                                                "secret": "BYBIT_API_SECRET"}, exchange="bybit")
    assert mapped.found[0].creds.api_key == "AbCdEfGh1234567890"


def test_the_cli_takes_the_public_name_only(cli):
    from tests.test_cli_accounts import BYBIT_LINES

    assert cli("accounts", "add", "Main", "--exchange", "bybit", stdin=BYBIT_LINES).returncode == 0
    copied = cli("copy", "Main", "--field", "key", "--print")
    assert copied.returncode == 0, copied.stderr
    assert copied.stdout == BYBIT_LINES.split()[0] + "\n"
    refused = cli("copy", "Main", "--field", "api_key", "--print")
    assert refused.returncode == 2 and "invalid choice: 'api_key'" in refused.stderr

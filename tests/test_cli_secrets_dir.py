"""Secrets handed to a container as files (KEYLINK_SECRETS_DIR, the /run/secrets layout): verify,
copy and exec read them; every write is refused in one line; files others can read are warned
about (issue 21)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.support.cli import Cli, make_cli


def hand_in(directory: Path, entry: str, fields: dict[str, str], *, flat: bool = False,
            mode: int = 0o400) -> None:
    for field, value in fields.items():
        path = directory / f"{entry}.{field}" if flat else directory / entry / field
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(value + "\n")  # as `echo value > file` writes it
        path.chmod(mode)


@pytest.fixture
def container(tmp_path: Path, fake) -> tuple[Cli, Path]:
    """accounts.json made on the host (a vault account against the fake), then a 'container':
    another config dir with that file, no vault, no passphrase, the key as files."""
    host = make_cli(tmp_path / "host", in_process=True)
    key = fake.key("bybit")
    added = host("accounts", "add", "Bybit main", "--exchange", "bybit", "--base-url", fake.url,
                 stdin=f"{key.api_key}\n{key.secret}\n")
    assert added.returncode == 0, added.stderr
    box = make_cli(tmp_path / "box", cheap_vault=False, in_process=True)
    del box.env["KEYLINK_VAULT_PASSPHRASE"]
    box.config.mkdir(parents=True)
    (box.config / "accounts.json").write_text((host.config / "accounts.json").read_text())
    secrets = tmp_path / "run-secrets"
    secrets.mkdir()
    box.env["KEYLINK_SECRETS_DIR"] = str(secrets)
    return box, secrets


def test_verify_and_copy_read_the_handed_in_files(container, fake):
    box, secrets = container
    key = fake.key("bybit")
    hand_in(secrets, "bybit-main", {"api_key": key.api_key, "secret": key.secret})
    done = box("verify", "Bybit main", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == "works"
    assert done.stderr == ""  # 0400 files: nothing to warn about
    copied = box("copy", "Bybit main", "--field", "secret", "--print", "--force")
    assert copied.stdout.strip() == key.secret
    assert not (box.data / "vault.json").exists()


def test_the_flat_docker_layout_works_too(container, fake):
    box, secrets = container
    key = fake.key("bybit")
    hand_in(secrets, "bybit-main", {"api_key": key.api_key, "secret": key.secret}, flat=True)
    assert json.loads(box("verify", "Bybit main", "--json").stdout)["status"] == "works"


def test_exec_hands_the_files_key_to_the_bot(container, fake, tmp_path):
    box, secrets = container
    key = fake.key("bybit")
    hand_in(secrets, "bybit-main", {"api_key": key.api_key, "secret": key.secret})
    box.in_process = False  # exec replaces the process
    dump = tmp_path / "env.json"
    done = box("exec", "Bybit main", "--preset", "freqtrade", "--", sys.executable, "-c",
               "import json, os, sys; json.dump(dict(os.environ), open(sys.argv[1], 'w'))",
               str(dump))
    assert done.returncode == 0, done.stderr
    child = json.loads(dump.read_text())
    assert child["FREQTRADE__EXCHANGE__SECRET"] == key.secret
    assert "KEYLINK_SECRETS_DIR" in child  # harmless: a path, not a secret


def test_writes_are_refused_in_one_line_and_change_nothing(container, fake):
    box, secrets = container
    key = fake.key("bybit")
    hand_in(secrets, "bybit-main", {"api_key": key.api_key, "secret": key.secret})
    before = (box.config / "accounts.json").read_text()
    for args, stdin in ((("accounts", "add", "B", "--exchange", "bybit"),
                         f"{key.api_key}\n{key.secret}\n"),
                        (("accounts", "rotate", "Bybit main"), f"{key.api_key}\n{key.secret}\n"),
                        (("accounts", "remove", "Bybit main", "--yes"), "")):
        done = box(*args, stdin=stdin)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "read-only for keylink" in lines[0], (args, done.stderr)
    assert (box.config / "accounts.json").read_text() == before
    assert sorted(p.name for p in (secrets / "bybit-main").iterdir()) == ["api_key", "secret"]


def test_files_other_users_can_read_are_warned_about(container, fake):
    box, secrets = container
    key = fake.key("bybit")
    hand_in(secrets, "bybit-main", {"api_key": key.api_key, "secret": key.secret}, mode=0o644)
    done = box("verify", "Bybit main", "--json")
    assert done.returncode == 0
    warnings = done.stderr.strip().splitlines()
    assert len(warnings) == 2 and all("can be read by other users (mode 0644)" in w
                                      for w in warnings)
    assert any(str(secrets / "bybit-main" / "secret") in w for w in warnings)
    facts = json.loads(box("doctor", "--json").stdout)
    assert {s["name"]: s["usable"] for s in facts["stores"]}["files"] is True


def test_a_missing_secret_file_is_one_line(container, fake):
    box, secrets = container
    hand_in(secrets, "bybit-main", {"api_key": fake.key("bybit").api_key})
    done = box("verify", "Bybit main")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"keylink: secret files in {secrets} (KEYLINK_SECRETS_DIR): bybit-main has no secret "
        f"file (expected {secrets}/bybit-main/secret or {secrets}/bybit-main.secret)"]

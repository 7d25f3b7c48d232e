"""`keylink accounts import --scrub`: a key counts as stored only when every field matches, and
after a scrub no copy of a stored value is left anywhere in the file (issue 15, items 2-4, 10)."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_cli_accounts import Cli, make_cli
from tests.test_cli_handoff import assert_one_line_error

BYBIT_KEY, BYBIT_SECRET = "AbCdEfGh1234567890", "Q7w" * 12
OKX_KEY, OKX_SECRET = "12345678-abcd-abcd-abcd-1234567890ab", "0123456789ABCDEF0123456789ABCDEF"
OKX_PASS, OKX_PASS_FIXED = "my-pass", "my-pass-corrected"
FIXTURE = Path(__file__).parent / "fixtures" / "freqtrade" / "config_full.example.json"


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return make_cli(tmp_path)


def stored(cli: Cli, name: str, field: str) -> str:
    result = cli("copy", name, "--field", field, "--print")
    assert result.returncode == 0, result.stderr
    return result.stdout.rstrip("\n")


def okx_config(tmp_path: Path, passphrase: str) -> Path:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"exchange": {"name": "okx", "key": OKX_KEY, "secret": OKX_SECRET,
                                             "password": passphrase}}, indent=4))
    return path


# -- item 2: every field must match; an update is asked for, stored, read back, then scrubbed --

@pytest.mark.slow
def test_a_corrected_passphrase_is_not_erased_without_being_stored(cli: Cli, tmp_path: Path):
    assert cli("accounts", "import", str(okx_config(tmp_path, OKX_PASS))).returncode == 0
    path = okx_config(tmp_path, OKX_PASS_FIXED)  # the user fixed a typo in the passphrase
    before = path.read_bytes()
    # In a script (no terminal, no --update): refused, said on one line, nothing of it scrubbed.
    refused = cli("accounts", "import", str(path), "--scrub")
    assert refused.returncode == 1, refused
    assert "already stored" not in refused.stdout
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and "holds this API key with another passphrase: not changed" \
        in lines[0], refused.stderr
    assert OKX_PASS_FIXED not in refused.stdout + refused.stderr
    assert path.read_bytes() == before
    assert stored(cli, "OKX from config.json", "passphrase") == OKX_PASS
    # With --update: stored, read back, then scrubbed.
    updated = cli("accounts", "import", str(path), "--scrub", "--update")
    assert updated.returncode == 0, updated.stderr
    assert "updated OKX from config.json: stored the file's passphrase" in updated.stdout
    assert stored(cli, "OKX from config.json", "passphrase") == OKX_PASS_FIXED
    assert stored(cli, "OKX from config.json", "secret") == OKX_SECRET
    data = path.read_bytes()
    for value in (OKX_KEY, OKX_SECRET, OKX_PASS_FIXED):
        assert value.encode() not in data
    names = [a["name"] for a in json.loads(cli("accounts", "list", "--json").stdout)]
    assert names == ["OKX from config.json"]


@pytest.mark.slow
def test_an_update_is_asked_for_on_a_terminal(cli: Cli, tmp_path: Path):
    assert cli("accounts", "import", str(okx_config(tmp_path, OKX_PASS))).returncode == 0
    path = okx_config(tmp_path, OKX_PASS_FIXED)
    for answer, code, passphrase in (("n", 1, OKX_PASS), ("y", 0, OKX_PASS_FIXED)):
        main, side = pty.openpty()
        proc = subprocess.Popen([sys.executable, "-m", "tui", "accounts", "import", str(path),
                                 "--scrub"], stdin=side, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=cli.env)
        os.close(side)
        os.write(main, f"{answer}\n".encode())
        out, err = proc.communicate(timeout=60)
        os.close(main)
        assert proc.returncode == code, err
        assert ("holds this OKX API key with another passphrase. Store the file's passphrase "
                "instead? [y/N]") in out
        assert stored(cli, "OKX from config.json", "passphrase") == passphrase
    assert OKX_PASS_FIXED.encode() not in path.read_bytes()


def test_another_secret_under_the_same_key_is_an_update_too(cli: Cli, tmp_path: Path):
    env = tmp_path / ".env"
    env.write_text(f"BYBIT_API_KEY={BYBIT_KEY}\nBYBIT_API_SECRET={BYBIT_SECRET}\n")
    assert cli("accounts", "import", str(env)).returncode == 0
    env.write_text(f"BYBIT_API_KEY={BYBIT_KEY}\nBYBIT_API_SECRET={'N' * 36}\n")
    refused = cli("accounts", "import", str(env), "--scrub")
    assert refused.returncode == 1 and "another secret: not changed" in refused.stderr
    assert env.read_text().endswith("N" * 36 + "\n")


# -- item 3: no copy left anywhere; layout kept; what cannot go is named and nothing changes --

SHAPES = {
    "repeated line": (".env", f"BYBIT_API_KEY={BYBIT_KEY}\nBYBIT_API_SECRET={BYBIT_SECRET}\n"
                              f"LOG=info\nBYBIT_API_SECRET={BYBIT_SECRET}\n", "LOG=info\n"),
    "alias variable": (".env", f"BYBIT_API_KEY={BYBIT_KEY}\nBYBIT_API_SECRET={BYBIT_SECRET}\n"
                               f"BYBIT_SECRET=\"{BYBIT_SECRET}\"\n# keep me\n", "# keep me\n"),
    "commented-out copy": (".env", f"# BYBIT_API_SECRET={BYBIT_SECRET}\nBYBIT_API_KEY="
                                   f"{BYBIT_KEY}\nBYBIT_API_SECRET={BYBIT_SECRET}\n",
                           "# BYBIT_API_SECRET=\n"),
    "// comment in JSON": (
        "config.json",
        '{\n  "exchange": {\n    "name": "bybit",\n'
        f'    // old: "secret": "{BYBIT_SECRET}",\n'
        f'    "key": "{BYBIT_KEY}", "secret": "{BYBIT_SECRET}",\n'
        '    "pair_whitelist": ["BTC/USDT", "ETH/USDT"],\n  },\n}\n',
        '{\n  "exchange": {\n    "name": "bybit",\n    // old: "secret": "",\n'
        '    "key": "", "secret": "",\n    "pair_whitelist": ["BTC/USDT", "ETH/USDT"],\n'
        '  },\n}\n'),
    "/* */ comment in JSON": (
        "config.json",
        f'/* my key {BYBIT_KEY} */ {{"exchange": {{"name": "bybit", "key": "{BYBIT_KEY}",\n'
        f'  /* was\n     {BYBIT_SECRET} */ "secret": "{BYBIT_SECRET}"}}}}\n',
        '/* my key  */ {"exchange": {"name": "bybit", "key": "",\n'
        '  /* was\n      */ "secret": ""}}\n'),
    "ccxt_config copies": (
        "config.json",
        '{"exchange": {"name": "bybit", "key": "K1", "secret": "S1",\n'
        '  "ccxt_config": {"apiKey": "K1", "secret": "S1", "enableRateLimit": true},\n'
        '  "ccxt_async_config": {"apiKey": "K1", "secret": "S1"}}, "dry_run": true}\n'
        .replace("K1", BYBIT_KEY).replace("S1", BYBIT_SECRET),
        '{"exchange": {"name": "bybit", "key": "", "secret": "",\n'
        '  "ccxt_config": {"apiKey": "", "secret": "", "enableRateLimit": true},\n'
        '  "ccxt_async_config": {"apiKey": "", "secret": ""}}, "dry_run": true}\n'),
}


@pytest.mark.slow
@pytest.mark.parametrize("shape", list(SHAPES))
def test_scrub_leaves_no_copy_and_keeps_the_rest(cli: Cli, tmp_path: Path, shape: str):
    name, text, expected = SHAPES[shape]
    path = tmp_path / name
    path.write_text(text)
    path.chmod(0o640)
    result = cli("accounts", "import", str(path), "--scrub")
    assert result.returncode == 0, result.stderr
    assert path.read_text() == expected  # only the values' bytes went (and .env credential lines)
    data = path.read_bytes()
    assert BYBIT_KEY.encode() not in data and BYBIT_SECRET.encode() not in data
    assert "holds no copy of a stored key, secret or passphrase" in result.stdout
    assert path.stat().st_mode & 0o777 == 0o640
    account = json.loads(cli("accounts", "list", "--json").stdout)[0]["name"]
    assert stored(cli, account, "secret") == BYBIT_SECRET


UNSAFE = {
    # A copy inside other text, a copy outside the exchange section, a copy as an object key.
    ".env": (f"BYBIT_API_KEY={BYBIT_KEY}\nBYBIT_API_SECRET={BYBIT_SECRET}\n"
             f"WEBHOOK=https://example.invalid/?s={BYBIT_SECRET}\n", 3),
    "a.json": ('{"exchange": {"name": "bybit", "key": "K1", "secret": "S1"},\n'
               ' "api_server": {"password": "S1"}}\n', 2),
    "b.json": ('{"exchange": {"name": "bybit", "key": "K1", "secret": "S1",\n'
               ' "ccxt_config": {"headers": {"X-Note": "key K1"}}}}\n', 2),
    "c.json": ('{"exchange": {"name": "bybit", "key": "K1", "secret": "S1"},\n\n'
               ' "notes": {"S1": true}}\n', 3),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(UNSAFE))
def test_a_copy_that_cannot_go_is_named_and_the_file_is_kept(cli: Cli, tmp_path: Path,
                                                             name: str):
    text, line = UNSAFE[name]
    path = tmp_path / name
    path.write_text(text.replace("K1", BYBIT_KEY).replace("S1", BYBIT_SECRET))
    before = path.read_bytes()
    result = cli("accounts", "import", str(path), "--scrub", "--backup")
    assert result.returncode == 1, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"the file was not changed: {path} line {line}: " in lines[0]
    assert "removed" not in result.stdout and "emptied" not in result.stdout
    assert BYBIT_SECRET not in result.stdout + result.stderr
    assert path.read_bytes() == before
    assert not (tmp_path / f"{name}.keylink-backup").exists()
    assert not list(tmp_path.glob(".*.tmp"))
    # The key itself was stored: the import is done, only the scrub was refused.
    account = json.loads(cli("accounts", "list", "--json").stdout)[0]["name"]
    assert stored(cli, account, "secret") == BYBIT_SECRET


def test_two_values_for_one_field_are_refused(cli: Cli, tmp_path: Path):
    path = tmp_path / ".env"
    path.write_text(f"BYBIT_API_KEY={BYBIT_KEY}\nBYBIT_API_SECRET={BYBIT_SECRET}\n"
                    f"BYBIT_SECRET={'N' * 36}\n")
    assert_one_line_error(cli("accounts", "import", str(path), "--scrub"),
                          "two different values for one field: BYBIT_API_SECRET (line 2) and "
                          "BYBIT_SECRET (line 3)")
    path.write_text(f"BYBIT_API_KEY={BYBIT_KEY}\nBYBIT_API_SECRET={BYBIT_SECRET}\n"
                    f"BYBIT_API_SECRET={'N' * 36}\n")
    assert_one_line_error(cli("accounts", "import", str(path), "--scrub"),
                          "sets BYBIT_API_SECRET twice with different values (lines 2 and 3)")
    assert json.loads(cli("accounts", "list", "--json").stdout) == []


# -- item 4: freqtrade's own example config, comments and all --

def test_freqtrade_full_example_imports_and_keeps_its_comments(cli: Cli, tmp_path: Path):
    key, secret = "k" * 30 + "K" * 34, "s" * 30 + "S" * 34
    original = FIXTURE.read_text()
    assert "// \"unknown_fee_rate\": 1," in original
    path = tmp_path / "config.json"
    path.write_text(original.replace("your_exchange_key", key)
                    .replace("your_exchange_secret", secret))
    result = cli("accounts", "import", str(path), "--scrub")
    assert result.returncode == 0, result.stderr
    assert "added Binance from config.json" in result.stdout
    assert "emptied exchange.key (line 93), exchange.secret (line 94)" in result.stdout
    # Byte for byte freqtrade's file, with only the two values emptied.
    assert path.read_text() == original.replace("your_exchange_key", "") \
        .replace("your_exchange_secret", "")
    assert stored(cli, "Binance from config.json", "secret") == secret


def test_trailing_commas_and_block_comments_are_read(cli: Cli, tmp_path: Path):
    path = tmp_path / "config.json"
    path.write_text('/* bot */ {"exchange": {"name": "okx", "key": "K", "secret": "S",'
                    ' "password": "P", /* note */ }, "x": [1, 2, ], }\n'
                    .replace('"K"', f'"{OKX_KEY}"').replace('"S"', f'"{OKX_SECRET}"')
                    .replace('"P"', f'"{OKX_PASS}"'))
    result = cli("accounts", "import", str(path), "--scrub")
    assert result.returncode == 0, result.stderr
    assert path.read_text() == ('/* bot */ {"exchange": {"name": "okx", "key": "", "secret": "",'
                                ' "password": "", /* note */ }, "x": [1, 2, ], }\n')


# -- item 10: JSON bombs are one clear line, not "unexpected error" --

@pytest.mark.parametrize("bomb, words", [
    ('{"exchange": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested more than 64 levels"),
    ('{"a": ' * 5000 + "1" + "}" * 5000, "nested more than 64 levels"),
    ('{"exchange": {"name": "okx", "fee": ' + "7" * 5000 + "}}", "a number 5000 characters"),
    ('{"exchange": {"name": "okx", "key": "' + "x" * 20 + '", "fee": 1e999999}}',
     "not valid JSON (line 1: number too big"),
], ids=["deep-array", "deep-object", "5000-digits", "huge-exponent"])
def test_json_bombs_are_one_line(cli: Cli, tmp_path: Path, bomb: str, words: str):
    path = tmp_path / "config.json"
    path.write_text(bomb)
    result = cli("accounts", "import", str(path))
    assert_one_line_error(result, words)
    assert "unexpected error" not in result.stderr

"""`keylink accounts import`: freqtrade configs and .env files, good, partial and broken."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from tests.test_cli_accounts import Cli
from tests.test_cli_handoff import assert_one_line_error

BYBIT_KEY, BYBIT_SECRET = "AbCdEfGh1234567890", "S" * 36
OKX_KEY, OKX_SECRET, OKX_PASS = ("12345678-abcd-abcd-abcd-1234567890ab",
                                 "0123456789ABCDEF0123456789ABCDEF", "my-pass")
ALL_SECRETS = (BYBIT_KEY, BYBIT_SECRET, OKX_KEY, OKX_SECRET, OKX_PASS)


def freqtrade_config(tmp_path: Path, **exchange: object) -> Path:
    config = {"max_open_trades": 3, "stake_currency": "USDT",
              "exchange": {"name": "okx", "key": OKX_KEY, "secret": OKX_SECRET,
                           "password": OKX_PASS, "pair_whitelist": ["BTC/USDT"], **exchange},
              "dry_run": True}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config, indent=4))
    path.chmod(0o640)
    return path


def names(cli: Cli) -> list[str]:
    return [a["name"] for a in json.loads(cli("accounts", "list", "--json").stdout)]


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        for secret in ALL_SECRETS:
            assert secret not in text


def test_freqtrade_config_import_then_scrub(cli: Cli, tmp_path: Path):
    path = freqtrade_config(tmp_path)
    before = path.read_bytes()
    result = cli("accounts", "import", str(path))
    assert result.returncode == 0, result.stderr
    assert_no_secret(result.stdout, result.stderr)
    assert "added OKX from config.json: OKX, mainnet; read back from keylink vault" in result.stdout
    assert (f"{path} still holds the plaintext in: exchange.key (line 6), exchange.secret "
            "(line 7), exchange.password (line 8)") in result.stdout
    assert "keylink exec 'OKX from config.json' --preset freqtrade -- freqtrade trade" \
        in result.stdout
    assert path.read_bytes() == before  # never edited unless asked
    assert names(cli) == ["OKX from config.json"]
    printed = cli("copy", "OKX from config.json", "--field", "passphrase", "--print")
    assert printed.stdout == OKX_PASS + "\n"

    # Again with --scrub: the key is recognised (not added twice) and the file loses it.
    scrubbed = cli("accounts", "import", str(path), "--scrub", "--backup")
    assert scrubbed.returncode == 0, scrubbed.stderr
    assert "already stored as OKX from config.json (okx): not added again" in scrubbed.stdout
    assert names(cli) == ["OKX from config.json"]
    config = json.loads(path.read_text())
    assert (config["exchange"]["key"], config["exchange"]["secret"],
            config["exchange"]["password"]) == ("", "", "")
    assert config["exchange"]["pair_whitelist"] == ["BTC/USDT"] and config["dry_run"] is True
    assert_no_secret(path.read_text())
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    backup = tmp_path / "config.json.keylink-backup"
    assert backup.read_bytes() == before
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_freqtrade_partial_and_broken_configs(cli: Cli, tmp_path: Path):
    cases = [
        ({"password": ""}, "exchange.password is missing or empty"),
        ({"secret": None}, "exchange.secret is not a string"),
        ({"name": "kraken"}, "'kraken', an exchange keylink does not know"),
        ({"key": "1234 5678"}, "exchange.key has a space inside"),
    ]
    for change, words in cases:
        result = cli("accounts", "import", str(freqtrade_config(tmp_path, **change)))
        assert_one_line_error(result, words)
        assert_no_secret(result.stderr)
    broken = tmp_path / "broken.json"
    broken.write_text('{"exchange": {"name": "okx", // a comment\n "key": "x"\n')
    assert_one_line_error(cli("accounts", "import", str(broken)), "not valid JSON (line 3")
    assert_one_line_error(cli("accounts", "import", str(tmp_path / "nope.json")), "no file at")
    # A FIFO would wait for a writer forever; a folder is no config either: one line each.
    fifo = tmp_path / "config.fifo"
    os.mkfifo(fifo)
    assert_one_line_error(cli("accounts", "import", str(fifo)), "not a regular file")
    assert_one_line_error(cli("accounts", "import", str(tmp_path)), "not a regular file")
    # A config reached through a symlink (dotfile managers do that) is read from its target.
    link = tmp_path / "linked.json"
    link.symlink_to(freqtrade_config(tmp_path, password=""))
    assert_one_line_error(cli("accounts", "import", str(link)), "exchange.password is missing")
    assert names(cli) == []


def test_dotenv_with_two_exchanges_and_scrub(cli: Cli, tmp_path: Path):
    path = tmp_path / ".env"
    path.write_text(f"# bot settings\nLOG_LEVEL=info\nexport BYBIT_API_KEY={BYBIT_KEY}\n"
                    f"BYBIT_API_SECRET=\"{BYBIT_SECRET}\"\nOKX_API_KEY={OKX_KEY}\n"
                    f"OKX_SECRET_KEY='{OKX_SECRET}'\nOKX_PASSPHRASE={OKX_PASS} # from OKX\n")
    result = cli("accounts", "import", str(path), "--scrub")
    assert result.returncode == 0, result.stderr
    assert_no_secret(result.stdout, result.stderr)
    assert names(cli) == ["Bybit from .env", "OKX from .env"]
    assert ("BYBIT_API_KEY (line 3), BYBIT_API_SECRET (line 4), OKX_API_KEY (line 5), "
            "OKX_SECRET_KEY (line 6), OKX_PASSPHRASE (line 7)") in result.stdout
    assert path.read_text() == "# bot settings\nLOG_LEVEL=info\n"
    assert not (tmp_path / ".env.keylink-backup").exists()
    assert cli("copy", "Bybit from .env", "--field", "secret", "--print").stdout.strip() \
        == BYBIT_SECRET


def test_dotenv_map_and_nothing_half_added(cli: Cli, tmp_path: Path):
    path = tmp_path / "bot.env"
    path.write_text(f"MY_K={BYBIT_KEY}\nMY_S={BYBIT_SECRET}\n")
    assert_one_line_error(cli("accounts", "import", str(path)), "none of the usual key variables")
    assert_one_line_error(cli("accounts", "import", str(path), "--map", "key=MY_K",
                              "--map", "secret=MY_S"), "--map needs --exchange")
    assert_one_line_error(cli("accounts", "import", str(path), "--map", "key=MY_K"),
                          "at least key=VAR and secret=VAR")
    mapped = cli("accounts", "import", str(path), "--map", "key=MY_K", "--map", "secret=MY_S",
                 "--exchange", "bybit", "--name", "Bot", "--env", "testnet")
    assert mapped.returncode == 0, mapped.stderr
    assert "added Bot: Bybit, testnet" in mapped.stdout

    # The Bybit half is fine, the OKX half lacks its passphrase: neither is added.
    partial = tmp_path / "partial.env"
    partial.write_text(f"BINANCE_API_KEY={'K' * 64}\nBINANCE_API_SECRET={'Z' * 64}\n"
                       f"OKX_API_KEY={OKX_KEY}\nOKX_API_SECRET={OKX_SECRET}\n")
    assert_one_line_error(cli("accounts", "import", str(partial)),
                          "the API passphrase is missing or empty")
    broken = tmp_path / "broken.env"
    broken.write_text(f"BYBIT_API_KEY={BYBIT_KEY}\nthis is not a setting\n")
    assert_one_line_error(cli("accounts", "import", str(broken)), "line 2 is not NAME=value")
    # A name clash found before anything is stored.
    clash = tmp_path / "clash.env"
    clash.write_text(f"OKX_API_KEY={OKX_KEY}\nOKX_API_SECRET={OKX_SECRET}\nOKX_PASSWORD=p1\n")
    assert_one_line_error(cli("accounts", "import", str(clash), "--name", "bot"),
                          "give another with --name")
    assert names(cli) == ["Bot"]

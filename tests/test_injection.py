"""Outside text is data: a payload list swept through every CLI command and every screen.

Each payload is something a hostile or broken source could hand keylink: Textual/Rich markup
(``[/]`` crashes a markup parser, ``[@click=app.quit]`` runs an action), terminal control sequences
(OSC 52 writes the clipboard, OSC 0/2 set the window title, CSI moves and colours, and their 8-bit
C1 forms), bidi overrides, NUL, and very long strings. They come in as account names (a
hand-edited or synced accounts.json), whitelist file lines and paths, argv, environment values and
an exchange's answers (the loopback fake exchange echoes them back).

CLI: the output must hold no raw control or bidi character, and no traceback.
App: no crash, the text shown literally (escaped where it holds controls), no action run.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import TEST_VAULT_PASSPHRASE
from tests.fakes.exchange import FakeExchange
from tui.cli import main
from tui.services.core import paths
from tui.services.core.text import clean, is_clean

ROOT = Path(__file__).resolve().parent.parent

PAYLOADS: dict[str, str] = {
    "close-tag": "[/]",
    "bad-close": "Sub [2] [/x]",
    "brackets": "Bybit [main]",
    "bold": "[b]bold[/b] name",
    "click": "[@click=app.quit]quit[/]",
    "click-bare": "[@click=app.quit]",
    "link": "[link=https://evil.example]x[/link]",
    "variable": "$accent $text {name} %s",
    "osc52": "\x1b]52;c;ZXZpbCBhZGRyZXNz\x07",
    "osc-title": "\x1b]0;pwned title\x07ok",
    "osc-title-st": "\x1b]2;pwned\x1b\\ok",
    "csi": "\x1b[2J\x1b[31mred\x1b[0m",
    "csi-8bit": "\x9b31mred\x9b0m",
    "osc-8bit": "\x9d0;title\x9c",
    "bidi": "abc\u202eevil\u202c def",
    "isolate": "\u2066iso\u2069 x",
    "nul": "nul\x00byte",
    "invisible": "zero\u200bwidth\ufeff",
    "cr": "over\rwrite",
    "long": "A" * 3000 + "[/]" + "\x1b]52;c;QQ==\x07",
}
IDS = list(PAYLOADS)


def assert_terminal_safe(text: str) -> None:
    """Nothing a terminal would act on: only printable text, line breaks and tabs."""
    assert "Traceback" not in text
    assert is_clean(text.replace("\n", "").replace("\t", "")), repr(text[:300])


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse's own errors
        code = exc.code if isinstance(exc.code, int) else 2
    out, err = capsys.readouterr()
    assert_terminal_safe(out)
    assert_terminal_safe(err)
    return code, out, err


# -- stores with hostile content -----------------------------------------------------------------

@pytest.fixture
def vault_env(monkeypatch: pytest.MonkeyPatch, cheap_kdf: Any) -> None:
    from tui.services.store.vault import Vault

    monkeypatch.setenv("KEYLINK_SECRET_BACKEND", "vault")
    monkeypatch.setenv("KEYLINK_VAULT_PASSPHRASE", TEST_VAULT_PASSPHRASE)
    Vault(kdf=cheap_kdf).create(TEST_VAULT_PASSPHRASE)


def add_account(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], name: str,
                base_url: str, key: str = "KLbybitTESTkey0001",
                secret: str = "KLbybitTESTsecret0000000000000000001") -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{key}\n{secret}\n"))
    assert main(["accounts", "add", name, "--exchange", "bybit", "--base-url", base_url]) == 0
    capsys.readouterr()


def rename_by_hand(old: str, new: str, summary: str | None = None) -> None:
    """What a hand edit or another program could leave in accounts.json."""
    file = paths.config_dir() / "accounts.json"
    doc = json.loads(file.read_text())
    for item in doc["accounts"]:
        if item["name"] == old:
            item["name"] = new
            if summary is not None:
                item["last_check"] = {"ok": False, "checked_at": "2026-01-01T00:00:00Z",
                                      "summary": summary, "worst": "danger"}
    file.write_text(json.dumps(doc))


# -- the CLI -------------------------------------------------------------------------------------

@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=IDS)
def test_cli_argv_and_files(payload: str, capsys: pytest.CaptureFixture[str],
                            monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # argparse echoes unknown commands, choices and arguments.
    assert run(capsys, payload)[0] == 2
    assert run(capsys, "whitelist", "--format", payload)[0] == 2
    assert run(capsys, "whitelist", payload)[0] == 2
    # Profile ids, file paths and file lines.
    code, _, err = run(capsys, "whitelist", "--profile", payload)
    assert code == 2 and err.count("\n") == 1
    code, _, err = run(capsys, "whitelist", "--file", str(tmp_path / payload[:200]))
    assert code == 2 and err.count("\n") == 1
    lines = tmp_path / "list.txt"
    lines.write_text(f"10.0.0.1\n{payload}\n", encoding="utf-8", errors="surrogatepass")
    code, _, err = run(capsys, "whitelist", "--file", str(lines))
    assert code == 2 and err.count("\n") == 1 and "line 2" in err
    # Names and exchanges that do not exist.
    monkeypatch.setattr("sys.stdin", io.StringIO("k\ns\n"))
    assert run(capsys, "accounts", "add", "x", "--exchange", payload)[0] == 2
    assert run(capsys, "verify", "--whitelist", payload, "x")[0] == 2


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=IDS)
def test_cli_account_names(payload: str, capsys: pytest.CaptureFixture[str],
                           monkeypatch: pytest.MonkeyPatch, vault_env: None) -> None:
    add_account(monkeypatch, capsys, "plain", "http://127.0.0.1:9")
    rename_by_hand("plain", payload, summary=payload)
    code, out, _ = run(capsys, "accounts", "list")
    assert code == 0 and clean(payload) in out
    code, out, _ = run(capsys, "accounts", "list", "--json")
    assert code == 0 and json.loads(out)[0]["name"] == payload  # JSON keeps the value exact
    assert run(capsys, "accounts", "remove", payload + "x", "--yes")[0] == 2
    assert run(capsys, "verify", payload + "x")[0] == 2
    code, _, err = run(capsys, "verify", payload)  # nothing listens on port 9
    assert code == 1 and "Traceback" not in err
    monkeypatch.setattr("sys.stdin", io.StringIO("k\ns\n"))
    run(capsys, "accounts", "add", payload, "--exchange", "bybit")
    code, out, _ = run(capsys, "accounts", "remove", payload, "--yes")
    assert code == 0 and clean(payload) in out
    # doctor reads the environment and the accounts file.
    if "\x00" not in payload:
        monkeypatch.setenv("TERM", payload)
        monkeypatch.setenv("TERM_PROGRAM", payload)
    code, out, _ = run(capsys, "doctor")
    assert code == 0
    code, out, _ = run(capsys, "doctor", "--json")
    assert code == 0 and json.loads(out)


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=IDS)
def test_cli_verify_with_a_hostile_exchange(payload: str, capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch,
                                            vault_env: None) -> None:
    with FakeExchange() as fake:
        key = fake.key("bybit")
        add_account(monkeypatch, capsys, "main", fake.url, key.api_key, key.secret)
        # The answer's addresses and note, then its error text, carry the payload.
        key.ips = ("10.0.0.1", payload)
        key.label = payload
        code, out, _ = run(capsys, "verify", "main")
        code, out, _ = run(capsys, "verify", "main", "--json")
        json.loads(out)
        key.ips = ("10.0.0.1",)
        fake.config.client_ip = payload  # echoed in Bybit's "Unmatched IP" error
        code, out, _ = run(capsys, "verify", "main")
        assert code == 0  # bound elsewhere: "locked", which exits 0
        assert "locked" in out


def test_a_real_process_writes_no_escape_to_the_terminal(tmp_path: Path) -> None:
    """The same through a real interpreter and real file descriptors (bytes, not str)."""
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "c"), "XDG_DATA_HOME": str(tmp_path)}
    for argv in (["whitelist", "--profile", PAYLOADS["osc52"]],
                 ["whitelist", "--file", PAYLOADS["osc-title"] + PAYLOADS["bidi"]],
                 [PAYLOADS["csi-8bit"]]):
        done = subprocess.run([sys.executable, "-m", "tui", *argv], cwd=ROOT, env=env,
                              capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
        assert done.returncode == 2
        for stream in (done.stdout, done.stderr):
            text = stream.decode("utf-8")
            assert "\x1b" not in text and "\x9b" not in text and "\u202e" not in text
            assert_terminal_safe(text)

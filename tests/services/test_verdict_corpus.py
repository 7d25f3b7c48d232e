"""The verdict corpus: documented exchange answers fed through the real ``verify_key``.

Each file under tests/fixtures/exchanges/<exchange>/ holds one answer as an exchange documents it
(its "source" page and the date it was "read"), the account's whitelist setting, and the verdict
that answer must give: status, worst severity, normalised rights and finding codes. The loopback
fake exchange checks the request's real signature first, then serves the documented answer.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.fakes.exchange import FakeExchange
from tests.support.registry import loopback_registry
from tui.services.exchanges.base import PERMISSIONS
from tui.services.verify.report import KeyReport
from tui.services.verify.run import verify_account

CORPUS = Path(__file__).resolve().parent.parent / "fixtures" / "exchanges"
FILES = sorted(CORPUS.glob("*/*.json"))


def _load(path: Path) -> dict:
    return json.loads(path.read_text())


@pytest.fixture
def fake(fake_per_module: FakeExchange, tmp_path: Path,
         monkeypatch: pytest.MonkeyPatch) -> FakeExchange:
    """One fake for the whole corpus: each document sets its canned answer and puts it back.
    Every exchange's mainnet is the fake (an account is checked at its registry host)."""
    loopback_registry(tmp_path / "env.toml", monkeypatch,
                      {(ex, "mainnet"): fake_per_module.url
                       for ex in ("bybit", "okx", "bitget", "binance")})
    return fake_per_module


def _verify(fake: FakeExchange, doc: dict) -> KeyReport:
    ex = doc["exchange"]
    key = fake.key(ex)
    account = SimpleNamespace(exchange=ex, base_url=fake.url, environment="mainnet",
                              whitelist=doc["account_whitelist"])
    creds = SimpleNamespace(api_key=key.api_key, secret=key.secret, passphrase=key.passphrase)
    fake.config.canned_key_info = (doc["http_status"], doc["body"])
    try:
        return asyncio.run(verify_account(account, creds))
    finally:
        fake.config.canned_key_info = None


def test_the_corpus_covers_every_exchange_and_outcome():
    docs = [_load(p) for p in FILES]
    assert {d["exchange"] for d in docs} == {"bybit", "okx", "bitget", "binance"}
    for ex in ("bybit", "okx", "bitget", "binance"):
        assert {d["expect"]["status"] for d in docs if d["exchange"] == ex} >= {"works", "failed"}
    assert {d["expect"]["status"] for d in docs} == {"works", "locked", "failed"}
    for doc in docs:
        assert doc["source"].startswith("https://") and doc["read"], doc["note"]


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_documented_answer_gives_its_documented_verdict(fake, path):
    doc = _load(path)
    want = doc["expect"]
    report = _verify(fake, doc)
    codes = [f.code for f in report.findings]
    assert report.status == want["status"], codes
    assert report.ok is (want["status"] == "works")
    assert report.worst == want["worst"], [(f.severity, f.code) for f in report.findings]
    if want["status"] == "works":
        assert [p for p in PERMISSIONS if p in report.permissions] == want["rights"]
    for code in want["codes"]:
        assert code in codes, (code, codes)
    for code in want.get("absent", ()):
        assert code not in codes, (code, codes)
    if "missing" in want:
        assert len(report.whitelist_missing) == want["missing"]
    if "extra" in want:
        assert list(report.whitelist_extra) == want["extra"]
    if "days_left" in want:
        assert report.days_left == want["days_left"]
    if "seen_ip" in want:
        assert report.seen_ip == want["seen_ip"]
    if "words" in want:
        assert report.summary() == f"{want['status']}: {want['words']}"
    if "mentions" in want:
        assert any(want["mentions"] in f.message for f in report.findings)
    # Never a negative count, and a key that can withdraw is never reported without a danger.
    assert report.days_left is None or report.days_left >= 0
    assert not report.can_withdraw or report.worst == "danger"
    assert report.to_json()["status"] == want["status"]

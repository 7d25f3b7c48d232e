"""The check history file (store.history), the change rules (verify.changes), the expiry rules
(verify.expiry) and KEYLINK_CHECK_MAX_AGE (core.check_age): no network except the session race,
which checks against the loopback fake exchange."""

from __future__ import annotations

import asyncio
import itertools
import json
import multiprocessing
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tui.services.core.check_age import check_max_age
from tui.services.exchanges.base import KeyInfo
from tui.services.store.history import KEEP, Change, HistoryEntry, HistoryStore
from tui.services.verify.changes import compare, drift_finding
from tui.services.verify.expiry import RULES, expiry_of, expiry_severity


def entry(n: int = 0, **kw) -> HistoryEntry:
    values = {"checked_at": f"2026-12-05T00:00:{n % 60:02d}Z", "status": "works", "worst": "ok",
              "host": "api.bybit.com", "rights": ("read", "trade"), "ips": (),
              "ip_restricted": False, "key_kind": "hmac", "clock_offset_ms": 0}
    values.update(kw)
    return HistoryEntry(**values)


def test_history_is_bounded_and_reads_back(tmp_path):
    store = HistoryStore(tmp_path)
    for n in range(KEEP + 12):
        store.append("a", lambda _entries, n=n: entry(n, clock_offset_ms=n))
    store.append("b", lambda entries: entry(0))
    everything, problem = store.read()
    assert problem is None and len(everything["a"]) == KEEP and len(everything["b"]) == 1
    assert [e.clock_offset_ms for e in everything["a"]] == list(range(12, KEEP + 12))
    assert (tmp_path / "history.json").stat().st_mode & 0o777 == 0o600


def test_the_newest_entries_are_read_from_the_header_alone(tmp_path):
    store = HistoryStore(tmp_path)
    for n in range(3):
        store.append("a", lambda _e, n=n: entry(n, clock_offset_ms=n))
    store.append("b", lambda _e: entry(9, host="b"))
    latest, problem = store.latest()
    assert problem is None and latest["a"].clock_offset_ms == 2 and latest["b"].host == "b"
    head, _, rest = (tmp_path / "history.json").read_bytes().partition(b"\n")
    assert json.loads(head)["latest"].keys() == {"a", "b"} and rest.count(b"\n") == 2


def test_an_unreadable_history_is_said_by_a_reader_and_left_in_place(tmp_path):
    (tmp_path / "history.json").write_text("[")
    everything, problem = HistoryStore(tmp_path).read()
    assert everything == {} and "cannot be read (it is not valid JSON)" in problem
    assert (tmp_path / "history.json").read_text() == "["


def _race(directory: str, worker: int, count: int, start) -> None:
    start.wait()
    store = HistoryStore(Path(directory))

    def make(entries, i):
        previous = entries[-1].host if entries else None
        host = f"w{worker}-{i}"
        return entry(i, host=host, changes=(Change("host", previous, host, "info"),))

    for i in range(count):
        store.append("shared", lambda entries, i=i: make(entries, i))


def test_forget_drops_one_account_and_leaves_a_damaged_file_as_it_is(tmp_path):
    store = HistoryStore(tmp_path)
    assert store.forget("a") is None  # no file yet: nothing to drop, nothing made
    assert not (tmp_path / "history.json").exists()
    for n in range(3):
        store.append("a", lambda _e, n=n: entry(n))
    store.append("b", lambda _e: entry(9, host="b"))
    assert store.forget("a") is None
    everything, problem = store.read()
    assert problem is None and set(everything) == {"b"} and everything["b"][0].host == "b"
    assert set(store.latest()[0]) == {"b"}  # the header's index too
    assert store.forget("a") is None  # again: nothing left of it
    damaged = b'{"version": 1, "latest": {}}\n{"account": "b", "entries": [\n'
    (tmp_path / "history.json").write_bytes(damaged)
    said = store.forget("b")
    assert said is not None and "cannot be read" in said and "stay in it" in said
    assert (tmp_path / "history.json").read_bytes() == damaged


def test_processes_racing_lose_no_entry_and_each_compares_with_the_one_before(tmp_path):
    """Four real processes append at once (cron and the app): every entry is kept, and each
    entry's change names the entry really before it."""
    ctx = multiprocessing.get_context("fork")
    start = ctx.Event()
    workers = [ctx.Process(target=_race, args=(str(tmp_path), w, 10, start)) for w in range(4)]
    for p in workers:
        p.start()
    start.set()
    for p in workers:
        p.join(30)
        assert p.exitcode == 0
    entries = HistoryStore(tmp_path).entries("shared")[0]
    assert len(entries) == 40
    assert sorted(e.host for e in entries) == sorted(f"w{w}-{i}" for w in range(4)
                                                     for i in range(10))
    for before, after in itertools.pairwise(entries):
        assert after.changes[0].before == before.host


def test_compare_key_kind_and_the_first_check():
    assert compare(None, entry()) == ()
    assert compare(entry(), entry(key_kind="rsa-2048")) == (
        Change("key_kind", "hmac", "rsa-2048", "info"),)
    # A failed check says nothing about rights or binding: only its status changed.
    failed = entry(status="failed", rights=(), ips=None, ip_restricted=None)
    assert compare(entry(rights=("read", "trade", "withdraw")), failed) == (
        Change("status", "works", "failed", "error"),)
    assert compare(failed, entry()) == (Change("status", "failed", "works", "info"),)


def test_a_moving_okx_idle_date_is_no_change_but_a_few_hours_of_bybit_are_none_either():
    a = entry(expires_at="2026-12-19T00:00:00Z", expiry_rule="okx-idle-14d")
    b = entry(expires_at="2026-12-25T00:00:00Z", expiry_rule="okx-idle-14d")
    assert compare(a, b) == ()
    c = entry(expires_at="2026-12-19T00:00:00Z", expiry_rule="bybit-unbound-90d")
    d = entry(expires_at="2026-12-19T20:00:00Z", expiry_rule="bybit-unbound-90d")
    assert compare(c, d) == ()


def test_drift_warns_only_when_it_keeps_growing():
    assert drift_finding([100, 400, 900]).severity == "warning"
    assert drift_finding([100, 900, 400]) is None
    assert drift_finding([100, 200, 300]) is None  # growing, but by less than half a second
    assert drift_finding([-100, -700, -1300]).code == "clock-drift"


NOW = datetime(2026, 12, 5, tzinfo=UTC)


def key(**kw) -> KeyInfo:
    values = {"permissions": frozenset({"read", "trade"}), "raw_permissions": (),
              "read_only": False, "ips": (), "ip_restricted": False}
    values.update(kw)
    return KeyInfo(**values)


def test_expiry_rules_have_sources_and_pick_the_right_date():
    assert all(rule.source and rule.words for rule in RULES.values())
    unbound = expiry_of("bybit", key(deadline_days=9), NOW)
    assert unbound.rule == "bybit-unbound-90d" and unbound.days_left(NOW) == 9
    bound = expiry_of("bybit", key(ips=("1.2.3.4",), ip_restricted=True,
                                   expires_at=NOW + timedelta(days=4, hours=2)), NOW)
    assert bound.rule == "bybit-bound-deadline" and bound.days_left(NOW) == 5
    assert expiry_of("bybit", key(ips=("1.2.3.4",), ip_restricted=True), NOW) is None
    assert expiry_of("okx", key(idle_expiry_days=14), NOW).days_left(NOW) == 14
    assert expiry_of("okx", key(idle_expiry_days=14), NOW, "demo") is None
    assert expiry_of("bitget", key(deadline_days=3), NOW) is None
    assert expiry_of("binance", key(trading_lapses_at=NOW + timedelta(days=1)), NOW) is None


@pytest.mark.parametrize(("days", "expired", "warn", "severity"), [
    (30, False, 14, "info"), (14, False, 14, "warning"), (4, False, 14, "warning"),
    (3, False, 14, "danger"), (0, True, 14, "danger"), (10, False, 7, "info"),
])
def test_expiry_severity(days, expired, warn, severity):
    assert expiry_severity(days, expired, warn) == severity


@pytest.mark.parametrize(("text", "expected"), [
    (None, timedelta(days=7)), ("", timedelta(days=7)), ("3", timedelta(days=3)),
    ("0.5", timedelta(hours=12)), ("36h", timedelta(hours=36)), ("90m", timedelta(minutes=90)),
    ("600s", timedelta(seconds=600)), (" 2D ", timedelta(days=2)),
])
def test_check_max_age_reads_days_or_units(text, expected):
    env = {} if text is None else {"KEYLINK_CHECK_MAX_AGE": text}
    assert check_max_age(env) == expected


@pytest.mark.parametrize("text", ["0", "-1", "week", "3y", "1e9", "99999", "\u0661"])
def test_check_max_age_refuses_nonsense_in_one_line(text):
    with pytest.raises(ValueError, match="KEYLINK_CHECK_MAX_AGE") as caught:
        check_max_age({"KEYLINK_CHECK_MAX_AGE": text})
    assert "\n" not in str(caught.value)


def test_two_sessions_checking_at_once_lose_nothing(tmp_path, cheap_kdf, fake, monkeypatch):
    """The app and cron's `verify --all`: two sessions in two threads check one account five
    times each; all ten checks are in the history, and accounts.json's last check is the
    history's last entry."""
    from tests.conftest import TEST_VAULT_PASSPHRASE
    from tests.services.test_session import session_over_vault
    from tui.services.keys.credentials import Credentials
    from tui.services.store.accounts import AccountStore

    monkeypatch.setenv("KEYLINK_VAULT_PASSPHRASE", TEST_VAULT_PASSPHRASE)
    sessions = [session_over_vault(tmp_path, cheap_kdf) for _ in range(2)]
    for s in sessions:
        s.open()
        s.ensure_unlocked(create=True)
    k = fake.key("bitget")
    account = sessions[0].accounts.add("race", "bitget", "custom",  # type: ignore[union-attr]
                                       Credentials(k.api_key, k.secret, k.passphrase),
                                       base_url=fake.url)
    errors: list[BaseException] = []

    def run(session) -> None:
        try:
            for _ in range(5):
                asyncio.run(session.check_and_record(account))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(s,)) for s in sessions]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    entries, _ = sessions[0].history().entries(account.id)
    assert len(entries) == 10
    saved = AccountStore(sessions[0].secrets, sessions[0].accounts.dir).get("race")
    assert saved.last_check.checked_at == entries[-1].checked_at
    text = (sessions[0].accounts.dir / "history.json").read_text()
    assert k.secret not in text and k.passphrase not in text and k.api_key not in text


def test_a_right_gained_behind_a_failed_check_is_still_seen():
    from tui.services.verify.changes import last_described

    works = entry(0)
    failed = entry(1, status="failed", rights=(), ips=None, ip_restricted=None)
    now = entry(2, rights=("read", "trade", "withdraw"))
    assert last_described([works, failed]) is works
    assert compare(failed, now, last_described([works, failed])) == (
        Change("status", "failed", "works", "info"),
        Change("right", None, "withdraw", "danger"))


def test_a_check_of_an_account_removed_meanwhile_is_saved_nowhere(tmp_path, cheap_kdf,
                                                                  monkeypatch):
    """The app deletes an account while its check runs: accounts.json refuses the result, and
    the history gets no entry for an account that is gone."""
    from tests.conftest import TEST_VAULT_PASSPHRASE
    from tests.screens.test_accounts_snapshots import works_report
    from tests.services.test_session import session_over_vault
    from tui.services.keys.credentials import Credentials

    monkeypatch.setenv("KEYLINK_VAULT_PASSPHRASE", TEST_VAULT_PASSPHRASE)
    session = session_over_vault(tmp_path, cheap_kdf)
    session.open()
    session.ensure_unlocked(create=True)
    store = session.accounts
    kept = store.add("kept", "bybit", "mainnet", Credentials("k" * 18, "s" * 36))
    gone = store.add("gone", "bybit", "mainnet", Credentials("g" * 18, "t" * 36))
    session._record(store, kept, works_report())
    store.remove(gone.id)
    _report, updated, not_saved, problem = session._record(store, gone, works_report())
    assert updated is None and "no longer exists" in not_saved and problem is None
    everything, _ = session.history().read()
    assert set(everything) == {kept.id}

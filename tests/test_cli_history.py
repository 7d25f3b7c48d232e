"""Issue 18 through the command line: a key's history, its changes, expiry, `status` and the
cron options (`--strict`, `--on-change`, `--quiet`). The loopback fake exchange changes its
answers between two checks of the same account; accounts are in a real cheap-KDF vault."""

from __future__ import annotations

import json
import shlex
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.test_cli_verify import add_account, vault_env  # noqa: F401  (fixture)
from tui.cli import main
from tui.services.core import paths
from tui.services.store.history import HISTORY_FILE, HistoryStore

pytestmark = pytest.mark.usefixtures("vault_env")


def verify(capsys, *argv: str) -> tuple[int, dict | list, str]:
    code = main(["verify", *argv, "--json"])
    out, err = capsys.readouterr()
    return code, json.loads(out), err


def changes_of(data: dict) -> dict[str, tuple]:
    return {(c["field"], c["before"], c["after"]): c["severity"] for c in data["changes"]}


# -- changes: every kind, between two checks


def _gain_withdraw(fake, ex):
    fake.key(ex).permissions = frozenset({"read", "trade", "withdraw"})


def _gain_transfer(fake, ex):
    fake.key(ex).permissions = frozenset({"read", "trade", "transfer"})


def _lose_trade(fake, ex):
    fake.key(ex).permissions = frozenset({"read"})


def _bind(fake, ex):
    fake.key(ex).ips = ("127.0.0.1",)


def _linked(fake, ex):
    fake.key(ex).linked = True
    fake.key(ex).ips = ("127.0.0.1",)


def _locked(fake, ex):
    fake.key(ex).ips = ("203.0.113.9",)


def _fails(fake, ex):
    fake.config.force_code = "10016"


def _expiry_nearer(fake, ex):
    fake.key(ex).deadline_days = 20


def _clock_drifts(fake, ex):
    fake.config.clock_skew_ms = 2500


CASES = [
    (_gain_withdraw, ("right", None, "withdraw"), "danger"),
    (_gain_transfer, ("right", None, "transfer"), "warning"),
    (_lose_trade, ("right", "trade", None), "warning"),
    (_bind, ("binding", "not bound", "bound (1)"), "info"),
    (_linked, ("key_type", "personal", "linked"), "warning"),
    (_locked, ("status", "works", "locked"), "warning"),
    (_fails, ("status", "works", "failed"), "error"),
    (_clock_drifts, ("clock_offset", None, None), "warning"),
]


@pytest.mark.parametrize(("arrange", "change", "severity"), CASES,
                         ids=[c[0].__name__.strip("_") for c in CASES])
def test_a_change_between_two_checks_is_reported(monkeypatch, capsys, fake, arrange, change,
                                                  severity):
    name = add_account(monkeypatch, capsys, fake, "bybit")
    code, first, _ = verify(capsys, name)
    assert code == 0 and first["changes"] == [] and first["previous_checked_at"] is None
    arrange(fake, "bybit")
    _, second, _ = verify(capsys, name)
    found = changes_of(second)
    if change[0] == "clock_offset":  # the offsets themselves vary by a few ms
        assert [s for (f, _b, _a), s in found.items() if f == "clock_offset"] == [severity]
    else:
        assert found.get(change) == severity, found
    assert second["previous_checked_at"] == first["checked_at"][:19] + "Z"
    # Each change is a finding too, so `worst` and --strict see it.
    field = change[0].replace("_", "-")
    assert any(f["code"] == f"changed-{field}" and f["severity"] == severity
               for f in second["findings"])


def test_binding_removed_and_addresses_changed(monkeypatch, capsys, fake):
    name = add_account(monkeypatch, capsys, fake, "okx")
    fake.key("okx").ips = ("127.0.0.1", "198.51.100.7")
    verify(capsys, name)
    fake.key("okx").ips = ("127.0.0.1", "198.51.100.8")
    _, moved, _ = verify(capsys, name)
    assert changes_of(moved) == {("addresses", "127.0.0.1, 198.51.100.7",
                                  "127.0.0.1, 198.51.100.8"): "warning"}
    fake.key("okx").ips = ()
    _, removed, _ = verify(capsys, name)
    assert changes_of(removed)[("binding", "bound (2)", "not bound")] == "warning"


def test_expiry_set_nearer_later_and_gone(monkeypatch, capsys, fake):
    name = add_account(monkeypatch, capsys, fake, "bybit")
    fake.key("bybit").ips = ("127.0.0.1",)
    _, bound, _ = verify(capsys, name)
    assert bound["expiry"] is None
    fake.key("bybit").bound_deadline_days = 30  # as after a password change (FACTS section 9)
    _, set_, _ = verify(capsys, name)
    ((field, before, after), severity), = changes_of(set_).items()
    assert (field, before, severity) == ("expiry", None, "warning") and after[:4].isdigit()
    fake.key("bybit").bound_deadline_days = 10
    _, nearer, _ = verify(capsys, name)
    assert [s for (f, *_), s in changes_of(nearer).items() if f == "expiry"] == ["warning"]
    fake.key("bybit").bound_deadline_days = 60
    _, later, _ = verify(capsys, name)
    assert [s for (f, *_), s in changes_of(later).items() if f == "expiry"] == ["info"]
    fake.key("bybit").bound_deadline_days = None
    _, gone, _ = verify(capsys, name)
    assert [(b is not None, a, s) for (f, b, a), s in changes_of(gone).items()
            if f == "expiry"] == [(True, None, "info")]


def test_host_change_is_a_warning(monkeypatch, capsys, fake):
    name = add_account(monkeypatch, capsys, fake, "bitget")
    verify(capsys, name)
    from tui.services.store.accounts import AccountStore
    from tui.services.store.secrets import SecretStore

    store = AccountStore(SecretStore.open())
    account = store.get(name)
    store.update(account.id, base_url=fake.url.replace("127.0.0.1", "localhost"))
    _, data, _ = verify(capsys, name)
    port = fake.port
    assert changes_of(data) == {("host", f"127.0.0.1:{port}", f"localhost:{port}"): "warning"}


# -- expiry from each rule


@pytest.mark.parametrize(("ex", "arrange", "rule", "days", "severity"), [
    ("bybit", lambda k: setattr(k, "deadline_days", 40), "bybit-unbound-90d", 40, "info"),
    ("bybit", lambda k: setattr(k, "deadline_days", 10), "bybit-unbound-90d", 10, "warning"),
    ("bybit", lambda k: setattr(k, "deadline_days", 2), "bybit-unbound-90d", 2, "danger"),
    # The case: a bound key with 5 days left used to raise nothing.
    ("bybit", lambda k: (setattr(k, "ips", ("127.0.0.1",)), setattr(k, "bound_deadline_days", 5)),
     "bybit-bound-deadline", 5, "warning"),
    ("okx", lambda k: None, "okx-idle-14d", 14, "warning"),
])
def test_expiry_by_each_rule(monkeypatch, capsys, fake, ex, arrange, rule, days, severity):
    name = add_account(monkeypatch, capsys, fake, ex)
    arrange(fake.key(ex))
    _, data, _ = verify(capsys, name)
    expiry = data["expiry"]
    assert expiry["rule"] == rule and expiry["days_left"] == days == data["days_left"]
    assert expiry["severity"] == severity and expiry["source"] and not expiry["expired"]
    code = {"bybit-bound-deadline": "expiring", "okx-idle-14d": "idle-expiry"}.get(rule,
                                                                                    "expiring")
    assert {f["code"]: f["severity"] for f in data["findings"]}[code] == severity


def test_warn_days_moves_the_warning(monkeypatch, capsys, fake):
    name = add_account(monkeypatch, capsys, fake, "okx")
    _code, data, _ = verify(capsys, name, "--warn-days", "7")
    assert data["expiry"]["severity"] == "info"
    _code, data, _ = verify(capsys, name, "--warn-days", "30")
    assert data["expiry"]["severity"] == "warning"


def test_a_bybit_key_past_its_date_is_a_danger(monkeypatch, capsys, fake):
    name = add_account(monkeypatch, capsys, fake, "bybit")
    fake.key("bybit").deadline_days = -1
    fake.key("bybit").ips = ("127.0.0.1",)
    fake.key("bybit").expires_at = None
    verify(capsys, name)
    # The fake refuses an expired key itself, so the past date comes from a canned answer.
    body = {"retCode": 0, "retMsg": "OK", "result": {
        "readOnly": 0, "ips": ["127.0.0.1"], "type": 1, "deadlineDay": -1,
        "expiredAt": (datetime.now(UTC) - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "permissions": {"ContractTrade": ["Order"]}}, "retExtInfo": {}, "time": 1}
    fake.config.canned_key_info = (200, body)
    code, data, _ = verify(capsys, name, "--strict")
    assert data["expiry"]["expired"] and data["expiry"]["severity"] == "danger"
    assert data["days_left"] == 0 and code == 1


# -- status


def status(capsys, *argv: str, env: dict[str, str] | None = None, monkeypatch=None):
    for key, value in (env or {}).items():
        monkeypatch.setenv(key, value)
    code = main(["status", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_status_reads_every_account_without_the_network(monkeypatch, capsys, fake):
    good = add_account(monkeypatch, capsys, fake, "bitget", name="good")
    fresh = add_account(monkeypatch, capsys, fake, "okx", name="never")
    fake.key("bitget").ips = ("127.0.0.1",)
    verify(capsys, good)
    fake.key("bitget").permissions = frozenset({"read", "trade", "withdraw"})
    verify(capsys, good)
    fake.stop()  # status must not need it
    code, out, _ = status(capsys, "--json")
    rows = {row["account"]: row for row in json.loads(out)}
    assert code == 0
    assert rows[good]["status"] == "works" and rows[good]["worst"] == "danger"
    assert rows[good]["changes"] == [{"field": "right", "before": None, "after": "withdraw",
                                      "severity": "danger"}]
    assert rows[good]["age_seconds"] < 60 and not rows[good]["stale"]
    assert rows[fresh]["status"] == "unchecked" and rows[fresh]["problems"] == ["never checked"]
    code, out, err = status(capsys, "--strict")
    assert code == 1 and "good: the last check found a danger" in err
    assert "1 change" in out.splitlines()[1] and "never" in out


def test_status_strict_passes_a_fresh_clean_account_and_fails_a_stale_one(monkeypatch, capsys,
                                                                          fake):
    from dataclasses import replace

    name = add_account(monkeypatch, capsys, fake, "bitget")
    fake.key("bitget").ips = ("127.0.0.1",)
    verify(capsys, name)
    assert status(capsys, "--strict")[0] == 0
    # A check from two days ago (appended as another keylink would): fine for 3 days, stale
    # for 36 hours.
    two_days = (datetime.now(UTC) - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    (account_id,) = HistoryStore(paths.config_dir()).read()[0]
    HistoryStore(paths.config_dir()).append(
        account_id, lambda entries: replace(entries[-1], checked_at=two_days, changes=()))
    code, out, err = status(capsys, "--strict", env={"KEYLINK_CHECK_MAX_AGE": "3"},
                            monkeypatch=monkeypatch)
    assert code == 0 and "2 d" in out and "stale" not in out
    code, out, err = status(capsys, "--strict", env={"KEYLINK_CHECK_MAX_AGE": "36h"},
                            monkeypatch=monkeypatch)
    assert code == 1 and "last checked 2 d ago (limit 36 h)" in err and "(stale)" in out
    code, _, err = status(capsys, env={"KEYLINK_CHECK_MAX_AGE": "soon"}, monkeypatch=monkeypatch)
    assert code == 2 and "KEYLINK_CHECK_MAX_AGE" in err and len(err.splitlines()) == 1


def test_status_strict_fails_on_an_expiry_within_the_warning_days(monkeypatch, capsys, fake):
    name = add_account(monkeypatch, capsys, fake, "bybit")
    fake.key("bybit").ips = ("127.0.0.1",)
    fake.key("bybit").bound_deadline_days = 10
    verify(capsys, name)
    code, out, err = status(capsys, "--strict")
    assert code == 1 and "lapses within 10 days" in err and "10 d left" in out
    assert status(capsys, "--strict", "--warn-days", "5")[0] == 0


def test_status_strict_fails_on_a_failed_check(monkeypatch, capsys, fake):
    name = add_account(monkeypatch, capsys, fake, "bitget")
    fake.config.force_code = "40006"
    verify(capsys, name)
    code, _, err = status(capsys, "--strict")
    assert code == 1 and "the last check failed" in err


# -- cron: --all --strict, --on-change, --quiet


def _recorder(tmp_path: Path, exit_code: int = 0) -> tuple[str, Path]:
    """A CMD that saves its stdin to a file and exits with ``exit_code``."""
    out = tmp_path / "stdin.json"
    script = (f"import sys; open({str(out)!r}, 'w').write(sys.stdin.read()); "
              f"print('sent'); sys.exit({exit_code})")
    return f"{shlex.quote(sys.executable)} -c {shlex.quote(script)}", out


def test_on_change_gets_the_changes_and_expiries_on_stdin(monkeypatch, capsys, fake, tmp_path):
    a = add_account(monkeypatch, capsys, fake, "bitget", name="calm")
    b = add_account(monkeypatch, capsys, fake, "bybit", name="moving")
    fake.key("bitget").ips = ("127.0.0.1",)
    fake.key("bybit").deadline_days = 60
    command, received = _recorder(tmp_path)
    main(["verify", "--all", "--on-change", command])
    capsys.readouterr()
    assert not received.exists()  # first checks: nothing changed, nothing near expiry
    fake.key("bybit").permissions = frozenset({"read", "trade", "withdraw"})
    fake.key("bybit").deadline_days = 9
    code = main(["verify", "--all", "--strict", "--on-change", command])
    out, err = capsys.readouterr()
    assert code == 1 and "sent" in err and "sent" not in out
    document = json.loads(received.read_text())
    assert [item["account"] for item in document["accounts"]] == [b]
    item = document["accounts"][0]
    assert {"field": "right", "before": None, "after": "withdraw",
            "severity": "danger"} in item["changes"]
    assert item["expiry"]["days_left"] == 9 and item["expiry"]["rule"] == "bybit-unbound-90d"
    assert a not in received.read_text()


def test_a_failing_on_change_hides_neither_result_nor_exit_code(monkeypatch, capsys, fake,
                                                                tmp_path):
    name = add_account(monkeypatch, capsys, fake, "bybit")
    fake.key("bybit").deadline_days = 5
    command, received = _recorder(tmp_path, exit_code=3)
    code, data, err = verify(capsys, name, "--on-change", command)
    assert code == 0 and data["expiry"]["days_left"] == 5  # the report is whole
    assert received.exists() and "--on-change command exited 3" in err
    code, data, err = verify(capsys, name, "--strict", "--on-change", "/nonexistent/notify")
    assert code == 1 and data["status"] == "works"
    assert "--on-change command exited 127" in err


def test_on_change_gets_no_passphrase(monkeypatch, capsys, fake, tmp_path):
    name = add_account(monkeypatch, capsys, fake, "bybit")
    fake.key("bybit").deadline_days = 5
    out = tmp_path / "env"
    command = f"env > {shlex.quote(str(out))}"
    verify(capsys, name, "--on-change", command)
    assert "KEYLINK_VAULT_PASSPHRASE" not in out.read_text()


def test_quiet_prints_only_problems(monkeypatch, capsys, fake):
    calm = add_account(monkeypatch, capsys, fake, "bitget", name="calm")
    add_account(monkeypatch, capsys, fake, "bybit", name="loud")
    from tests.test_cli_verify import TERMINAL

    fake.key("bitget").ips = TERMINAL  # bound to the terminal's list: nothing to say
    fake.config.client_ip = TERMINAL[3]
    assert main(["verify", "--all", "--quiet", "--whitelist", "insilico-general"]) == 0
    out = capsys.readouterr().out
    assert "loud" in out and calm not in out
    assert "[warn]" in out and "[ok]" not in out and "[info]" not in out


def test_text_report_says_since_last_check(monkeypatch, capsys, fake):
    name = add_account(monkeypatch, capsys, fake, "bybit")
    main(["verify", name])
    assert "since last check" not in capsys.readouterr().out
    fake.key("bybit").permissions = frozenset({"read", "trade", "withdraw"})
    main(["verify", name])
    out = capsys.readouterr().out
    assert "since last check" in out and "1 change" in out
    assert "[DANGER] changed-right: Since the last check" in out


# -- history on disk


def test_history_keeps_each_check_without_secrets(monkeypatch, capsys, fake):
    name = add_account(monkeypatch, capsys, fake, "okx")
    for _ in range(3):
        verify(capsys, name)
    path = paths.config_dir() / HISTORY_FILE
    text = path.read_text()
    key = fake.key("okx")
    for secret in (key.api_key, key.secret, key.passphrase):
        assert secret not in text
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    everything, problem = HistoryStore(path.parent).read()
    assert problem is None
    (entries,) = [[e.to_json() for e in v] for v in everything.values()]
    assert len(entries) == 3 and entries[0]["rights"] == ["read", "trade"]
    assert entries[0]["host"] == f"127.0.0.1:{fake.port}" and entries[0]["key_kind"] == "hmac"
    assert isinstance(entries[0]["clock_offset_ms"], int)
    assert entries[0]["expiry_rule"] == "okx-idle-14d"


def test_a_damaged_history_is_moved_aside_said_once_and_restarted(monkeypatch, capsys, fake):
    name = add_account(monkeypatch, capsys, fake, "bybit")
    verify(capsys, name)
    path = paths.config_dir() / HISTORY_FILE
    path.write_bytes(b'{"version": 1, "accounts": {"x": [{"status": 5}]}}')
    code, data, err = verify(capsys, name)
    assert code == 0 and data["changes"] == [] and data["status"] == "works"
    assert err.count("check history was damaged") == 1
    (aside,) = path.parent.glob(HISTORY_FILE + ".damaged-*")
    assert b'"status": 5' in aside.read_bytes()  # kept, not deleted
    everything, problem = HistoryStore(path.parent).read()
    assert [len(v) for v in everything.values()] == [1] and problem is None
    code, data, err = verify(capsys, name)
    assert "damaged" not in err and data["changes"] == []


def test_a_clock_that_drifts_further_at_each_check_warns(monkeypatch, capsys, fake):
    name = add_account(monkeypatch, capsys, fake, "bitget")
    for skew in (0, 600):
        fake.config.clock_skew_ms = skew
        _, data, _ = verify(capsys, name)
        assert "clock-drift" not in {f["code"] for f in data["findings"]}
    fake.config.clock_skew_ms = 1300
    _, data, _ = verify(capsys, name)
    drift = next(f for f in data["findings"] if f["code"] == "clock-drift")
    assert drift["severity"] == "warning" and "last three checks" in drift["message"]


def test_doctor_finds_and_repairs_a_history_temp_file(monkeypatch, capsys, fake):
    add_account(monkeypatch, capsys, fake, "bybit")
    left = paths.config_dir() / ".history.json.k9x.tmp"  # a history write killed half-way
    left.write_text("half")
    assert main(["doctor", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["temp_files"] == 1
    assert main(["doctor", "--repair", "--yes"]) == 0
    assert "1 temp file" in capsys.readouterr().out and not left.exists()


def test_status_reads_a_check_saved_before_the_history_existed(monkeypatch, capsys, fake):
    from tui.services.store.accounts import AccountStore
    from tui.services.store.model import LastCheck
    from tui.services.store.secrets import SecretStore

    name = add_account(monkeypatch, capsys, fake, "bybit")
    store = AccountStore(SecretStore.open())
    when = (datetime.now(UTC) - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    store.record_check(store.get(name).id, LastCheck(False, when, "failed: wrong secret (10004)",
                                                     "error", "failed"))
    assert not (paths.config_dir() / HISTORY_FILE).exists()
    code, out, _ = status(capsys, "--json", "--strict")
    (row,) = json.loads(out)
    assert (row["status"], row["worst"], row["changes"]) == ("failed", "error", [])
    assert 3 * 3600 <= row["age_seconds"] < 3 * 3600 + 60 and code == 1


def test_removing_an_account_drops_its_history_and_keeps_the_others(monkeypatch, capsys, fake):
    # The history named the key's rights and bound addresses; once the account is gone nothing
    # can show it any more, so it goes with the account (the other account's stays).
    gone = add_account(monkeypatch, capsys, fake, "bybit", name="Gone")
    kept = add_account(monkeypatch, capsys, fake, "okx", name="Kept")  # another key
    for name in (gone, kept, gone):
        assert verify(capsys, name)[0] == 0
    accounts_file = json.loads((paths.config_dir() / "accounts.json").read_text())
    ids = {a["name"]: a["id"] for a in accounts_file["accounts"]}
    history = HistoryStore(paths.config_dir())
    assert {ids["Gone"], ids["Kept"]} <= set(history.read()[0])
    assert main(["accounts", "remove", "Gone", "--yes"]) == 0
    out, err = capsys.readouterr()
    assert "removed Gone and its secret" in out and err == ""
    everything, problem = history.read()
    assert problem is None and set(everything) == {ids["Kept"]}
    assert ids["Gone"] not in (paths.config_dir() / HISTORY_FILE).read_text()


def test_a_history_that_cannot_be_locked_never_turns_a_done_removal_into_a_failure(
        monkeypatch, capsys, fake):
    # Found by review: the removal is committed before the history is touched, so a history
    # lock that cannot be taken (here a folder where the lock file goes) is a warning, and the
    # command says what it did, exit 0.
    add_account(monkeypatch, capsys, fake, "bybit", name="Gone")
    (paths.config_dir() / (HISTORY_FILE + ".lock")).mkdir()
    code = main(["accounts", "remove", "Gone", "--yes"])
    out, err = capsys.readouterr()
    assert code == 0 and "removed Gone and its secret" in out
    assert "warning: the check history could not be updated" in err
    assert json.loads((paths.config_dir() / "accounts.json").read_text())["accounts"] == []

"""Lists that are not fixed: a served list refreshed from a loopback endpoint (3Commas'
market_list shape: added, removed, refused for each bad answer, kept only when accepted), an
account's own list (per user, self-hosted), and verify comparing a key with the account's
terminal (containment and ranges, a linked key never "missing", "next" addresses ahead)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tests.support.cli import Cli
from tests.test_cli_accounts import BYBIT_LINES, assert_usage_error
from tui.services.core.paths import data_dir
from tui.services.terminals import catalogue, own, refresh, whitelist
from tui.services.verify.run import verify_account

# -- a loopback endpoint ---------------------------------------------------------------------------


@dataclass
class Answer:
    body: bytes = b"[]"
    status: int = 200
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Endpoint:
    url: str
    answer: Answer

    def serve(self, data: Any = None, **kw: Any) -> None:
        body = kw.pop("body", None)
        if body is None:
            body = json.dumps(data).encode()
        self.answer = Answer(body=body, **kw)


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    state = Endpoint("", Answer())

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            answer = state.answer
            if answer.delay:
                time.sleep(answer.delay)
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(answer.body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02},
                              daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/public/api/ver1/accounts/market_list"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def market(code: str, ips: list[str], name: str = "A market") -> dict[str, Any]:
    return {"market_name": name, "market_code": code, "trusted_ips": ips,
            "available_connection_flows": ["form"], "third_party_allowed": False,
            "form_fields": {"required": [{"field": "api_key", "localized_name": "API Key:"}]}}


FIRST = [market("binance", ["193.31.111.100", "193.31.111.158"], "Binance"),
         market("okex", ["103.26.9.0/24"], "OKX"),
         {"market_name": "Coinbase Advanced", "market_code": "coinbase_advanced",
          "available_connection_flows": ["form"]},  # no trusted_ips: not listed
         market("bybit_spot", ["3.3.3.3"], "Bybit Spot"),
         market("binance_us", ["4.4.4.4"], "Binance US")]


def three_commas() -> catalogue.Terminal:
    return catalogue.terminal("3commas")


def kept_source() -> str:
    """The shipped served list's own source (no refreshed list in use)."""
    return next(entry.source for entry in catalogue._shipped()[0]["3commas"].lists
                if entry.endpoint)


def _served() -> catalogue.TerminalList:
    entry = three_commas().list_for("bybit")
    assert entry is not None
    return entry


# -- refresh ---------------------------------------------------------------------------------------


def test_refresh_shows_what_was_added_and_keeps_the_old_list_until_accepted(
        endpoint: Endpoint) -> None:
    endpoint.serve(FIRST)
    plan = refresh.plan(three_commas(), endpoint.url)
    assert plan.new == {"binance": ("193.31.111.100", "193.31.111.158"),
                        "okx": ("103.26.9.0/24",), "bybit": ("3.3.3.3",),
                        "binance_us": ("4.4.4.4",)}  # Binance US is another exchange
    assert plan.changes()["binance"] == (("193.31.111.100", "193.31.111.158"), ())
    assert plan.taken == datetime.now(UTC).date().isoformat()
    # Not accepted: nothing is kept, the list in use has no addresses yet.
    assert _served().addresses_for("binance") == ()
    assert not refresh.refreshed_path().exists()

    path = refresh.accept(plan)
    assert path.parent == data_dir()
    assert _served().addresses_for("okx") == ("103.26.9.0/24",)
    assert _served().source_url == endpoint.url and _served().date == plan.taken
    assert "fetched from" in _served().provenance
    # The shipped catalogue is never written.
    shipped = (Path(catalogue.__file__).parents[2] / "content" / "terminals.toml").read_text()
    assert "193.31.111.100" not in shipped

    # The next fetch: one Binance address replaced, OKX's range gone.
    endpoint.serve([market("binance", ["193.31.111.100", "193.31.111.43"]),
                    market("bybit_spot", ["3.3.3.3"]), market("binance_us", ["4.4.4.4"])])
    second = refresh.plan(three_commas(), endpoint.url)
    changes = second.changes()
    assert changes["binance"] == (("193.31.111.43",), ("193.31.111.158",))
    assert changes["okx"] == ((), ("103.26.9.0/24",))
    assert "bybit" not in changes
    assert _served().addresses_for("binance") == ("193.31.111.100", "193.31.111.158")


BAD_ANSWERS = {
    "not JSON": ({"body": b"<html>maintenance</html>"}, "did not answer with JSON"),
    "not a list": ({"body": b'{"error": "nope"}'}, "not answer with a list of markets"),
    "markup": ({"data": [market("binance", ["1.2.3.4"], name="[b]Binance[/b]")]}, "markup"),
    "control characters": ({"data": [market("binance", ["1.2.3.4\x1b[31m"])]},
                           "control characters"),
    "invalid address": ({"data": [market("binance", ["1.2.3.4", "999.1.1.1"])]},
                        "999.1.1.1"),
    "too many": ({"data": [market("okex", [f"5.5.5.{n}" for n in range(1, 22)])]},
                 "21 addresses for okx, more than the 20"),
    "no addresses": ({"data": [{"market_code": "binance", "market_name": "Binance"}]},
                     "no market in the answer lists any address"),
    "bad code": ({"data": [market("bin ance!", ["1.2.3.4"])]}, "is not a code"),
    "HTTP error": ({"data": FIRST, "status": 503}, "answered HTTP 503"),
    "redirect": ({"data": FIRST, "status": 302, "headers": {"Location": "http://127.0.0.1/"}},
                 "answered HTTP 302"),
}


@pytest.mark.parametrize("case", list(BAD_ANSWERS))
def test_a_bad_answer_is_one_line_and_changes_nothing(endpoint: Endpoint, case: str) -> None:
    endpoint.serve(FIRST)
    refresh.accept(refresh.plan(three_commas(), endpoint.url))
    before = refresh.refreshed_path().read_bytes()
    kwargs, words = BAD_ANSWERS[case]
    endpoint.serve(kwargs.get("data"), **{k: v for k, v in kwargs.items() if k != "data"})
    with pytest.raises(refresh.RefreshError) as caught:
        refresh.plan(three_commas(), endpoint.url)
    message = str(caught.value)
    assert words in message and "\n" not in message and "\x1b" not in message
    assert refresh.refreshed_path().read_bytes() == before
    assert _served().addresses_for("okx") == ("103.26.9.0/24",)


def test_slow_and_huge_answers_are_refused(endpoint: Endpoint) -> None:
    endpoint.serve(FIRST, delay=1.0)
    started = time.monotonic()
    with pytest.raises(refresh.RefreshError, match=r"took more than 0\.3 s"):
        refresh.plan(three_commas(), endpoint.url, timeout=0.3)
    assert time.monotonic() - started < 0.9
    endpoint.serve(body=b"[" + b" " * 5000 + b"]")
    with pytest.raises(refresh.RefreshError, match="more than 4 KiB"):
        refresh.plan(three_commas(), endpoint.url, max_bytes=4096)
    assert not refresh.refreshed_path().exists()


@pytest.mark.parametrize("url", ["http://example.com/list", "ftp://127.0.0.1/x",
                                 "https://", "https://a b.com/"])
def test_only_https_or_loopback_http(url: str) -> None:
    with pytest.raises(refresh.RefreshError):
        refresh.check_url(url)
    assert refresh.check_url("https://api.3commas.io/x") == "https://api.3commas.io/x"
    assert refresh.check_url("http://127.0.0.1:9/x") == "http://127.0.0.1:9/x"


def test_a_terminal_without_an_endpoint_cannot_be_refreshed() -> None:
    with pytest.raises(refresh.RefreshError, match="Gainium publishes no list endpoint"):
        refresh.plan(catalogue.terminal("gainium"))


def test_a_damaged_refreshed_file_leaves_the_shipped_list_in_use() -> None:
    path = refresh.refreshed_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{"lists": {"3commas": {"taken": "x", "source": "y", '
                    '"by_exchange": {"binance": ["not an ip"]}}}}')
    assert _served().addresses_for("binance") == ()
    path.write_text("not json")
    assert _served().addresses_for("binance") == ()



@pytest.mark.parametrize(("source", "market", "taken"), [
    ("https://api.3commas.io/ok", "binance\x1b]52;c;eA==\x07", "2026-12-01"),  # control chars
    ("https://api.3commas.io/[b]x[/]\x1b[31m", "binance", "2026-12-01"),
    ("http://203.0.113.9/list", "binance", "2026-12-01"),  # plain http off this machine
    ("https://api.3commas.io/ok", "binance", "[@click=app.quit]"),
])
def test_a_kept_list_edited_by_hand_is_held_to_a_fetch_s_rules(source, market, taken) -> None:
    """refreshed.json is read back as outside text: an entry a fetch would have refused is
    dropped (its shipped list stays in use), so its text never reaches `whitelist --list`."""
    import json

    path = refresh.refreshed_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    good = {"taken": "2026-12-01", "source": "https://api.3commas.io/ok",
            "by_exchange": {"binance": ["193.31.111.100"]}}
    path.write_text(json.dumps({"lists": {"3commas": good}}))
    kept = three_commas().list_for("binance")
    assert kept is not None and kept.addresses_for("binance") == ("193.31.111.100",)
    bad = {"taken": taken, "source": source, "by_exchange": {market: ["193.31.111.100"]}}
    path.write_text(json.dumps({"lists": {"3commas": bad}}))
    assert _served().addresses_for("binance") == () and _served().source == kept_source()

# -- the command line ------------------------------------------------------------------------------


def test_cli_refresh_asks_before_keeping_and_yes_keeps(cli: Cli, endpoint: Endpoint) -> None:
    endpoint.serve(FIRST)
    result = cli("whitelist", "--refresh", "3commas", "--from", endpoint.url)
    assert result.returncode == 1
    assert "binance: 2 added, 0 removed" in result.stdout and "+ 193.31.111.100" in result.stdout
    assert "not kept" in result.stderr
    assert_usage_error(cli("whitelist", "--terminal", "3commas", "--exchange", "bybit"),
                       "--refresh 3commas")
    kept = cli("whitelist", "--refresh", "3commas", "--from", endpoint.url, "--yes")
    assert kept.returncode == 0 and "kept: 3Commas's list" in kept.stdout
    assert cli("whitelist", "--terminal", "3commas", "--exchange", "bybit").stdout == "3.3.3.3\n"
    listed = json.loads(cli("whitelist", "--list", "--json").stdout)
    served = next(t for t in listed if t["id"] == "3commas")["lists"][0]
    assert served["by_exchange"]["okx"] == ["103.26.9.0/24"]
    assert served["source_url"] == endpoint.url
    endpoint.serve(body=b"nope")
    assert_usage_error(cli("whitelist", "--refresh", "3commas", "--from", endpoint.url, "--yes"),
                       "nothing changed")
    assert cli("whitelist", "--terminal", "3commas", "--exchange", "bybit").stdout == "3.3.3.3\n"


def test_cli_terminal_list_and_errors(cli: Cli) -> None:
    gainium = cli("whitelist", "--terminal", "gainium", "--exchange", "binance", "--format",
                  "lines")
    assert gainium.stdout.splitlines() == [f"62.84.191.{n}" for n in range(108, 113)]
    # The old profile names still work, as --profile and as a terminal name.
    assert cli("whitelist", "--profile", "insilico-bitget").stdout.count(",") == 29
    assert cli("whitelist", "--terminal", "insilico-bitget", "--exchange",
               "bitget").stdout.count(",") == 29
    assert_usage_error(cli("whitelist", "--terminal", "gainium"), "Bybit binds Gainium keys")
    assert_usage_error(cli("whitelist", "--terminal", "altrady", "--exchange", "binance"),
                       "shows each user their own list")
    assert_usage_error(cli("whitelist", "--terminal", "freqtrade"), "your own server")
    assert_usage_error(cli("whitelist", "--terminal", "nope"), "unknown terminal 'nope'")
    assert_usage_error(cli("whitelist", "--terminal", "veles", "--exchange", "kraken"),
                       "unknown exchange 'kraken'")
    assert_usage_error(cli("whitelist", "--json"), "--json goes with --list")
    listing = cli("whitelist", "--list").stdout
    assert "gainium\tGainium (bybit link, okx link, bitget manual, binance manual)" in listing
    assert "unofficial copy" in listing and "(undated)" in listing


# -- an account's own list -------------------------------------------------------------------------


def test_own_lists_from_text_and_file(tmp_path: Path) -> None:
    pasted = own.own_list_from_text("5.6.7.8, 9.9.9.0/24\n5.6.7.8", "pasted")
    assert pasted.addresses == ("5.6.7.8", "9.9.9.0/24") and pasted.source == "pasted"
    assert pasted.taken == datetime.now(UTC).date().isoformat()
    file = tmp_path / "altrady.txt"
    file.write_text("# my Altrady key\n5.6.7.8\n")
    assert own.own_list_from_file(file).source == "file altrady.txt"
    for text, words in (("192.168.1.10", "private"), ("127.0.0.1", "loopback"),
                        ("5.6.7.8, nope", "not an IP address")):
        with pytest.raises(whitelist.WhitelistError, match=words):
            own.own_list_from_text(text, "typed")


def test_cli_keeps_an_own_list_with_the_account(cli: Cli, tmp_path: Path) -> None:
    assert cli("accounts", "add", "Alt", "--exchange", "bybit", "--terminal", "bitsgap",
               "--ips", "5.6.7.8,5.6.7.9", stdin=BYBIT_LINES).returncode == 0
    (account,) = json.loads(cli("accounts", "list", "--json").stdout)
    assert account["whitelist"] == "own" and account["terminal"] == "bitsgap"
    assert account["own_list"]["addresses"] == ["5.6.7.8", "5.6.7.9"]
    file = tmp_path / "server.txt"
    file.write_text("203.0.114.7\n")
    result = cli("accounts", "ips", "Alt", "--ips-file", str(file))
    assert result.returncode == 0 and "kept 1 address with Alt" in result.stdout
    shown = cli("accounts", "ips", "Alt").stdout
    assert shown.startswith("203.0.114.7\t(file server.txt, ")
    assert_usage_error(cli("accounts", "ips", "Alt", "--ips", "10.0.0.1"), "private")
    assert cli("accounts", "ips", "Alt").stdout.startswith("203.0.114.7\t")


# -- verify against the account's terminal ---------------------------------------------------------

KEY_INFO = json.loads((Path(__file__).parents[1] / "fixtures" / "exchanges" / "bybit" /
                       "partial_whitelist_ipv6.json").read_text())["body"]


def _check(fake: Any, ips: list[str], key_type: int = 1, **account: Any) -> dict[str, Any]:
    body = json.loads(json.dumps(KEY_INFO))
    body["result"]["ips"] = ips
    body["result"]["type"] = key_type
    key = fake.key("bybit")
    subject = SimpleNamespace(exchange="bybit", base_url=fake.url, environment="custom",
                              **{"terminal": None, "own_list": None, **account})
    creds = SimpleNamespace(api_key=key.api_key, secret=key.secret, passphrase=key.passphrase)
    fake.config.canned_key_info = (200, body)
    try:
        report = asyncio.run(verify_account(subject, creds))
    finally:
        fake.config.canned_key_info = None
    out = report.to_json()
    out["codes"] = [f["code"] for f in out["findings"]]
    return out


def test_verify_compares_with_the_terminal_s_list(fake) -> None:
    veles = list(catalogue.find_list("veles").addresses)
    result = _check(fake, veles, terminal="veles", whitelist="veles")
    assert result["whitelist"]["state"] == "compared"
    assert (result["whitelist"]["terminal"], result["whitelist"]["list"]) == ("veles", "veles")
    assert result["whitelist"]["missing"] == [] and result["whitelist"]["extra"] == []
    # A /29 range holding five of them covers those five; one address left out is missing.
    result = _check(fake, ["5.9.195.104/29", *veles[5:14], "8.8.8.8"], terminal="veles",
                    whitelist="veles")
    assert result["whitelist"]["missing"] == [veles[14]]
    assert result["whitelist"]["extra"] == ["8.8.8.8"]
    assert "whitelist-missing" in result["codes"]


def test_a_served_range_is_covered_only_by_the_whole_range(fake, endpoint: Endpoint) -> None:
    endpoint.serve([market("bybit", ["103.26.9.0/24"])])
    refresh.accept(refresh.plan(three_commas(), endpoint.url))
    whole = _check(fake, ["103.26.9.0/24"], terminal="3commas", whitelist="3commas")
    assert whole["whitelist"]["missing"] == [] and whole["whitelist"]["extra"] == []
    part = _check(fake, ["103.26.9.5"], terminal="3commas", whitelist="3commas")
    assert part["whitelist"]["missing"] == ["103.26.9.0/24"] and part["whitelist"]["extra"] == []


def test_a_served_list_not_fetched_is_said_not_guessed(fake) -> None:
    result = _check(fake, ["1.2.3.4"], terminal="3commas", whitelist="3commas")
    assert result["whitelist"]["state"] == "no-list" and result["whitelist"]["missing"] == []
    assert "whitelist-not-compared" in result["codes"]


def test_a_linked_key_is_bound_by_the_exchange_never_missing(fake) -> None:
    # The account says linked (Gainium on Bybit), the key reports odd addresses.
    result = _check(fake, ["9.9.9.9"], terminal="gainium", whitelist="linked")
    assert result["whitelist"]["state"] == "bound-by-exchange"
    assert result["whitelist"]["missing"] == [] and result["whitelist"]["extra"] == []
    assert "whitelist-bound-by-exchange" in result["codes"]
    assert "whitelist-missing" not in result["codes"]
    # The account names a list, but the exchange says the key is linked (Bybit type 2).
    result = _check(fake, ["9.9.9.9"], key_type=2, terminal="insilico",
                    whitelist="insilico-general")
    assert result["whitelist"]["state"] == "bound-by-exchange"
    assert result["whitelist"]["missing"] == []


def test_verify_compares_with_the_account_s_own_list(fake) -> None:
    mine = own.own_list_from_text("5.6.7.8", "typed")
    good = _check(fake, ["5.6.7.8"], terminal="freqtrade", whitelist="own", own_list=mine)
    assert good["whitelist"]["state"] == "compared" and good["whitelist"]["list"] == "own"
    assert "whitelist-match" in good["codes"]
    bad = _check(fake, ["5.6.7.9"], terminal="freqtrade", whitelist="own", own_list=mine)
    assert bad["whitelist"]["missing"] == ["5.6.7.8"] and bad["whitelist"]["extra"] == ["5.6.7.9"]
    none = _check(fake, ["5.6.7.9"], terminal="altrady", whitelist="own")
    assert none["whitelist"]["state"] == "no-list" and "whitelist-not-compared" in none["codes"]


@pytest.fixture
def rotating(monkeypatch: pytest.MonkeyPatch):
    """Gainium's list with two "next" addresses taking over ``days`` from today."""
    real = catalogue.terminals()

    def set_days(days: int) -> None:
        when = (datetime.now(UTC).date() + timedelta(days=days)).isoformat()
        gainium = real["gainium"]
        entry = replace(gainium.lists[0], next=("62.84.191.120", "62.84.191.121"),
                        next_date=when)
        patched = {**real, "gainium": replace(gainium, lists=(entry,))}
        monkeypatch.setattr(catalogue, "terminals", lambda: patched)

    return set_days


def test_rotation_warns_within_seven_days_when_the_key_lacks_the_next_addresses(
        fake, rotating) -> None:
    current = [f"62.84.191.{n}" for n in range(108, 113)]
    rotating(5)
    lacking = _check(fake, current, terminal="gainium", whitelist="gainium")
    assert "whitelist-next-missing" in lacking["codes"]
    assert lacking["whitelist"]["next_missing"] == ["62.84.191.120", "62.84.191.121"]
    assert lacking["whitelist"]["next_date"] is not None
    assert lacking["worst"] == "warning"
    ready = _check(fake, [*current, "62.84.191.120", "62.84.191.121"], terminal="gainium",
                   whitelist="gainium")
    assert "whitelist-next-missing" not in ready["codes"]
    assert ready["whitelist"]["next_missing"] == []
    rotating(10)  # more than a week ahead: quiet
    quiet = _check(fake, current, terminal="gainium", whitelist="gainium")
    assert "whitelist-next-missing" not in quiet["codes"] and quiet["worst"] == "ok"
    rotating(0)  # the day itself: the next addresses are the list
    switched = _check(fake, current, terminal="gainium", whitelist="gainium")
    assert switched["whitelist"]["missing"] == ["62.84.191.120", "62.84.191.121"]

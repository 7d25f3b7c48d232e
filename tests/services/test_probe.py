"""Where does a refused key belong: the probe of the exchange's other environments (issue 17).

Two (or three) loopback fakes stand for an exchange's environments; a ``replace = true`` registry
file lists only them, so no check and no probe can reach a real host. The key is known on one.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import replace

import pytest

from tests.fakes.exchange import DEFAULT_KEYS, FakeConfig, FakeExchange, FakeKey
from tests.support.registry import loopback_registry
from tui.services.exchanges import exchange
from tui.services.keys.credentials import Credentials
from tui.services.verify import probe
from tui.services.verify.report import ProbeOutcome
from tui.services.verify.run import verify_key

OKX_DEMO = {"x-simulated-trading": "1"}
BITGET_DEMO = {"paptrading": "1"}


@pytest.fixture
def fakes() -> Iterator[list[FakeExchange]]:
    """Three fakes with no keys yet (a test puts each key where it belongs)."""
    with ExitStack() as stack:
        yield [stack.enter_context(FakeExchange(keys={ex: [] for ex in DEFAULT_KEYS}))
               for _ in range(3)]


def key_of(ex: str, **settings) -> FakeKey:
    return replace(DEFAULT_KEYS[ex], **settings)


def creds(key: FakeKey) -> Credentials:
    return Credentials(key.api_key, key.secret, key.passphrase)


def key_requests(fake: FakeExchange) -> list[str]:
    return [r.path for r in fake.requests if "time" not in r.path]


#: The header Bybit's signed calls carry the key in.
KEY_HEADER = "x-bapi-api-key"


def put_testnet_key_beside_mainnet(tmp_path, monkeypatch, fakes) -> tuple[FakeKey, FakeExchange,
                                                                   FakeExchange]:
    main, testnet, _ = fakes
    testnet.config.bybit_environment = "testnet"
    key = key_of("bybit", environment="testnet")
    main.keys["bybit"].append(key)
    testnet.keys["bybit"].append(key)
    loopback_registry(tmp_path / "env.toml", monkeypatch, {
        ("bybit", "mainnet"): main.url, ("bybit", "testnet"): testnet.url})
    return key, main, testnet


async def test_the_probe_reuses_the_connection_opened_beside_the_check(tmp_path, monkeypatch,
                                                                       fakes):
    """A key not yet known to work: the other environments get their public time call while
    the check runs (no key in it); after the refusal the key goes over that same connection,
    signed with that host's own time."""
    key, main, testnet = put_testnet_key_beside_mainnet(tmp_path, monkeypatch, fakes)
    testnet.config.clock_skew_ms = 20_000  # testnet's clock: the probe must sign with it
    report = await verify_key("bybit", main.url, creds(key), environment="mainnet")
    assert report.probe.belongs_to == "testnet"
    assert report.probe.asked[0].outcome == ProbeOutcome.WORKS
    time_call, key_call = testnet.requests
    assert "time" in time_call.path and KEY_HEADER not in time_call.headers
    assert "query-api" in key_call.path and key_call.headers[KEY_HEADER] == key.api_key
    assert key_call.connection == time_call.connection


async def test_a_key_that_worked_here_last_time_opens_no_other_connections(tmp_path,
                                                                          monkeypatch, fakes):
    """``probe_warm=False`` (what ``verify_account`` passes for a key whose last check
    worked): the other hosts hear nothing unless a refusal needs the probe."""
    main, testnet, _ = fakes
    key = key_of("bybit")
    main.keys["bybit"].append(key)
    loopback_registry(tmp_path / "env.toml", monkeypatch, {
        ("bybit", "mainnet"): main.url, ("bybit", "testnet"): testnet.url})
    report = await verify_key("bybit", main.url, creds(key), environment="mainnet",
                              probe_warm=False)
    assert report.ok and testnet.requests == []
    # Without it, a working key's check may leave the other host its public time call (the
    # check drops it once it has its own answer), never the key.
    report = await verify_key("bybit", main.url, creds(key), environment="mainnet")
    assert report.ok and [r.path for r in testnet.requests] in ([], ["/v5/market/time"])
    assert not any(KEY_HEADER in r.headers for r in testnet.requests)


async def test_verify_account_opens_connections_only_for_a_key_not_known_to_work(
        tmp_path, monkeypatch, fakes):
    from tui.services.store.model import Account, LastCheck
    from tui.services.verify.run import verify_account

    key, main, testnet = put_testnet_key_beside_mainnet(tmp_path, monkeypatch, fakes)
    account = Account(id="a", name="main", exchange="bybit", environment="mainnet",
                      base_url=main.url, whitelist="none", created_at="", updated_at="",
                      secret_ref="r")
    # Never checked: the time call opened the connection the probe then used.
    assert (await verify_account(account, creds(key))).probe.belongs_to == "testnet"
    time_call, key_call = testnet.requests
    assert "time" in time_call.path and key_call.connection == time_call.connection
    # Its last check worked (the key was since moved, say): the probe opens its own connection.
    worked = replace(account, last_check=LastCheck(ok=True, checked_at="2026-12-05T07:00:00Z",
                                                   summary="works", worst="ok"))
    testnet.requests.clear()
    assert (await verify_account(worked, creds(key))).probe.belongs_to == "testnet"
    assert [r.path for r in testnet.requests] == ["/v5/user/query-api"]


def _refused(summary: str, **fields) -> object:
    from tui.services.store.model import LastCheck

    return LastCheck(False, "2026-12-05T00:00:00Z", summary, "error", "failed", **fields)


@pytest.mark.parametrize(("last", "early"), [
    # The refusal's code is read from the record, whatever its summary's words.
    (_refused("failed: this host has no such key", permissions=(), error_code="10003"), True),
    # A record from before the field: read from its summary, as before.
    (_refused("failed: key not found (10003)"), True),
    # Another refusal whose summary happens to name an unknown-key code: no early probe.
    (_refused("failed: wrong secret (10004), not key not found (10003)", permissions=(),
              error_code="10004"), False),
], ids=["code-field", "old-record", "other-code"])
async def test_the_early_probe_is_decided_by_the_last_refusal_s_code(tmp_path, monkeypatch, fakes,
                                                                     last, early):
    """An early probe goes out beside the check, with no time call first; otherwise the other
    environment gets the warm-up's time call, then the probe over that connection."""
    from tui.services.store.model import Account
    from tui.services.verify.run import verify_account

    key, main, testnet = put_testnet_key_beside_mainnet(tmp_path, monkeypatch, fakes)
    account = Account(id="a", name="main", exchange="bybit", environment="mainnet",
                      base_url=main.url, whitelist="none", created_at="", updated_at="",
                      secret_ref="r", last_check=last)
    assert (await verify_account(account, creds(key))).probe.belongs_to == "testnet"
    paths = [r.path for r in testnet.requests]
    assert paths == (["/v5/user/query-api"] if early
                     else ["/v5/market/time", "/v5/user/query-api"])


async def test_a_slow_other_environment_never_holds_up_a_check_that_works(tmp_path,
                                                                         monkeypatch, fakes):
    main, testnet, _ = fakes
    key = key_of("bybit")
    main.keys["bybit"].append(key)
    testnet.config.latency_ms = 5000  # its time call would take 5 s
    loopback_registry(tmp_path / "env.toml", monkeypatch, {
        ("bybit", "mainnet"): main.url, ("bybit", "testnet"): testnet.url})
    started = time.monotonic()
    report = await verify_key("bybit", main.url, creds(key), environment="mainnet")
    assert report.ok
    assert time.monotonic() - started < 2.5  # the warm-up is dropped, not waited for


async def test_a_time_call_that_never_ends_leaves_the_probe_half_the_time(tmp_path,
                                                                         monkeypatch, fakes):
    """The other host sends its public time one byte at a time (each byte well within the read
    timeout, so only the whole-call deadline stops it): the probe waits for it at most half of
    what is left, then sends the key over a new connection, signed with the check's offset."""
    key, main, testnet = put_testnet_key_beside_mainnet(tmp_path, monkeypatch, fakes)
    testnet.config.fault, testnet.config.fault_on = "drip", "time"
    testnet.config.drip_interval = 0.05
    report = await verify_key("bybit", main.url, creds(key), environment="mainnet",
                              connect_timeout=0.4, read_timeout=0.8)
    assert report.probe.belongs_to == "testnet"
    time_call, key_call = testnet.requests
    assert "time" in time_call.path and key_call.connection != time_call.connection


async def test_the_warm_up_s_client_is_closed_even_when_its_close_is_cancelled(
        tmp_path, monkeypatch, fakes):
    """A check cancelled twice (``v`` pressed three times in a burst cancels the first check
    twice): the second cancellation lands while the warm-up ends its time calls, and its
    connections must still be closed."""
    main, testnet, _ = fakes
    testnet.config.latency_ms = 2000  # its time call is still on its way
    loopback_registry(tmp_path / "env.toml", monkeypatch, {
        ("bybit", "mainnet"): main.url, ("bybit", "testnet"): testnet.url})
    warm = probe.WarmHosts(exchange("bybit"), "mainnet", connect_timeout=1.0,
                           read_timeout=3.0).start()
    opened = await warm.connection("testnet", 0.05)
    assert opened is not None and opened[1] is None
    closing = asyncio.create_task(warm.close())
    await asyncio.sleep(0)  # close has cancelled the time call and waits for it to end
    closing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await closing
    assert opened[0].is_closed


async def test_no_probe_opens_no_connection_elsewhere(tmp_path, monkeypatch, fakes):
    key, main, testnet = put_testnet_key_beside_mainnet(tmp_path, monkeypatch, fakes)
    report = await verify_key("bybit", main.url, creds(key), environment="mainnet", probe=False)
    assert report.error.code == "10003" and testnet.requests == []


async def test_a_bybit_testnet_key_checked_on_mainnet_is_found_on_testnet(tmp_path, monkeypatch,
                                                                          fakes):
    main, testnet, other = fakes
    testnet.config.bybit_environment = "testnet"
    key = key_of("bybit", environment="testnet")
    main.keys["bybit"].append(key)  # mainnet's host knows of it only as another environment's
    testnet.keys["bybit"].append(key)
    # A third host listed for OKX: a Bybit probe must never ask it.
    other.keys["okx"].append(key_of("okx"))
    loopback_registry(tmp_path / "env.toml", monkeypatch, {
        ("bybit", "mainnet"): main.url, ("bybit", "testnet"): testnet.url,
        ("okx", "mainnet"): other.url})
    report = await verify_key("bybit", main.url, creds(key), environment="mainnet")
    assert report.error.code == "10003"
    assert report.probe.belongs_to == "testnet"
    assert report.to_json()["belongs_to"] == {"environment": "testnet",
                                              "host": testnet.url.removeprefix("http://")}
    assert [a["environment"] for a in report.to_json()["probe"]["asked"]] == ["testnet"]
    finding = next(f for f in report.findings if f.code == "belongs-to")
    assert "This is a Bybit Testnet key, not a Mainnet one" in finding.message
    assert other.requests == []  # another exchange's host: never asked
    assert len(key_requests(testnet)) == 1


async def test_no_probe_asks_nothing_and_says_nothing(tmp_path, monkeypatch, fakes):
    main, testnet, _ = fakes
    testnet.config.bybit_environment = "testnet"
    key = key_of("bybit", environment="testnet")
    testnet.keys["bybit"].append(key)
    loopback_registry(tmp_path / "env.toml", monkeypatch, {
        ("bybit", "mainnet"): main.url, ("bybit", "testnet"): testnet.url})
    report = await verify_key("bybit", main.url, creds(key), environment="mainnet", probe=False)
    assert report.error.code == "10003" and report.probe is None
    assert report.to_json()["belongs_to"] is None and report.to_json()["probe"] is None
    assert testnet.requests == []


async def test_a_custom_url_is_never_probed(tmp_path, monkeypatch, fakes):
    main, testnet, _ = fakes
    testnet.config.bybit_environment = "testnet"
    key = key_of("bybit", environment="testnet")
    testnet.keys["bybit"].append(key)
    loopback_registry(tmp_path / "env.toml", monkeypatch, {
        ("bybit", "mainnet"): main.url, ("bybit", "testnet"): testnet.url})
    for environment, url in (("custom", main.url), ("mainnet", main.url + "/other")):
        report = await verify_key("bybit", url, creds(key), environment=environment)
        assert report.probe is None, environment
    assert testnet.requests == []


# Every "this host does not know this key" code of item 3, each made by the fakes themselves.
# (exchange, code, registry {env: (fake index, headers)}, checked env, where the key lives, how)
CASES = [
    ("bybit", "10003", {"mainnet": (0, {}), "demo": (1, {})}, "mainnet", "demo", "env"),
    ("okx", "50101", {"mainnet": (0, {}), "demo": (0, OKX_DEMO)}, "mainnet", "demo", "env"),
    ("okx", "50111", {"mainnet": (0, {}), "eea": (1, {})}, "mainnet", "eea", "absent"),
    ("okx", "50119", {"mainnet": (0, {}), "eea": (1, {})}, "mainnet", "eea", "forced"),
    ("bitget", "40006", {"mainnet": (0, {}), "demo": (0, BITGET_DEMO)}, "mainnet", "demo", "env"),
    ("bitget", "40037", {"mainnet": (0, {}), "demo": (1, BITGET_DEMO)}, "mainnet", "demo",
     "absent"),
    ("binance", "-2015", {"mainnet": (0, {}), "demo": (1, {})}, "mainnet", "demo", "absent"),
    ("binance", "-2014", {"mainnet": (0, {}), "demo": (1, {})}, "mainnet", "demo", "forced"),
]


@pytest.mark.parametrize(("ex", "code", "envs", "checked", "home", "how"), CASES,
                         ids=[f"{c[0]}-{c[1]}" for c in CASES])
async def test_every_unknown_key_code_finds_the_environment_that_knows_the_key(
        tmp_path, monkeypatch, fakes, ex, code, envs, checked, home, how):
    env_of_key = "demo" if home == "demo" else "mainnet"
    key = key_of(ex, environment=env_of_key)
    if ex == "bybit":
        fakes[1].config.bybit_environment = "demo"
        fakes[0].keys[ex].append(key)
        fakes[1].keys[ex].append(key)
    elif how == "env":  # one host, the environment chosen by a header
        fakes[0].keys[ex].append(key)
    elif how == "absent":  # the checked host has never heard of the key
        fakes[1].keys[ex].append(key)
    else:  # forced: the checked host refuses with exactly this code
        fakes[0].keys[ex].append(key)
        fakes[0].config.force_code = code
        fakes[1].keys[ex].append(key)
    loopback_registry(tmp_path / "env.toml", monkeypatch, {
        (ex, env): (fakes[i].url, headers) for env, (i, headers) in envs.items()})
    report = await verify_key(ex, fakes[0].url, creds(key), environment=checked)
    assert report.error.code == code
    assert report.probe is not None and report.probe.belongs_to == home
    assert report.probe.asked[0].outcome == ProbeOutcome.WORKS
    assert fakes[2].requests == []


async def test_a_key_no_environment_knows_is_said_plainly(tmp_path, monkeypatch, fakes):
    main, eea, _ = fakes
    key = key_of("okx")
    loopback_registry(tmp_path / "env.toml", monkeypatch, {
        ("okx", "mainnet"): main.url, ("okx", "eea"): eea.url, ("okx", "my"): eea.url})
    report = await verify_key("okx", main.url, creds(key), environment="mainnet")
    assert report.error.code == "50111"
    assert report.probe.belongs_to is None and report.to_json()["belongs_to"] is None
    assert {a.environment for a in report.probe.asked} == {"eea", "my"}
    assert all(a.outcome == ProbeOutcome.UNKNOWN for a in report.probe.asked)
    assert any(f.code == "belongs-nowhere" for f in report.findings)


async def test_a_key_bound_elsewhere_on_the_other_environment_is_known_there(
        tmp_path, monkeypatch, fakes):
    main, demo, _ = fakes
    demo.config.bybit_environment = "demo"
    key = key_of("bybit", environment="demo", ips=("10.0.0.1",))
    demo.keys["bybit"].append(key)
    loopback_registry(tmp_path / "env.toml", monkeypatch, {
        ("bybit", "mainnet"): main.url, ("bybit", "demo"): demo.url})
    report = await verify_key("bybit", main.url, creds(key), environment="mainnet")
    assert report.probe.belongs_to == "demo"
    assert report.probe.asked[0].outcome == ProbeOutcome.KNOWN
    assert "bound to other addresses" in report.probe.asked[0].detail


async def test_probes_stay_within_the_checks_time_limit(tmp_path, monkeypatch, fakes):
    main, hanging, slow = fakes
    hanging.config = FakeConfig(fault="hang", hang_seconds=5)
    slow.config.latency_ms = 3000
    key = key_of("bybit")
    loopback_registry(tmp_path / "env.toml", monkeypatch, {
        ("bybit", "mainnet"): main.url, ("bybit", "testnet"): hanging.url,
        ("bybit", "demo"): slow.url})
    started = time.monotonic()
    report = await verify_key("bybit", main.url, creds(key), environment="mainnet",
                              connect_timeout=0.4, read_timeout=0.4)
    elapsed = time.monotonic() - started
    assert report.error.code == "10003"
    assert elapsed < 0.8 + 0.4  # the check's limit, with room for a busy machine
    assert {a.outcome for a in report.probe.asked} == {ProbeOutcome.UNTOLD}
    assert report.probe.belongs_to is None
    # No verdict is not "known nowhere".
    assert not any(f.code == "belongs-nowhere" for f in report.findings)


async def test_probes_run_at_once_not_one_after_another(tmp_path, monkeypatch):
    """Three slow environments cost about one of them: one after another would be >= 0.9 s."""
    key = key_of("bybit")
    with ExitStack() as stack:
        main, *slow = (stack.enter_context(FakeExchange(keys={"bybit": []})) for _ in range(4))
        for fake in slow:
            fake.config.latency_ms = 300
        loopback_registry(tmp_path / "env.toml", monkeypatch, {
            ("bybit", "mainnet"): main.url, **{("bybit", env): fake.url for env, fake in
                                               zip(("testnet", "demo", "region-eu"), slow,
                                                   strict=True)}})
        started = time.monotonic()
        report = await verify_key("bybit", main.url, creds(key), environment="mainnet")
        elapsed = time.monotonic() - started
    assert len(report.probe.asked) == 3
    assert all(a.outcome == ProbeOutcome.UNKNOWN for a in report.probe.asked)
    assert elapsed < 0.8


def test_the_shipped_registry_probes_only_its_own_exchange():
    """For every exchange and environment: the probe's targets are that exchange's registry
    entries, one per key group, never the checked group, never Binance.US or the spot testnet."""
    for info in (exchange(ex) for ex in DEFAULT_KEYS):
        own = {env.base_url for env in info.environments}
        for current in info.environments:
            chosen, _not_asked = probe.targets(info, current.id)
            assert {env.base_url for env in chosen} <= own
            assert current.group not in {env.group for env in chosen}
            assert len({env.group for env in chosen}) == len(chosen)
    bybit_targets, _ = probe.targets(exchange("bybit"), "mainnet")
    assert {env.id for env in bybit_targets} == {
        "testnet", "demo", "region-nl", "region-tr", "region-kz", "region-ge", "region-ae",
        "region-eu", "region-id"}  # not mainnet-bytick: the same keys as mainnet
    binance_targets, binance_not = probe.targets(exchange("binance"), "mainnet")
    assert [env.id for env in binance_targets] == ["demo"]
    assert binance_not[0].startswith("testnet:") and len(binance_not) == 1  # no Binance.US
    assert probe.targets(exchange("okx"), "custom") == ((), ())
    okx_targets, _ = probe.targets(exchange("okx"), "mainnet-openapi")
    assert "mainnet" not in {env.id for env in okx_targets}


# --- Binance -2015, as far as the facts allow (item 4) -------------------------------------------


async def test_binance_2015_unknown_everywhere_says_what_to_look_at(tmp_path, monkeypatch, fakes):
    main, demo, _ = fakes
    key = key_of("binance")  # shaped right, known nowhere: Binance cannot say which cause
    loopback_registry(tmp_path / "env.toml", monkeypatch, {
        ("binance", "mainnet"): main.url, ("binance", "demo"): demo.url})
    report = await verify_key("binance", main.url, creds(key), environment="mainnet")
    assert report.error.code == "-2015" and report.probe.belongs_to is None
    # Demo's own -2015 is no verdict either: it too could be an IP restriction.
    assert report.probe.asked[0].outcome == ProbeOutcome.UNTOLD
    finding = next(f for f in report.findings if f.code == "binance-2015-undecided")
    assert "IP restriction includes this machine's address" in finding.message
    assert "'Enable Reading' is on" in finding.message
    assert not any(f.code == "belongs-nowhere" for f in report.findings)


async def test_binance_2015_for_a_key_not_shaped_like_one_says_mistyped(tmp_path, monkeypatch,
                                                                        fakes):
    main, demo, _ = fakes
    key = key_of("binance", api_key="KLbinance-typo")
    loopback_registry(tmp_path / "env.toml", monkeypatch, {
        ("binance", "mainnet"): main.url, ("binance", "demo"): demo.url})
    report = await verify_key("binance", main.url, creds(key), environment="mainnet")
    finding = next(f for f in report.findings if f.code == "binance-2015-mistyped")
    assert "64 letters and digits" in finding.message


async def test_binance_2015_names_binance_us_without_asking_it(fakes):
    """Shipped registry: Binance.US is named in the explanation and is never a probe target."""
    from tui.services.verify.report import ExchangeError, ProbeSummary

    info = exchange("binance")
    found = probe.findings(info, "mainnet", ProbeSummary(), ExchangeError("-2015", "refused"),
                           key_shape_ok=True)
    text = " ".join(f.message for f in found)
    assert "Binance.US (api.binance.us) is for another exchange" in text
    chosen, _ = probe.targets(info, "mainnet")
    assert "api.binance.us" not in {env.host for env in chosen}


async def test_no_time_left_in_the_check_asks_no_one_and_says_so(tmp_path, monkeypatch, fakes):
    main, testnet, _ = fakes
    main.config.latency_ms = 300  # the refusal itself uses up most of the 0.45 s limit
    key = key_of("bybit")
    loopback_registry(tmp_path / "env.toml", monkeypatch, {
        ("bybit", "mainnet"): main.url, ("bybit", "testnet"): testnet.url})
    report = await verify_key("bybit", main.url, creds(key), environment="mainnet",
                              connect_timeout=0.05, read_timeout=0.4)
    assert report.error.code == "10003"
    assert report.probe.asked == () and report.probe.belongs_to is None
    assert report.probe.not_asked == ("testnet: no time left in the check",)
    # Only the public time call that opened the connection beside the check: no key was sent.
    assert key_requests(testnet) == []
    assert not any(KEY_HEADER in r.headers for r in testnet.requests)


async def test_an_environment_a_replacing_registry_lacks_is_never_checked(tmp_path, monkeypatch,
                                                                          fakes):
    """With ``replace = true`` only the listed hosts are used: an account on another name is not
    checked at its saved (real) address."""
    from tui.services.store.model import Account
    from tui.services.verify.run import verify_account

    main, _, _ = fakes
    loopback_registry(tmp_path / "env.toml", monkeypatch, {("bybit", "mainnet"): main.url})
    account = Account(id="a", name="eu", exchange="bybit", environment="region-eu",
                      base_url="https://api.bybit.eu", whitelist="none", created_at="",
                      updated_at="", secret_ref="r")
    report = await verify_account(account, creds(key_of("bybit")))
    assert report.error.kind == "bad-url" and "not in the environment list" in report.error.message
    assert main.requests == []


# --- a key refused as unknown last time: its probe runs beside the check -------------------------


def slow_pair(fakes, tmp_path, monkeypatch):
    main, testnet, _ = fakes
    testnet.config.bybit_environment = "testnet"
    key = key_of("bybit", environment="testnet")
    main.keys["bybit"].append(key)
    testnet.keys["bybit"].append(key)
    for fake in (main, testnet):
        fake.config.latency_ms = 300
    loopback_registry(tmp_path / "env.toml", monkeypatch, {
        ("bybit", "mainnet"): main.url, ("bybit", "testnet"): testnet.url})
    return main, testnet, key


async def test_after_a_refusal_the_probe_runs_beside_the_check(tmp_path, monkeypatch, fakes):
    from tui.services.store.model import Account, LastCheck
    from tui.services.verify.run import verify_account

    _main, _testnet, key = slow_pair(fakes, tmp_path, monkeypatch)
    account = Account(id="a", name="bot", exchange="bybit", environment="mainnet",
                      base_url="https://api.bybit.com", whitelist="none", created_at="",
                      updated_at="", secret_ref="r",
                      last_check=LastCheck(False, "2026-12-05T00:00:00Z",
                                           "failed: key not found (10003)", "error", "failed"))
    started = time.monotonic()
    report = await verify_account(account, creds(key))
    elapsed = time.monotonic() - started
    assert report.probe.belongs_to == "testnet"
    assert elapsed < 0.55  # one after the other: >= 0.6 s


async def test_an_early_probe_is_dropped_when_the_check_works(tmp_path, monkeypatch, fakes):
    main, _testnet, key = slow_pair(fakes, tmp_path, monkeypatch)
    main.config.bybit_environment = "testnet"  # the key works on the checked host now
    report = await verify_key("bybit", main.url, creds(key), environment="mainnet",
                              probe_early=True)
    assert report.ok and report.probe is None
    assert not any(f.code.startswith("belongs") for f in report.findings)


def test_a_slow_name_lookup_of_another_environment_holds_up_nothing(tmp_path, monkeypatch,
                                                                    fakes):
    """The warm-up looks each other host's name up in a daemon thread of its own: a name server
    that takes 3 s for one of them neither holds up a check that works nor the end of the
    event loop (``asyncio.run`` waits for its own thread pool, where httpx looks names up)."""
    import asyncio
    import socket

    main, testnet, _ = fakes
    key = key_of("bybit")
    main.keys["bybit"].append(key)
    slow_url = testnet.url.replace("127.0.0.1", "localhost")
    loopback_registry(tmp_path / "env.toml", monkeypatch, {
        ("bybit", "mainnet"): main.url, ("bybit", "testnet"): slow_url})
    real = socket.getaddrinfo

    def slow_for_localhost(host, *args, **kwargs):
        if host in ("localhost", b"localhost"):  # httpx's lookup passes bytes
            time.sleep(3)
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", slow_for_localhost)
    started = time.monotonic()
    report = asyncio.run(verify_key("bybit", main.url, creds(key), environment="mainnet"))
    assert report.ok
    assert time.monotonic() - started < 2.0

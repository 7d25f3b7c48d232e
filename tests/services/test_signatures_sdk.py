"""The official SDKs as oracles: pybit and python-okx talk to the fake exchange, and their
signatures equal keylink's for the same inputs. Every SDK request is checked to go to 127.0.0.1."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.fakes.exchange import FakeExchange
from tui.services.exchanges import bybit, okx

pybit_http = pytest.importorskip("pybit.unified_trading")
okx_account = pytest.importorskip("okx.Account")


def _only_loopback(url: str) -> None:
    host = urlsplit(str(url)).hostname
    assert host == "127.0.0.1", f"SDK test tried to reach {host}"


def _pybit_session(fake: FakeExchange, secret: str):
    session = pybit_http.HTTP(api_key=fake.key("bybit").api_key, api_secret=secret,
                              max_retries=1, retry_delay=0)
    # pybit builds "https://api.bybit.com"-style URLs from its endpoint attribute.
    session.endpoint = fake.url
    send = session.client.send

    def guarded(request, **kw):
        _only_loopback(request.url)
        return send(request, **kw)

    session.client.send = guarded
    return session


def _okx_api(fake: FakeExchange, secret: str, passphrase: str | None = None):
    key = fake.key("okx")
    api = okx_account.AccountAPI(key.api_key, secret, passphrase or key.passphrase, flag="0",
                                 domain=fake.url, debug=False)
    api.event_hooks["request"] = [lambda request: _only_loopback(request.url)]
    return api


# --- pybit ----------------------------------------------------------------------------------------


def test_pybit_reads_key_info_from_the_fake(fake):
    fake.key("bybit").permissions = frozenset({"read", "trade", "withdraw"})
    answer = _pybit_session(fake, fake.key("bybit").secret).get_api_key_information()
    assert answer["retCode"] == 0
    assert "Withdraw" in answer["result"]["permissions"]["Wallet"]
    assert answer["result"]["ips"] == ["*"]


def test_pybit_reads_server_time_from_the_fake(fake):
    answer = _pybit_session(fake, fake.key("bybit").secret).get_server_time()
    assert int(answer["result"]["timeSecond"]) > 1_600_000_000


def test_pybit_with_a_wrong_secret_is_refused(fake):
    from pybit.exceptions import FailedRequestError, InvalidRequestError

    with pytest.raises((FailedRequestError, InvalidRequestError)):
        _pybit_session(fake, "W" * 36).get_api_key_information()
    assert fake.requests, "the request reached the fake"


def test_keylink_bybit_signature_equals_pybits(fake):
    session = _pybit_session(fake, fake.key("bybit").secret)
    session.get_api_key_information()
    seen = fake.requests[-1].headers
    key = fake.key("bybit")
    ours = bybit.sign(key.secret, int(seen["x-bapi-timestamp"]), key.api_key,
                      int(seen["x-bapi-recv-window"]), "")
    assert ours == seen["x-bapi-sign"]
    # And for a GET with a query, straight through pybit's signing function.
    param = "1658384314791" + key.api_key + "5000" + "category=linear&symbol=BTCUSDT"
    from pybit._http_manager import generate_signature

    assert generate_signature(False, key.secret, param) == bybit.sign(
        key.secret, 1658384314791, key.api_key, 5000, "category=linear&symbol=BTCUSDT")


# --- python-okx ---------------------------------------------------------------------------------


def test_python_okx_reads_account_config_from_the_fake(fake):
    fake.key("okx").ips = ("127.0.0.1",)
    answer = _okx_api(fake, fake.key("okx").secret).get_account_config()
    assert answer["code"] == "0"
    assert answer["data"][0]["ip"] == "127.0.0.1"
    assert "trade" in answer["data"][0]["perm"]


@pytest.mark.parametrize(("secret", "passphrase", "code"), [
    ("0" * 32, None, "50113"),
    (None, "not-the-passphrase", "50105"),
])
def test_python_okx_with_wrong_credentials_is_refused(fake, secret, passphrase, code):
    api = _okx_api(fake, secret or fake.key("okx").secret, passphrase)
    assert api.get_account_config()["code"] == code


def test_keylink_okx_signature_equals_python_okx(fake):
    from okx import utils

    _okx_api(fake, fake.key("okx").secret).get_account_config()
    seen = fake.requests[-1].headers
    key = fake.key("okx")
    ours = okx.sign(key.secret, seen["ok-access-timestamp"], "GET", "/api/v5/account/config")
    assert ours == seen["ok-access-sign"]
    theirs = utils.sign(utils.pre_hash("2020-12-08T09:08:57.715Z", "GET",
                                       "/api/v5/account/config?ccy=BTC", "", False),
                        key.secret).decode()
    assert theirs == okx.sign(key.secret, "2020-12-08T09:08:57.715Z", "GET",
                              "/api/v5/account/config?ccy=BTC")

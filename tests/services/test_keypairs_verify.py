"""Self-generated keys against the fake exchange and the official SDKs (issue 11).

generate -> register the public key with the fake -> verify, per exchange and kind; the fake
checks signatures with the registered public key only. python-binance (``private_key``) and pybit
(``rsa_authentication=True``) sign the same strings byte for byte and are accepted by the fake.
"""

from __future__ import annotations

import pytest

from tests.fakes.exchange import FakeExchange
from tui.services.exchanges import binance, bitget, bybit
from tui.services.keys import keypairs
from tui.services.keys.credentials import Credentials
from tui.services.verify.run import verify_key


@pytest.fixture(scope="module")
def rsa_pair() -> keypairs.ParsedKey:
    return keypairs.generate(keypairs.RSA)


@pytest.fixture(scope="module")
def ed_pair() -> keypairs.ParsedKey:
    return keypairs.generate(keypairs.ED25519)


@pytest.mark.parametrize(("ex", "kind"), [("binance", "ed25519"), ("binance", "rsa"),
                                         ("bybit", "rsa"), ("bitget", "rsa")])
async def test_generate_register_verify(fake, ex, kind, rsa_pair, ed_pair):
    pair = ed_pair if kind == "ed25519" else rsa_pair
    key = fake.register_public_key(ex, pair.public_pem, ips=("127.0.0.1",))
    creds = Credentials(key.api_key, pair.private_pem, key.passphrase)
    report = await verify_key(ex, fake.url, creds, read_timeout=5.0)
    assert report.status == "works", report.error
    assert report.key_kind == pair.kind.id
    assert report.to_json()["key_kind"] == pair.kind.id


async def test_another_private_key_is_refused_as_a_bad_signature(fake, rsa_pair):
    key = fake.register_public_key("bybit", rsa_pair.public_pem)
    other = keypairs.generate(keypairs.RSA)
    report = await verify_key("bybit", fake.url, Credentials(key.api_key, other.private_pem),
                              read_timeout=5.0)
    assert report.status == "failed"
    assert report.error is not None and report.error.code == "10004"
    assert report.key_kind == "rsa-2048"


async def test_hmac_secret_reports_hmac_kind(fake):
    key = fake.key("bybit")
    report = await verify_key("bybit", fake.url, Credentials(key.api_key, key.secret),
                              read_timeout=5.0)
    assert report.status == "works" and report.key_kind == "hmac"


async def test_wrong_kind_for_the_exchange_fails_before_any_request(fake, ed_pair):
    report = await verify_key("bybit", fake.url, Credentials("KLbybitTESTkey0001",
                                                             ed_pair.private_pem),
                              read_timeout=5.0)
    assert report.status == "failed" and report.key_kind == "ed25519"
    assert report.error is not None
    assert report.error.message == "Bybit does not take Ed25519 keys (it takes HMAC or RSA)."
    okx = await verify_key("okx", fake.url, Credentials("k", ed_pair.private_pem, "p"),
                           read_timeout=5.0)
    assert okx.error is not None and "OKX does not take Ed25519" in okx.error.message
    assert not fake.requests


async def test_damaged_pem_secret_fails_with_one_message(fake, rsa_pair):
    cut = "\n".join(rsa_pair.private_pem.splitlines()[:6])
    report = await verify_key("binance", fake.url, Credentials("k" * 64, cut), read_timeout=5.0)
    assert report.status == "failed" and report.error is not None
    assert report.error.message.startswith("The private key is cut short")
    assert cut.splitlines()[2] not in str(report.to_json())


# --- python-binance -------------------------------------------------------------------------------

binance_client = pytest.importorskip("binance.client")


def _binance_client(fake: FakeExchange, api_key: str, pem: str):
    client = binance_client.Client(api_key, private_key=pem, ping=False)
    # Every URL python-binance builds for /sapi points at the fake (127.0.0.1 only).
    client.MARGIN_API_URL = f"{fake.url}/sapi"
    return client


@pytest.mark.parametrize("kind", ["ed25519", "rsa"])
def test_python_binance_signs_like_keylink_and_the_fake_accepts_it(fake, kind, rsa_pair,
                                                                   ed_pair):
    pair = ed_pair if kind == "ed25519" else rsa_pair
    key = fake.register_public_key("binance", pair.public_pem)
    client = _binance_client(fake, key.api_key, pair.private_pem)
    payload = "recvWindow=5000&timestamp=1700000000000"
    sdk = client._generate_signature({"recvWindow": 5000, "timestamp": 1700000000000})
    assert sdk == binance.signature_param(pair.private_pem, payload)
    answer = client.get_account_api_permissions()
    assert answer["ipRestrict"] is False and answer["enableReading"] is True
    assert all(r.path.startswith("/sapi/") for r in fake.requests)


# --- pybit ----------------------------------------------------------------------------------------

pybit_http = pytest.importorskip("pybit.unified_trading")


def test_pybit_rsa_signs_like_keylink_and_the_fake_accepts_it(fake, rsa_pair):
    from pybit._http_manager import generate_signature

    key = fake.register_public_key("bybit", rsa_pair.public_pem)
    message = f"1700000000000{key.api_key}5000category=spot"
    assert generate_signature(True, rsa_pair.private_pem, message) == bybit.sign_header(
        rsa_pair.private_pem, 1700000000000, key.api_key, 5000, "category=spot")
    session = pybit_http.HTTP(api_key=key.api_key, api_secret=rsa_pair.private_pem,
                              rsa_authentication=True, max_retries=1, retry_delay=0)
    session.endpoint = fake.url
    answer = session.get_api_key_information()
    assert answer["retCode"] == 0
    assert answer["result"]["rsaPublicKey"] == keypairs.public_key_body(rsa_pair.public_pem)


def test_bitget_rsa_signature_matches_the_official_sdk_recipe(rsa_pair):
    # BitgetLimited/v3-bitget-api-sdk utils.py signByRSA: PKCS1_v1_5 + SHA256 over the pre-hash,
    # base64; pycryptodome (pybit's dependency) plays the SDK here.
    import base64

    from Crypto.Hash import SHA256
    from Crypto.PublicKey import RSA
    from Crypto.Signature import pkcs1_15

    message = "1700000000000GET/api/v2/spot/account/info"
    sdk = base64.b64encode(pkcs1_15.new(RSA.import_key(rsa_pair.private_pem))
                           .sign(SHA256.new(message.encode()))).decode()
    assert sdk == bitget.sign(rsa_pair.private_pem, 1700000000000, "GET",
                              "/api/v2/spot/account/info")


async def test_rsa_work_stays_off_the_event_loop(fake):
    """In the app verify runs on the UI's loop: reading and signing with an RSA-4096 key (about
    a third of a second each here) must not stall it."""
    import asyncio
    import time

    pair = keypairs.generate(keypairs.RSA, 4096)
    key = fake.register_public_key("bybit", pair.public_pem)
    gaps: list[float] = []
    last = [time.perf_counter()]

    async def ticker() -> None:
        while True:
            await asyncio.sleep(0.01)
            now = time.perf_counter()
            gaps.append(now - last[0])
            last[0] = now

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)  # the ticker is running before verify starts
    last[0] = time.perf_counter()
    try:
        report = await verify_key("bybit", fake.url, Credentials(key.api_key, pair.private_pem),
                                  read_timeout=10.0)
    finally:
        task.cancel()
    gaps.append(time.perf_counter() - last[0])  # a loop blocked to the end counts too
    assert report.status == "works" and report.key_kind == "rsa-4096"
    assert max(gaps) < 0.25, f"event loop stalled for {max(gaps):.3f} s"

"""The masker of `keylink exec` (issue 19): every secret in CMD's output is concealed, also when it
is split across writes; real children over pipes and over a real pseudo-terminal."""

from __future__ import annotations

import os
import random
import sys
import tempfile

import pytest

from tui.services.handoff.masked_exec import (
    API_KEY_MIN,
    CONCEALED,
    StreamMasker,
    _Anchors,
    mask_values,
    run_masked,
)
from tui.services.keys.credentials import Credentials

SECRET = b"S3cretValue-abcdefghijklmnop"
PASSPHRASE = b"Pass-phrase-42"
KEY = b"KeyKeyKey123456789"


def expected(text: bytes, values: list[bytes]) -> bytes:
    for value in sorted(values, key=len, reverse=True):
        text = text.replace(value, CONCEALED)
    return text


def feed_in_pieces(values: list[bytes], text: bytes, cuts: list[int]) -> bytes:
    masker = StreamMasker(values)
    out, start = b"", 0
    for cut in [*cuts, len(text)]:
        out += masker.feed(text[start:cut])
        start = cut
    return out + masker.flush()


def test_a_value_split_at_every_point_is_concealed():
    text = b"config: secret=" + SECRET + b" pass=" + PASSPHRASE + b" end\n"
    values = [SECRET, PASSPHRASE]
    for cut in range(1, len(text)):
        assert feed_in_pieces(values, text, [cut]) == expected(text, values)
    # One byte at a time.
    assert feed_in_pieces(values, text, list(range(1, len(text)))) == expected(text, values)


def test_overlapping_values_and_random_splits():
    inner = b"abcabd"
    values = [b"abcabdXY", inner, b"dXYz", b"aaaa"]  # one inside another, prefixes, self-overlap
    rng = random.Random(19)
    for _ in range(2000):
        text = b"".join(rng.choice([b"a", b"b", b"c", b"d", b"X", b"Y", b"z", b"\n",
                                    *values]) for _ in range(rng.randint(0, 30)))
        cuts = sorted(rng.sample(range(1, len(text)), min(len(text) - 1, rng.randint(0, 6)))) \
            if len(text) > 1 else []
        assert feed_in_pieces(values, text, cuts) == expected(text, values), (text, cuts)


def test_the_quick_absence_check_never_misses_a_value():
    """``_Anchors`` says "no value here" only when that is true: random values and pieces, small
    and large, over narrow and wide alphabets, with values planted or not, and a stream whose
    make-up changes so that a rare byte turns common."""
    rng = random.Random(1919)
    for _ in range(600):
        alphabet = rng.choice([b"ab", b"abcdXYZ", bytes(range(256)), b"0123456789PQ \n"])
        values = sorted({bytes(rng.choice(alphabet) for _ in range(rng.randint(1, 12)))
                         for _ in range(rng.randint(1, 4))}, key=len, reverse=True)
        anchors = _Anchors(values)
        for _ in range(rng.randint(1, 6)):
            piece = bytearray(rng.choice(alphabet) for _ in range(rng.choice([0, 3, 80, 9000])))
            for _ in range(rng.randint(0, 2)):
                at = rng.randint(0, len(piece))
                piece[at:at] = rng.choice(values)
            end = rng.randint(0, len(piece))
            truth = all(bytes(piece).find(v, 0, end) == -1 for v in values)
            assert anchors.none_in(bytes(piece[:end])) == truth, (values, bytes(piece), end)


def test_a_log_whose_make_up_changes_is_still_masked_whole():
    """The anchor for the passphrase is a byte the first lines never hold; later the output is
    full of that byte, and the secret is in it, split across pieces."""
    first = b"2026-12-05 04:00:00 INFO  order filled at 97000.5\n" * 400
    later = b"PPPP Passphrase-2026? no, " * 500 + PASSPHRASE + b" and " + SECRET + b"\n"
    text = first + later + first + PASSPHRASE
    values = [SECRET, PASSPHRASE, b"Passphrase-2026"]
    rng = random.Random(7)
    cuts = sorted(rng.sample(range(1, len(text)), 40))
    assert feed_in_pieces(values, text, cuts) == expected(text, values)


def test_a_long_stream_in_pieces_is_masked_as_one_pass_would():
    """The masker as ``keylink exec`` drives it, over streams long enough for the absence check
    to choose anchors (a value's byte that is rare in the log), use them in later pieces and
    find them turn common: values with repeated bytes, one inside another, non-ASCII, longer
    than a piece; near misses and runs of an anchor's byte next to a value; pieces of 0 and 1
    bytes, odd sizes and 64 KiB; tails that begin a value; the flush at the end."""
    rng = random.Random(2612)
    utf8 = "€üß日本-ключ".encode()
    logs = [b"2026-12-05 INFO order filled at 97000.5 qty 0.01\n", b"ab", b"abcXYZ\n",
            bytes(range(256))]
    keys = [b"ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", utf8, b"ab", bytes(range(256)), b"Pp"]
    for _ in range(120):
        # The values' bytes rare in the log (as a secret's are), or the same bytes.
        log, alphabet = rng.choice(logs), rng.choice(keys)
        values: list[bytes] = []
        for _ in range(rng.randint(1, 4)):
            shape = rng.random()
            if shape < 0.25 and values:  # one inside another
                outer = rng.choice(values)
                start = rng.randrange(len(outer))
                values.append(outer[start:rng.randint(start + 1, len(outer))])
            elif shape < 0.4:  # one byte repeated
                values.append(bytes([rng.choice(alphabet)]) * rng.randint(1, 9))
            else:
                values.append(bytes(rng.choices(alphabet, k=rng.choice([1, 2, 5, 15, 64, 300]))))
        # A value that CONCEALED itself holds (or that could join it to the text around it) is
        # masked again inside the words put in its place: one pass and pieces then differ in
        # how often, which says nothing about a value left in the output.
        values = [v for v in values if v not in CONCEALED and not {60, 62} & set(v)]
        # Two values of one length that overlap are masked in the masker's order (a set's):
        # either way one is masked and a byte of the other shows, so one value per length.
        values = list({len(v): v for v in values}.values())
        if not values:
            continue
        text = bytearray()
        size = rng.choice([6_000, 20_000, 70_000])
        while len(text) < size:
            pick = rng.random()
            value = rng.choice(values)
            if pick < 0.03:
                text += value
            elif pick < 0.06:  # a near miss: the value less a byte, or with one byte changed
                cut = rng.randrange(len(value))
                text += rng.choice([value[:cut] + value[cut + 1:],
                                    value[:cut] + bytes([rng.choice(log)]) + value[cut + 1:]])
            elif pick < 0.08:  # a byte of the value (its first, often), repeated, then it
                text += bytes([rng.choice([value[0], *value])]) * rng.randint(1, 3) + value
            else:
                # Half-way the log may change its make-up: a rare byte turns common.
                source = log if len(text) < size // 2 else rng.choice([log, alphabet])
                text += bytes(rng.choices(source, k=rng.randint(1, 200)))
        # Tiny pieces beside large ones: anchors chosen in a large piece, used in the tiny ones.
        pieces = rng.choice([[0, 1, 1, 2, 3, 5000], [4095, 4097], [1 << 16], [0, 7, 300, 9000]])
        cuts, at = [], 0
        while at < len(text):
            at += rng.choice(pieces)
            cuts.append(min(at, len(text)))
        data = bytes(text)
        assert feed_in_pieces(values, data, cuts) == expected(data, values), values


def test_an_anchor_that_turns_common_inside_a_piece_still_finds_the_value():
    """The anchor ``Q`` never occurs in the log it was chosen from; then a piece holds a run of
    ``Q`` and the value right after it: whether the places run out before the value, on it or
    after it, and however the run lines up, the value is found."""
    anchors = _Anchors([b"QZZZ"])
    assert anchors.none_in(b"2026-12-05 INFO order filled at 97000.5\n" * 200)
    for run in range(1, 40):
        assert not anchors.none_in(b"Q" * run + b"ZZZ"), run
        assert anchors.none_in(b"Q" * run + b"ZZ"), run


def test_ordinary_output_is_not_held_back():
    masker = StreamMasker([SECRET])
    assert masker.feed(b"starting the bot\n") == b"starting the bot\n"
    # Only a tail that could begin the secret waits for the next write.
    assert masker.feed(b"key: S3cr") == b"key: "
    assert masker.feed(b"et? no\n") == b"S3cret? no\n"


def test_what_is_masked():
    env = {"A": KEY.decode(), "B": SECRET.decode(), "C": PASSPHRASE.decode()}
    creds = Credentials(KEY.decode(), SECRET.decode(), PASSPHRASE.decode())
    assert sorted(mask_values(creds, env)) == sorted([KEY, SECRET, PASSPHRASE])
    short = Credentials("k" * (API_KEY_MIN - 1), SECRET.decode(), "")
    assert mask_values(short, {"A": short.api_key, "B": SECRET.decode()}) == [SECRET]
    # Only what CMD was given: a key not in its environment is not looked for.
    assert mask_values(creds, {"B": SECRET.decode()}) == [SECRET]
    pem = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIAbc\n-----END PRIVATE KEY-----\n"
    values = mask_values(Credentials(KEY.decode(), pem, ""), {"B": pem})
    assert pem.encode() in values and pem.replace("\n", "\\n").encode() in values


CHILD = """
import os, sys, time
secret = os.environ["S"].encode()
half = len(secret) // 2
os.write(1, b"tty=%d out " % os.isatty(1) + secret[:half])
time.sleep(0.05)
os.write(1, secret[half:] + b" done\\n")
os.write(2, b"err " + secret + b"\\n")
sys.exit(int(sys.argv[1]))
"""


def test_a_real_child_over_pipes():
    env = {**os.environ, "S": SECRET.decode()}
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        ended = run_masked([sys.executable, "-c", CHILD, "7"], sys.executable, env, [SECRET],
                           stdout=out.fileno(), stderr=err.fileno())
        out.seek(0)
        err.seek(0)
        assert ended.code == 7 and ended.signal is None
        assert out.read() == b"tty=0 out " + CONCEALED + b" done\n"
        assert err.read() == b"err " + CONCEALED + b"\n"


def test_a_real_child_sees_a_terminal_and_is_masked():
    """keylink's stdout is a pty here: CMD gets a pty of its own, its split write is masked."""
    master, slave = os.openpty()
    try:
        env = {**os.environ, "S": SECRET.decode()}
        ended = run_masked([sys.executable, "-c", CHILD, "0"], sys.executable, env, [SECRET],
                           stdout=slave, stderr=slave)
        assert ended.code == 0
        os.close(slave)
        slave = -1
        seen = b""
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(master)
        if slave != -1:
            os.close(slave)
    text = seen.replace(b"\r\n", b"\n")
    assert b"tty=1 out " + CONCEALED + b" done\n" in text
    assert b"err " + CONCEALED + b"\n" in text
    assert SECRET not in seen and SECRET[:10] not in seen


def test_a_child_killed_by_a_signal_is_reported_as_such():
    with tempfile.TemporaryFile() as out:
        ended = run_masked(["sh", "-c", "kill -USR1 $$"], "/bin/sh", dict(os.environ), [SECRET],
                           stdout=out.fileno(), stderr=out.fileno())
    assert ended.signal == 10 and ended.shell_code == 138


@pytest.mark.parametrize("size", [0, 1, 65536 * 3 + 7])
def test_everything_arrives(size: int):
    payload = bytes(b"abcdefgh \n"[b % 10] for b in random.Random(size).randbytes(size))
    with tempfile.NamedTemporaryFile() as source, tempfile.TemporaryFile() as out:
        source.write(payload)
        source.flush()
        ended = run_masked(["cat", source.name], "/bin/cat", dict(os.environ), [SECRET],
                           stdout=out.fileno(), stderr=out.fileno())
        out.seek(0)
        assert ended.code == 0 and out.read() == payload

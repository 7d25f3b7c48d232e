"""Whitelist profiles, parsing of user files, formats and comparison."""

from __future__ import annotations

import contextlib
import json
import os
import threading
from pathlib import Path

import pytest

from tui.services.terminals import whitelist

GENERAL = (
    "18.167.89.125,18.167.8.216,43.198.26.42,18.166.216.236,18.163.207.89,43.198.196.202,"
    "43.198.149.125,43.198.214.66,18.167.53.222,18.166.252.235,16.163.177.207,18.167.243.99,"
    "18.167.32.21,18.166.224.0,18.166.106.248,18.162.176.190,16.163.65.4,18.167.188.106,"
    "16.163.19.198,18.167.49.196"
)


def test_shipped_profiles_have_their_counts_source_and_date() -> None:
    profiles = whitelist.profiles()
    # The old profile ids are the catalogue's list ids: accounts and scripts naming them work.
    assert list(profiles)[:2] == ["insilico-general", "insilico-bitget"]
    assert len(profiles["insilico-general"].addresses) == 20
    assert len(profiles["insilico-bitget"].addresses) == 30
    for profile in profiles.values():
        assert profile.source and profile.terminal
    assert profiles["insilico-bitget"].date == "2023-08-14"
    # Copied from an article, not an Insilico page: the source says so.
    assert profiles["insilico-general"].source.startswith("unofficial copy")


def test_default_profile_in_comma_format_is_exactly_the_published_list() -> None:
    addresses = whitelist.profile(whitelist.DEFAULT_PROFILE).addresses
    assert whitelist.format_addresses(addresses, "comma") == GENERAL


def test_formats() -> None:
    addresses = ("1.2.3.4", "5.6.7.8")
    assert whitelist.format_addresses(addresses, "comma") == "1.2.3.4,5.6.7.8"
    assert whitelist.format_addresses(addresses, "lines") == "1.2.3.4\n5.6.7.8"
    assert whitelist.format_addresses(addresses, "space") == "1.2.3.4 5.6.7.8"
    assert json.loads(whitelist.format_addresses(addresses, "json")) == list(addresses)
    with pytest.raises(ValueError, match="unknown format"):
        whitelist.format_addresses(addresses, "csv")


def test_unknown_profile_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="insilico-general"):
        whitelist.profile("nope")


@pytest.mark.parametrize(
    "text",
    [
        "1.2.3.4,5.6.7.8",
        "1.2.3.4\n5.6.7.8\n",
        "  1.2.3.4 ,  5.6.7.8  ",
        "# Insilico servers\n1.2.3.4  # first\r\n5.6.7.8",
        "1.2.3.4; 5.6.7.8",
        "1.2.3.4/32\n5.6.7.8",
    ],
)
def test_parse_accepts_the_usual_separators_and_comments(text: str) -> None:
    assert whitelist.parse_addresses(text).addresses == ("1.2.3.4", "5.6.7.8")


def test_parse_accepts_ipv6_and_normalises_it() -> None:
    result = whitelist.parse_addresses("2001:DB8::1\n1.2.3.4")
    assert result.addresses == ("2001:db8::1", "1.2.3.4")


def test_duplicates_are_dropped_and_reported() -> None:
    result = whitelist.parse_addresses("1.2.3.4,5.6.7.8,1.2.3.4\n5.6.7.8")
    assert result.addresses == ("1.2.3.4", "5.6.7.8")
    assert result.duplicates == ("1.2.3.4", "5.6.7.8")


def test_bad_lines_are_named_with_their_numbers() -> None:
    with pytest.raises(whitelist.WhitelistError) as caught:
        whitelist.parse_addresses("1.2.3.4\n300.1.1.1\nexample.com\n10.0.0.0/8", source="list.txt")
    message = str(caught.value)
    assert "list.txt" in message
    assert "line 2: '300.1.1.1'" in message
    assert "line 3: 'example.com'" in message
    assert "line 4: '10.0.0.0/8' is a network range" in message
    assert [n for n, _, _ in caught.value.bad_lines] == [2, 3, 4]


def test_many_bad_lines_are_summarised() -> None:
    text = "\n".join(f"bad{i}" for i in range(12))
    with pytest.raises(whitelist.WhitelistError, match="and 7 more"):
        whitelist.parse_addresses(text)


def test_empty_text_is_an_error() -> None:
    with pytest.raises(whitelist.WhitelistError, match="no IP addresses"):
        whitelist.parse_addresses("# only a comment\n\n")


def test_load_file_good(tmp_path: Path) -> None:
    file = tmp_path / "ips.txt"
    file.write_text("\ufeff1.2.3.4\n5.6.7.8\n", encoding="utf-8")
    result = whitelist.load_file(file)
    assert result.addresses == ("1.2.3.4", "5.6.7.8")
    assert result.source == str(file)


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda d: d / "missing.txt", "no such file"),
        (lambda d: d, "is a folder"),
        (lambda d: _write(d / "bin", b"\xff\xfe\x00\x81"), "not a text file"),
        (lambda d: _write(d / "big", b"1.2.3.4\n" * 40_000), "too large"),
    ],
)
def test_load_file_failures_have_clear_messages(tmp_path: Path, make, expected: str) -> None:
    with pytest.raises(whitelist.WhitelistError, match=expected):
        whitelist.load_file(make(tmp_path))


def _pipe_fed_with(data: bytes) -> tuple[str, int, threading.Thread]:
    """``/dev/fd/N`` of a pipe this process holds (as a shell's ``<(cmd)`` or ``--file -``
    gives one), filled by a thread; stat() of it says 0 bytes, like /dev/stdin or /dev/zero."""
    read_end, write_end = os.pipe()

    def feed() -> None:
        with contextlib.suppress(BrokenPipeError), open(write_end, "wb") as writer:
            writer.write(data)

    thread = threading.Thread(target=feed, daemon=True)
    thread.start()
    return f"/dev/fd/{read_end}", read_end, thread


def test_a_pipe_is_read_with_the_size_limit_too() -> None:
    # stat() says 0 bytes for a pipe or a device, so only a bounded read stops /dev/zero.
    path, read_end, thread = _pipe_fed_with(b"1.2.3.4\n" * 200_000)
    try:
        with pytest.raises(whitelist.WhitelistError, match="too large"):
            whitelist.load_file(path, allow_pipe=True)
    finally:
        os.close(read_end)
    thread.join(5)


def test_a_small_list_from_a_pipe_still_loads() -> None:
    path, read_end, thread = _pipe_fed_with(b"1.2.3.4\n5.6.7.8\n")
    try:
        assert whitelist.load_file(path, allow_pipe=True).addresses == ("1.2.3.4", "5.6.7.8")
    finally:
        os.close(read_end)
    thread.join(5)


def test_a_named_pipe_is_refused_at_once_even_where_pipes_are_allowed(tmp_path: Path) -> None:
    """Issue 15: opening a FIFO nobody writes to waits forever. It is refused before any open,
    from the app (``o``) and from the command line (``allow_pipe``) alike."""
    import time

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for allow_pipe in (False, True):
        started = time.monotonic()
        with pytest.raises(whitelist.WhitelistError, match="named pipe"):
            whitelist.load_file(fifo, allow_pipe=allow_pipe)
        assert time.monotonic() - started < 2


def test_a_terminal_on_stdin_is_refused() -> None:
    main, replica = os.openpty()
    saved = os.dup(0)
    try:
        os.dup2(replica, 0)
        with pytest.raises(whitelist.WhitelistError, match="terminal"):
            whitelist.load_file("-", allow_pipe=True)
    finally:
        os.dup2(saved, 0)
        for fd in (saved, main, replica):
            os.close(fd)


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_stale_warning_after_a_year() -> None:
    from datetime import date

    today = date(2026, 11, 28)
    assert whitelist.stale_warning("2026-01-01", today) is None
    assert whitelist.stale_warning("2025-11-28", today) is None  # exactly a year
    assert "over a year" in (whitelist.stale_warning("2025-11-01", today) or "")
    assert "over 3 years" in (whitelist.stale_warning("2023-08-14", today) or "")
    assert whitelist.stale_warning("not a date", today) is None


def test_unroutable_names_loopback_private_and_documentation_ranges() -> None:
    found = dict(whitelist.unroutable(
        ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "192.0.2.1", "198.51.100.2",
         "203.0.113.3", "169.254.0.1", "::1", "2001:db8::1", "8.8.8.8", "18.167.89.125"]))
    assert set(found) == {"127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "192.0.2.1",
                          "198.51.100.2", "203.0.113.3", "169.254.0.1", "::1", "2001:db8::1"}
    assert found["127.0.0.1"].startswith("loopback")
    assert found["192.0.2.1"] == "reserved for documentation"
    assert found["10.1.2.3"].startswith("private")
    for profile in whitelist.profiles().values():
        assert whitelist.unroutable(profile.addresses) == []
        assert profile.source_url.startswith("https://")

"""Copying: OSC 52 always, the local clipboard where one exists, never a crash."""

from __future__ import annotations

import base64

from textual.app import App

from tui.services.handoff import clipboard, newest_copy


def test_osc52_always_and_local_clipboard_when_available() -> None:
    sent: list[str] = []
    local: list[str] = []
    result = clipboard.copy_text(
        "1.2.3.4,5.6.7.8",
        sent.append,
        local_copy=lambda text: local.append(text) or True,
        local_available=True,
    )
    assert sent == ["1.2.3.4,5.6.7.8"]
    assert local == ["1.2.3.4,5.6.7.8"]
    assert result.ways == (clipboard.OSC52, clipboard.SYSTEM)
    assert result.describe() == ("sent to your terminal's clipboard (OSC 52) and copied to the "
                                 "system clipboard")


def test_no_local_clipboard_means_osc52_only() -> None:
    called: list[str] = []
    result = clipboard.copy_text(
        "x", lambda _text: None, local_copy=called.append, local_available=False
    )
    assert called == []
    assert result.ways == (clipboard.OSC52,)


def test_failing_pyperclip_is_ignored(monkeypatch) -> None:
    import pyperclip

    def broken(_text: str) -> None:
        raise pyperclip.PyperclipException("could not find a copy/paste mechanism")

    monkeypatch.setattr(pyperclip, "copy", broken)
    result = clipboard.copy_text("1.2.3.4", lambda _text: None, local_available=True)
    assert result.ways == (clipboard.OSC52,)


def test_failing_terminal_write_is_reported_not_raised() -> None:
    def broken(_text: str) -> None:
        raise OSError("terminal gone")

    result = clipboard.copy_text("1.2.3.4", broken, local_available=False)
    assert result.ways == ()
    assert "select the text on screen" in result.describe()


def test_local_clipboard_detection() -> None:
    assert clipboard.has_local_clipboard({}, "darwin")
    assert clipboard.has_local_clipboard({}, "win32")
    assert clipboard.has_local_clipboard({"DISPLAY": ":0"}, "linux")
    assert clipboard.has_local_clipboard({"WAYLAND_DISPLAY": "wayland-0"}, "linux")
    assert not clipboard.has_local_clipboard({"SSH_TTY": "/dev/pts/1"}, "linux")


async def test_osc52_payload_written_by_textual_is_the_exact_text() -> None:
    """The bytes that reach the terminal are OSC 52 with the base64 of exactly the copied text."""
    text = "18.167.89.125,18.167.8.216"
    app = App()
    async with app.run_test() as pilot:
        written: list[str] = []
        original = app._driver.write
        app._driver.write = lambda data: (written.append(data), original(data))[1]
        result = clipboard.copy_text(text, app.copy_to_clipboard, local_available=False)
        await pilot.pause()
    payloads = [w for w in written if w.startswith("\x1b]52;c;")]
    assert len(payloads) == 1
    assert payloads[0].endswith("\a")
    assert base64.b64decode(payloads[0][len("\x1b]52;c;") : -1]).decode() == text
    assert result.ways == (clipboard.OSC52,)
    assert app.clipboard == text


# -- clearing -------------------------------------------------------------------------------------


def test_clip_time_default_and_bad_values() -> None:
    import pytest

    assert clipboard.clip_time({}) == 45
    assert clipboard.clip_time({"KEYLINK_CLIP_TIME": " 3 "}) == 3
    for bad in ("0", "-1", "1.5", "soon", "86401"):
        with pytest.raises(ValueError, match="whole number of seconds"):
            clipboard.clip_time({"KEYLINK_CLIP_TIME": bad})


def test_osc52_sequence_is_the_exact_escape() -> None:
    assert clipboard.osc52_sequence("héllo") == (
        b"\x1b]52;c;" + base64.b64encode("héllo".encode()) + b"\x07")


def test_clear_overwrites_osc52_always_and_the_local_clipboard_only_if_it_still_holds_it(
    monkeypatch,
) -> None:
    import pyperclip

    held = ["the secret"]
    monkeypatch.setattr(pyperclip, "paste", lambda: held[-1])
    monkeypatch.setattr(pyperclip, "copy", held.append)
    sent: list[str] = []
    clipboard.clear_clipboard(clipboard.digest("the secret"), sent.append, local_available=True,
                              environ={})
    assert sent == [clipboard.CLEARED_TEXT] and held[-1] == clipboard.CLEARED_TEXT

    held.append("the user's own later copy")
    clipboard.clear_clipboard(clipboard.digest("the secret"), sent.append, local_available=True,
                              environ={})
    assert held[-1] == "the user's own later copy"  # left alone
    assert sent == [clipboard.CLEARED_TEXT] * 2  # OSC 52 cannot be read back: always


def test_clear_timer_fires_each_copy_once_after_its_own_delay() -> None:
    """Every copy keeps its clear (an earlier one still drops its tmux buffers when it fires;
    clear_clipboard decides whether it may touch the clipboard)."""
    import threading
    import time

    fired: list[tuple[str, str | None]] = []
    done = threading.Event()
    timer = clipboard.ClearTimer(lambda d, i: (fired.append((d, i)), done.set()))
    timer.start("first", 5, "id-1")
    timer.start("second", 0.2, "id-2")
    assert timer.pending
    started = time.monotonic()
    assert done.wait(3)
    assert time.monotonic() - started >= 0.15
    time.sleep(0.1)
    assert fired == [("second", "id-2")] and timer.pending  # the first is still to come
    assert timer.clear_now() is True
    assert fired == [("second", "id-2"), ("first", "id-1")] and not timer.pending
    assert timer.clear_now() is False  # nothing left to clear


def test_a_clear_leaves_a_later_copy_alone(monkeypatch) -> None:
    """Copy A, then copy B: A's clear finds B named as the newest copy and sends nothing; B's
    clear then clears. Copies on another clipboard (another tmux server) do not count."""
    import pyperclip

    monkeypatch.delenv("TMUX", raising=False)
    monkeypatch.delenv("SSH_CONNECTION", raising=False)
    monkeypatch.delenv("SSH_CLIENT", raising=False)
    held: list[str] = []
    monkeypatch.setattr(pyperclip, "paste", lambda: held[-1])
    monkeypatch.setattr(pyperclip, "copy", held.append)
    sent: list[str] = []

    first = clipboard.copy_text("the secret", sent.append, local_available=True)
    second = clipboard.copy_text("the key", sent.append, local_available=True)
    assert first.copy_id and second.copy_id and first.copy_id != second.copy_id
    record = newest_copy.newest_record_path().read_text()
    assert second.copy_id in record and "the key" not in record
    assert clipboard.digest("the key") not in record
    assert newest_copy.newest_record_path().stat().st_mode & 0o777 == 0o600

    assert clipboard.clear_clipboard(clipboard.digest("the secret"), sent.append,
                                     copy_id=first.copy_id, local_available=True) is False
    assert sent == ["the secret", "the key"] and held[-1] == "the key"  # untouched
    assert clipboard.clear_clipboard(clipboard.digest("the key"), sent.append,
                                     copy_id=second.copy_id, local_available=True) is True
    assert sent[-1] == clipboard.CLEARED_TEXT and held[-1] == clipboard.CLEARED_TEXT

    # A copy on another tmux server's clipboard is not "newer" for this one.
    third = clipboard.copy_text("another", sent.append, local_available=False,
                                environ={"TMUX": "/tmp/other-socket,1,0"})
    assert third.copy_id
    assert newest_copy.newest_record_path({"TMUX": "/tmp/other-socket,1,0"}) \
        != newest_copy.newest_record_path()
    fourth = clipboard.copy_text("mine", sent.append, local_available=False)
    clipboard.copy_text("elsewhere", sent.append, local_available=False,
                        environ={"SSH_CONNECTION": "203.0.113.9 50000 10.0.0.2 22"})
    assert clipboard.clear_clipboard(clipboard.digest("mine"), sent.append,
                                     copy_id=fourth.copy_id, local_available=False) is True


def test_tmux_state_only_inside_tmux() -> None:
    assert clipboard.tmux_set_clipboard({}) is None
    assert clipboard.tmux_advice(None) == "" and clipboard.tmux_advice("on") == ""
    assert "tmux set -g set-clipboard on" in clipboard.tmux_advice("off")


def test_tmux_advice_says_why_nothing_arrived() -> None:
    """Over ssh with tmux's default 'external': tmux ignores a program's OSC 52 (it only sends
    its own copy-mode copies out), so nothing reached the user's computer."""
    advice = clipboard.tmux_advice("external", remote=True)
    assert advice.startswith("Nothing reached your computer's clipboard: tmux here has "
                             "set-clipboard external (tmux's default), which drops a program's "
                             "OSC 52.")
    assert "`tmux set -g set-clipboard on`" in advice
    assert clipboard.tmux_advice("off").startswith("Nothing reached your terminal's clipboard: "
                                                   "tmux here has set-clipboard off, which")
    assert "default" not in clipboard.tmux_advice("off")


def _fake_tmux(tmp_path, output: str, code: int = 0) -> dict[str, str]:
    """An environment inside a "tmux" whose show-environment prints ``output``."""
    import os
    import sys

    fake = tmp_path / "bin" / "tmux"
    fake.parent.mkdir(exist_ok=True)
    fake.write_text(f"#!{sys.executable}\nimport sys\nsys.stdout.write({output!r})\n"
                    f"sys.exit({code})\n")
    fake.chmod(0o755)
    return {"TMUX": "/tmp/sock,1,0", "PATH": f"{fake.parent}:{os.environ['PATH']}"}


def test_remote_session_from_the_ssh_variables_or_tmuxs_session(tmp_path) -> None:
    assert clipboard.remote_session({"SSH_CONNECTION": "203.0.113.9 5 10.0.0.2 22"}) is True
    assert clipboard.remote_session({"SSH_TTY": "/dev/pts/3"}) is True
    assert clipboard.remote_session({}) is False
    # Inside tmux the pane's variables may be stale: tmux's session environment counts.
    attached = _fake_tmux(tmp_path, "DISPLAY=:0\nSSH_CONNECTION=203.0.113.9 5 10.0.0.2 22\n")
    assert clipboard.remote_session(attached) is True
    local = _fake_tmux(tmp_path, "-SSH_CONNECTION\n-SSH_TTY\nTERM=xterm\n")
    assert clipboard.remote_session(local) is False
    broken = _fake_tmux(tmp_path, "", code=1)
    assert clipboard.remote_session(broken) is None  # cannot tell


def test_the_ssh_note_names_what_the_clear_cannot_reach() -> None:
    assert clipboard.remote_copy_note(False) == ""
    over_ssh = clipboard.remote_copy_note(True)
    assert over_ssh.startswith("Over ssh, the clear reaches only this machine's tmux and "
                               "clipboard.")
    assert "tmux choose-buffer" in over_ssh and "clipboard history" in over_ssh
    assert clipboard.remote_copy_note(None).startswith("If this is an ssh session,")


def test_the_public_key_notice_of_the_command_line_is_a_sentence(capsys) -> None:
    """It printed "(copied sent to your terminal's clipboard (OSC 52))"."""
    from tui.cli.accounts import _copy_on_terminal

    _copy_on_terminal("-----BEGIN PUBLIC KEY-----")
    err = capsys.readouterr().err
    assert "copied sent" not in err
    assert err.startswith("(the public key: sent to your terminal's clipboard (OSC 52)")


def test_the_detached_clearer_writes_to_the_terminal_it_was_given_not_to_a_reused_path(
    monkeypatch,
) -> None:
    """The helper holds the terminal open from the start: it writes to that terminal, and while
    it waits the /dev/pts number cannot be handed to a new terminal and written into."""
    import os
    import select
    import time

    monkeypatch.delenv("TMUX", raising=False)
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    master, slave = os.openpty()
    path = os.ttyname(slave)
    try:
        clipboard.spawn_clearer(clipboard.digest("a secret"), 1, path)
        os.close(slave)
        slave = -1
        got = b""
        deadline = time.monotonic() + 20
        expected = clipboard.osc52_sequence(clipboard.CLEARED_TEXT)
        while expected not in got and time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                got += os.read(master, 4096)
        assert expected in got
    finally:
        if slave >= 0:
            os.close(slave)
        os.close(master)

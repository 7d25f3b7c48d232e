"""Copy text to the user's clipboard by every way that can work where they are.

OSC 52 always: the terminal itself sets the clipboard, which reaches the user's own machine
through SSH and tmux. pyperclip as well where a local clipboard exists (a display, macOS,
Windows); its failure is ignored. The caller keeps the text on screen for terminals that
support neither. Here too: clearing a copied credential later (OSC 52, the local clipboard, tmux's
paste buffers), what tmux and ssh let through, and the detached clearer `keylink copy` starts
(``python -m tui.services.handoff.clipboard``). The record of which copy is the newest, which a
clear checks first, is in ``newest_copy.py``.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tui.services.core.child_env import child_environ, clean_library_children
from tui.services.handoff.newest_copy import newest_record, read_newest, write_newest

OSC52 = "OSC 52"
SYSTEM = "system clipboard"


@dataclass(frozen=True)
class CopyResult:
    """What was copied and the ways it was sent."""

    text: str
    ways: tuple[str, ...]
    #: This copy's id in the newest-copy record (None when the record could not be written).
    copy_id: str | None = None

    def describe(self) -> str:
        """Plain words for where it went, e.g. "sent to your terminal's clipboard (OSC 52)".

        "Sent", not "copied": OSC 52 cannot tell whether the terminal took it."""
        names = {OSC52: "sent to your terminal's clipboard (OSC 52)",
                 SYSTEM: "copied to the system clipboard"}
        spoken = [names.get(way, way) for way in self.ways]
        if not spoken:
            return "not sent anywhere: select the text on screen to copy it"
        return " and ".join(spoken)


def has_local_clipboard(
    environ: Mapping[str, str] | None = None, platform: str | None = None
) -> bool:
    """Whether a clipboard on this machine is likely to be reachable (a display, macOS, Windows)."""
    env = os.environ if environ is None else environ
    plat = sys.platform if platform is None else platform
    if plat == "darwin" or plat.startswith("win"):
        return True
    return bool(env.get("WAYLAND_DISPLAY") or env.get("DISPLAY"))


def _pyperclip() -> Any:
    """pyperclip, made to start its clipboard tools (xclip, xsel, wl-copy: xclip stays alive to
    serve the clipboard) without keylink's passphrases in their environment."""
    import pyperclip  # imported here: it probes for clipboard tools, not needed at start-up

    clean_library_children(pyperclip)
    return pyperclip


def _pyperclip_copy(text: str) -> bool:
    try:
        _pyperclip().copy(text)
    except Exception:
        return False
    return True


def copy_text(
    text: str,
    osc52: Callable[[str], None],
    *,
    local_copy: Callable[[str], bool] = _pyperclip_copy,
    local_available: bool | None = None,
    environ: Mapping[str, str] | None = None,
) -> CopyResult:
    """Send ``text`` through OSC 52 (``osc52``: e.g. Textual's ``App.copy_to_clipboard``) and,
    where a local clipboard exists, through ``local_copy`` too. A failing clipboard never raises.

    Every copy is written down as the newest (see :mod:`~tui.services.handoff.newest_copy`),
    under the record's lock, so a clearer of an earlier copy leaves this one alone."""
    import secrets

    ways: list[str] = []
    copy_id: str | None = secrets.token_hex(16)
    with newest_record(environ) as record:
        if record is None or not write_newest(record, copy_id):
            copy_id = None
        try:
            osc52(text)
        except Exception:
            pass
        else:
            ways.append(OSC52)
        if (has_local_clipboard() if local_available is None else local_available) \
                and local_copy(text):
            ways.append(SYSTEM)
    return CopyResult(text, tuple(ways), copy_id)


# -- clearing --------------------------------------------------------------------------------
#
# OSC 52 cannot read the clipboard back, and an empty OSC 52 payload does not clear tmux's paste
# buffer, so "clearing" means copying this harmless text over the value (as `pass -c` restores).

#: What a clear leaves on the clipboard: plainly not a credential if pasted by mistake.
CLEARED_TEXT = "(cleared by keylink)"
CLIP_TIME_ENV = "KEYLINK_CLIP_TIME"
DEFAULT_CLIP_TIME = 45
#: Longest allowed clear delay (a day): past that, "clears later" means nothing.
MAX_CLIP_TIME = 86_400


def clip_time(environ: Mapping[str, str] | None = None) -> int:
    """Seconds until a copied credential is cleared: KEYLINK_CLIP_TIME, default 45.

    A value that is not a whole number of seconds from 1 to a day is a ValueError saying so."""
    env = os.environ if environ is None else environ
    raw = env.get(CLIP_TIME_ENV, "").strip()
    if not raw:
        return DEFAULT_CLIP_TIME
    try:
        seconds = int(raw)
    except ValueError:
        seconds = 0
    if not 1 <= seconds <= MAX_CLIP_TIME:
        from tui.services.core.text import clean

        raise ValueError(f"{CLIP_TIME_ENV} is '{clean(raw, limit=20)}': give a whole number of "
                         f"seconds from 1 to {MAX_CLIP_TIME}")
    return seconds


def digest(text: str) -> str:
    """A fingerprint of a copied value, so a clear can recognise it without holding it."""
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()


def osc52_sequence(text: str) -> bytes:
    """The OSC 52 escape that asks the terminal to put ``text`` on its clipboard."""
    import base64

    return b"\x1b]52;c;" + base64.b64encode(text.encode()) + b"\x07"


def tmux_set_clipboard(environ: Mapping[str, str] | None = None) -> str | None:
    """tmux's ``set-clipboard`` ("on", "external", "off") when running inside tmux, else None.

    Only "on" lets an application's OSC 52 through: with "external" or "off" tmux drops it.
    None also when tmux cannot be asked (the answer would be a guess)."""
    import subprocess

    env = os.environ if environ is None else environ
    if not env.get("TMUX"):
        return None
    try:
        done = subprocess.run(["tmux", "show-options", "-gv", "set-clipboard"], capture_output=True,
                              text=True, timeout=3, env=child_environ(env), check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    value = done.stdout.strip()
    return value if done.returncode == 0 and value in ("on", "external", "off") else None


def tmux_advice(state: str | None, remote: bool | None = False) -> str:
    """One sentence for the notice when tmux will drop OSC 52 (empty when it will not).

    tmux's man page: with "external" tmux sets the terminal's clipboard from its own copy mode
    but ignores a program's OSC 52; with "off" it does neither. Either way nothing keylink sends
    gets past this tmux: not into its buffers, not to the terminal (over ssh: not to your own
    computer)."""
    if state in (None, "on"):
        return ""
    where = "your computer's clipboard" if remote else "your terminal's clipboard"
    default = " (tmux's default)" if state == "external" else ""
    return (f"Nothing reached {where}: tmux here has set-clipboard {state}{default}, which drops "
            "a program's OSC 52. Turn it on with `tmux set -g set-clipboard on` (and add that "
            "line to ~/.tmux.conf).")


_SSH_VARIABLES = ("SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY")


def remote_session(environ: Mapping[str, str] | None = None) -> bool | None:
    """Whether keylink runs over ssh: True, False, or None when it cannot tell.

    The ssh variables of this process say so. Inside tmux they are those of when the pane was
    made, so tmux's session environment is asked too (tmux updates it each time a client attaches
    from ssh or not); when tmux cannot be asked, nobody can tell."""
    import subprocess

    env = os.environ if environ is None else environ
    if any(env.get(name) for name in _SSH_VARIABLES):
        return True
    if not env.get("TMUX"):
        return False
    try:
        done = subprocess.run(["tmux", "show-environment"], capture_output=True, text=True,
                              timeout=3, env=child_environ(env), check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    # Set variables show as NAME=value; removed ones as -NAME.
    return any(line.split("=", 1)[0] in _SSH_VARIABLES and "=" in line
               for line in done.stdout.splitlines())


def remote_copy_note(remote: bool | None) -> str:
    """What keylink's clear cannot reach, for the notice of a secret copied over ssh (or where it
    cannot tell): empty when keylink runs on the user's own machine."""
    if remote is False:
        return ""
    start = ("Over ssh" if remote else "If this is an ssh session")
    return (f"{start}, the clear reaches only this machine's tmux and clipboard. A tmux on your "
            "own computer keeps a copy in its paste buffers: delete it there with "
            "`tmux choose-buffer` (d on the buffer), and from a clipboard history if you keep "
            "one.")


def _tmux_forget(value_digest: str, environ: Mapping[str, str], *,
                 unless_newest: bool = False) -> None:
    """Delete each tmux paste buffer holding the value: tmux keeps old copies in its list.

    ``unless_newest``: leave them all when tmux's newest buffer holds the value (the same value
    was copied again since: that later copy's clear deletes them, when its time comes)."""
    import subprocess

    if not environ.get("TMUX"):
        return
    env = child_environ(environ)
    try:
        if unless_newest:
            top = subprocess.run(["tmux", "show-buffer"], capture_output=True, timeout=3, env=env,
                                 check=False)
            if top.returncode == 0 and digest(top.stdout.decode(errors="replace")) == value_digest:
                return
        names = subprocess.run(["tmux", "list-buffers", "-F", "#{buffer_name}"],
                               capture_output=True, text=True, timeout=3, env=env, check=False)
        for name in names.stdout.split():
            shown = subprocess.run(["tmux", "show-buffer", "-b", name], capture_output=True,
                                   timeout=3, env=env, check=False)
            held = shown.stdout.decode(errors="replace")
            if shown.returncode == 0 and digest(held) == value_digest:
                subprocess.run(["tmux", "delete-buffer", "-b", name], capture_output=True,
                               timeout=3, env=env, check=False)
    except (OSError, subprocess.SubprocessError):
        pass


def _local_holds(value_digest: str) -> bool:
    try:
        return digest(_pyperclip().paste()) == value_digest
    except Exception:
        return False


def clear_clipboard(
    value_digest: str,
    osc52: Callable[[str], None] | None,
    *,
    copy_id: str | None = None,
    local_available: bool | None = None,
    environ: Mapping[str, str] | None = None,
) -> bool:
    """Overwrite a copied value everywhere it went, if its copy is still the newest; never raises.

    ``copy_id`` is the copy's id from :func:`copy_text`. When the record names a later copy, the
    clipboard holds that one and is left alone: only tmux's older buffers holding this value are
    deleted. Otherwise OSC 52 gets the harmless text (it cannot be read back to check), the local
    clipboard too when it still holds the value (a later copy of the user's own stays), and the
    tmux buffers holding the value are deleted. True when it cleared, False when superseded."""
    env = os.environ if environ is None else environ
    with newest_record(env) as record:
        newest = read_newest(record) if record is not None else None
        # No id, or no readable record: clear (a missed clear would leave a secret behind).
        superseded = copy_id is not None and newest is not None and newest != copy_id
        if not superseded:
            if osc52 is not None:
                with contextlib.suppress(Exception):
                    osc52(CLEARED_TEXT)
            local = has_local_clipboard(env) if local_available is None else local_available
            if local and _local_holds(value_digest):
                _pyperclip_copy(CLEARED_TEXT)
    _tmux_forget(value_digest, env, unless_newest=superseded)
    return not superseded


class ClearTimer:
    """The app's pending clears of copied credentials, one timer per copy.

    ``clear`` runs on a timer thread after the delay, or at once from :meth:`clear_now` (on quit).
    It gets the digest of the value and the copy's id (see :func:`clear_clipboard`): an earlier
    copy's timer still fires, and then only deletes tmux's buffers holding its value."""

    def __init__(self, clear: Callable[[str, str | None], None]) -> None:
        import threading

        self._clear = clear
        self._lock = threading.Lock()
        self._timers: dict[int, tuple[threading.Timer, str, str | None]] = {}
        self._next = 0

    @property
    def pending(self) -> bool:
        """Whether a copied value is still waiting to be cleared."""
        with self._lock:
            return bool(self._timers)

    def start(self, value_digest: str, seconds: float, copy_id: str | None = None) -> None:
        """Clear the value with this digest (copy ``copy_id``) after ``seconds``."""
        import threading

        with self._lock:
            ticket = self._next
            self._next += 1
            timer = threading.Timer(seconds, self._fire, args=(ticket,))
            timer.daemon = True
            self._timers[ticket] = (timer, value_digest, copy_id)
            timer.start()

    def _fire(self, ticket: int) -> None:
        with self._lock:
            entry = self._timers.pop(ticket, None)
        if entry is not None:
            self._clear(entry[1], entry[2])

    def clear_now(self) -> bool:
        """Run every pending clear now, oldest first (e.g. on quit); False when none was
        pending."""
        with self._lock:
            tickets = sorted(self._timers)
            for ticket in tickets:
                self._timers[ticket][0].cancel()
        for ticket in tickets:
            self._fire(ticket)
        return bool(tickets)


# -- the command line: the controlling terminal and a detached clearer --------------------


def _terminal_path(fd: int) -> str | None:
    """The device path (/dev/pts/N) of the terminal behind ``fd``: "/dev/tty" names only the
    caller's own controlling terminal, which a detached helper no longer has."""
    for candidate in (fd, 2, 1, 0):
        try:
            name = os.ttyname(candidate)
        except OSError:
            continue
        if name != "/dev/tty":
            return name
    return None


def send_to_tty(text: str, tty: str = "/dev/tty") -> str | None:
    """Write the OSC 52 for ``text`` to the terminal. None without one; else the terminal's device
    path, or "" when it has none a helper could open later."""
    try:
        fd = os.open(tty, os.O_WRONLY | os.O_NOCTTY)
    except OSError:
        return None
    try:
        os.write(fd, osc52_sequence(text))
        return _terminal_path(fd) or ""
    finally:
        os.close(fd)


def spawn_clearer(value_digest: str, seconds: int, tty: str | None,
                  copy_id: str | None = None) -> None:
    """Start a detached process that clears the value after ``seconds``, outliving this one,
    unless a later copy (``copy_id`` is this one's) has taken the clipboard by then.

    The digest goes through a pipe, not argv (other users can read argv); the helper gets none of
    keylink's passphrases in its environment. The terminal goes to it as an open descriptor, not a
    path: once the terminal closes, its /dev/pts number is handed to the next terminal opened,
    and a helper that reopened the path later would write into someone else's session. A held
    descriptor keeps the number taken and just fails (EIO) when the terminal is gone.
    """
    import subprocess

    from tui.services.core.own_code import module_command

    args = module_command("tui.services.handoff.clipboard", "--clear-after", str(seconds))
    terminal: int | None = None
    if tty:
        try:
            terminal = os.open(tty, os.O_WRONLY | os.O_NOCTTY)
        except OSError:
            terminal = None
    if terminal is not None:
        args += ["--tty-fd", str(terminal)]
    env = child_environ()
    try:
        helper = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, start_new_session=True, env=env,
                                  close_fds=True,
                                  pass_fds=(terminal,) if terminal is not None else ())
    finally:
        if terminal is not None:
            os.close(terminal)
    assert helper.stdin is not None
    helper.stdin.write(f"{value_digest} {copy_id or '-'}\n".encode())
    helper.stdin.close()


def _clear_after_main(argv: list[str]) -> int:
    import argparse
    import time

    parser = argparse.ArgumentParser(prog="python -m tui.services.handoff.clipboard")
    parser.add_argument("--clear-after", type=int, required=True)
    parser.add_argument("--tty-fd", type=int, default=None)
    args = parser.parse_args(argv)
    value_digest, _, copy_id = sys.stdin.readline().strip().partition(" ")
    sys.stdin.close()
    if len(value_digest) != 64:
        return 2
    time.sleep(max(args.clear_after, 0))
    terminal = args.tty_fd

    def osc52(text: str) -> None:
        assert terminal is not None
        os.write(terminal, osc52_sequence(text))  # OSError (EIO) once the terminal is gone

    clear_clipboard(value_digest, osc52 if terminal is not None else None,
                    copy_id=copy_id if copy_id not in ("", "-") else None)
    return 0


if __name__ == "__main__":
    raise SystemExit(_clear_after_main(sys.argv[1:]))

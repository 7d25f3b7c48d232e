"""Copy text to the user's clipboard by every way that can work where they are.

OSC 52 always: the terminal itself sets the clipboard, which reaches the user's own machine
through SSH and tmux. pyperclip as well where a local clipboard exists (a display, macOS,
Windows); its failure is ignored. The caller keeps the text on screen for terminals that
support neither.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass

OSC52 = "OSC 52"
SYSTEM = "system clipboard"


@dataclass(frozen=True)
class CopyResult:
    """What was copied and the ways it was sent."""

    text: str
    ways: tuple[str, ...]

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


def _pyperclip_copy(text: str) -> bool:
    try:
        import pyperclip  # imported here: it probes for clipboard tools, not needed at start-up

        pyperclip.copy(text)
    except Exception:
        return False
    return True


def copy_text(
    text: str,
    osc52: Callable[[str], None],
    *,
    local_copy: Callable[[str], bool] = _pyperclip_copy,
    local_available: bool | None = None,
) -> CopyResult:
    """Send ``text`` through OSC 52 (``osc52``: e.g. Textual's ``App.copy_to_clipboard``) and,
    where a local clipboard exists, through ``local_copy`` too. A failing clipboard never raises.
    """
    ways: list[str] = []
    try:
        osc52(text)
    except Exception:
        pass
    else:
        ways.append(OSC52)
    if (has_local_clipboard() if local_available is None else local_available) and local_copy(text):
        ways.append(SYSTEM)
    return CopyResult(text, tuple(ways))


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
        from tui.services.text import clean

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
                              text=True, timeout=3, env=dict(env), check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    value = done.stdout.strip()
    return value if done.returncode == 0 and value in ("on", "external", "off") else None


def tmux_advice(state: str | None) -> str:
    """One sentence for the notice when tmux will drop OSC 52 (empty when it will not)."""
    if state in (None, "on"):
        return ""
    return (f"tmux has set-clipboard {state}, so it drops OSC 52: turn it on with "
            "`tmux set -g set-clipboard on` (and add that line to ~/.tmux.conf).")


def _tmux_forget(value_digest: str, environ: Mapping[str, str]) -> None:
    """Delete each tmux paste buffer holding the value: tmux keeps old copies in its list."""
    import subprocess

    if not environ.get("TMUX"):
        return
    env = dict(environ)
    try:
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
        import pyperclip

        return digest(pyperclip.paste()) == value_digest
    except Exception:
        return False


def clear_clipboard(
    value_digest: str,
    osc52: Callable[[str], None] | None,
    *,
    local_available: bool | None = None,
    environ: Mapping[str, str] | None = None,
) -> None:
    """Overwrite a copied value everywhere it went; never raises.

    OSC 52 always gets the harmless text (it cannot be read back to check). The local clipboard
    only when it still holds the value, so a later copy of the user's own is left alone. Inside
    tmux, the paste buffers holding the value are deleted too."""
    env = os.environ if environ is None else environ
    if osc52 is not None:
        with contextlib.suppress(Exception):
            osc52(CLEARED_TEXT)
    local = has_local_clipboard(env) if local_available is None else local_available
    if local and _local_holds(value_digest):
        _pyperclip_copy(CLEARED_TEXT)
    _tmux_forget(value_digest, env)


class ClearTimer:
    """The one pending clear of a copied credential (the app's): a new copy replaces it.

    ``clear`` runs on a timer thread after the delay, or at once from :meth:`clear_now` (on quit).
    It gets the digest of the value to clear."""

    def __init__(self, clear: Callable[[str], None]) -> None:
        import threading

        self._clear = clear
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._pending: str | None = None

    @property
    def pending(self) -> bool:
        """Whether a copied value is still waiting to be cleared."""
        return self._pending is not None

    def start(self, value_digest: str, seconds: float) -> None:
        """Clear the value with this digest after ``seconds``; cancels the previous timer."""
        import threading

        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            self._pending = value_digest
            self._timer = threading.Timer(seconds, self._fire)
            self._timer.daemon = True
            self._timer.start()

    def _fire(self) -> None:
        with self._lock:
            value_digest, self._pending, self._timer = self._pending, None, None
        if value_digest is not None:
            self._clear(value_digest)

    def clear_now(self) -> bool:
        """Clear the pending value now (e.g. on quit); False when nothing was pending."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            pending = self._pending is not None
        if pending:
            self._fire()
        return pending


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


def spawn_clearer(value_digest: str, seconds: int, tty: str | None) -> None:
    """Start a detached process that clears the value after ``seconds``, outliving this one.

    The digest goes through a pipe, not argv (other users can read argv); the helper gets no
    vault passphrase in its environment. The terminal goes to it as an open descriptor, not a
    path: once the terminal closes, its /dev/pts number is handed to the next terminal opened,
    and a helper that reopened the path later would write into someone else's session. A held
    descriptor keeps the number taken and just fails (EIO) when the terminal is gone.
    """
    import subprocess

    from tui.services.own_code import module_command
    from tui.services.secrets import PASSPHRASE_ENV

    args = module_command("tui.services.clipboard", "--clear-after", str(seconds))
    terminal: int | None = None
    if tty:
        try:
            terminal = os.open(tty, os.O_WRONLY | os.O_NOCTTY)
        except OSError:
            terminal = None
    if terminal is not None:
        args += ["--tty-fd", str(terminal)]
    env = {k: v for k, v in os.environ.items() if k != PASSPHRASE_ENV}
    try:
        helper = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, start_new_session=True, env=env,
                                  close_fds=True,
                                  pass_fds=(terminal,) if terminal is not None else ())
    finally:
        if terminal is not None:
            os.close(terminal)
    assert helper.stdin is not None
    helper.stdin.write(value_digest.encode() + b"\n")
    helper.stdin.close()


def _clear_after_main(argv: list[str]) -> int:
    import argparse
    import time

    parser = argparse.ArgumentParser(prog="python -m tui.services.clipboard")
    parser.add_argument("--clear-after", type=int, required=True)
    parser.add_argument("--tty-fd", type=int, default=None)
    args = parser.parse_args(argv)
    value_digest = sys.stdin.readline().strip()
    sys.stdin.close()
    if len(value_digest) != 64:
        return 2
    time.sleep(max(args.clear_after, 0))
    terminal = args.tty_fd

    def osc52(text: str) -> None:
        assert terminal is not None
        os.write(terminal, osc52_sequence(text))  # OSError (EIO) once the terminal is gone

    clear_clipboard(value_digest, osc52 if terminal is not None else None)
    return 0


if __name__ == "__main__":
    raise SystemExit(_clear_after_main(sys.argv[1:]))

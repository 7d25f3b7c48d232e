"""`keylink exec` with the secrets kept out of CMD's own output (issue 19).

A bot that logs its config, or a library that prints a failing request, writes the key it was
given to its log. ``op run`` masks by default; so does keylink: CMD runs as a child whose stdout
and stderr come back through :class:`StreamMasker`, which replaces each secret with
``<concealed by keylink>``, also when CMD wrote it in two pieces.

What stays as without masking: CMD's exit code, and its death by a signal (the CLI re-raises the
same signal on itself, so a shell still shows 128+N); SIGTERM, SIGHUP, SIGUSR1/2 and a resize
reach CMD; Ctrl-C reaches it from the terminal as before (the child is in keylink's process
group, so the terminal signals both: keylink then only waits). When keylink's stdout is a
terminal, CMD's is a pseudo-terminal keylink reads from, so CMD still sees a terminal (colours,
line buffering); stdin is passed to CMD untouched.
"""

from __future__ import annotations

import contextlib
import errno
import os
import select
import signal
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tui.services.keys.credentials import Credentials

#: What a secret is replaced with.
CONCEALED = b"<concealed by keylink>"
#: An API key shorter than this is not masked. Every exchange's real keys are longer (Bybit 18,
#: OKX 36, Bitget 35, Binance 64 characters): a random string of 16 letters and digits never turns
#: up in a log by chance, while a shorter value (a hand-made test key) could be an ordinary word,
#: and masking that would garble the bot's log. The key alone signs nothing; the secret and the
#: passphrase are masked whatever their length.
API_KEY_MIN = 16
#: Bytes read from CMD at a time. Larger reads measured slower (each new buffer is fresh memory
#: to fault in); 64 KiB is also what a default pipe holds.
CHUNK = 1 << 16
#: The pipe CMD writes to is enlarged to this, so CMD can run ahead while keylink masks.
PIPE_SIZE = 1 << 20
#: After CMD exits, how long the output may stay silent before keylink stops reading (a child
#: CMD left in the background may hold the pipe open for ever).
DRAIN_SECONDS = 0.2
#: The signals keylink hands on to CMD. SIGINT and SIGQUIT too, unless the terminal sent them
#: (then CMD got them itself; see ``_terminal_signals_child``).
FORWARDED = (signal.SIGTERM, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2, signal.SIGCONT)
TERMINAL_SIGNALS = (signal.SIGINT, signal.SIGQUIT)


class StreamMasker:
    """Replaces every occurrence of the values in a byte stream fed in pieces.

    Each piece is joined to what was held back from the one before. The part that goes out is
    everything up to the earliest position from which the rest could still be the start of a
    value (at most the longest value's length less one byte is held back, and only while it
    matches a value's beginning: ordinary output is never held), moved further back over any
    value that crosses that point. ``bytes.replace`` then does the masking at C speed, longest
    value first (one value inside another is masked whole).

    Most output holds no value, and looking for a short value costs more than copying the
    output: a search skips ahead about the value's length at a time, so a 15-character
    passphrase is looked for at under 3 GB/s. Before masking, each piece is checked with
    :class:`_Anchors`, which looks for the byte of each value that is rarest in this stream (a
    ``P`` that log lines never hold is found absent at memchr speed), and checks each place it
    occurs; only a piece that may hold a value is masked.
    """

    def __init__(self, values: Iterable[bytes]) -> None:
        self._values = sorted({v for v in values if v}, key=len, reverse=True)
        self._carry = b""
        self._anchors = _Anchors(self._values)

    def feed(self, data: bytes) -> bytes:
        """The masked output that can go out now (possibly b"")."""
        if not self._values:
            return data
        joined = self._carry + data if self._carry else data
        cut = self._held_from(joined)
        if cut < len(joined):  # something held back: a whole value may cross the cut
            cut = self._no_crossing(joined, cut)
        head, self._carry = joined[:cut], joined[cut:]
        return self._mask(head)

    def flush(self) -> bytes:
        """The rest, at the end of the stream."""
        rest, self._carry = self._carry, b""
        return self._mask(rest)

    def _mask(self, data: bytes) -> bytes:
        if self._anchors.none_in(data):
            return data
        for value in self._values:
            data = data.replace(value, CONCEALED)
        return data

    def _held_from(self, joined: bytes) -> int:
        """The earliest position from which ``joined``'s end is a proper prefix of a value."""
        size = len(joined)
        best = size
        for value in self._values:
            first = value[:1]
            at = joined.find(first, max(0, size - len(value) + 1))
            while at != -1 and at < best:
                if value.startswith(joined[at:]):
                    best = at
                    break
                at = joined.find(first, at + 1)
        return best

    def _no_crossing(self, joined: bytes, cut: int) -> int:
        """``cut`` moved back to the start of any whole value that crosses it."""
        moved = True
        while moved:
            moved = False
            for value in self._values:
                at = joined.find(value, max(0, cut - len(value) + 1), cut + len(value) - 1)
                if at != -1 and at < cut:
                    cut, moved = at, True
        return cut


class _Anchors:
    """Tells, fast, that a piece of output holds none of the values (see ``StreamMasker``).

    Per value, the anchor is its byte that was rarest in a recent piece, with its offset in the
    value: every occurrence of the value has that byte at that offset, so checking each place
    the byte occurs finds every occurrence. Where the rarest byte is still common enough that
    checking its places would cost more than searching for the value itself, the value is
    searched for whole. Anchors are picked again every ``REPICK_EVERY`` pieces, and at once
    when an anchor turns out common (the output changed): a check never costs much more than a
    plain search.
    """

    #: Pieces between two choices of the anchors.
    REPICK_EVERY = 256
    #: The least output anchors are chosen from (a few lines say little about a stream), and
    #: the most (counting each byte of each value in more costs more than it tells).
    SAMPLE_MIN = 4096
    SAMPLE_MAX = 16384
    #: Places an anchor may have in a piece, however small the piece, before it counts as
    #: common.
    PLACES_MIN = 8
    #: The cost model behind the choice, in ns, as measured with CPython 3.11 on x86-64: a
    #: search for a value skips about ``SKIP_NS_PER_BYTE`` per byte of output per byte of the
    #: value's length; each place an anchor occurs costs ``PLACE_NS`` to check; finding a byte
    #: (memchr) costs ``BYTE_FIND_NS`` per byte.
    SKIP_NS_PER_BYTE = 5.0
    PLACE_NS = 250.0
    BYTE_FIND_NS = 0.05

    def __init__(self, values: Sequence[bytes]) -> None:
        self._values = list(values)
        self._anchors: list[tuple[int, int] | None] = [None] * len(values)
        self._until_repick = 0

    def none_in(self, data: bytes) -> bool:
        """True when ``data`` holds none of the values."""
        end = len(data)
        if self._until_repick <= 0:
            self._pick(data, end)
        self._until_repick -= 1
        for value, anchor in zip(self._values, self._anchors, strict=True):
            if anchor is None:
                if data.find(value, 0, end) != -1:
                    return False
                continue
            offset, byte = anchor
            last = end - len(value) + offset + 1  # the anchor of a value ending at ``end``
            budget = max(self.PLACES_MIN, self._places_budget(len(value), end))
            at = data.find(byte, offset, last)
            while at != -1:
                if data.startswith(value, at - offset, end):
                    return False
                budget -= 1
                if budget < 0:  # common after all: search whole from here, pick again soon
                    self._until_repick = 0
                    if data.find(value, at - offset + 1, end) != -1:
                        return False
                    break
                at = data.find(byte, at + 1, last)
        return True

    def _places_budget(self, length: int, size: int) -> int:
        """How many places of an anchor are cheaper to check than searching for the value."""
        search = size * self.SKIP_NS_PER_BYTE / length
        return int((search - size * self.BYTE_FIND_NS) / self.PLACE_NS)

    def _pick(self, data: bytes, end: int) -> None:
        if end < self.SAMPLE_MIN:
            self._until_repick = 1  # keep what there is; choose from a larger piece
            return
        self._until_repick = self.REPICK_EVERY
        end = min(end, self.SAMPLE_MAX)
        counts: dict[int, int] = {}
        for index, value in enumerate(self._values):
            best: tuple[int, int, int] | None = None  # count, offset, byte
            for offset, byte in enumerate(value):
                if byte not in counts:
                    counts[byte] = data.count(byte, 0, end)
                if best is None or counts[byte] < best[0]:
                    best = (counts[byte], offset, byte)
            assert best is not None
            places = best[0] * CHUNK / end  # in a piece of the usual size
            cheap = places <= self._places_budget(len(value), CHUNK)
            self._anchors[index] = (best[1], best[2]) if cheap else None


def mask_values(creds: Credentials, env: Mapping[str, str]) -> list[bytes]:
    """The values to mask in CMD's output: the secret (or private key), the passphrase, and the
    API key when it is long enough to be unambiguous (``API_KEY_MIN``). A multi-line value (a PEM
    private key) is also masked as JSON writes it (``\\n`` escapes) and with CRLF line ends.
    Only values CMD was given: a field not in ``env`` is not looked for."""
    given = set(env.values())
    values = [v for v in (creds.secret, creds.passphrase) if v and v in given]
    if len(creds.api_key) >= API_KEY_MIN and creds.api_key in given:
        values.append(creds.api_key)
    out: list[bytes] = []
    for value in values:
        out.append(value.encode())
        if "\n" in value:
            out.append(value.replace("\n", "\\n").encode())
            out.append(value.replace("\n", "\r\n").encode())
    return out


@dataclass(frozen=True)
class Ended:
    """How CMD ended: its exit code, or the signal that killed it."""

    code: int
    signal: int | None = None

    @property
    def shell_code(self) -> int:
        """What a shell shows: the code, or 128+N for a death by signal N."""
        return 128 + self.signal if self.signal else self.code


def _same_terminal(a: int, b: int) -> bool:
    try:
        return os.isatty(a) and os.isatty(b) and os.fstat(a).st_rdev == os.fstat(b).st_rdev
    except OSError:
        return False


def _terminal_signals_child() -> bool:
    """True when a Ctrl-C typed at the terminal reaches CMD by itself: keylink (and so CMD, in
    its process group) is the terminal's foreground group. Forwarding it too would deliver it
    twice."""
    for fd in (0, 1, 2):
        with contextlib.suppress(OSError):
            if os.isatty(fd) and os.tcgetpgrp(fd) == os.getpgrp():
                return True
    return False


def _pty_like(fd: int) -> tuple[int, int]:
    """A pseudo-terminal (master, slave) with ``fd``'s size and modes, output processing off
    (keylink's own terminal does that once, as it would for CMD directly)."""
    import fcntl
    import termios

    master, slave = os.openpty()
    with contextlib.suppress(OSError, termios.error):
        attrs = termios.tcgetattr(fd)
        attrs[1] &= ~termios.OPOST
        termios.tcsetattr(slave, termios.TCSANOW, attrs)
    with contextlib.suppress(OSError):
        size = fcntl.ioctl(fd, termios.TIOCGWINSZ, b"\0" * 8)
        fcntl.ioctl(slave, termios.TIOCSWINSZ, size)
    return master, slave


def _pipe() -> tuple[int, int]:
    read, write = os.pipe()
    with contextlib.suppress(OSError, AttributeError):
        import fcntl

        fcntl.fcntl(write, fcntl.F_SETPIPE_SZ, PIPE_SIZE)
    return read, write


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def run_masked(command: Sequence[str], program: str, env: Mapping[str, str],
               values: Sequence[bytes], *, stdout: int = 1, stderr: int = 2) -> Ended:
    """Run ``command`` (``program`` is its path) with ``env``; its stdout and stderr reach
    ``stdout`` and ``stderr`` with ``values`` masked. Returns once CMD ended and its output was
    read. OSError when it cannot be started."""
    opened: list[int] = []
    try:
        if os.isatty(stdout):
            out_read, out_write = _pty_like(stdout)
        else:
            out_read, out_write = _pipe()
        opened += [out_read, out_write]
        if _same_terminal(stdout, stderr):
            err_read, err_write = None, out_write  # one terminal: one stream, in order
        elif os.isatty(stderr):
            err_read, err_write = _pty_like(stderr)
            opened += [err_read, err_write]
        else:
            err_read, err_write = _pipe()
            opened += [err_read, err_write]
        child = subprocess.Popen(list(command), executable=program, env=dict(env),
                                 stdout=out_write, stderr=err_write, close_fds=True,
                                 restore_signals=True)
    except BaseException:
        for fd in opened:
            with contextlib.suppress(OSError):
                os.close(fd)
        raise
    for fd in {out_write, err_write}:
        os.close(fd)
    streams: dict[int, tuple[StreamMasker, int]] = {out_read: (StreamMasker(values), stdout)}
    if err_read is not None:
        streams[err_read] = (StreamMasker(values), stderr)
    return _pump(child, streams, stdout)


def _pump(child: subprocess.Popen[bytes], streams: dict[int, tuple[StreamMasker, int]],
          stdout: int) -> Ended:
    terminal = _terminal_signals_child()
    forwarded = list(FORWARDED) if terminal else [*FORWARDED, *TERMINAL_SIGNALS]
    previous: dict[int, object] = {}

    def hand_on(signum: int, _frame: object) -> None:
        with contextlib.suppress(ProcessLookupError):
            child.send_signal(signum)

    def resized(_signum: int, _frame: object) -> None:
        import fcntl
        import termios

        with contextlib.suppress(OSError):
            size = fcntl.ioctl(stdout, termios.TIOCGWINSZ, b"\0" * 8)
            for fd in streams:
                if os.isatty(fd):
                    fcntl.ioctl(fd, termios.TIOCSWINSZ, size)
        hand_on(signal.SIGWINCH, None)

    for signum in forwarded:
        previous[signum] = signal.signal(signum, hand_on)
    if terminal:  # the terminal delivers Ctrl-C and Ctrl-\ to CMD itself: keylink just waits
        for signum in TERMINAL_SIGNALS:
            previous[signum] = signal.signal(signum, signal.SIG_IGN)
    previous[signal.SIGWINCH] = signal.signal(signal.SIGWINCH, resized)
    try:
        while streams:
            code = child.poll()
            ready, _, _ = select.select(list(streams), [], [],
                                        DRAIN_SECONDS if code is not None else 0.5)
            if not ready and code is not None:
                break  # CMD is gone and nothing more came: a child it left may hold the pipe
            for fd in ready:
                masker, target = streams[fd]
                try:
                    data = os.read(fd, CHUNK)
                except OSError as exc:
                    if exc.errno != errno.EIO:  # EIO: a pty whose other side closed
                        raise
                    data = b""
                try:
                    _write_all(target, masker.feed(data) if data else masker.flush())
                except BrokenPipeError:
                    data = b""  # our reader left: CMD gets SIGPIPE on its next write, as before
                if not data:
                    os.close(fd)
                    del streams[fd]
        for fd, (masker, target) in list(streams.items()):
            with contextlib.suppress(OSError):
                _write_all(target, masker.flush())
            os.close(fd)
        streams.clear()
        code = child.wait()
    finally:
        for fd in streams:
            with contextlib.suppress(OSError):
                os.close(fd)
        for signum, handler in previous.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]
    return Ended(code, -code) if code < 0 else Ended(code)

"""keylink's command line: no sub-command starts the TUI; sub-commands serve scripts.

One module per command group (whitelist, verify, accounts, doctor); `common` holds the one-line
usage error and makes the process's one session (tui.services.session: it opens the stores and
applies the unlock policy), with the environment and a hidden prompt as passphrase sources.
"""

from __future__ import annotations

import os
import signal
import sys


def _is_keylink_process() -> bool:
    """True when this process is the `keylink` command or `python -m tui` (not a test run or
    another program importing keylink)."""
    if not sys.argv or not sys.argv[0]:
        return False
    path = os.path.abspath(sys.argv[0])
    name = os.path.basename(path)
    return name == "keylink" or (
        name == "__main__.py" and os.path.basename(os.path.dirname(path)) == "tui"
    )


def _interrupted_while_loading(_signum: int, _frame: object) -> None:
    os.write(2, b"keylink: interrupted\n")
    os._exit(130)


# Before the imports below: a Ctrl-C while keylink is still loading gives one line and 130, not
# an import traceback. main() puts Python's usual handling back once it runs. The garbage
# collector rests while keylink loads (see gc_pause); a command or the app's first paint ends it.
if _is_keylink_process():
    signal.signal(signal.SIGINT, _interrupted_while_loading)
    from tui.services.core import gc_pause

    gc_pause.pause()

import contextlib  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from typing import TYPE_CHECKING  # noqa: E402

from tui import __version__  # noqa: E402
from tui.cli.common import UsageError  # noqa: E402
from tui.cli.safe_output import clean_streams  # noqa: E402

if TYPE_CHECKING:
    import argparse

__all__ = ["UsageError", "build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    # The command modules and argparse load only for a command: `keylink` alone starts the app
    # without them (about 35 ms of its first paint).
    import argparse

    from tui.cli import (
        accounts,
        copy,
        doctor,
        environments,
        log,
        run,
        status,
        verify,
        whitelist,
    )

    parser = argparse.ArgumentParser(
        prog="keylink",
        description="Create an exchange API key and link it safely to a trading terminal. "
        "Run with no arguments for the interactive app.",
    )
    parser.add_argument("--version", action="version", version=f"keylink {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for group in (whitelist, verify, accounts, copy, run, doctor, environments, log, status):
        group.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `keylink` command and of `python -m tui`.

    Whatever happens, the user gets one line and an exit code (2, or 130 for Ctrl-C), never a
    traceback: a broken filesystem or an interrupt is not a bug report.
    """
    if argv is None:
        sys.unraisablehook = _redeliver_interrupts(sys.unraisablehook)
        if signal.getsignal(signal.SIGINT) is _interrupted_while_loading:
            signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        code = _main(argv)
        if argv is None:
            _ignore_late_interrupts()
        return code
    except KeyboardInterrupt:
        _say("interrupted")
        if argv is None:
            _exit_now(130)
        return 130
    except BrokenPipeError:
        # The reader went away (`keylink accounts list | head`): stop quietly, as Unix tools do.
        # Point stdout at devnull so the interpreter's final flush does not raise again.
        with contextlib.suppress(OSError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        return 141
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        _say(f"{where}{exc.strerror or exc}")
        return 2
    except MemoryError:
        _say("out of memory")
        return 2
    except Exception as exc:
        if _caused_by_interrupt(exc):
            # Python turns a Ctrl-C in some places (a class body's __set_name__ during an
            # import) into another error that carries it: still an interrupt, not a bug.
            _say("interrupted")
            if argv is None:
                _exit_now(130)
            return 130
        # A bug. The user still gets one line; KEYLINK_DEBUG=1 shows the traceback to report.
        if os.environ.get("KEYLINK_DEBUG"):
            raise
        _say(f"unexpected error ({type(exc).__name__}); run again with KEYLINK_DEBUG=1 and "
             "report what it prints")
        return 2


def _ignore_late_interrupts() -> None:
    """The work is done and reported: a Ctrl-C now must not kill the exit with a bare signal.

    At shutdown Python puts SIGINT back to the default action (die), but leaves an ignored one
    ignored. Only for the process's own entry (argv None), never when called in-process.
    """
    with contextlib.suppress(ValueError, OSError):  # not the main thread
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def _exit_now(code: int) -> None:
    """End the process with ``code`` without Python's shutdown.

    After a Ctrl-C, Python may decide at shutdown that the interrupt was unhandled and kill
    itself with SIGINT (exit -2, after we printed one line); a keyring call abandoned in a
    daemon thread can also hold the exit up. Our output is flushed and our files are whole
    (commits are atomic), so nothing is lost by skipping the rest.
    """
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


def _caused_by_interrupt(exc: BaseException) -> bool:
    """True when a KeyboardInterrupt is in ``exc``'s chain of causes and contexts."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, KeyboardInterrupt):
            return True
        seen.add(id(current))
        if current.__cause__ is not None:
            current = current.__cause__
        elif current.__suppress_context__:  # `raise ... from None`: the context is not a cause
            break
        else:
            current = current.__context__
    return False


def _interrupt_soon(thread_id: int) -> None:
    import time

    time.sleep(0.02)
    # A real signal to that thread: it also wakes a read it is blocked in (a prompt), where
    # _thread.interrupt_main() would wait for the user's Enter.
    with contextlib.suppress(OSError):
        signal.pthread_kill(thread_id, signal.SIGINT)


def _redeliver_interrupts(previous):  # previous/return: the sys.unraisablehook signature
    """A Ctrl-C that lands in a callback Python cannot raise from (an import lock's weakref
    callback) is printed as "Exception ignored ... KeyboardInterrupt" and lost. Deliver it again
    so it interrupts the command like any other Ctrl-C."""
    import _thread

    # Called in the main thread (main(), or a test): the thread Python runs signal handlers in.
    # (Not threading.main_thread(): imported first in a helper thread, threading would take
    # that thread for the main one.)
    main_thread = _thread.get_ident()

    def hook(unraisable) -> None:  # unraisable: sys.UnraisableHookArgs
        if isinstance(unraisable.exc_value, KeyboardInterrupt):
            # Not raised from here: an interrupt raised in this hook lands in the hook itself,
            # where Python prints it as a traceback and drops it. A helper thread hands it to
            # the main thread a moment later, once this hook has returned. (A bare thread: the
            # threading module's start() waits, and the interrupt would land in that wait.)
            _thread.start_new_thread(_interrupt_soon, (main_thread,))
            return
        previous(unraisable)

    return hook


def _say(text: str) -> None:
    from tui.services.core.text import clean

    with contextlib.suppress(OSError, ValueError):  # stderr itself may be gone
        print(f"keylink: {clean(text)}", file=sys.stderr)


def _has_terminal() -> bool:
    try:
        return sys.stdin is not None and sys.stdout is not None and (
            sys.stdin.isatty() and sys.stdout.isatty()
        )
    except (AttributeError, ValueError):
        return False


def _main(argv: Sequence[str] | None) -> int:
    words = sys.argv[1:] if argv is None else list(argv)
    args = None
    if words:  # no words: the app, without building the commands' parser
        # Outside text (names, paths, exchange answers, argv echoed back by argparse) never
        # reaches the terminal raw while a command runs: see safe_output. The app draws its own
        # screen.
        with clean_streams():
            args = build_parser().parse_args(words)
    from tui.services.exchanges.environments import check as registry_problem

    problem = registry_problem()  # a bad KEYLINK_ENVIRONMENTS file: one line, nothing guessed
    if problem is not None:
        _say(problem)
        return 2
    if args is None or args.command is None:
        if not _has_terminal():
            # The app would draw into a pipe and wait for keys that never come.
            _say("the interactive app needs a terminal on stdin and stdout; from a script use a "
                 "command such as `keylink accounts list` (see `keylink --help`)")
            return 2
        from tui.app import KeylinkApp, UnsafeLogging

        try:
            KeylinkApp().run()
        except UnsafeLogging as exc:
            _say(str(exc))
            return 2
        return 0
    from tui.cli import log
    from tui.services.core import gc_pause

    gc_pause.resume()  # a command may run long (exec, verify --all): the collector is back on
    with clean_streams():
        try:
            return args.handler(args)
        except UsageError as exc:
            log.say_pending()
            _say(str(exc))
            return 2
        except EOFError:  # ctrl-D at a prompt: input() and getpass raise it
            _say("input ended before an answer was given; stopped")
            return 2
        finally:
            log.say_pending()  # the access log's problems met where nothing could print

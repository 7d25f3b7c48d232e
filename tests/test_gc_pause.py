"""The `keylink` process's garbage collector: off while keylink loads, on again for a command
and once the app's first screen is up, and untouched in any other program importing keylink.

Each case runs in a Python process of its own: the collector and its frozen heap are per
process, and this test process's must stay as they are.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest


def _run(code: str, tmp_path: object) -> str:
    env = {**os.environ, "HOME": str(tmp_path), "XDG_CONFIG_HOME": f"{tmp_path}/config",
           "XDG_DATA_HOME": f"{tmp_path}/data", "XDG_STATE_HOME": f"{tmp_path}/state"}
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, env=env, timeout=60, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_pause_and_resume_change_only_what_they_turned_off(tmp_path: object) -> None:
    out = _run("""
        import gc
        from tui.services.core import gc_pause
        gc_pause.freeze_loaded()  # never paused here: nothing frozen
        print(gc.get_freeze_count() == 0)
        gc_pause.pause()
        print(gc.isenabled(), gc_pause.is_paused())
        gc_pause.resume()
        print(gc.isenabled(), gc_pause.is_paused(), gc.get_freeze_count() > 0)
        gc_pause.resume()  # twice: still on
        print(gc.isenabled())
        gc.disable()  # a program's own choice
        gc_pause.pause()
        gc_pause.resume()
        print(gc.isenabled())
    """, tmp_path)
    assert out.split() == ["True", "False", "True", "True", "False", "True", "True", "False"]


def test_the_keylink_command_runs_with_the_collector_on(tmp_path: object) -> None:
    out = _run("""
        import gc, sys
        sys.argv = ["keylink"]  # what _is_keylink_process looks for
        import tui.cli
        print(gc.isenabled())  # paused by loading the entry module
        seen = []
        import tui.cli.whitelist as whitelist
        real = whitelist.add_parser
        def add_parser(sub):
            real(sub)
            record = lambda args: seen.append(gc.isenabled()) or 0  # noqa: E731
            sub.choices["whitelist"].set_defaults(handler=record)
        whitelist.add_parser = add_parser
        print(tui.cli.main(["whitelist"]), seen)
    """, tmp_path)
    assert out.split("\n")[:2] == ["False", "0 [True]"]


def test_importing_keylink_elsewhere_leaves_the_collector_alone(tmp_path: object) -> None:
    out = _run("""
        import gc
        import tui.cli
        from tui.app import KeylinkApp
        print(gc.isenabled())
    """, tmp_path)
    assert out.split() == ["True"]


@pytest.mark.slow
def test_the_app_turns_the_collector_on_after_its_first_screen(tmp_path: object) -> None:
    out = _run("""
        import asyncio, gc, sys
        sys.argv = ["keylink"]
        import tui.cli
        from tui.app import KeylinkApp

        async def first_screen(pilot):
            await pilot.pause()
            print(gc.isenabled())  # the first screen is up, the warm-up not yet begun
            app = pilot.app
            for _ in range(200):  # the warm-up starts 0.3 s after mounting
                await asyncio.sleep(0.05)
                if gc.isenabled() and app.help_drawing is not None:
                    break
            await app.workers.wait_for_complete()
            print(gc.isenabled(), gc.get_freeze_count() > 0)
            app.exit()

        KeylinkApp().run(headless=True, size=(80, 24), auto_pilot=first_screen)
    """, tmp_path)
    assert out.split() == ["False", "True", "True"]

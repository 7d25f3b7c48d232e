"""`keylink environments`: where each exchange's API is reached, from the registry in force.

The registry is tui/content/environments.toml, with a ``KEYLINK_ENVIRONMENTS`` file applied; this
prints what keylink will use, so an override can be checked before a key is sent anywhere.
"""

from __future__ import annotations

import argparse

from tui.cli.common import UsageError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "environments",
        help="list each exchange's environments (hosts, where keys are made, sources)",
        description="The environments an account can use, read from keylink's registry and "
        "the KEYLINK_ENVIRONMENTS file when one is set.",
    )
    p.add_argument("exchange", nargs="?", help="only this exchange (bybit, okx, bitget, binance)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=_run_environments)


def _run_environments(args: argparse.Namespace) -> int:
    import json

    from tui.services.core.text import clean
    from tui.services.exchanges import exchange, exchanges

    try:
        chosen = [exchange(args.exchange)] if args.exchange else list(exchanges().values())
    except KeyError as exc:
        raise UsageError(exc.args[0]) from None
    if args.json:
        print(json.dumps({info.id: [{
            "environment": env.id, "label": env.label, "rest": env.base_url,
            "headers": dict(env.headers), "keys_page": env.keys_page, "key_group": env.group,
            "checkable": env.checkable, "probe": env.probe, "pickable": env.pickable,
            "confirmed": env.confirmed, "note": env.note, "source": env.source,
            "date": env.date} for env in info.environments] for info in chosen}, indent=2))
        return 0
    for info in chosen:
        print(f"{info.label}:")
        for env in info.environments:
            marks = [word for word, shown in (("unconfirmed", not env.confirmed),
                                              ("not checkable", not env.checkable),
                                              ("not an account environment", not env.pickable))
                     if shown]
            headers = "".join(f" +{k}: {v}" for k, v in env.headers)
            extra = f" [{', '.join(marks)}]" if marks else ""
            print(clean(f"  {env.id:<16} {env.base_url}{headers}{extra}"))
            if env.keys_page:
                print(clean(f"  {'':<16} keys: {env.keys_page}"))
            print(clean(f"  {'':<16} source: {env.source} ({env.date})"))
    return 0

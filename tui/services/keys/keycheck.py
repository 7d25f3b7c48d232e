"""``python -m tui.services.keys.keycheck``: check one PEM private key in full, for a parent.

Reads ``{"pem": ..., "passphrase": ...}`` as JSON on stdin and writes ``{"ok": true}`` or
``{"error": message, "passphrase_needed": bool}`` on stdout; never the key. See
``keypairs.parse_elsewhere``: the parent is an app whose screen must not freeze for the check.
"""

from __future__ import annotations

import json
import sys


def main() -> int:
    from tui.services.keys import keypairs
    from tui.services.keys.credentials import protect_process

    protect_process()  # like its parent: no core file or ptrace while the key is in memory
    request = json.loads(sys.stdin.read(1 << 20))
    try:
        keypairs.parse(request["pem"], request.get("passphrase"))
    except keypairs.PassphraseNeeded as exc:
        answer = {"error": str(exc), "passphrase_needed": True}
    except keypairs.KeyPemError as exc:
        answer = {"error": str(exc), "passphrase_needed": False}
    else:
        answer = {"ok": True}
    print(json.dumps(answer))
    return 0


if __name__ == "__main__":
    sys.exit(main())

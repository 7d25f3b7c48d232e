"""pass (the standard Unix password store) as a keyring backend keylink can choose by name.

Why keylink's own adapter over the ``pass`` command and not the ``keyring-pass`` plugin (0.9.3,
read before choosing): its ``set_password`` keeps only the first line of a value (a PEM private
key would be cut short without a word), it runs ``pass`` with no timeout (a pinentry nobody sees
blocks forever) and with gpg's messages going to our terminal, it takes any failed ``pass show``
for "no such entry" (a locked GPG agent or an entry encrypted for someone else would look like a
missing secret), its entry names come from a global keyringrc prefix, and it cannot list entries
(so ``keylink doctor`` could not find orphans). Here:

- each call is one ``pass``/``gpg``/``git`` process from an argv list (no shell), with a timeout,
  (a read is gpg's ``--decrypt`` with pass's own options, as ``pass show`` runs it: the bash
  script around it doubled a read's time);
  stdin given or closed, and keylink's passphrase variables removed from its environment;
  ``PASSWORD_STORE_DIR``, ``GNUPGHOME`` and the GPG agent are pass's and gpg's own, as usual;
- entries are ``keylink/<ref>``: ``pass ls keylink`` shows them, named after the account;
- a value is stored whole (``pass insert --multiline``), any number of lines;
- every failure is one line naming the store and the fix: no ``pass``, a store nobody
  initialised, recipients whose keys are missing, a store for other people's keys, a locked
  agent, a damaged entry, a git merge left half-way.

The checks that need gpg (whose key can read an entry) run before a write, or after a read has
already failed, so the usual read is one ``pass show``.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

from tui.services.core.child_env import child_environ
from tui.services.store.errors import KeyringLocked, KeyringUnavailable, SecretStoreError

#: The ``secret_store`` value of an account whose secret is in pass.
PASS_STORE = "pass"
#: Seconds one pass/gpg process may take. Far above a warm agent's 30 ms; a gpg waiting on a
#: pinentry nobody sees is stopped here and reported as a locked key.
PASS_TIMEOUT = 8.0
#: What an entry name may hold (keylink's refs; no slashes, nothing pass or a shell would read).
_ENTRY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}\Z")


class PassUnavailable(KeyringUnavailable):
    """pass or gpg is missing, or the store cannot be used as it is (not initialised, keys
    missing, a git merge left half-way)."""


class PassLocked(KeyringLocked):
    """Your GPG key could not be unlocked (the agent needs its passphrase)."""


class PassForOthers(SecretStoreError):
    """The store or the entry is encrypted for other GPG keys than yours."""


class PassDamaged(SecretStoreError):
    """An entry does not decrypt as a GPG message."""


def store_dir() -> Path:
    """Where pass keeps its files: ``PASSWORD_STORE_DIR``, else ``~/.password-store``."""
    chosen = os.environ.get("PASSWORD_STORE_DIR", "").strip()
    return Path(chosen).expanduser() if chosen else Path.home() / ".password-store"


def slug(name: str) -> str:
    """A readable entry (or file) name from an account name: ``Bybit main`` -> ``bybit-main``."""
    text = re.sub(r"[^a-z0-9]+", "-", name.casefold()).strip("-")
    return text[:40].strip("-") or "account"


class PassKeyring(KeyringBackend):
    """keylink's secrets in pass, one entry per ref under the service's folder (``keylink/``).

    Never picked by keyring on its own (priority below its fail backend): only by name
    (``KEYLINK_SECRET_BACKEND=pass``, ``accounts add --store pass``) or by an account that
    recorded it.
    """

    priority = -0.5  # type: ignore[assignment]

    def __init__(self, directory: Path | None = None, *, timeout: float = PASS_TIMEOUT) -> None:
        super().__init__()
        self.dir = directory if directory is not None else store_dir()
        self.timeout = timeout

    @property
    def label(self) -> str:
        return f"pass ({self.dir})"

    # -- running the tools ------------------------------------------------------------------

    def _run(self, argv: list[str], stdin: str | None = None,
             what: str = "") -> subprocess.CompletedProcess[str]:
        env = child_environ()
        env["PASSWORD_STORE_DIR"] = str(self.dir)
        try:
            return subprocess.run(
                argv, input=stdin, stdin=None if stdin is not None else subprocess.DEVNULL,
                capture_output=True, text=True, env=env, timeout=self.timeout, check=False,
            )
        except FileNotFoundError:
            raise PassUnavailable(self._missing(argv[0])) from None
        except subprocess.TimeoutExpired:
            raise PassLocked(
                f"{self.label} did not answer within {self.timeout:g} s{what}: gpg is probably "
                "waiting for your key's passphrase; unlock the key in a terminal (`pass show "
                "keylink/…` once, or `gpg-connect-agent reloadagent /bye` after fixing the "
                "pinentry) and retry"
            ) from None

    def _missing(self, tool: str) -> str:
        package = {"pass": "pass", "gpg": "gnupg", "git": "git"}.get(tool, tool)
        return (f"{self.label}: the `{tool}` command is not installed here; install it (Debian: "
                f"apt install {package}) or choose another store with KEYLINK_SECRET_BACKEND")

    def _need(self, tool: str) -> None:
        if shutil.which(tool) is None:
            raise PassUnavailable(self._missing(tool))

    def _entry(self, service: str, username: str) -> str:
        if not (_ENTRY_NAME.match(service) and _ENTRY_NAME.match(username)):
            raise SecretStoreError(f"{self.label}: {username!r} is not an entry name keylink "
                                   "makes")
        return f"{service}/{username}"

    def _file(self, entry: str) -> Path:
        return self.dir / f"{entry}.gpg"

    # -- what the store can do --------------------------------------------------------------

    def recipients(self, entry_dir: Path) -> list[str]:
        """The GPG ids pass encrypts for in ``entry_dir``: the nearest ``.gpg-id`` above it."""
        here = entry_dir
        while True:
            marker = here / ".gpg-id"
            if marker.is_file():
                lines = marker.read_text(encoding="utf-8", errors="replace").splitlines()
                return [line.split("#", 1)[0].strip() for line in lines
                        if line.split("#", 1)[0].strip()]
            if here == self.dir or self.dir not in here.parents:
                break
            here = here.parent
        raise PassUnavailable(
            f"{self.label} is not initialised (no .gpg-id): run `pass init YOUR-GPG-KEY-ID` "
            "(`gpg --list-secret-keys` shows yours), or set PASSWORD_STORE_DIR to your store"
        )

    def _secret_key_ids(self) -> set[str]:
        """Key ids, fingerprints and user ids of the secret keys this user holds."""
        done = self._run(["gpg", "--batch", "--with-colons", "--list-secret-keys"],
                         what=" listing your GPG keys")
        found: set[str] = set()
        for line in done.stdout.splitlines():
            parts = line.split(":")
            if parts[0] in ("sec", "ssb") and len(parts) > 4:
                found.add(parts[4].upper())
            elif parts[0] == "fpr" and len(parts) > 9:
                found.add(parts[9].upper())
            elif parts[0] == "uid" and len(parts) > 9:
                found.add(parts[9].casefold())
                email = re.search(r"<([^>]+)>", parts[9])
                if email:
                    found.add(email.group(1).casefold())
        return found

    @staticmethod
    def _matches(gpg_id: str, mine: set[str]) -> bool:
        wanted = gpg_id.removeprefix("0x").upper()
        if re.fullmatch(r"[0-9A-F]{8,40}!?", wanted):
            wanted = wanted.rstrip("!")
            return any(k.endswith(wanted) for k in mine if re.fullmatch(r"[0-9A-F]+", k))
        folded = gpg_id.strip("<>").casefold()
        return folded in mine or any(folded in k for k in mine if "@" in k or " " in k)

    def check_writable(self, service: str) -> list[str]:
        """Refuse (one line) a write nobody here could read back, or that gpg could not make:
        not initialised, a recipient's public key missing, none of the recipients yours, a git
        merge left half-way. Returns the recipients."""
        self._need("pass")
        self._need("gpg")
        self.check_git()
        ids = self.recipients(self.dir / service)
        missing = [i for i in ids
                   if self._run(["gpg", "--batch", "--with-colons", "--list-keys", i],
                                what=" looking up a recipient's key").returncode != 0]
        if missing:
            raise PassUnavailable(
                f"{self.label} encrypts for {', '.join(missing)}, whose public key is not in "
                "your GPG keyring: import it (`gpg --import KEY.asc`) and retry"
            )
        mine = self._secret_key_ids()
        if not any(self._matches(i, mine) for i in ids):
            raise PassForOthers(
                f"{self.label} is initialised for other GPG keys ({', '.join(ids)}), none of "
                "them yours: you could not read what keylink saved there; ask a recipient to "
                "add your key (`pass init -p keylink THEIR-ID YOUR-ID`) or use your own store"
            )
        return ids

    def check_git(self) -> None:
        """Refuse to write while the store's git has a merge or rebase left half-way."""
        git = self.dir / ".git"
        if not git.is_dir():
            return
        if any((git / name).exists() for name in ("MERGE_HEAD", "rebase-merge", "rebase-apply")):
            raise PassUnavailable(
                f"{self.label} has a git merge left half-way (a conflict): finish it (`pass git "
                "status`, then `pass git merge --abort` or resolve and commit) and retry"
            )

    def entry_recipients(self, path: Path) -> list[str]:
        """The key ids an entry is encrypted for (read from its packets, not decrypted)."""
        done = self._run(["gpg", "--batch", "--list-only", "--list-packets", str(path)],
                         what=" reading an entry's recipients")
        return [m.upper() for m in re.findall(r"keyid ([0-9A-Fa-f]{16})",
                                              done.stdout + done.stderr)]

    # -- keyring's interface ----------------------------------------------------------------

    def get_password(self, service: str, username: str) -> str | None:
        entry = self._entry(service, username)
        path = self._file(entry)
        if not path.is_file():
            return None
        self._need("gpg")
        # What `pass show` runs, without the bash script around it: half the time of a read
        # (verify through pass must stay within 1.5x of the vault; benchmarks/verify_pass.py).
        extra = shlex.split(os.environ.get("PASSWORD_STORE_GPG_OPTS", ""))
        done = self._run(["gpg", "--quiet", "--yes", "--compress-algo=none", "--no-encrypt-to",
                          "--batch", "--use-agent", *extra, "--decrypt", str(path)],
                         what=f" reading {entry}")
        if done.returncode == 0 and done.stdout:
            return done.stdout
        raise self._read_failure(entry, path, done.stderr)

    def _read_failure(self, entry: str, path: Path, stderr: str) -> SecretStoreError:
        """Why ``pass show`` failed, in one line: the key is locked, the entry is for others,
        or it is damaged."""
        recipients = self.entry_recipients(path)
        if recipients:
            mine = self._secret_key_ids()
            if any(r in mine for r in recipients):
                return PassLocked(
                    f"{self.label}: your GPG key could not be unlocked to read {entry} (the "
                    "agent needs its passphrase and could not ask): run `pass show "
                    f"{entry} >/dev/null` once in a terminal, then retry"
                )
            return PassForOthers(
                f"{self.label}: {entry} is encrypted for other GPG keys "
                f"({', '.join(recipients)}), not yours: ask a recipient to run `pass init -p "
                "keylink THEIR-ID YOUR-ID` (it re-encrypts for both) and pull again"
            )
        merge = ("; the store's git has a merge left half-way: finish it first"
                 if (self.dir / ".git" / "MERGE_HEAD").exists() else "")
        said = " ".join(stderr.split())[:160]
        return PassDamaged(
            f"{self.label}: {entry} is damaged ({said or 'gpg read nothing from it'}){merge}; "
            f"restore it from git (`pass git log -- {entry}.gpg`) or rotate the key"
        )

    def set_password(self, service: str, username: str, password: str) -> None:
        entry = self._entry(service, username)
        self.check_writable(service)
        path = self._file(entry)
        # keylink writes a new entry name for every secret; one already there is never taken
        # out below (it may be the only copy of what it held).
        existed = path.exists()
        done = self._run(["pass", "insert", "--multiline", "--force", entry], stdin=password,
                         what=f" saving {entry}")
        if done.returncode == 0:
            return
        said = " ".join(done.stderr.split())[:200]
        if path.exists() and not existed:
            # Written, then git refused the commit: take it out again, so a failure we report
            # leaves no secret behind.
            path.unlink()
            if (self.dir / ".git").is_dir():
                self._run(["git", "-C", str(self.dir), "rm", "--cached", "-q",
                           "--ignore-unmatch", f"{entry}.gpg"])
            raise PassUnavailable(
                f"{self.label}: git would not commit {entry} ({said}); fix the store's git "
                "(`pass git status`) and retry"
            )
        raise PassUnavailable(f"{self.label} could not save {entry} ({said}); run `pass insert "
                              f"{entry}` in a terminal to see why")

    def delete_password(self, service: str, username: str) -> None:
        entry = self._entry(service, username)
        if not self._file(entry).is_file():
            raise PasswordDeleteError(f"{entry} is not in {self.label}")
        self._need("pass")
        self.check_git()
        done = self._run(["pass", "rm", "--force", entry], what=f" deleting {entry}")
        if done.returncode != 0 and self._file(entry).exists():
            said = " ".join(done.stderr.split())[:200]
            raise PassUnavailable(f"{self.label} could not delete {entry} ({said})")

    def refs(self, service: str) -> list[str]:
        """The entries under the service's folder (their files: nothing is decrypted)."""
        folder = self.dir / service
        try:
            return sorted(p.name[: -len(".gpg")] for p in folder.iterdir()
                          if p.name.endswith(".gpg") and p.is_file())
        except FileNotFoundError:
            return []


def pass_status() -> tuple[bool, str]:
    """(usable here, why or why not), for ``keylink doctor``: the tools, the store, your key.
    Reads no entry."""
    backend = PassKeyring()
    try:
        backend.check_writable("keylink")
    except SecretStoreError as exc:
        return False, str(exc)
    count = len(backend.refs("keylink"))
    synced = " (a git repository)" if (backend.dir / ".git").is_dir() else ""
    return True, (f"{backend.dir}{synced}, your GPG key can read it; {count} keylink "
                  f"entr{'y' if count == 1 else 'ies'}")

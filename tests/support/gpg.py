"""Real GPG keys and pass stores for the tests: made once per session, cheaply.

Two people: "me" (the keylink user) and "mate" (a team member), each with a GNUPGHOME of their
own holding their own secret key and the other's public key. Keys are Ed25519/Curve25519 without a
passphrase (made in milliseconds, no entropy wait). gpg is told never to look a key up on the
network (the tests send nothing past 127.0.0.1). ``KEYLINK_REQUIRE_PASS=1`` (CI) turns a missing
pass or gpg into a failure instead of a skip.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

REQUIRE_ENV = "KEYLINK_REQUIRE_PASS"


@dataclass(frozen=True)
class GpgPerson:
    home: Path
    fingerprint: str
    email: str

    def env(self) -> dict[str, str]:
        return {"GNUPGHOME": str(self.home)}

    def gpg(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["gpg", "--batch", *args], input=stdin, capture_output=True,
                              text=True, env={**os.environ, **self.env()}, timeout=30,
                              check=True)

    def stop_agent(self) -> None:
        subprocess.run(["gpgconf", "--kill", "gpg-agent"], env={**os.environ, **self.env()},
                       capture_output=True, timeout=30, check=False)


def require_pass_tools() -> None:
    """Skip (or fail in CI) when pass, gpg or git are missing."""
    missing = [tool for tool in ("pass", "gpg", "git", "gpgconf") if shutil.which(tool) is None]
    if missing:
        message = f"needs {', '.join(missing)} (Debian: apt install pass gnupg git)"
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{message}; required by {REQUIRE_ENV}=1")
        pytest.skip(message)


def make_person(home: Path, name: str, email: str, passphrase: str = "") -> GpgPerson:
    home.mkdir(mode=0o700, parents=True)
    # Never the network: no WKD or keyserver look-up for an unknown recipient.
    (home / "gpg.conf").write_text("auto-key-locate local\nno-auto-key-retrieve\n")
    # A cheap passphrase protection: the agent's default calibration took 5 s a key here.
    (home / "gpg-agent.conf").write_text("s2k-count 65536\n")
    env = {**os.environ, "GNUPGHOME": str(home)}
    common = ["gpg", "--batch", "--pinentry-mode", "loopback", "--passphrase", passphrase]
    subprocess.run([*common, "--quick-gen-key", f"{name} <{email}>", "ed25519", "cert,sign", "0"],
                   env=env, capture_output=True, check=True, timeout=60)
    listed = subprocess.run(["gpg", "--batch", "--with-colons", "--list-keys", email], env=env,
                            capture_output=True, text=True, check=True, timeout=30).stdout
    fingerprint = next(line.split(":")[9] for line in listed.splitlines()
                       if line.startswith("fpr:"))
    subprocess.run([*common, "--quick-add-key", fingerprint, "cv25519", "encr", "0"], env=env,
                   capture_output=True, check=True, timeout=60)
    return GpgPerson(home, fingerprint, email)


def introduce(a: GpgPerson, b: GpgPerson) -> None:
    """Each imports the other's public key and trusts it (as a team does once)."""
    for giver, taker in ((a, b), (b, a)):
        public = giver.gpg("--armor", "--export", giver.fingerprint).stdout
        taker.gpg("--import", stdin=public)
        taker.gpg("--import-ownertrust", stdin=f"{giver.fingerprint}:6:\n")


def init_store(directory: Path, person: GpgPerson, *ids: str) -> Path:
    """``pass init`` for ``ids`` (default: the person's own key)."""
    subprocess.run(["pass", "init", *(ids or (person.fingerprint,))],
                   env={**os.environ, **person.env(), "PASSWORD_STORE_DIR": str(directory)},
                   capture_output=True, check=True, timeout=30)
    return directory

"""Remove the stored key values from the plaintext file an import read, changing only their bytes.

After :mod:`tui.services.handoff.importer` has stored a file's keys (and read them back), the
values can be taken out of the file: every copy is emptied (freqtrade) or its line dropped (.env);
comments, order, layout and the file's mode stay. A copy that cannot be removed safely leaves the
file as it was (:class:`CannotScrub`). The rewrite is atomic, optionally after a 0600 backup, and
read back before it counts as done.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tui.services.core.text import clean
from tui.services.handoff.importer import (
    DOTENV_LINE,
    FREQTRADE,
    REFUSED,
    ImportProblem,
    Source,
    dotenv_value,
    jsonc_tokens,
    line_of,
    parse_jsonc,
    read_bytes,
)

if TYPE_CHECKING:
    from tui.services.handoff.importer import Imported
    from tui.services.store.accounts import AccountStore


def stored_values(store: AccountStore, done: Sequence[Imported]) -> list[str]:
    """The values a scrub may remove: those of every key the import stored or found stored,
    each read back from the store now (ImportProblem when one does not read back as the file has
    it). A refused key's values are not among them: they exist only in the file."""
    values: list[str] = []
    for item in done:
        if item.status == REFUSED:
            continue
        try:
            creds = store.credentials(item.account)
        except Exception as exc:
            raise ImportProblem(f"{clean(item.account.name)} could not be read back from the "
                                f"store ({type(exc).__name__})") from None
        if creds != item.found.creds:
            raise ImportProblem(f"{clean(item.account.name)} does not read back as the file "
                                "has it")
        values += [value for value in (creds.api_key, creds.secret, creds.passphrase) if value]
    return list(dict.fromkeys(values))


def found_values(source: Source) -> list[str]:
    """Every credential value the file was read to hold."""
    values = [value for found in source.found
              for value in (found.creds.api_key, found.creds.secret, found.creds.passphrase)
              if value]
    return list(dict.fromkeys(values))


class CannotScrub(ImportProblem):
    """A copy of a stored value sits where keylink cannot remove it safely (inside other text,
    an object key, a setting outside the exchange section): the file is left as it was."""

    def __init__(self, path: Path, lines: Sequence[int], why: str) -> None:
        self.lines = sorted(set(lines))
        shown = ", ".join(str(n) for n in self.lines[:10]) + (", ..." if len(self.lines) > 10
                                                             else "")
        word = "line" if len(self.lines) == 1 else "lines"
        super().__init__(f"{clean(path)} {word} {shown}: {why}")


@dataclass(frozen=True)
class ScrubPlan:
    """What a scrub would write: the new bytes, the places it empties or removes, in the file's
    own terms ("exchange.secret (line 5)", "BYBIT_SECRET (line 3)", "a comment (line 9)")."""

    data: bytes
    places: tuple[str, ...]


_CREDENTIAL_NAME = re.compile(r"KEY|SECRET|PASS|TOKEN", re.IGNORECASE)


def plan_scrub(source: Source, values: Sequence[str]) -> ScrubPlan:
    """Every copy of ``values`` in the file, and the file without them; CannotScrub when a copy
    cannot be removed safely. Only the bytes of those copies change (a .env line that sets one is
    dropped whole): comments, order and layout stay. The result is checked: no value is left
    anywhere in its bytes, and (freqtrade) it parses to the same config with those strings
    emptied."""
    text = source.raw.decode("utf-8")
    wanted = [value for value in values if value]
    if source.kind == FREQTRADE:
        new_text, places, bad = _plan_json(source, text, wanted)
    else:
        new_text, places, bad = _plan_dotenv(source, text, wanted)
    if bad:
        raise CannotScrub(source.path, bad, "a copy of a stored key, secret or passphrase "
                          "sits where keylink cannot remove it safely (inside other text, as a "
                          "name, or outside the exchange section); remove it by hand and run "
                          "again")
    left = [line_of(text, text.find(value)) for value in wanted if value in new_text]
    if left:
        raise CannotScrub(source.path, left, "a stored value would stay in the file; remove it by "
                          "hand")
    data = new_text.encode("utf-8")
    if source.kind == FREQTRADE and places:
        before = parse_jsonc(text, source.raw, clean(source.path))
        after = parse_jsonc(new_text, data, clean(source.path))
        if after != _emptied(before, set(wanted)):
            raise CannotScrub(source.path, [line_of(text, text.find(v)) for v in wanted
                                            if v in text],
                              "removing the values there would change the config; remove them "
                              "by hand")
    return ScrubPlan(data, tuple(places))


def _emptied(value: object, wanted: set[str], inside: bool = False, top: bool = True) -> object:
    """``value`` (a parsed config) with every string in ``wanted`` under "exchange" emptied."""
    if isinstance(value, dict):
        return {key: _emptied(item, wanted, inside or (top and key == "exchange"), False)
                for key, item in value.items()}
    if isinstance(value, list):
        return [_emptied(item, wanted, inside, False) for item in value]
    if inside and isinstance(value, str) and value in wanted:
        return ""
    return value


def _plan_json(source: Source, text: str,
               wanted: Sequence[str]) -> tuple[str, list[str], list[int]]:
    decoder = json.JSONDecoder(strict=False)
    edits: list[tuple[int, int, str]] = []
    places: list[str] = []
    bad: list[int] = []
    for token in jsonc_tokens(text, clean(source.path)):
        piece = text[token.start:token.end]
        line = line_of(text, token.start)
        if token.kind == "comment":
            cut = piece
            for value in wanted:
                cut = cut.replace(value, "")
            if cut != piece:
                edits.append((token.start, token.end, cut))
                places.append(f"a comment (line {line})")
            continue
        if token.kind != "string":
            continue
        try:
            decoded = decoder.decode(piece)
        except ValueError:
            decoded = piece
        if not any(value in decoded or value in piece for value in wanted):
            continue
        if not token.is_key and token.path[:1] == ("exchange",) and decoded in wanted:
            edits.append((token.start, token.end, '""'))
            where = ".".join((*token.path, token.key) if token.key else token.path)
            places.append(f"{where} (line {line})")
        else:
            bad.append(line)
    for start, end, replacement in sorted(edits, reverse=True):
        text = text[:start] + replacement + text[end:]
    return text, places, bad


def _plan_dotenv(source: Source, text: str,
                 wanted: Sequence[str]) -> tuple[str, list[str], list[int]]:
    kept: list[str] = []
    places: list[str] = []
    bad: list[int] = []
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        if not any(value in line for value in wanted):
            kept.append(line)
            continue
        if line.lstrip().startswith("#"):
            cut = line
            for value in wanted:
                cut = cut.replace(value, "")
            kept.append(cut)
            places.append(f"a comment (line {number})")
            continue
        match = DOTENV_LINE.match(line.rstrip("\r\n"))
        if (match is not None and dotenv_value(match.group(2)) in wanted
                and _CREDENTIAL_NAME.search(match.group(1))):
            places.append(f"{match.group(1)} (line {number})")
            continue  # the line goes
        bad.append(number)
        kept.append(line)
    return "".join(kept), places, bad


def plaintext_places(source: Source) -> list[str]:
    """Where the file holds copies of the credentials it was read for, in its own terms
    ("exchange.secret (line 5)", "BYBIT_API_SECRET (line 3)", "a comment (line 9)")."""
    try:
        return list(plan_scrub(source, found_values(source)).places)
    except CannotScrub as exc:
        return [f"line {n}" for n in exc.lines]


@dataclass(frozen=True)
class Scrubbed:
    """What a scrub did: the places it removed, the backup (if asked for), and how many temp
    files of an earlier, cut-short scrub it deleted."""

    places: tuple[str, ...]
    backup: Path | None
    stale_temps: int


def backup_path(path: Path) -> Path:
    return path.with_name(path.name + ".keylink-backup")


def stale_temp_files(path: Path) -> list[Path]:
    """Temp files a killed scrub of ``path`` left next to it (its own and its backup's): ours by
    name (``.NAME.XXXXXXXX.tmp``, as mkstemp makes them) and owner. The backup's holds
    plaintext; the file's holds the scrubbed text."""
    from tui.services.core.private_files import leftover_temp_files

    target = path.resolve()
    found: list[Path] = []
    for of in (target, backup_path(target)):
        ours = re.compile(rf"\.{re.escape(of.name)}\.[a-z0-9_]{{8}}\.tmp")
        for candidate in leftover_temp_files(of):
            try:
                info = candidate.lstat()
            except OSError:
                continue
            if ours.fullmatch(candidate.name) and info.st_uid == os.getuid():
                found.append(candidate)
    return found


def scrub(source: Source, values: Sequence[str], *, backup: bool = False) -> Scrubbed:
    """Rewrite the file without any copy of ``values`` (see :func:`plan_scrub`), atomically,
    keeping its mode; the original bytes go to a 0600 backup first when asked for. The file
    must not have changed since it was read, and the written file is read back and searched for
    every value before this returns (CannotScrub if one is there)."""
    from tui.services.core.private_files import atomic_write, remove_files

    path = source.path.resolve()
    stale = remove_files(stale_temp_files(path))
    if read_bytes(path) != source.raw:
        raise ImportProblem(f"{clean(path)} changed while keylink was reading it; run again")
    plan = plan_scrub(source, values)
    if not plan.places:
        return Scrubbed((), None, stale)
    written_backup = None
    if backup:
        written_backup = backup_path(path)
        atomic_write(written_backup, source.raw)
    # The file keeps its mode (a bot under another user may need to read it), set on the
    # temp file before the rename, with the temp names private_files' clean-up knows.
    atomic_write(path, plan.data, mode=path.stat().st_mode & 0o777)
    written = read_bytes(path)
    left = [written[:written.find(value.encode())].count(b"\n") + 1
            for value in values if value and value.encode() in written]
    if left:
        raise CannotScrub(path, left, "a stored value is still there after the rewrite (did "
                          "another program write the file?)")
    return Scrubbed(plan.places, written_backup, stale)

"""Each person's workspace on disk, so a reload, a closed tab or a server restart loses nothing.

A workspace is named by a long random id (:func:`new_id`, 256 bits from :mod:`secrets`) that the address
bar carries; whoever has the id has the workspace, and nobody reaches one without it: every read and
write names its workspace, no query reads across workspaces, and nothing lists the ids (only the
expiry sweep walks them, to delete). An id that is not in the store is never adopted: the app makes a
new one, so nobody can plant an id and wait for someone to fill it.

The store is SQLite (the standard library's :mod:`sqlite3`, WAL mode, one connection behind a lock, in
:mod:`workbench.database`, which keeps the app up when the file is damaged or the folder cannot be
written); a file's bytes are kept beside the database under their SHA-256 (``blobs/ab/abcd...``),
written once however many workspaces open the same file (to a temporary file, then renamed), and
deleted when no workspace holds them. Results, runs and settings are JSON: it outlives changes to our
classes (a field added or renamed later leaves old workspaces readable) and, unlike a pickle, reading it
runs no code.

This module does not import streamlit: it is plain storage, tested on its own (tests/test_workspace.py).
"""

from __future__ import annotations

import base64
import dataclasses
import json
import logging
import os
import re
import secrets
import sqlite3
import time
import weakref
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import ocr
from ocr.flatten import Bend, Remap
from ocr.pdf import Origin
from ocr.result import WORD_COLUMNS, typed_words

from .database import Database, Health, StoreUnavailable, unwritable

__all__ = ["Health", "Held", "Saved", "Store", "StoreUnavailable"]

log = logging.getLogger(__name__)
DATABASE = "workspaces.sqlite3"
PART_AGE_S = 3600.0  # a temporary file this old was left by a process that died while writing it
ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{43}$")  # secrets.token_urlsafe(32): 32 bytes, 43 characters
DEFAULT_EXPIRE_DAYS = 30.0

SCHEMA = """
CREATE TABLE IF NOT EXISTS workspace (id TEXT PRIMARY KEY, created REAL NOT NULL, used REAL NOT NULL);
CREATE TABLE IF NOT EXISTS file (
    ws TEXT NOT NULL REFERENCES workspace(id) ON DELETE CASCADE, sha TEXT NOT NULL, position INTEGER NOT NULL,
    meta TEXT NOT NULL, PRIMARY KEY (ws, sha));
CREATE TABLE IF NOT EXISTS page (
    ws TEXT NOT NULL REFERENCES workspace(id) ON DELETE CASCADE, key TEXT NOT NULL, kind TEXT NOT NULL,
    value TEXT NOT NULL, data BLOB, PRIMARY KEY (ws, key, kind));
CREATE TABLE IF NOT EXISTS state (
    ws TEXT NOT NULL REFERENCES workspace(id) ON DELETE CASCADE, name TEXT NOT NULL, value TEXT NOT NULL,
    PRIMARY KEY (ws, name));
CREATE TABLE IF NOT EXISTS run (
    ws TEXT NOT NULL REFERENCES workspace(id) ON DELETE CASCADE, number INTEGER NOT NULL, value TEXT NOT NULL,
    PRIMARY KEY (ws, number));
CREATE TABLE IF NOT EXISTS version (
    ws TEXT NOT NULL REFERENCES workspace(id) ON DELETE CASCADE, key TEXT NOT NULL, number INTEGER NOT NULL,
    PRIMARY KEY (ws, key));
CREATE TABLE IF NOT EXISTS job (
    id TEXT PRIMARY KEY, ws TEXT REFERENCES workspace(id) ON DELETE CASCADE, name TEXT NOT NULL, sha TEXT NOT NULL,
    preset TEXT NOT NULL, state TEXT NOT NULL, created REAL NOT NULL, started REAL, updated REAL NOT NULL);
CREATE TABLE IF NOT EXISTS job_page (
    job TEXT NOT NULL REFERENCES job(id) ON DELETE CASCADE, position INTEGER NOT NULL, page INTEGER NOT NULL,
    key TEXT NOT NULL, result TEXT, error TEXT, taken INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (job, position));
CREATE INDEX IF NOT EXISTS job_ws ON job(ws);
CREATE INDEX IF NOT EXISTS job_sha ON job(sha);
CREATE INDEX IF NOT EXISTS workspace_used ON workspace(used);
CREATE INDEX IF NOT EXISTS file_sha ON file(sha);
"""


def new_id() -> str:
    """A new workspace id: 32 random bytes, URL-safe (43 characters); never guessable."""
    return secrets.token_urlsafe(32)


def valid_id(ws: object) -> bool:
    """Whether ``ws`` has the form of an id (it may still name no workspace)."""
    return isinstance(ws, str) and bool(ID_PATTERN.match(ws))


def data_folder() -> Path:
    """Where workspaces live: ``$OCR_WORKBENCH_DATA``, else ``$XDG_DATA_HOME/ocr-workbench``, else
    ``~/.local/share/ocr-workbench`` (the container sets ``/data``, a volume)."""
    chosen = os.environ.get("OCR_WORKBENCH_DATA")
    if chosen:
        return Path(chosen).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "ocr-workbench"


def expire_days() -> float:
    """Days a workspace unused is kept: ``$OCR_WORKBENCH_EXPIRE_DAYS`` (default 30)."""
    try:
        days = float(os.environ.get("OCR_WORKBENCH_EXPIRE_DAYS", DEFAULT_EXPIRE_DAYS))
    except ValueError:
        return DEFAULT_EXPIRE_DAYS
    return days if days > 0 else DEFAULT_EXPIRE_DAYS


# -- our records as JSON ----------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """A field's value as JSON: settings as dicts, tables as records, arrays as lists; a page's origin
    without the file's bytes or pixels (the workspace keeps the file; the app joins them again)."""
    if isinstance(value, Origin):
        return {"__kind__": "Origin", "kind": value.kind, "index": value.index, "count": value.count,
                "dpi": value.dpi}
    if isinstance(value, (ocr.Settings, ocr.Options)):
        return {"__kind__": type(value).__name__, "fields": value.to_dict()}
    if isinstance(value, Bend):  # the way back from a flattened curl: two matrices and a coarse grid
        return {"__kind__": "Bend", "before": value.before.tolist(), "after": value.after.tolist(),
                "x": value.remap.x.tolist(), "y": value.remap.y.tolist(), "step": value.remap.step,
                "origin": value.remap.origin}
    if isinstance(value, pd.DataFrame):
        return {"__kind__": "DataFrame", "records": value.to_dict(orient="records")}
    if isinstance(value, np.ndarray):
        return {"__kind__": "ndarray", "list": value.tolist()}
    if isinstance(value, bytes):
        return {"__kind__": "bytes", "b64": base64.b64encode(value).decode("ascii")}
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, np.generic):
        return value.item()
    return value


def _typed(value: Any) -> Any:
    """The inverse of :func:`_plain`."""
    if not isinstance(value, dict) or "__kind__" not in value:
        return value
    kind = value["__kind__"]
    if kind == "Bend":
        grid = Remap(np.asarray(value["x"], dtype=np.float32), np.asarray(value["y"], dtype=np.float32),
                     int(value["step"]), float(value["origin"]))
        return Bend(np.asarray(value["before"], dtype=float), grid, np.asarray(value["after"], dtype=float))
    if kind == "Origin":
        return Origin(kind=value["kind"], index=value["index"], count=value["count"], dpi=value["dpi"])
    if kind == "Settings":
        return ocr.Settings.from_dict(value["fields"])
    if kind == "Options":
        return ocr.Options.from_dict(value["fields"])
    if kind == "DataFrame":
        table = pd.DataFrame.from_records(value["records"])
        return table if len(table.columns) else pd.DataFrame(columns=WORD_COLUMNS)
    if kind == "ndarray":
        return np.asarray(value["list"], dtype=float)
    if kind == "bytes":
        return base64.b64decode(value["b64"])
    return value


def record_to_json(record: Any) -> str:
    """A dataclass (a :class:`ocr.Result`, a history run) as JSON, field by field."""
    return json.dumps({f.name: _plain(getattr(record, f.name)) for f in dataclasses.fields(record)})


def record_from_json(kind: type, text: str) -> Any:
    """A dataclass of ``kind`` from :func:`record_to_json`'s text: fields it no longer has are dropped,
    fields it gained take their defaults; tuples come back as tuples where the field's default is one."""
    data = json.loads(text)
    known = {f.name: f for f in dataclasses.fields(kind)}
    values = {}
    for name, value in data.items():
        if name not in known:
            continue
        value = _typed(value)
        if isinstance(value, list) and str(known[name].type).startswith("tuple"):
            value = tuple(value)
        values[name] = value
    return kind(**values)


def result_to_json(result: ocr.Result) -> str:
    """A result as JSON (its origin's facts only: the workspace keeps the file)."""
    return record_to_json(result)


def result_from_json(text: str) -> ocr.Result:
    """The inverse of :func:`result_to_json`."""
    found: ocr.Result = record_from_json(ocr.Result, text)
    words = typed_words(found.words)
    size, source = found.size, found.source_size  # JSON gave lists
    return dataclasses.replace(found, words=words, size=(int(size[0]), int(size[1])),
                               source_size=(int(source[0]), int(source[1])))


def _write_whole(path: Path, data: bytes) -> None:
    """``data`` into a new file at ``path``, flushed to the disk (so a rename after it is durable)."""
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


# -- the store -------------------------------------------------------------------------------------------


class Held(dict[str, bytes]):
    """File bytes by SHA-256 that a session keeps itself because the store could not write them; lent to
    the store (:meth:`Store.lend`), which holds it weakly: it goes with the session."""


@dataclass(frozen=True)
class Saved:
    """A page's text written: its version now, and the run that keeps another tab's text, if one had to."""

    version: int
    kept: Any = None


class Store:
    """The workspaces in one folder: ``workspaces.sqlite3`` and ``blobs/``.

    Every method takes the workspace id first and reads or writes that workspace's rows only. Writing to
    an id creates its workspace; reading an id that holds nothing gives nothing. A write that the folder
    cannot take raises :class:`StoreUnavailable` and keeps nothing of itself (:mod:`workbench.database`).

    Each page's text (its reading, or the person's edit of it) has a version, raised by every
    :meth:`save_result` and :meth:`save_edit`. A save names the version it was based on; when another
    tab saved the page since, that tab's edited text is kept as a run in the history (made by the
    ``theirs`` function the caller gives) before this save replaces it, in the same transaction.
    """

    def __init__(self, folder: Path | str, expire_days: float = DEFAULT_EXPIRE_DAYS) -> None:
        self.folder = Path(folder)
        self.blobs = self.folder / "blobs"
        self.expire_s = expire_days * 86_400
        self.db = Database(self.folder / DATABASE, SCHEMA)
        self.last_sweep = 0.0
        self._lent: weakref.WeakValueDictionary[str, Held] = weakref.WeakValueDictionary()

    def close(self) -> None:
        self.db.close()

    def health(self) -> Health:
        """The store's state: ok, read-only (and why) or a damaged database replaced (see :class:`Health`)."""
        return self.db.health()

    @property
    def writable(self) -> bool:
        """False when the store was opened read-only (its folder could not be written): no write is tried."""
        return self.db.fixed is None

    @property
    def generation(self) -> int:
        """How often a damaged database was replaced by a new, empty one while the server ran."""
        return self.db.generation

    def _tx(self) -> AbstractContextManager[sqlite3.Connection]:
        """One transaction, for tests that change rows directly."""
        return self.db.transaction()

    def _rows(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        return self.db.read(sql, *args)

    def _claim(self, db: sqlite3.Connection, ws: str) -> None:
        """Create the workspace on its first write; mark it used."""
        if not valid_id(ws):
            raise ValueError("not a workspace id")
        now = time.time()
        db.execute("INSERT INTO workspace (id, created, used) VALUES (?, ?, ?) "
                   "ON CONFLICT(id) DO UPDATE SET used = excluded.used", (ws, now, now))

    # -- workspaces --

    def exists(self, ws: str) -> bool:
        """Whether this id names a workspace in the store (and it has not expired)."""
        if not valid_id(ws):
            return False
        found = self._rows("SELECT used FROM workspace WHERE id = ?", ws)
        return bool(found) and time.time() - found[0][0] <= self.expire_s

    def touch(self, ws: str) -> None:
        """Mark a workspace used now (its expiry counts from here)."""
        self.db.write(lambda db: db.execute("UPDATE workspace SET used = ? WHERE id = ?", (time.time(), ws)))

    def clear(self, ws: str) -> None:
        """Delete a workspace: its rows, and the bytes of files no other workspace holds."""
        def work(db: sqlite3.Connection) -> list[str]:
            shas = [sha for (sha,) in db.execute("SELECT sha FROM file WHERE ws = ? UNION SELECT sha FROM job "
                                                 "WHERE ws = ?", (ws, ws))]
            db.execute("DELETE FROM workspace WHERE id = ?", (ws,))
            return shas

        self._drop_unheld(self.db.write(work))
        self._lent.pop(ws, None)

    def sweep(self, now: float | None = None) -> int:
        """Delete the workspaces unused for longer than the expiry, and files half-written by a process
        that died (``*.part`` older than an hour); returns how many workspaces went."""
        when = time.time() if now is None else now
        limit = when - self.expire_s

        def work(db: sqlite3.Connection) -> tuple[int, list[str]]:
            old = db.execute("SELECT COUNT(*) FROM workspace WHERE used < ?", (limit,)).fetchone()[0]
            shas = [sha for (sha,) in db.execute(
                "SELECT sha FROM file WHERE ws IN (SELECT id FROM workspace WHERE used < ?) UNION "
                "SELECT sha FROM job WHERE ws IN (SELECT id FROM workspace WHERE used < ?)", (limit, limit))]
            db.execute("DELETE FROM workspace WHERE used < ?", (limit,))
            return old, shas

        old, shas = self.db.write(work)
        self._drop_unheld(shas)
        for part in self.blobs.glob("*/*.part"):
            try:
                if when - part.stat().st_mtime > PART_AGE_S:
                    part.unlink()
            except OSError as e:  # gone meanwhile, or the folder turned read-only: the next sweep tries again
                log.warning("A half-written file could not be removed (%s).", e.strerror or e)
        self.last_sweep = when
        return int(old)

    def _blob(self, sha: str) -> Path:
        if not re.fullmatch(r"[0-9a-f]{64}", sha):
            raise ValueError("not a SHA-256")
        return self.blobs / sha[:2] / sha

    def _drop_unheld(self, shas: list[str]) -> None:
        for sha in shas:
            if not self._rows("SELECT 1 FROM file WHERE sha = ? UNION ALL SELECT 1 FROM job WHERE sha = ? LIMIT 1",
                              sha, sha):
                try:
                    self._blob(sha).unlink(missing_ok=True)
                except OSError as e:  # a read-only folder: the file stays until a sweep finds it unheld
                    log.warning("A file no workspace holds could not be removed (%s).", e.strerror or e)

    def _put_blob(self, sha: str, data: bytes) -> bool:
        """Write a file's bytes under their SHA-256 unless they are there: to a temporary file, flushed to
        the disk, then renamed, so the name holds the whole file or nothing; a write that fails removes
        its temporary file. Returns whether this call wrote them."""
        if self.db.fixed:
            raise StoreUnavailable(self.db.fixed)
        path = self._blob(sha)
        if path.exists():
            return False
        part = path.with_name(f"{sha}.{secrets.token_hex(4)}.part")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            _write_whole(part, data)
            part.replace(path)
        except OSError as e:
            why = unwritable(e) or "the data folder cannot be written"
            try:
                part.unlink(missing_ok=True)
            except OSError as left:  # the folder turned read-only mid-write: a sweep removes it later
                log.warning("A half-written file could not be removed (%s).", left.strerror or left)
            self.db.failed(why)
            raise StoreUnavailable(why) from None
        return True

    # -- files --

    def add_file(self, ws: str, sha: str, meta: dict[str, Any], data: bytes | None) -> bool:
        """Keep an opened file: its bytes (once, under their SHA-256) and its facts, last in the order.
        ``data`` None: the bytes are on disk already (a database started anew keeps the files beside it);
        returns False, keeping nothing, when they are not."""
        if data is None:
            if not self._blob(sha).exists():
                return False
            wrote = False
        else:
            wrote = self._put_blob(sha, data)

        def work(db: sqlite3.Connection) -> None:
            self._claim(db, ws)
            (last,) = db.execute("SELECT COALESCE(MAX(position), 0) FROM file WHERE ws = ?", (ws,)).fetchone()
            db.execute("INSERT OR REPLACE INTO file (ws, sha, position, meta) VALUES (?, ?, ?, ?)",
                       (ws, sha, last + 1, json.dumps(meta)))

        try:
            self.db.write(work)
        except StoreUnavailable:
            if wrote:  # nobody holds the bytes this call wrote: they go with the failed write
                self._drop_unheld([sha])
            raise
        return True

    def remove_file(self, ws: str, sha: str) -> None:
        """Close a file: its row, its pages' rows, and its bytes when no workspace holds them."""
        def work(db: sqlite3.Connection) -> None:
            db.execute("DELETE FROM file WHERE ws = ? AND sha = ?", (ws, sha))
            for table in ("page", "version"):
                db.execute(f"DELETE FROM {table} WHERE ws = ? AND key LIKE ?", (ws, sha + ":%"))

        self.db.write(work)
        self._drop_unheld([sha])
        held = self._lent.get(ws)
        if held is not None:
            held.pop(sha, None)

    def files(self, ws: str) -> list[tuple[str, dict[str, Any]]]:
        """(sha, facts) of the workspace's files, in the order they were opened."""
        return [(sha, json.loads(meta)) for sha, meta in
                self._rows("SELECT sha, meta FROM file WHERE ws = ? ORDER BY position", ws)]

    def lend(self, ws: str, held: Held) -> None:
        """Serve the bytes a session keeps itself (files the store could not write) as this workspace's,
        for as long as the session keeps them."""
        self._lent[ws] = held

    def file_path(self, ws: str, sha: str) -> Path | None:
        """Where a file's bytes are on disk, when this workspace holds the file (None otherwise, whoever
        else holds it): PDFium reads a PDF from its path a page at a time, holding no copy."""
        if not self._rows("SELECT 1 FROM file WHERE ws = ? AND sha = ?", ws, sha):
            return None
        path = self._blob(sha)
        return path if path.exists() else None

    def file_data(self, ws: str, sha: str) -> bytes | None:
        """A file's bytes, when this workspace holds the file (None otherwise, whoever else holds it)."""
        held = self._lent.get(ws)
        if held is not None and sha in held:
            return held[sha]
        path = self.file_path(ws, sha)
        try:
            return None if path is None else path.read_bytes()
        except OSError as e:  # removed meanwhile, or the disk failed: the caller says the file is gone
            log.warning("A file could not be read from the store (%s).", e.strerror or e)
            return None

    # -- per page: results, edited texts, true texts, auto-tune traces --

    def put_page(self, ws: str, key: str, kind: str, value: str, data: bytes | None = None) -> None:
        """Keep one thing of a page (``kind``: "result", "edit", "truth", "trace")."""
        def work(db: sqlite3.Connection) -> None:
            self._claim(db, ws)
            db.execute("INSERT OR REPLACE INTO page (ws, key, kind, value, data) VALUES (?, ?, ?, ?, ?)",
                       (ws, key, kind, value, data))

        self.db.write(work)

    def drop_page(self, ws: str, key: str, kind: str) -> None:
        self.db.write(lambda db: db.execute("DELETE FROM page WHERE ws = ? AND key = ? AND kind = ?", (ws, key, kind)))

    def pages(self, ws: str, kind: str) -> dict[str, tuple[str, bytes | None]]:
        """Page key -> (value, data) of one kind, in the order they were written."""
        return {key: (value, data) for key, value, data in self._rows(
            "SELECT key, value, data FROM page WHERE ws = ? AND kind = ? ORDER BY rowid", ws, kind)}

    def put_result(self, ws: str, key: str, result: ocr.Result) -> None:
        """Keep a page's result as it is (its text's version unchanged: :meth:`save_result` for a reading)."""
        self.put_page(ws, key, "result", result_to_json(result))

    def results(self, ws: str) -> dict[str, ocr.Result]:
        """The workspace's results by page key."""
        return {key: result_from_json(text) for key, (text, _) in self.pages(ws, "result").items()}

    def texts(self, ws: str, kind: str) -> dict[str, str]:
        """Page key -> text of a kind kept as plain text ("edit", "truth")."""
        return {key: value for key, (value, _) in self.pages(ws, kind).items()}

    # -- a page's text, versioned: no tab overwrites another's edit unseen --

    def versions(self, ws: str) -> dict[str, int]:
        """Page key -> the version of its text (a page never saved is at 0)."""
        return dict(self._rows("SELECT key, number FROM version WHERE ws = ?", ws))

    def save_edit(self, ws: str, key: str, text: str, *, based_on: int, theirs: Callable[[str], Any],
                  keep: int) -> Saved:
        """Keep the person's edit of a page's text, made on version ``based_on`` of it."""
        def work(db: sqlite3.Connection) -> Saved:
            kept = self._keep_theirs(db, ws, key, based_on, text, theirs, keep)
            db.execute("INSERT OR REPLACE INTO page (ws, key, kind, value, data) VALUES (?, ?, 'edit', ?, NULL)",
                       (ws, key, text))
            return Saved(self._next_version(db, ws, key), kept)

        return self.db.write(work)

    def save_result(self, ws: str, key: str, result: ocr.Result, *, based_on: int, theirs: Callable[[str], Any],
                    keep: int) -> Saved:
        """Keep a page's new reading, made when its text was at version ``based_on``: it replaces the
        edited text (the caller keeps this tab's edits in the history first)."""
        def work(db: sqlite3.Connection) -> Saved:
            kept = self._keep_theirs(db, ws, key, based_on, result.text, theirs, keep)
            db.execute("INSERT OR REPLACE INTO page (ws, key, kind, value, data) VALUES (?, ?, 'result', ?, NULL)",
                       (ws, key, result_to_json(result)))
            db.execute("DELETE FROM page WHERE ws = ? AND key = ? AND kind = 'edit'", (ws, key))
            return Saved(self._next_version(db, ws, key), kept)

        return self.db.write(work)

    def _keep_theirs(self, db: sqlite3.Connection, ws: str, key: str, based_on: int, text: str,
                     theirs: Callable[[str], Any], keep: int) -> Any:
        """When the page's text moved on since ``based_on`` (another tab saved it) and holds an edit that
        this save would replace, that edit as a run in the history (numbered); else None."""
        self._claim(db, ws)
        now = db.execute("SELECT number FROM version WHERE ws = ? AND key = ?", (ws, key)).fetchone()
        if (now[0] if now else 0) == based_on:
            return None
        edit = db.execute("SELECT value FROM page WHERE ws = ? AND key = ? AND kind = 'edit'", (ws, key)).fetchone()
        if edit is None or edit[0] == text:
            return None
        return self._insert_run(db, ws, theirs(edit[0]), keep)

    def _next_version(self, db: sqlite3.Connection, ws: str, key: str) -> int:
        db.execute("INSERT INTO version (ws, key, number) VALUES (?, ?, 1) "
                   "ON CONFLICT(ws, key) DO UPDATE SET number = number + 1", (ws, key))
        (number,) = db.execute("SELECT number FROM version WHERE ws = ? AND key = ?", (ws, key)).fetchone()
        return int(number)

    # -- named state: settings, options, the current page --

    def put_state(self, ws: str, name: str, value: Any) -> None:
        def work(db: sqlite3.Connection) -> None:
            self._claim(db, ws)
            db.execute("INSERT OR REPLACE INTO state (ws, name, value) VALUES (?, ?, ?)",
                       (ws, name, json.dumps(_plain(value))))

        self.db.write(work)

    def state(self, ws: str) -> dict[str, Any]:
        return {name: _typed(json.loads(value)) for name, value in
                self._rows("SELECT name, value FROM state WHERE ws = ?", ws)}

    # -- history --

    def add_run(self, ws: str, run: Any, keep: int) -> Any:
        """Keep a run (a dataclass with a ``number``), numbered after the workspace's last run whichever
        tab made it; only the latest ``keep`` runs stay. Returns the run with its number."""
        def work(db: sqlite3.Connection) -> Any:
            self._claim(db, ws)
            return self._insert_run(db, ws, run, keep)

        return self.db.write(work)

    def put_run(self, ws: str, run: Any) -> None:
        """Keep a run with the number it has (a session writing its history into a new database)."""
        def work(db: sqlite3.Connection) -> None:
            self._claim(db, ws)
            db.execute("INSERT OR REPLACE INTO run (ws, number, value) VALUES (?, ?, ?)",
                       (ws, run.number, record_to_json(run)))

        self.db.write(work)

    def _insert_run(self, db: sqlite3.Connection, ws: str, run: Any, keep: int) -> Any:
        (last,) = db.execute("SELECT COALESCE(MAX(number), 0) FROM run WHERE ws = ?", (ws,)).fetchone()
        run = dataclasses.replace(run, number=last + 1)
        db.execute("INSERT INTO run (ws, number, value) VALUES (?, ?, ?)", (ws, run.number, record_to_json(run)))
        db.execute("DELETE FROM run WHERE ws = ? AND number <= ?", (ws, run.number - keep))
        return run

    def runs(self, ws: str, kind: type) -> list[Any]:
        return [record_from_json(kind, value) for (value,) in
                self._rows("SELECT value FROM run WHERE ws = ? ORDER BY number", ws)]

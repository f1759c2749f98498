"""Each person's workspace on disk, so a reload, a closed tab or a server restart loses nothing.

A workspace is named by a long random id (:func:`new_id`, 256 bits from :mod:`secrets`) that the address
bar carries; whoever has the id has the workspace, and nobody reaches one without it: every read and
write names its workspace, no query reads across workspaces, and nothing lists the ids (only the
expiry sweep walks them, to delete). An id that is not in the store is never adopted: the app makes a
new one, so nobody can plant an id and wait for someone to fill it.

The store is SQLite (the standard library's :mod:`sqlite3`, WAL mode, one connection behind a lock);
a file's bytes are kept beside the database under their SHA-256 (``blobs/ab/abcd...``), written once
however many workspaces open the same file, and deleted when no workspace holds them. Results, runs
and settings are JSON: it outlives changes to our classes (a field added or renamed later leaves old
workspaces readable) and, unlike a pickle, reading it runs no code.

This module does not import streamlit: it is plain storage, tested on its own (tests/test_workspace.py).
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import re
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import ocr
from ocr.pdf import Origin
from ocr.result import WORD_COLUMNS

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
    words = found.words
    for column in WORD_COLUMNS:
        if column not in words.columns:
            words[column] = pd.Series(dtype=float if column == "conf" else int)
    words = words.astype({"text": str, "conf": float, **{c: int for c in WORD_COLUMNS[2:]}})
    size, source = found.size, found.source_size  # JSON gave lists
    return dataclasses.replace(found, words=words, size=(int(size[0]), int(size[1])),
                               source_size=(int(source[0]), int(source[1])))


# -- the store -------------------------------------------------------------------------------------------


class Store:
    """The workspaces in one folder: ``workspaces.sqlite3`` and ``blobs/``.

    Every method takes the workspace id first and reads or writes that workspace's rows only. Writing to
    an id creates its workspace; reading an id that holds nothing gives nothing.
    """

    def __init__(self, folder: Path | str, expire_days: float = DEFAULT_EXPIRE_DAYS) -> None:
        self.folder = Path(folder)
        self.blobs = self.folder / "blobs"
        self.blobs.mkdir(parents=True, exist_ok=True)
        self.expire_s = expire_days * 86_400
        self._lock = threading.RLock()
        self._db = sqlite3.connect(self.folder / "workspaces.sqlite3", check_same_thread=False,
                                   isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(SCHEMA)
        self.last_sweep = 0.0

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One transaction under the lock."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _rows(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

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
        with self._tx() as db:
            db.execute("UPDATE workspace SET used = ? WHERE id = ?", (time.time(), ws))

    def clear(self, ws: str) -> None:
        """Delete a workspace: its rows, and the bytes of files no other workspace holds."""
        with self._tx() as db:
            shas = [sha for (sha,) in db.execute("SELECT sha FROM file WHERE ws = ?", (ws,))]
            db.execute("DELETE FROM workspace WHERE id = ?", (ws,))
        self._drop_unheld(shas)

    def sweep(self, now: float | None = None) -> int:
        """Delete the workspaces unused for longer than the expiry; returns how many went."""
        limit = (time.time() if now is None else now) - self.expire_s
        with self._tx() as db:
            old = [ws for (ws,) in db.execute("SELECT id FROM workspace WHERE used < ?", (limit,))]
            shas = [sha for (sha,) in db.execute(
                "SELECT DISTINCT sha FROM file WHERE ws IN (SELECT id FROM workspace WHERE used < ?)", (limit,))]
            db.execute("DELETE FROM workspace WHERE used < ?", (limit,))
        self._drop_unheld(shas)
        self.last_sweep = time.time() if now is None else now
        return len(old)

    def _blob(self, sha: str) -> Path:
        if not re.fullmatch(r"[0-9a-f]{64}", sha):
            raise ValueError("not a SHA-256")
        return self.blobs / sha[:2] / sha

    def _drop_unheld(self, shas: list[str]) -> None:
        for sha in shas:
            if not self._rows("SELECT 1 FROM file WHERE sha = ? LIMIT 1", sha):
                self._blob(sha).unlink(missing_ok=True)

    # -- files --

    def add_file(self, ws: str, sha: str, meta: dict[str, Any], data: bytes) -> None:
        """Keep an opened file: its bytes (once, under their SHA-256) and its facts, last in the order."""
        path = self._blob(sha)
        if not path.exists():
            path.parent.mkdir(exist_ok=True)
            part = path.with_name(f"{sha}.{secrets.token_hex(4)}.part")
            part.write_bytes(data)
            part.replace(path)  # whole or not at all
        with self._tx() as db:
            self._claim(db, ws)
            (last,) = db.execute("SELECT COALESCE(MAX(position), 0) FROM file WHERE ws = ?", (ws,)).fetchone()
            db.execute("INSERT OR REPLACE INTO file (ws, sha, position, meta) VALUES (?, ?, ?, ?)",
                       (ws, sha, last + 1, json.dumps(meta)))

    def remove_file(self, ws: str, sha: str) -> None:
        """Close a file: its row, its pages' rows, and its bytes when no workspace holds them."""
        with self._tx() as db:
            db.execute("DELETE FROM file WHERE ws = ? AND sha = ?", (ws, sha))
            db.execute("DELETE FROM page WHERE ws = ? AND key LIKE ?", (ws, sha + ":%"))
        self._drop_unheld([sha])

    def files(self, ws: str) -> list[tuple[str, dict[str, Any]]]:
        """(sha, facts) of the workspace's files, in the order they were opened."""
        return [(sha, json.loads(meta)) for sha, meta in
                self._rows("SELECT sha, meta FROM file WHERE ws = ? ORDER BY position", ws)]

    def file_data(self, ws: str, sha: str) -> bytes | None:
        """A file's bytes, when this workspace holds the file (None otherwise, whoever else holds it)."""
        if not self._rows("SELECT 1 FROM file WHERE ws = ? AND sha = ?", ws, sha):
            return None
        try:
            return self._blob(sha).read_bytes()
        except FileNotFoundError:
            return None

    # -- per page: results, edited texts, true texts, auto-tune traces --

    def put_page(self, ws: str, key: str, kind: str, value: str, data: bytes | None = None) -> None:
        """Keep one thing of a page (``kind``: "result", "edit", "truth", "trace")."""
        with self._tx() as db:
            self._claim(db, ws)
            db.execute("INSERT OR REPLACE INTO page (ws, key, kind, value, data) VALUES (?, ?, ?, ?, ?)",
                       (ws, key, kind, value, data))

    def drop_page(self, ws: str, key: str, kind: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM page WHERE ws = ? AND key = ? AND kind = ?", (ws, key, kind))

    def pages(self, ws: str, kind: str) -> dict[str, tuple[str, bytes | None]]:
        """Page key -> (value, data) of one kind, in the order they were written."""
        return {key: (value, data) for key, value, data in self._rows(
            "SELECT key, value, data FROM page WHERE ws = ? AND kind = ? ORDER BY rowid", ws, kind)}

    def put_result(self, ws: str, key: str, result: ocr.Result) -> None:
        self.put_page(ws, key, "result", result_to_json(result))

    def results(self, ws: str) -> dict[str, ocr.Result]:
        """The workspace's results by page key."""
        return {key: result_from_json(text) for key, (text, _) in self.pages(ws, "result").items()}

    def texts(self, ws: str, kind: str) -> dict[str, str]:
        """Page key -> text of a kind kept as plain text ("edit", "truth")."""
        return {key: value for key, (value, _) in self.pages(ws, kind).items()}

    # -- named state: settings, options, the current page --

    def put_state(self, ws: str, name: str, value: Any) -> None:
        with self._tx() as db:
            self._claim(db, ws)
            db.execute("INSERT OR REPLACE INTO state (ws, name, value) VALUES (?, ?, ?)",
                       (ws, name, json.dumps(_plain(value))))

    def state(self, ws: str) -> dict[str, Any]:
        return {name: _typed(json.loads(value)) for name, value in
                self._rows("SELECT name, value FROM state WHERE ws = ?", ws)}

    # -- history --

    def add_run(self, ws: str, number: int, run: Any, keep: int) -> None:
        """Keep a run (a dataclass); only the latest ``keep`` runs stay."""
        with self._tx() as db:
            self._claim(db, ws)
            db.execute("INSERT OR REPLACE INTO run (ws, number, value) VALUES (?, ?, ?)",
                       (ws, number, record_to_json(run)))
            db.execute("DELETE FROM run WHERE ws = ? AND number <= ?", (ws, number - keep))

    def runs(self, ws: str, kind: type) -> list[Any]:
        return [record_from_json(kind, value) for (value,) in
                self._rows("SELECT value FROM run WHERE ws = ? ORDER BY number", ws)]

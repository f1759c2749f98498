"""The workspaces' SQLite file, which degrades instead of failing (:class:`Database`).

A hosted app meets faults the code cannot prevent: a database file truncated or overwritten, a data
folder that became read-only, a full disk. None of them may take the app down, and none may leave
half of a write behind:

- A damaged database (SQLite says "malformed" or "not a database", at start-up or later) is moved
  aside, with its ``-wal`` and ``-shm`` files, as ``workspaces.sqlite3.damaged-<UTC time>``, and a new
  one is started. One line is logged; :attr:`Database.generation` counts the new starts, so a session
  holding work can write it into the new one.
- A folder that cannot be written when the database is opened gives a read-only database: the file
  opened read-only when it is there (earlier work can still be read), else an empty one in memory.
  Every write then raises :class:`StoreUnavailable` at once.
- A write that fails later (a full disk, a folder made read-only under a running server, an I/O
  error) is rolled back whole and raises :class:`StoreUnavailable` with the reason in plain words; the
  next write tries again.

:meth:`Database.health` says which of these holds now, for the app and for a health route.

This module does not import streamlit.
"""

from __future__ import annotations

import errno
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")

# SQLite's primary result codes (an extended code's low byte), https://sqlite.org/rescode.html
SQLITE_PERM, SQLITE_BUSY, SQLITE_LOCKED, SQLITE_READONLY = 3, 5, 6, 8
SQLITE_IOERR, SQLITE_CORRUPT, SQLITE_FULL, SQLITE_CANTOPEN, SQLITE_NOTADB = 10, 11, 13, 14, 26

FULL = "the disk is full"
READ_ONLY = "the data folder is read-only"
SQLITE_WHY = {
    SQLITE_FULL: FULL, SQLITE_READONLY: READ_ONLY, SQLITE_PERM: READ_ONLY,
    SQLITE_CANTOPEN: "the database cannot be opened in the data folder",
    SQLITE_IOERR: "the disk cannot be written (an input/output error)",
    SQLITE_BUSY: "the database is busy", SQLITE_LOCKED: "the database is busy",
}
OS_WHY = {errno.ENOSPC: FULL, errno.EDQUOT: FULL, errno.EROFS: READ_ONLY, errno.EACCES: READ_ONLY,
          errno.EPERM: READ_ONLY, errno.EIO: "the disk cannot be written (an input/output error)"}


class StoreUnavailable(Exception):
    """The store could not keep a write (its folder is read-only or full, or the disk failed); nothing
    of the write was kept. ``why`` says it in a few plain words, e.g. "the disk is full"."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


class Damaged(sqlite3.DatabaseError):
    """``PRAGMA quick_check`` found the database damaged."""


@dataclass(frozen=True)
class Health:
    """The store's state: "ok"; "read-only" (with why); or "replaced" (a damaged database was moved
    aside and a new one started, named in ``detail``)."""

    state: Literal["ok", "read-only", "replaced"]
    detail: str = ""

    def __str__(self) -> str:
        """One line, e.g. "ok", "read-only: the disk is full", "replaced a damaged database (...)"."""
        if self.state == "replaced":
            return f"replaced a damaged database ({self.detail})"
        return f"{self.state}: {self.detail}" if self.detail else self.state


def damaged(e: BaseException) -> bool:
    """Whether an error says the database file is damaged (not an SQLite database, or malformed)."""
    code = getattr(e, "sqlite_errorcode", 0) & 0xFF
    return isinstance(e, Damaged) or (isinstance(e, sqlite3.DatabaseError) and code in (SQLITE_CORRUPT, SQLITE_NOTADB))


def unwritable(e: BaseException) -> str | None:
    """Plain words for an error that means the data folder cannot take a write now; None for any other
    (a mistake in our code, which must not pass for a full disk)."""
    if isinstance(e, sqlite3.Error):
        return SQLITE_WHY.get(getattr(e, "sqlite_errorcode", 0) & 0xFF)
    if isinstance(e, OSError):
        return OS_WHY.get(e.errno or 0, f"the data folder cannot be written ({e.strerror or e})")
    return None


class Database:
    """One SQLite file (WAL mode, one connection behind a lock) with the schema ``schema``.

    :meth:`read` and :meth:`write` are the only ways in; both move a damaged file aside and go on with
    a new one. :meth:`write` runs its work in one transaction (``BEGIN IMMEDIATE`` ... ``COMMIT``),
    rolled back whole when anything in it fails.
    """

    def __init__(self, path: Path, schema: str) -> None:
        self.path = path
        self.schema = schema
        self.generation = 0  # how often a damaged database was replaced while this one was open
        self.aside: Path | None = None  # where the last damaged database went
        self.fixed: str | None = None  # why the database was opened read-only, for as long as it is open
        self.failing: str | None = None  # why the last write failed, until one succeeds
        self._lock = threading.RLock()
        self._db = self._open()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def health(self) -> Health:
        """What holds now: read-only (and why), a damaged database replaced, or ok."""
        why = self.fixed or self.failing
        if why:
            return Health("read-only", why)
        if self.aside is not None:
            return Health("replaced", f"moved aside to {self.aside.name}; a new one was started")
        return Health("ok")

    # -- opening ---------------------------------------------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        """The database, new if it was damaged; read-only when the folder cannot be written."""
        try:
            try:
                return self._connect()
            except sqlite3.DatabaseError as e:
                if not damaged(e):
                    raise
                self._set_aside(e)
                return self._connect()
        except (OSError, sqlite3.Error) as e:
            why = unwritable(e)
            if why is None:
                raise
            if self.path.parent.is_dir() and not os.access(self.path.parent, os.W_OK):
                why = READ_ONLY  # SQLite says only that it cannot open its WAL index there
            self.fixed = why
            log.warning("The workspace store cannot be written (%s): every workspace is read-only until the "
                        "server is restarted with a writable data folder.", why)
            return self._connect_read_only()

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA foreign_keys=ON")
            (verdict,) = db.execute("PRAGMA quick_check(1)").fetchone()
            if verdict != "ok":
                raise Damaged(str(verdict))
            db.executescript(self.schema)
        except BaseException:
            db.close()
            raise
        return db

    def _connect_read_only(self) -> sqlite3.Connection:
        """The file opened read-only (``immutable`` when its WAL index cannot be made: the folder is
        read-only, so nobody changes it), else an empty database in memory."""
        if self.path.exists():
            for how in ("mode=ro", "immutable=1"):
                db = sqlite3.connect(f"{self.path.absolute().as_uri()}?{how}", uri=True, check_same_thread=False,
                                     isolation_level=None)
                try:
                    (verdict,) = db.execute("PRAGMA quick_check(1)").fetchone()
                    if verdict != "ok":
                        raise Damaged(str(verdict))
                    db.execute("SELECT 1 FROM workspace LIMIT 1").fetchall()
                    for name, sql in _tables(self.schema).items():  # tables an older version did not have
                        if not db.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (name,)).fetchall():
                            db.execute(sql.replace("CREATE TABLE IF NOT EXISTS", "CREATE TEMP TABLE", 1))
                    return db
                except sqlite3.Error:
                    db.close()
        db = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
        db.executescript(self.schema)
        return db

    def _set_aside(self, e: BaseException) -> None:
        """Move the damaged file and its WAL files aside (never deleted: someone may recover them)."""
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
        aside = self.path.with_name(f"{self.path.name}.damaged-{stamp}")
        for suffix in ("", "-wal", "-shm"):  # an old WAL beside a new database would be replayed into it
            found = self.path.with_name(self.path.name + suffix)
            if found.exists():
                found.replace(aside.with_name(aside.name + suffix))
        self.aside = aside
        log.error("The workspace database was damaged (%s): moved aside to %s; a new one was started.", e, aside.name)

    def _replace(self, e: BaseException) -> None:
        """A damaged database found while open: closed, moved aside, and a new one opened."""
        self._db.close()
        try:
            self._set_aside(e)
            self._db = self._connect()
        except (OSError, sqlite3.Error) as problem:
            why = unwritable(problem) or "the damaged database cannot be replaced"
            self.fixed = why
            log.warning("The workspace store cannot be written (%s): every workspace is read-only.", why)
            self._db = self._connect_read_only()
        self.generation += 1

    # -- reading and writing ---------------------------------------------------------------------------

    def read(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        """The rows of one query (nothing, when a damaged database had to be replaced by a new one)."""
        with self._lock:
            try:
                return self._db.execute(sql, args).fetchall()
            except sqlite3.DatabaseError as e:
                if damaged(e):
                    self._replace(e)
                    return self._db.execute(sql, args).fetchall()
                why = unwritable(e)
                if why is None:
                    raise
                raise StoreUnavailable(why) from None

    def write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """``work(connection)`` in one transaction, committed whole or not at all. Raises
        :class:`StoreUnavailable` when the folder cannot take it (nothing of it is kept)."""
        with self._lock:
            if self.fixed:
                raise StoreUnavailable(self.fixed)
            try:
                try:
                    done = self._transaction(work)
                except sqlite3.DatabaseError as e:
                    if not damaged(e):
                        raise
                    self._replace(e)
                    if self.fixed:
                        raise StoreUnavailable(self.fixed) from None
                    done = self._transaction(work)
            except (OSError, sqlite3.Error) as e:
                why = unwritable(e)
                if why is None:
                    raise
                self.failed(why)
                raise StoreUnavailable(why) from None
            if self.failing:
                log.warning("The workspace store can be written again.")
                self.failing = None
            return done

    def failed(self, why: str) -> None:
        """Note a write that could not be made (logged when the store was writable until now)."""
        if self.failing is None:
            log.warning("The workspace store cannot be written (%s): workspaces go on in memory.", why)
        self.failing = why

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One transaction under the lock, without :meth:`write`'s handling of faults (for tests that
        change rows directly)."""
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:  # SQLite may have rolled it back itself (a full disk)
                    db.execute("ROLLBACK")
                raise

    def _transaction(self, work: Callable[[sqlite3.Connection], T]) -> T:
        with self.transaction() as db:
            return work(db)


def _tables(schema: str) -> dict[str, str]:
    """Each ``CREATE TABLE`` statement of a schema, by table name."""
    found = {}
    for statement in schema.split(";"):
        words = statement.split()
        if words[:5] == ["CREATE", "TABLE", "IF", "NOT", "EXISTS"]:
            found[words[5]] = statement.strip()
    return found

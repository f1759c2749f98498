"""Disk faults for the store's tests: a small filesystem that fills up, a folder that turns read-only.

Where the machine allows it (root with the right to mount, as in CI's container and on the dev
machine), the folder is a size-limited ``tmpfs`` mounted for the test, filled with a real file and
remounted read-only: the store meets the kernel's own ``ENOSPC`` and ``EROFS``. Elsewhere (or with
``OCR_TEST_NO_MOUNT=1``), the fault is the fallback the issue allows: a store whose writes raise
them, switched on through a control file the store's two write paths read (:func:`plug`), in the
test's process or in a server started by :mod:`tests.fault_server`.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CONTROL = "OCR_TEST_FAULTS"  # the environment variable naming the control file of a plugged store
SQLITE = {"full": (13, "database or disk is full"), "read-only": (8, "attempt to write a readonly database")}
OS = {"full": errno.ENOSPC, "read-only": errno.EROFS}


def fault_now(control: Path) -> str | None:
    """The fault the control file names ("full", "read-only"), or None."""
    try:
        found = control.read_text().strip()
    except FileNotFoundError:
        return None
    return found or None


def plug(control: Path) -> Callable[[], None]:
    """Make the store's writes fail as the control file says (the store's SQL transactions raise
    SQLite's error, a file's bytes are half-written and then fail); returns what undoes it."""
    from workbench import database, store

    transaction, connect, write_whole = database.Database._transaction, database.Database._connect, store._write_whole

    def failing_transaction(self: database.Database, work: Callable[[sqlite3.Connection], Any]) -> Any:
        fault = fault_now(control)
        if fault:
            code, message = SQLITE[fault]
            error = sqlite3.OperationalError(message)
            error.sqlite_errorcode = code
            raise error
        return transaction(self, work)

    def failing_connect(self: database.Database) -> sqlite3.Connection:
        if fault_now(control) == "read-only":
            error = sqlite3.OperationalError("attempt to write a readonly database")
            error.sqlite_errorcode = 8
            raise error
        return connect(self)

    def failing_write(path: Path, data: bytes) -> None:
        fault = fault_now(control)
        if fault:
            path.write_bytes(data[: len(data) // 2])
            raise OSError(OS[fault], os.strerror(OS[fault]), str(path))
        write_whole(path, data)

    database.Database._transaction = failing_transaction  # type: ignore[method-assign]
    database.Database._connect = failing_connect  # type: ignore[method-assign]
    store._write_whole = failing_write

    def undo() -> None:
        database.Database._transaction = transaction  # type: ignore[method-assign]
        database.Database._connect = connect  # type: ignore[method-assign]
        store._write_whole = write_whole

    return undo


def can_mount() -> bool:
    """Whether this process may mount a tmpfs (root, allowed by the machine, not turned off)."""
    if os.environ.get("OCR_TEST_NO_MOUNT") or os.geteuid() != 0:
        return False
    probe = Path(f"/tmp/ocr-mount-probe-{os.getpid()}")
    probe.mkdir(exist_ok=True)
    try:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(probe)], capture_output=True,
                              check=False)
        if done.returncode != 0:
            return False
        subprocess.run(["umount", str(probe)], check=True, capture_output=True)
        return True
    finally:
        probe.rmdir()


class Disk:
    """A folder for a store that can be filled and turned read-only: a mounted tmpfs, or a plugged store's
    folder (``control`` then names the control file, which the caller passes to :func:`plug` or to the
    server's environment as ``OCR_TEST_FAULTS``)."""

    def __init__(self, path: Path, mounted: bool, control: Path) -> None:
        self.path, self.mounted, self.control = path, mounted, control

    def fill(self) -> None:
        """Fill the disk, as a full disk is: no byte left for a new file or a database's page."""
        if not self.mounted:
            self.control.write_text("full")
            return
        with open(self.path / "filler", "wb", buffering=0) as f:
            for chunk in (1 << 16, 1 << 12, 1):  # down to the last bytes of the last page
                try:
                    while True:
                        f.write(bytes(chunk))
                except OSError as e:
                    assert e.errno == errno.ENOSPC, e

    def free(self) -> None:
        """Room on the disk again."""
        if not self.mounted:
            self.control.unlink(missing_ok=True)
            return
        (self.path / "filler").unlink(missing_ok=True)

    def read_only(self, on: bool = True) -> None:
        """Turn the folder read-only (or writable again)."""
        if not self.mounted:
            if on:
                self.control.write_text("read-only")
            else:
                self.control.unlink(missing_ok=True)
            return
        subprocess.run(["mount", "-o", f"remount,{'ro' if on else 'rw'}", str(self.path)], check=True,
                       capture_output=True)

    def leftovers(self) -> list[Path]:
        """Half-written files left in the folder."""
        return sorted(self.path.rglob("*.part"))


@contextmanager
def small_disk(where: Path, size_kb: int = 2048) -> Iterator[Disk]:
    """A folder of ``size_kb`` kilobytes at ``where``: a tmpfs when the machine allows mounting, else a
    plain folder with a plugged store's control file beside it; unmounted afterwards."""
    where.mkdir(parents=True, exist_ok=True)
    control = where.parent / f"{where.name}.fault"
    mounted = can_mount() and subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_kb}k,mode=0755", "tmpfs", str(where)], capture_output=True,
        check=False).returncode == 0
    try:
        yield Disk(where, mounted, control)
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(where)], check=False, capture_output=True)

"""The store under the faults a hosted app meets (issue 28): a damaged database, a read-only or full data
folder, two tabs saving one page. Each leaves the store answering, says why in its health, and keeps
nothing half-written; see tests/test_browser_store.py for the same against a real server."""

from __future__ import annotations

import logging
import os
import sqlite3
import time

import pytest

from ocr.settings import Options, Settings
from workbench import history, keys, nav, store, workspace
from workbench.store import Store, StoreUnavailable

from .faults import plug, small_disk
from .test_app import GOOD, extract, go, ok, start, texts, upload, workspaces  # noqa: F401
from .test_workspace import SHA_A, SHA_B, a_result, reopen

KEY = f"{SHA_A}:0"


def earlier_work(folder) -> str:
    """A workspace with a file, a result and enough edits that the database spans many pages; closed."""
    s = Store(folder)
    ws = store.new_id()
    s.add_file(ws, SHA_A, {"name": "a.png"}, b"A" * 1000)
    s.put_result(ws, KEY, a_result())
    for n in range(200):
        s.put_page(ws, f"{SHA_A}:{n}", "edit", f"edit {n} " * 200)
    s.close()  # the last connection folds the WAL into the file
    return ws


def damaged_logs(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "workbench.database" and "damaged" in r.getMessage()]


@pytest.mark.parametrize("damage", ["truncated", "overwritten"])
def test_a_damaged_database_is_set_aside_and_a_new_one_started(tmp_path, caplog, damage):
    ws = earlier_work(tmp_path)
    path = tmp_path / "workspaces.sqlite3"
    if damage == "truncated":
        with open(path, "r+b") as f:
            f.truncate(path.stat().st_size // 2)
    else:
        path.write_bytes(b"not a database at all " * 5000)
    damaged = path.read_bytes()

    s = Store(tmp_path)
    health = s.health()
    assert health.state == "replaced" and str(health).startswith("replaced a damaged database")
    aside = [p for p in tmp_path.glob("workspaces.sqlite3.damaged-*") if not p.name.endswith(("-wal", "-shm"))]
    assert len(aside) == 1 and aside[0].read_bytes() == damaged  # kept as it was, for someone to recover
    assert len(damaged_logs(caplog)) == 1  # one line, no traceback
    assert not damaged_logs(caplog)[0].exc_info
    # the new database works: the old workspace is not there, a new one is kept
    assert not s.exists(ws)
    mine = store.new_id()
    s.add_file(mine, SHA_B, {"name": "b.png"}, b"B")
    assert s.file_data(mine, SHA_B) == b"B" and Store(tmp_path).health().state == "ok"


def test_damage_found_while_the_server_runs_starts_a_new_database_and_counts_it(tmp_path, caplog):
    s = Store(tmp_path)
    ws = store.new_id()
    s.put_page(ws, KEY, "edit", "before")

    class Malformed:
        """A connection whose file turned out damaged (SQLite finds it when a page is read from disk)."""

        def __init__(self, real: sqlite3.Connection) -> None:
            self.real = real

        def execute(self, *args):
            error = sqlite3.DatabaseError("database disk image is malformed")
            error.sqlite_errorcode = 11
            raise error

        def close(self) -> None:
            self.real.close()

    s.db._db = Malformed(s.db._db)  # type: ignore[assignment]
    assert s.generation == 0
    s.put_page(ws, KEY, "edit", "after")  # the write goes to the new database
    assert s.generation == 1 and s.health().state == "replaced"
    assert s.texts(ws, "edit") == {KEY: "after"}
    assert len(damaged_logs(caplog)) == 1


def test_a_read_only_folder_gives_a_read_only_store_that_still_reads(tmp_path, caplog):
    """The folder cannot be written when the store opens: earlier work still reads, every write is
    refused at once with the reason, and nothing is left behind."""
    with small_disk(tmp_path / "data", size_kb=16384) as disk:
        ws = earlier_work(disk.path)
        undo = plug(disk.control)
        try:
            disk.read_only()
            s = Store(disk.path)
            assert not s.writable and str(s.health()) == "read-only: the data folder is read-only"
            assert s.exists(ws) and s.results(ws)[KEY].text == "Hello world"  # earlier work reads
            assert s.file_data(ws, SHA_A) == b"A" * 1000
            for write in (lambda: s.add_file(ws, SHA_B, {"name": "b"}, b"B"), lambda: s.put_page(ws, KEY, "edit", "x"),
                          lambda: s.add_run(ws, a_run("x"), 10), lambda: s.clear(ws)):
                with pytest.raises(StoreUnavailable, match="read-only"):
                    write()
            assert s.exists(ws) and disk.leftovers() == []
            s.close()
        finally:
            disk.read_only(False)
            undo()
    assert sum("cannot be written" in r.getMessage() for r in caplog.records) == 1


def test_a_read_only_folder_without_a_database_gives_an_empty_store(tmp_path):
    with small_disk(tmp_path / "data", size_kb=16384) as disk:
        undo = plug(disk.control)
        try:
            disk.read_only()
            s = Store(disk.path)
            assert not s.writable and not s.exists(store.new_id()) and s.files(store.new_id()) == []
        finally:
            disk.read_only(False)
            undo()


def test_a_full_disk_refuses_the_write_whole_leaves_nothing_and_recovers(tmp_path, caplog):
    with small_disk(tmp_path / "data", size_kb=1024) as disk:
        undo = plug(disk.control)
        try:
            s = Store(disk.path)
            ws = store.new_id()
            s.add_file(ws, SHA_A, {"name": "a.png"}, b"A" * 1000)
            disk.fill()
            big = bytes(300_000)
            with pytest.raises(StoreUnavailable, match="the disk is full"):
                s.add_file(ws, SHA_B, {"name": "b.png"}, big)
            assert disk.leftovers() == [] and not (s.blobs / SHA_B[:2] / SHA_B).exists()
            assert [sha for sha, _ in s.files(ws)] == [SHA_A]  # no row without its file
            assert str(s.health()) == "read-only: the disk is full"
            disk.free()
            s.add_file(ws, SHA_B, {"name": "b.png"}, big)  # room again: the next write is kept
            assert s.file_data(ws, SHA_B) == big and s.health().state == "ok"
        finally:
            undo()
    messages = [r.getMessage() for r in caplog.records if r.name == "workbench.database"]
    assert sum("cannot be written" in m for m in messages) == 1 and sum("again" in m for m in messages) == 1


def test_a_write_the_database_refuses_keeps_nothing_of_itself(tmp_path):
    """SQLite says the disk is full at the transaction: the file's bytes written just before it go too."""
    s = Store(tmp_path)
    ws = store.new_id()

    def full(work):
        error = sqlite3.OperationalError("database or disk is full")
        error.sqlite_errorcode = 13
        raise error

    s.db._transaction = full  # type: ignore[method-assign]
    with pytest.raises(StoreUnavailable, match="the disk is full"):
        s.add_file(ws, SHA_A, {"name": "a.png"}, b"A")
    assert not (s.blobs / SHA_A[:2] / SHA_A).exists() and s.files(ws) == [] and not list(s.blobs.rglob("*.part"))


def test_half_written_files_of_a_dead_process_are_swept(tmp_path):
    s = Store(tmp_path)
    old = s.blobs / "ab" / f"{'ab' * 32}.1234abcd.part"
    fresh = s.blobs / "cd" / f"{'cd' * 32}.5678abcd.part"
    for part in (old, fresh):
        part.parent.mkdir(parents=True, exist_ok=True)
        part.write_bytes(b"half")
    os.utime(old, (time.time() - 2 * store.PART_AGE_S,) * 2)
    s.sweep()
    assert not old.exists() and fresh.exists()  # one being written now stays


# -- two tabs -------------------------------------------------------------------------------------------


def a_run(text: str, kind: str = "read") -> history.Run:
    return history.Run(0, "10:00:00", KEY, "scan.png", Settings(), Options(), 90.0, len(text.split()), 1.0, text,
                       kind=kind)


def test_two_tabs_saving_one_page_keep_both_edits(tmp_path):
    s = Store(tmp_path)
    ws = store.new_id()
    first = s.save_result(ws, KEY, a_result("as read"), based_on=0, theirs=lambda t: a_run(t, "elsewhere"), keep=50)
    assert first.version == 1 and first.kept is None
    # both tabs saw version 1; B saves first, then A
    b = s.save_edit(ws, KEY, "edit from B", based_on=1, theirs=lambda t: a_run(t, "elsewhere"), keep=50)
    assert b.version == 2 and b.kept is None
    a = s.save_edit(ws, KEY, "edit from A", based_on=1, theirs=lambda t: a_run(t, "elsewhere"), keep=50)
    assert a.version == 3 and a.kept is not None and a.kept.text == "edit from B" and a.kept.kind == "elsewhere"
    assert s.texts(ws, "edit") == {KEY: "edit from A"}
    assert [r.text for r in s.runs(ws, history.Run)] == ["edit from B"]
    # B, still on version 2, reads the page again: A's edit is kept before the reading replaces it
    again = s.save_result(ws, KEY, a_result("read again"), based_on=2, theirs=lambda t: a_run(t, "elsewhere"),
                          keep=50)
    assert again.kept is not None and again.kept.text == "edit from A" and s.texts(ws, "edit") == {}
    # a tab up to date replaces its own edit without a copy; the same text twice is not kept twice
    s.save_edit(ws, KEY, "mine", based_on=again.version, theirs=lambda t: a_run(t, "elsewhere"), keep=50)
    same = s.save_edit(ws, KEY, "mine", based_on=0, theirs=lambda t: a_run(t, "elsewhere"), keep=50)
    assert same.kept is None and len(s.runs(ws, history.Run)) == 2
    assert s.versions(ws) == {KEY: same.version}


def test_runs_are_numbered_by_the_store_so_two_tabs_never_overwrite_one(tmp_path):
    s = Store(tmp_path)
    ws = store.new_id()
    numbers = [s.add_run(ws, a_run(f"tab {n % 2}"), keep=3).number for n in range(5)]  # each tab thinks "run 1"
    assert numbers == [1, 2, 3, 4, 5]
    assert [r.number for r in s.runs(ws, history.Run)] == [3, 4, 5]  # the latest three kept


# -- the app on such a store (AppTest) -------------------------------------------------------------------


def test_a_session_whose_store_cannot_write_goes_on_in_memory_and_says_so_once(workspaces, tmp_path):  # noqa: F811
    control = tmp_path / "fault"
    undo = plug(control)
    try:
        at = ok(start())
        control.write_text("full")
        upload(at, ("page.png", GOOD))
        said = [w.value for w in at.warning if "cannot keep your work" in w.value]
        assert said == [workspace.NOT_KEPT.format(why="the disk is full")]
        assert "page.png" in texts(at) and any("not kept on this server right now" in c.value for c in at.caption)
        control.unlink()  # room again: this session stays as it is (read-only), told nothing more
        go(at, nav.EXTRACT)
        ok(at.button(key=keys.EXTRACT_ONE).click().run())
        key = at.session_state[keys.CURRENT]
        assert "quick brown fox" in at.session_state[keys.RESULTS][key].text  # read from the bytes it holds
        ok(at.text_area(key=keys.TEXT).input("Edited in memory").run())
        assert not any("cannot keep your work" in w.value for w in at.warning)
        assert not Store(workspaces).exists(at.session_state[keys.WS]) and not list(workspaces.rglob("*.part"))
        assert ok(start()).session_state.get(keys.READ_ONLY) is None  # a new visitor writes again
    finally:
        undo()


def test_damage_found_while_a_session_holds_work_writes_its_work_into_the_new_database(workspaces):  # noqa: F811
    at = extract(("a.png", GOOD))
    ws = at.query_params["ws"]
    key = at.session_state[keys.CURRENT]
    kept = workspace.store()

    class Malformed:
        def __init__(self, real: sqlite3.Connection) -> None:
            self.real = real

        def execute(self, *args):
            error = sqlite3.DatabaseError("database disk image is malformed")
            error.sqlite_errorcode = 11
            raise error

        def close(self) -> None:
            self.real.close()

    kept.db._db = Malformed(kept.db._db)  # type: ignore[assignment]
    ok(at.text_area(key=keys.TEXT).input("My edit, kept through it").run())  # the save meets the damage
    assert [w.value for w in at.warning if "store of workspaces" in w.value] == [workspace.SAVED_AGAIN]
    assert not [w.value for w in ok(at.run()).warning if "store of workspaces" in w.value]  # said once
    again = reopen(ws)  # a new session with the link: everything is in the new database
    assert list(again.session_state[keys.FILES]) == list(at.session_state[keys.FILES])
    assert again.session_state[keys.EDITS][key] == "My edit, kept through it"
    assert [r.number for r in again.session_state[keys.HISTORY]] == [r.number for r in at.session_state[keys.HISTORY]]


def test_two_sessions_editing_one_page_keep_both_edits(workspaces):  # noqa: F811
    a = extract(("a.png", GOOD))
    ws, key = a.query_params["ws"], a.session_state[keys.CURRENT]
    b = ok(start(ws=ws))
    go(b, nav.EXTRACT)
    ok(b.text_area(key=keys.TEXT).input("Edit made in B").run())
    ok(a.text_area(key=keys.TEXT).input("Edit made in A").run())
    assert any("also edited in another tab" in w.value for w in a.warning)
    assert not any("also edited in another tab" in w.value for w in b.warning)
    kept = [r for r in a.session_state[keys.HISTORY] if r.kind == "edited elsewhere"]
    assert [r.text for r in kept] == ["Edit made in B"] and kept[0].describe() == "your edits in another tab"
    assert Store(workspaces).texts(ws, "edit") == {key: "Edit made in A"}
    # B reads the page again without having seen A's edit: A's edit goes into the history too
    ok(b.button(key=keys.EXTRACT_ONE).click().run())
    if b.session_state.get(keys.ASK_REPLACE):
        ok(b.button(key=keys.REPLACE_YES).click().run())
    texts_kept = [r.text for r in Store(workspaces).runs(ws, history.Run) if r.kind != "read"]
    assert "Edit made in A" in texts_kept and "Edit made in B" in texts_kept

"""Workspaces on disk: the store on its own (what it keeps, that an id reads only its own rows, clearing,
expiry), and the app through AppTest (a new session with the link's id gets everything back; an unknown
id gets a new, empty workspace; clearing)."""

from __future__ import annotations

import dataclasses
import re
import time

import numpy as np
import pandas as pd
import pytest
import streamlit as st

import ocr
from ocr.pdf import Origin
from ocr.settings import Options, Settings
from workbench import history, keys, nav, store
from workbench.store import Store

from .conftest import draw_page
from .test_app import GOOD, OTHER, extract, go, ok, png, start, texts, upload, workspaces  # noqa: F401

SHA_A, SHA_B = "a" * 64, "b" * 64


def a_result(text: str = "Hello world", **more) -> ocr.Result:
    words = pd.DataFrame([("Hello", 91.5, 10, 20, 50, 12, 1, 1, 1, 1), ("world", 88.0, 70, 20, 55, 12, 1, 1, 1, 2)],
                         columns=ocr.result.WORD_COLUMNS)
    return ocr.Result(text=text, words=words, name="scan.png", settings=Settings(threshold="otsu", crop=(1, 2, 3, 4)),
                      options=Options(lang="eng", psm=6), dpi=300.0, size=(640, 480),
                      timings={"total": 1.25}, warnings=["a note"],
                      transform=np.array([[0.5, 0, 3], [0, 0.5, 4], [0, 0, 1]]), source_size=(1280, 960),
                      origin=Origin(kind="PNG", index=0, count=1, dpi=300.0), **more)


# -- the store on its own --------------------------------------------------------------------------------


def test_ids_are_long_random_and_checked():
    ids = {store.new_id() for _ in range(200)}
    assert len(ids) == 200 and all(store.valid_id(i) and len(i) == 43 for i in ids)
    for bad in ("", "abc", "../../etc/passwd", "x" * 42, "x" * 44, "a b" + "c" * 40, None, 12):
        assert not store.valid_id(bad)


def test_a_result_comes_back_as_it_was_kept(tmp_path):
    s = Store(tmp_path)
    ws = store.new_id()
    kept = a_result()
    s.put_result(ws, f"{SHA_A}:0", kept)
    back = Store(tmp_path).results(ws)[f"{SHA_A}:0"]  # another Store on the same folder: a restarted server
    for f in dataclasses.fields(ocr.Result):
        a, b = getattr(kept, f.name), getattr(back, f.name)
        if isinstance(a, pd.DataFrame):
            pd.testing.assert_frame_equal(a, b)
        elif isinstance(a, np.ndarray):
            assert np.allclose(a, b), f.name
        else:
            assert a == b, f.name
    assert back.mean_conf == kept.mean_conf and back.word_count == 2


def test_an_id_reads_only_its_own_rows(tmp_path):
    """Two workspaces hold rows of every kind; each id reads back only its own, even for a file both know
    by its SHA-256 (the bytes are stored once) or a page key the other used."""
    s = Store(tmp_path)
    mine, theirs = store.new_id(), store.new_id()
    key = f"{SHA_A}:0"
    s.add_file(theirs, SHA_A, {"name": "secret.png"}, b"their bytes")
    s.put_result(theirs, key, a_result("their text"))
    for kind in ("edit", "truth", "trace"):
        s.put_page(theirs, key, kind, f"their {kind}")
    s.put_state(theirs, "settings", Settings(scale=2.0))
    s.add_run(theirs, history.Run(1, "10:00:00", key, "secret.png", Settings(), Options(), 90.0, 2, 1.0,
                                     "their text"), 10)
    s.add_file(mine, SHA_B, {"name": "mine.png"}, b"my bytes")

    assert s.file_data(mine, SHA_A) is None  # knowing the SHA-256 is not enough
    assert s.file_data(mine, SHA_B) == b"my bytes" and s.file_data(theirs, SHA_A) == b"their bytes"
    assert [sha for sha, _ in s.files(mine)] == [SHA_B]
    assert s.results(mine) == {} and s.state(mine) == {} and s.runs(mine, history.Run) == []
    assert all(s.pages(mine, kind) == {} for kind in ("result", "edit", "truth", "trace"))
    # writing under my id never touches theirs
    s.put_page(mine, key, "edit", "my edit")
    s.remove_file(mine, SHA_A)
    assert s.texts(theirs, "edit") == {key: "their edit"} and s.file_data(theirs, SHA_A) == b"their bytes"
    # an id that was never written holds nothing, and is not a workspace
    stranger = store.new_id()
    assert not s.exists(stranger) and s.files(stranger) == [] and s.results(stranger) == {}
    assert s.exists(mine) and s.exists(theirs)


def test_nothing_in_the_store_lists_workspace_ids(tmp_path):
    """The store has no way to list workspaces: only the sweep walks them, and it deletes."""
    public = [name for name in dir(Store) if not name.startswith("_")]
    for name in public:
        doc = getattr(Store, name).__doc__ or ""
        assert "list" not in name and "all" not in name, name
        assert not re.search(r"\bevery workspace\b", doc), name
    s = Store(tmp_path)
    ids = [store.new_id() for _ in range(3)]
    for ws in ids:
        s.put_state(ws, "current", "x:0")
    for name in ("files", "results", "state"):  # an empty or odd id reads nothing
        assert not getattr(s, name)("")
    with pytest.raises(ValueError):
        s.put_state("", "current", "x")  # no workspace without a real id


def test_clearing_deletes_the_workspace_and_bytes_nobody_else_holds(tmp_path):
    s = Store(tmp_path)
    one, two = store.new_id(), store.new_id()
    s.add_file(one, SHA_A, {"name": "a"}, b"A")
    s.add_file(one, SHA_B, {"name": "b"}, b"B")
    s.add_file(two, SHA_B, {"name": "b"}, b"B")
    s.put_result(one, f"{SHA_A}:0", a_result())
    s.clear(one)
    assert not s.exists(one) and s.files(one) == [] and s.results(one) == {}
    assert not (tmp_path / "blobs" / SHA_A[:2] / SHA_A).exists()  # nobody holds it: gone from disk
    assert s.file_data(two, SHA_B) == b"B"  # still held by the other workspace


def test_workspaces_unused_past_the_expiry_are_swept(tmp_path):
    s = Store(tmp_path, expire_days=2)
    old, fresh = store.new_id(), store.new_id()
    s.add_file(old, SHA_A, {"name": "a"}, b"A")
    s.add_file(fresh, SHA_B, {"name": "b"}, b"B")
    later = time.time() + 1.5 * 86_400
    s.touch(fresh)
    assert s.sweep(now=later) == 0 and s.exists(old)
    with s._tx() as db:  # the fresh one was used a day after the old one
        db.execute("UPDATE workspace SET used = used + 86400 WHERE id = ?", (fresh,))
    assert s.sweep(now=time.time() + 2.5 * 86_400) == 1
    assert not s.exists(old) and s.file_data(old, SHA_A) is None and s.exists(fresh)
    assert not (tmp_path / "blobs" / SHA_A[:2] / SHA_A).exists()


def test_the_folder_and_expiry_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("OCR_WORKBENCH_DATA", str(tmp_path / "here"))
    monkeypatch.setenv("OCR_WORKBENCH_EXPIRE_DAYS", "7")
    assert store.data_folder() == tmp_path / "here" and store.expire_days() == 7
    monkeypatch.delenv("OCR_WORKBENCH_DATA")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("OCR_WORKBENCH_EXPIRE_DAYS", "soon")
    assert store.data_folder() == tmp_path / "xdg" / "ocr-workbench" and store.expire_days() == 30


# -- the app ---------------------------------------------------------------------------------------------


def reopen(ws: str, **query) -> object:
    """A new session (a reload, another tab, the server restarted) opening the link with ``ws``."""
    st.cache_resource.clear()  # a restarted server: nothing in memory, the store opened again from disk
    return ok(start(ws=ws, **query))


def test_a_new_session_with_the_link_gets_everything_back():
    at = extract(("a.png", GOOD), ("b.png", OTHER), settings=Settings(threshold="otsu"))
    ws = at.query_params["ws"]
    assert store.valid_id(ws) and ws == at.session_state[keys.WS]
    key = at.session_state[keys.CURRENT]
    ok(at.text_area(key=keys.TEXT).input("My corrected text").run())
    ok(at.text_area(key=keys.truth(key)).input("The quick brown fox").run())
    ok(at.selectbox(key=keys.page_picker("extract")).set_value(list(at.session_state[keys.FILES])[1] + ":0").run())
    chosen = at.session_state[keys.CURRENT]
    before = {name: at.session_state[name] for name in (keys.FILES, keys.EDITS, keys.TRUTHS, keys.SETTINGS,
                                                          keys.OPTIONS)}
    runs = at.session_state[keys.HISTORY]

    again = reopen(ws)
    assert again.session_state[keys.WS] == ws and again.query_params["ws"] == ws
    for name, value in before.items():
        assert again.session_state[name] == value, name
    assert again.session_state[keys.CURRENT] == chosen
    assert again.session_state[keys.HISTORY] == runs
    assert again.session_state[keys.RESULTS][key].text == at.session_state[keys.RESULTS][key].text
    # the pages show it: the files listed, the edited text and the true text on Extract, the runs in History
    assert "a.png" in texts(again) and "b.png" in texts(again)
    again.session_state[keys.CURRENT] = key
    go(again, nav.EXTRACT)
    assert again.text_area(key=keys.TEXT).value == "My corrected text"
    assert again.text_area(key=keys.truth(key)).value == "The quick brown fox"
    assert any(m.label.startswith("Character error rate") for m in again.metric)  # the panel is open with it
    go(again, nav.HISTORY)
    assert list(again.dataframe[0].value["run"]) == [r.number for r in runs]


def test_a_link_with_settings_wins_over_the_workspaces():
    at = extract(settings=Settings(threshold="otsu"))
    ws = at.query_params["ws"]
    assert reopen(ws).session_state[keys.SETTINGS] == Settings(threshold="otsu")
    assert reopen(ws, scale="2").session_state[keys.SETTINGS] == Settings(scale=2.0)


def test_an_unknown_id_gets_a_new_empty_workspace_never_another():
    at = upload(start(), ("secret.png", GOOD))
    theirs = at.query_params["ws"]
    for asked in (store.new_id(), theirs[:-1] + ("A" if theirs[-1] != "A" else "B"), theirs[:20], "../x"):
        other = reopen(asked)
        assert other.session_state[keys.FILES] == {} and "secret.png" not in texts(other)
        given = other.query_params["ws"]
        assert store.valid_id(given) and given not in (asked, theirs)  # a planted id is never adopted
        assert any("new, empty one" in w.value for w in other.warning)


def test_clear_this_workspace():
    at = extract()
    ws = at.query_params["ws"]
    go(at, nav.UPLOAD)
    ok(at.button(key=keys.CLEAR).click().run())
    assert at.session_state[keys.FILES] == {} and at.session_state[keys.HISTORY] == []
    assert at.query_params["ws"] != ws
    gone = reopen(ws)
    assert gone.session_state[keys.FILES] == {} and gone.query_params["ws"] != ws


def test_a_visit_that_changes_nothing_leaves_nothing_on_disk(workspaces):  # noqa: F811
    at = ok(start())
    ws = at.query_params["ws"]
    ok(at.run())
    assert not Store(workspaces).exists(ws)
    upload(at, ("page.png", png(draw_page(["Something to keep"]))))
    assert Store(workspaces).exists(ws)


def test_the_settings_can_be_shared_without_the_workspace():
    at = upload(start(threshold="otsu", psm="6"), ("page.png", GOOD))
    go(at, nav.TUNE)
    shared = [c.value for c in at.code if "threshold=otsu" in c.value]
    assert shared and "psm=6" in shared[0] and "ws=" not in shared[0]


def test_a_flattened_results_way_back_is_kept():
    from ocr.flatten import Bend, Remap

    grid = Remap(np.arange(12, dtype=np.float32).reshape(3, 4), np.ones((3, 4), dtype=np.float32), 8, 0.5)
    result = ocr.Result(text="a", words=ocr.result.words_frame([]),
                        bend=Bend(np.eye(3), grid, np.diag([2.0, 2.0, 1.0])))
    back = store.result_from_json(store.result_to_json(result)).bend
    assert back is not None and back.remap.step == 8 and back.remap.origin == 0.5
    assert np.array_equal(back.remap.x, grid.x) and np.array_equal(back.after, result.bend.after)

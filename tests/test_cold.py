"""A cold command pays only for what its page needs: its first worker starts before the command line is
imported, a Tesseract reading is judged without pandas and without looking through every installed
package for engines, and a result's words become a table only when someone reads them. (How fast is
scripts/bench.py's; these check the structure that makes it so.)"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import ocr
from ocr import judge
from ocr.engines import Word, spawn
from ocr.engines.pool import Engine
from ocr.result import Result, word_columns

from .conftest import ROOT, draw_page, words_of


@pytest.fixture(scope="module")
def page_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("cold") / "page.png"
    draw_page().save(path)
    return path


def imported_by(args: list[str]) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """``python -m ocr ARGS`` run cold, and the modules its process imported (``-X importtime``)."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "ocr", *args], capture_output=True,
                          text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    modules = {line.split("|")[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    return done, modules


def test_a_cold_tesseract_reading_imports_neither_pandas_nor_the_package_index(page_file):
    done, modules = imported_by([str(page_file)])
    assert done.returncode == 0, done.stderr[-2000:]
    assert words_of(done.stdout)[:3] == ["the", "quick", "brown"]
    assert "ocr.judge" in modules  # the page was judged (whether it lies turned) ...
    assert "pandas" not in modules  # ... from the engine's rows
    assert "importlib.metadata" not in modules  # built-in engines only: no plugin was asked for


def test_a_table_format_still_gets_its_table(page_file):
    done, modules = imported_by([str(page_file), "--format", "csv"])
    assert done.returncode == 0, done.stderr[-2000:]
    assert "pandas" in modules and done.stdout.splitlines()[0].startswith("page,text,conf,")


def test_the_worker_started_first_is_the_one_the_pool_takes():
    spawn.early(["page.png", "--lang", "eng"])
    assert spawn._early
    early_pid = spawn._early[0][0].pid
    engine = Engine("api", workers=1)
    try:
        engine.prestart(1)
        assert engine.worker_pids() == [early_pid] and not spawn._early
        assert engine.run(ocr.engines.Request(image=np.asarray(draw_page()), dpi=300)).text.startswith("The quick")
    finally:
        engine.close()


@pytest.mark.parametrize("args", [[], ["--help"], ["--version"], ["a.png", "--cluster", "local:2"],
                                  ["a.png", "--scheduler=tcp://x:8786"], ["a.png", "--backend", "cli"],
                                  ["a.png", "--jobs", "0"]])
def test_no_worker_starts_early_for_a_command_that_reads_elsewhere_or_nothing(args):
    spawn.early(args)
    assert not spawn._early


@pytest.mark.parametrize("args, workers", [
    (["a.png"], 1), (["a.png", "--engine", "tesseract"], 1), (["a.png", "--engine=auto"], 2),
    (["a.png", "--engine", "auto", "--jobs", "1"], 1), (["a.png", "--engine", "ppocr", "--jobs=8"], 2),
    (["a.png", "--engine", "auto", "--jobs", "many"], 1)])
def test_as_many_workers_start_early_as_the_command_starts_at_once(args, workers, monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setattr(spawn, "start", lambda first=None, n=0: (None, ""))  # counted, not started
    spawn.early(args)
    try:
        assert len(spawn._early) == workers
    finally:
        spawn._early.clear()


def test_one_worker_starts_early_for_one_picture_read_by_an_engine_that_lends_itself_a_hand(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setattr(spawn, "start", lambda first=None, n=0: (None, ""))
    picture, other, scan = tmp_path / "a.png", tmp_path / "b.png", tmp_path / "c.pdf"
    for path in (picture, other, scan):
        path.write_bytes(b"")
    try:
        for files, workers in (([picture], 1), ([picture, other], 2), ([scan], 2)):
            spawn._early.clear()
            spawn.early([*map(str, files), "--engine", "ppocr"])
            assert len(spawn._early) == workers
        spawn._early.clear()
        spawn.early([str(picture), "--engine", "auto"])  # auto: both engines read side by side
        assert len(spawn._early) == 2
    finally:
        spawn._early.clear()


def test_workers_started_early_are_told_the_engine_language_and_engine_mode_the_command_names(monkeypatch):
    told: list[tuple[dict[str, str] | None, int]] = []
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setattr(spawn, "start", lambda first=None, n=0: (told.append((first, n)), (None, ""))[1])
    try:
        spawn.early(["a.png", "--lang", "deu", "--oem=1"])
        spawn.early(["a.png", "--engine", "auto"])
    finally:
        spawn._early.clear()
    assert told == [({"lang": "deu", "oem": "1"}, 0), ({"engine": "auto"}, 0), ({"engine": "auto"}, 1)]


def test_a_pool_takes_the_workers_started_early_in_the_order_they_were_started(monkeypatch):
    """The n-th loads what the pool's prestart asks of its n-th (registry.for_worker)."""
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setattr(spawn, "start", lambda first=None, n=0: (n, ""))
    spawn.early(["a.png", "--engine", "auto"])
    assert [spawn.adopt(), spawn.adopt(), spawn.adopt()] == [(0, ""), (1, ""), None]


@pytest.mark.parametrize("options, n, loaded", [
    ({"lang": "deu", "oem": "1"}, 0, ("deu", 1)), ({}, 0, ("eng", 3)), ({"lang": "auto"}, 0, ("eng", 3)),
    ({"oem": "x"}, 0, ("eng", 3)), ({"engine": "auto"}, 0, ("eng", 3)), ({"engine": "auto"}, 1, None)])
def test_a_worker_loads_what_it_will_be_asked_to_before_its_hello(options, n, loaded, tmp_path):
    """So the cold command's first page, which arrives as the worker would otherwise start loading, finds
    it loaded: the language Tesseract reads it in, or, for the second worker of ``auto``, PP-OCR. A word
    that is not an option loads the defaults: the parent's own prepare says what is wrong."""
    import json

    from ocr.engines.worker import Worker

    worker = Worker(str(tmp_path))
    worker.prepare_first(None)
    assert not worker.readers
    worker.prepare_first(json.dumps({"options": options, "worker": n}))
    if loaded is None:
        assert list(worker.readers) == ["ppocr"]
    else:
        assert list(worker.readers["tesseract"].apis) == [loaded]  # type: ignore[attr-defined]


def test_both_workers_started_early_are_taken_for_the_best_of_both():
    spawn.early(["page.png", "--engine", "auto", "--jobs", "2"])
    early = sorted(proc.pid for proc, _ in spawn._early)
    assert len(early) == 2
    engine = Engine("api", workers=2)
    try:
        engine.prestart(2, ocr.Options(engine="auto"))
        assert sorted(engine.worker_pids()) == early and not spawn._early
    finally:
        engine.close()


def test_the_two_workers_of_auto_load_one_engine_each_and_the_other_only_when_asked():
    """The second's hello waits for PP-OCR, what it was started for, and not for Tesseract's library and
    language besides (the first worker's); the first does without PP-OCR's module and NumPy; a page for
    Tesseract still finds either able."""
    spawn.early(["page.png", "--engine", "auto", "--jobs", "2"])
    first, second = (proc.pid for proc, _ in spawn._early)
    engine = Engine("api", workers=2)
    try:
        engine.prestart(2, ocr.Options(engine="auto"))
        for worker in list(engine._live):
            worker.ready()
            worker._settle(60)  # the prepare sent ahead, answered
        loaded = {pid: Path(f"/proc/{pid}/maps").read_text() for pid in (first, second)}
        assert "libtesseract" in loaded[first] and "onnxruntime" not in loaded[first]
        assert "onnxruntime" in loaded[second] and "libtesseract" not in loaded[second]
        assert not numpy_in(first)  # PP-OCR's module, and NumPy with it, were not imported to find that out
        by_tesseract = ocr.engines.Request(image=np.asarray(draw_page()), dpi=300)
        assert {engine.run(by_tesseract).text.startswith("The quick") for _ in range(2)} == {True}
    finally:
        engine.close()


def test_a_page_the_pipe_holds_goes_before_the_replies_owed_a_larger_one_after(monkeypatch):
    """A cold command's page is written while its worker still loads the language sent ahead (else this
    process, busy loading its dictionary, hands it over late); a page larger than the pipe would block
    the write with no time limit, so it goes once the worker has answered what it owed."""
    from ocr.engines import pool

    worker = pool.WorkerProcess()
    order: list[tuple[str, int]] = []
    write, settle = pool.write, worker._settle
    monkeypatch.setattr(pool, "write", lambda fd, message: (order.append(("write", len(message))), write(fd, message)))
    monkeypatch.setattr(worker, "_settle", lambda limit: (order.append(("settle", worker.ahead)), settle(limit)))
    try:
        assert worker.room >= 1 << 20  # Linux lets the pipe hold a megabyte
        for side, first in ((300, "write"), (1200, "settle")):
            order.clear()
            worker.send_ahead("prepare", ([], ocr.Options()))
            page = ocr.engines.Request(image=np.full((side, side), 255, dtype=np.uint8), dpi=300)
            assert worker.call("read", ("ocr.engines.tesseract", page), 60).text.strip() == ""
            assert order[0][0] == first and ("settle", 1) in order
            written = next(size for step, size in order if step == "write")
            assert (written <= worker.room) == (first == "write")
    finally:
        worker.stop()


def test_tesseract_is_asked_where_its_language_data_is_once_per_install(monkeypatch, tmp_path):
    """The answer is kept (a process less at each command's start, two for a cold one), and asked again
    when the folder it named no longer holds language data."""
    from ocr.engines import install

    def no_process(*args: object, **kwargs: object) -> None:
        raise AssertionError("tesseract was asked again")

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("TESSDATA_PREFIX", raising=False)
    install.tessdata_dir.cache_clear()
    try:
        folder = install.tessdata_dir()
        (kept,) = tmp_path.glob("ocr-workbench/tessdata-*.txt")
        assert kept.read_text() == folder and list(Path(folder).glob("eng.traineddata"))
        install.tessdata_dir.cache_clear()
        with monkeypatch.context() as patch:
            patch.setattr(install.subprocess, "Popen", no_process)
            install.ask_early()
            assert install.tessdata_dir() == folder
        kept.write_text(str(tmp_path))  # a folder without language data
        install.tessdata_dir.cache_clear()
        assert install.tessdata_dir() == folder and kept.read_text() == folder
    finally:
        install.tessdata_dir.cache_clear()


def numpy_in(pid: int) -> bool:
    """Whether process ``pid`` has NumPy's core library loaded (its memory map names the file)."""
    with open(f"/proc/{pid}/maps") as maps:
        return "_multiarray_umath" in maps.read()


def test_a_tesseract_worker_reads_a_page_without_numpy():
    """Its page travels as bytes (Pixels) and Tesseract reads them as they are: NumPy's import is a fifth
    of a cold command's worker start. An engine that wants an array gets one, and NumPy with it."""
    engine = Engine("api", workers=1)
    try:
        page = ocr.engines.Request(image=np.asarray(draw_page()), dpi=300)
        assert engine.run(page).text.startswith("The quick")
        (pid,) = engine.worker_pids()
        assert not numpy_in(pid)
        by_ppocr = ocr.engines.Request(page.image, 300, ocr.Options(engine="ppocr"))
        assert engine.run(by_ppocr).text.startswith("The quick")
        assert engine.worker_pids() == [pid] and numpy_in(pid)
    finally:
        engine.close()


def test_pixels_are_the_array_they_were_made_from():
    from ocr.engines.protocol import Pixels

    for image in (np.arange(24, dtype=np.uint8).reshape(2, 4, 3), np.asarray(draw_page())[::2, ::3]):
        pixels = pickle.loads(pickle.dumps(Pixels.of(image)))
        again = pixels.array()
        assert pixels.shape == image.shape and pixels.ndim == image.ndim and pixels.tobytes() == image.tobytes()
        assert np.array_equal(again, image) and again.dtype == image.dtype and again.flags.writeable


def test_a_worker_started_early_and_not_taken_is_stopped():
    spawn.early(["page.png"])
    proc, folder = spawn._early[0]
    spawn.drop()
    assert proc.poll() is not None and not os.path.exists(folder) and not spawn._early


ROWS = [Word("Total", 96.0, 10, 10, 50, 12, 1, 1, 1, 1), Word("12.50", 91.0, 70, 10, 40, 12, 1, 1, 1, 2),
        Word("zqxv", 31.0, 10, 30, 40, 12, 1, 1, 2, 1), Word("|~", 12.0, 300, 300, 10, 12, 2, 1, 1, 1)]


def test_a_result_keeps_its_rows_until_its_table_is_read():
    result = Result(text="Total 12.50", words=ROWS)
    assert result.word_count == 4 and result.mean_conf == round(np.mean([96, 91, 31, 12]), 2)
    assert "_words" in vars(result) and isinstance(vars(result)["_words"], list)  # no table made yet
    table = result.words
    assert list(table["text"]) == ["Total", "12.50", "zqxv", "|~"] and table["left"].dtype == np.int64
    assert result.words is table  # made once
    assert {k: v.tolist() for k, v in result.columns().items()} == \
           {k: v.tolist() for k, v in word_columns(ROWS).items()}


def test_the_judge_scores_rows_and_their_table_alike():
    by_rows = judge.score(ROWS)
    by_table = judge.score(Result(text="", words=ROWS).words)
    assert by_rows == by_table and by_rows.chars > 0 and by_rows.garbage > 0
    empty = Result(text="", words=[])
    assert judge.judge(empty).chars == 0 and empty.words.empty and list(empty.words.columns)[:2] == ["text", "conf"]

"""Batches on a Dask LocalCluster of two worker processes: every page read, outputs in document order, a
worker killed mid-batch costs only a retry, and nothing is left running afterwards."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pytest

pytest.importorskip("distributed")

from ocr.batch import Source, stream_pages
from ocr.cli import main
from ocr.cluster import connect, worker_processes

from .conftest import ROOT, ctrl_c_as_at_a_terminal, draw_page, words_of

pytestmark = pytest.mark.timeout(180)

TEXTS = [f"Sheet {word} of the pile" for word in ("one", "two", "three", "four", "five", "six", "seven", "eight")]


def sheet(text: str, size=(900, 200)) -> bytes:
    buffer = io.BytesIO()
    draw_page([text, "with a second line of words"], size=size).save(buffer, "PNG")
    return buffer.getvalue()


def pdf_of(texts: list[str]) -> bytes:
    pages = [draw_page([t], size=(900, 160)) for t in texts]
    buffer = io.BytesIO()
    pages[0].save(buffer, "PDF", save_all=True, append_images=pages[1:], resolution=100)
    return buffer.getvalue()


def engine_pids(runner) -> dict[str, list[int]]:
    """Each Dask worker's own process id and its engine's processes."""
    return runner.client.run(worker_processes)


def gone(pids: list[int], seconds: float = 30.0) -> list[int]:
    """The processes of ``pids`` still running after waiting up to ``seconds`` for them to end."""
    deadline = time.monotonic() + seconds
    alive = pids
    while alive and time.monotonic() < deadline:
        alive = [p for p in alive if psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE]
        if alive:
            time.sleep(0.2)
    return alive


@pytest.fixture(scope="module")
def runner():
    """One LocalCluster of two worker processes for the tests that share it."""
    with connect("local:2") as cluster_runner:
        yield cluster_runner


def test_a_batch_on_a_local_cluster_reads_every_page_in_order(tmp_path, runner):
    files = [Source("first.png", data=sheet(TEXTS[0])), Source("pile.pdf", data=pdf_of(TEXTS[1:5]))]
    path = tmp_path / "last.png"
    path.write_bytes(sheet(TEXTS[5]))
    assert runner.workers == 2
    outcomes = list(stream_pages([*files, path], runner=runner))
    assert [o.name for o in outcomes] == ["first.png", *[f"pile.pdf#{i}" for i in range(1, 5)], "last.png"]
    assert all(o.ok for o in outcomes), [o.error for o in outcomes]
    for outcome, text in zip(outcomes, TEXTS):
        assert words_of(outcome.result.text)[:5] == words_of(text)
        assert outcome.result.origin is not None  # the client knows the file, for a searchable PDF


def test_a_worker_killed_mid_batch_costs_a_retry_and_every_page_is_read(runner):
    pages = [Source(f"p{i}.png", data=sheet(text, size=(1400, 500))) for i, text in enumerate(TEXTS)]
    outcomes = stream_pages(pages, runner=runner)
    seen = [next(outcomes)]
    busy = {address for address, keys in runner.client.processing().items() if keys}
    assert busy, "no worker was reading when one was to be killed"
    victim = runner.client.run(os.getpid, workers=[sorted(busy)[0]])[sorted(busy)[0]]
    os.kill(victim, signal.SIGKILL)
    seen.extend(outcomes)
    processes = [p for pids in engine_pids(runner).values() for p in pids]
    runner.close()  # the cluster stops: the restarted worker, the others and every engine with it
    assert [o.name for o in seen] == [f"p{i}.png" for i in range(len(TEXTS))]
    assert all(o.ok for o in seen), [o.error for o in seen]
    for outcome, text in zip(seen, TEXTS):
        assert words_of(outcome.result.text)[:5] == words_of(text)
    assert not gone([victim, *processes])


def test_a_worker_dying_with_a_files_only_copy_costs_a_resend_not_its_pages():
    """Dask's memory manager keeps one copy of scattered bytes; the worker holding it dies before the
    pages are read: the file is sent again and every page still reads."""
    from ocr.batch import Reading, open_source

    with connect("local:2") as runner:
        source = Source("pile.pdf", data=pdf_of(TEXTS[:3]))
        reading = Reading()
        jobs, _ = open_source(source, reading, "keep")
        runner.file_opened(source)
        client = runner.client
        client.amm.run_once()  # the broadcast copies reduced to one, as the scheduler does every 2 s
        sent = runner._data[id(source)]
        deadline = time.monotonic() + 60
        while len(holders := client.who_has([sent])[sent.key]) != 1 and time.monotonic() < deadline:
            time.sleep(0.2)  # the memory manager drops replicas in its own time
        assert len(holders) == 1
        victim = client.run(os.getpid, workers=list(holders))[holders[0]]
        os.kill(victim, signal.SIGKILL)
        while sent.status == "finished" and time.monotonic() < deadline:
            time.sleep(0.2)  # the scheduler notices the worker is gone, and the bytes with it
        assert sent.status != "finished"
        results = [runner.collect(job, runner.submit(job, reading)) for job in jobs]
    for result, text in zip(results, TEXTS):
        assert words_of(result.text)[:5] == words_of(text)


def test_the_command_line_runs_on_a_cluster_and_writes_in_document_order(tmp_path, capsysbinary):
    pile = tmp_path / "pile.pdf"
    pile.write_bytes(pdf_of(TEXTS[:3]))
    alone = tmp_path / "alone.png"
    alone.write_bytes(sheet(TEXTS[3]))
    code = main([str(pile), str(alone), "--cluster", "local:2"])
    out, err = capsysbinary.readouterr()
    assert code == 0 and err == b"", err
    text = out.decode()
    marks = [text.index(f"==> {name} <==") for name in ("pile.pdf#1", "pile.pdf#2", "pile.pdf#3", "alone.png")]
    assert marks == sorted(marks)
    for t in TEXTS[:4]:
        assert " ".join(words_of(t)) in " ".join(words_of(text))


def test_ctrl_c_stops_the_batch_and_leaves_no_worker_running(tmp_path):
    for i, text in enumerate(TEXTS * 3):
        (tmp_path / f"page{i:02d}.png").write_bytes(sheet(text, size=(1400, 500)))
    files = sorted(str(p) for p in tmp_path.glob("page*.png"))
    # the last file is a pipe nobody writes to: the batch cannot end before it is interrupted, however
    # fast the pages before it are read
    waiting = tmp_path / "waiting.png"
    os.mkfifo(waiting)
    files.append(str(waiting))
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "ocr", *files, "--cluster", "local:2", "-o", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, preexec_fn=ctrl_c_as_at_a_terminal)
    try:
        deadline = time.monotonic() + 120
        while not (out.is_dir() and any(out.iterdir())) and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
        assert proc.poll() is None, "the batch ended before it could be interrupted"
        family = [p.pid for p in psutil.Process(proc.pid).children(recursive=True)]
        assert len(family) >= 4  # two Dask workers (and their nannies) and their engines
        proc.send_signal(signal.SIGINT)
        # a file being opened holds the batch until the open returns (the signal may land on another
        # thread): the pipe lets go, as a slow disk would, and the batch then sees the interrupt
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline:
            with contextlib.suppress(OSError):  # nobody has the pipe open yet
                os.close(os.open(waiting, os.O_WRONLY | os.O_NONBLOCK))
            time.sleep(0.2)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130 and b"error: interrupted" in err
    assert len(list(out.iterdir())) < len(files)
    assert not gone(family)


def test_the_app_reads_on_the_cluster_ocr_scheduler_names(monkeypatch):
    import ocr
    import ocr.cluster

    monkeypatch.setenv("OCR_SCHEDULER", "local:2")
    asked = []
    real = ocr.cluster.connect
    monkeypatch.setattr(ocr.cluster, "connect", lambda address, **kw: asked.append(address) or real(address, **kw))
    pile = pdf_of(TEXTS[:3])
    calls = []
    outcomes = ocr.read_chosen([("pile.pdf", pile, 2), ("pile.pdf", pile, 0)],
                               progress=lambda done, total, o: calls.append((done, total)))
    assert [o.name for o in outcomes] == ["pile.pdf#3", "pile.pdf#1"]
    assert [words_of(o.result.text)[:2] for o in outcomes] == [["sheet", "three"], ["sheet", "one"]]
    assert calls == [(1, 2), (2, 2)] and asked == ["local:2"]
    assert ocr.export([o.result for o in outcomes], "pdf").startswith(b"%PDF")


def test_a_local_clusters_scratch_space_is_ours_and_goes_with_it(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # Dask's default place, where nothing may be left
    with connect("local:1") as runner:
        assert runner.cluster is not None
        scratch = runner.cluster.scratch
        places = runner.client.run(lambda dask_worker: dask_worker.local_directory)
        assert places and all(Path(place).is_relative_to(scratch) for place in places.values()), places
    assert not scratch.exists()
    assert not [p for p in tmp_path.iterdir() if p != scratch], list(tmp_path.iterdir())

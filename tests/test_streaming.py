"""A batch streams: pages are read a few at a time, outcomes come in document order whatever order pages
finish in, and a long PDF is read in the memory of a few pages into one searchable PDF."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import threading
from concurrent.futures import Future, ThreadPoolExecutor

import pytest

import ocr
from ocr.batch import Job, Reading, Source, stream_pages
from ocr.result import words_frame

from .conftest import ROOT, draw_page, words_of

WORDS = ("alpha", "delta", "omega")


def long_pdf(path, count: int) -> None:
    """``count`` small pages, page N saying "Page N reads WORD"."""
    pages = [draw_page([f"Page {i + 1} reads {WORDS[i % 3]}"], size=(500, 90), font_size=30, origin=(20, 20))
             for i in range(count)]
    pages[0].save(path, save_all=True, append_images=pages[1:], resolution=100)


class ShuffledRunner:
    """Pages "read" out of order (each after a random pause) by 4 threads; counts pages submitted and not
    yet yielded, to check the window."""

    workers = 2

    def __init__(self) -> None:
        self.pool = ThreadPoolExecutor(4)
        self.out = 0
        self.most = 0
        self.lock = threading.Lock()
        self.rng = random.Random(7)

    def submit(self, job: Job, reading: Reading) -> Future:
        with self.lock:
            self.out += 1
            self.most = max(self.most, self.out)
        pause = self.rng.random() / 50
        return self.pool.submit(lambda: threading.Event().wait(pause) or ocr.Result(
            text=f"page {job.index}", words=words_frame([]), name=job.outcome.name))

    def collect(self, job: Job, future: Future) -> ocr.Result:
        return future.result()

    def yielded(self) -> None:
        with self.lock:
            self.out -= 1

    def cancel(self, futures) -> None:
        for f in futures:
            f.cancel()

    def file_opened(self, source: Source) -> None:
        pass

    def file_done(self, source: Source) -> None:
        pass


def test_outcomes_come_in_document_order_within_the_window(tmp_path):
    path = tmp_path / "forty.pdf"
    long_pdf(path, 40)
    runner = ShuffledRunner()
    seen, finished = [], []
    for outcome in stream_pages([path, ("empty.png", b""), path], runner=runner, window=6,
                                progress=lambda done, total, o: finished.append((done, total, o.name))):
        seen.append(outcome.name if outcome.ok else f"failed {outcome.name}")
        runner.yielded()
    expected = [f"forty.pdf#{i}" for i in range(1, 41)]
    assert seen == [*expected, "failed empty.png", *expected]
    assert runner.most <= 6  # never more than the window submitted and not yet yielded
    assert [d for d, _, _ in finished] == list(range(1, 82))
    assert finished[-1][1] == 81  # every page once all files are open
    assert [o for _, _, o in finished] != [*expected, "empty.png", *expected]  # they did finish out of order


def test_read_files_keeps_its_list_and_progress_for_the_app(tmp_path):
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    draw_page(["First page"], size=(500, 120)).save(a)
    draw_page(["Second page"], size=(500, 120)).save(b)
    pages = [*ocr.load(a), *ocr.load(b)]
    calls = []
    main_thread = threading.get_ident()
    outcomes = ocr.read_files(pages, progress=lambda done, total, o: calls.append((done, total,
                                                                                   threading.get_ident())))
    assert [words_of(o.result.text) for o in outcomes] == [["first", "page"], ["second", "page"]]
    assert [(d, t) for d, t, _ in calls] == [(1, 2), (2, 2)] and {i for _, _, i in calls} == {main_thread}
    assert all(o.result.origin is not None for o in outcomes)  # so the app can make a searchable PDF


def test_only_the_chosen_pages_of_a_source(tmp_path):
    path = tmp_path / "six.pdf"
    long_pdf(path, 6)
    outcomes = ocr.read_files([Source("six.pdf", data=path.read_bytes(), pages=(4, 1))])
    assert [o.name for o in outcomes] == ["six.pdf#5", "six.pdf#2"]
    assert words_of(outcomes[0].result.text)[:2] == ["page", "5"]


# The process's own peak (VmHWM): getrusage's ru_maxrss would carry the peak of the process it was forked
# from (Linux keeps it across exec), and this test suite's process can be larger than the command.
PEAK = """
import sys
from ocr.cli import main
code = main(sys.argv[1:])
status = dict(line.split(":", 1) for line in open("/proc/self/status"))
print("peak", int(status["VmHWM"].split()[0]) * 1024, file=sys.stderr)
sys.exit(code)
"""


def peak_rss(*args) -> tuple[int, str]:
    """Run the command line in a fresh process; its peak resident memory in bytes, and its stderr."""
    out = subprocess.run([sys.executable, "-c", PEAK, *map(str, args)], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stderr
    lines = out.stderr.strip().splitlines()
    return int(lines[-1].split()[1]), "\n".join(lines[:-1])


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="pdftotext (poppler-utils) is not installed")
def test_a_300_page_pdf_is_read_in_the_memory_of_a_few_pages(tmp_path):
    long_pdf(tmp_path / "one.pdf", 1)
    long_pdf(tmp_path / "long.pdf", 300)
    one, _ = peak_rss(tmp_path / "one.pdf", "--format", "pdf", "-o", tmp_path / "out")
    peak, err = peak_rss(tmp_path / "long.pdf", "--format", "pdf", "-o", tmp_path / "out", "--jobs", "2")
    assert err == ""
    assert peak < 1 << 30, (one >> 20, peak >> 20)
    # each page drawn at 300 dpi is 1.3 MB of pixels: 300 of them held would add 390 MB
    assert peak < one + (150 << 20), (one >> 20, peak >> 20)
    text = subprocess.run(["pdftotext", tmp_path / "out" / "long.pdf", "-"], capture_output=True, text=True,
                          check=True).stdout.split("\f")[:-1]
    assert len(text) == 300
    for i, page in enumerate(text):
        assert words_of(page) == ["page", str(i + 1), "reads", WORDS[i % 3]], (i, page)


def test_read_chosen_reads_pages_of_files_in_the_order_chosen(tmp_path, monkeypatch):
    monkeypatch.delenv("OCR_SCHEDULER", raising=False)
    path = tmp_path / "six.pdf"
    long_pdf(path, 6)
    data = path.read_bytes()
    photo = encoded_png(draw_page(["A lone photo"], size=(500, 120)))
    seen = []
    outcomes = ocr.read_chosen([("six.pdf", data, 3), ("six.pdf", data, 0), ("photo.png", photo, 0),
                                ("six.pdf", data, 5)], progress=lambda done, total, o: seen.append(total))
    assert [o.name for o in outcomes] == ["six.pdf#4", "six.pdf#1", "photo.png", "six.pdf#6"]
    assert [words_of(o.result.text)[:2] for o in outcomes] == [["page", "4"], ["page", "1"], ["a", "lone"],
                                                              ["page", "6"]]
    assert seen[-1] == 4


def encoded_png(image) -> bytes:
    import io

    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()

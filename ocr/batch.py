"""Reading many files and pages side by side, each page's failure kept to that page.

A batch streams: files are opened one after another as their pages are needed, at most a few pages
are in flight at once (``window``), and :func:`stream_pages` yields each page's :class:`Outcome` in
document order as soon as it and every page before it are done. Nothing holds the pages of a whole
file or of the whole batch, so a 300-page PDF takes the memory of a few pages.

Who reads the pages is a :class:`~ocr.reading.Runner`: :class:`LocalRunner` (threads over the engine's
worker processes on this machine, the default) or :class:`ocr.cluster.ClusterRunner` (a Dask cluster).
Both take the same jobs (:mod:`ocr.reading`); :func:`read_files` is the list-returning call.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

from .decode import PDF_DPI, Page, load
from .engines.pool import Engine, default_engine
from .errors import OcrError, SettingsError
from .limits import Limits
from .reading import Job, Outcome, Progress, Reading, Runner, Source, describe_error, read_page
from .result import Origin, Result, origin_of
from .settings import Options, Settings

__all__ = ["LocalRunner", "Outcome", "Runner", "Source", "describe_error", "read_chosen", "read_files", "read_page",
           "stream_pages"]

log = logging.getLogger(__name__)

TEXT_LAYERS = ("keep", "skip", "redo")  # a PDF page with text: kept and said, kept quietly, read again
SCHEDULER_VARIABLE = "OCR_SCHEDULER"  # the app reads on the Dask scheduler this names (docs/cluster.md)


FileLike = str | os.PathLike[str] | tuple[str, bytes] | Page | Source
Tuner = Callable[[Page], tuple[Settings, Options]]


class LocalRunner:
    """Pages read by threads on this machine, each asking ``engine`` (its worker processes)."""

    def __init__(self, engine: Engine | None = None, jobs: int | None = None, tune: Tuner | None = None,
                 backend: str = "api", speculate: bool = False) -> None:
        self.engine = engine or default_engine(backend)
        self.speculate = speculate  # a page read alone: auto may start its other engines at once
        self.workers = max(1, jobs or self.engine.workers)
        self.tune = tune
        self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="ocr-page")

    def submit(self, job: Job, reading: Reading) -> Future[Result]:
        return self._pool.submit(self._read, job, reading)

    def _read(self, job: Job, reading: Reading) -> Result:
        page = job.page
        assert page is not None
        held = page.held  # pixels held before (e.g. the app's page on screen) stay held
        try:
            settings, options = self.tune(page) if self.tune else (reading.settings, reading.options)
            return read_page(page, settings, options, engine=self.engine, speculate=self.speculate)
        finally:
            if not held:  # decoded for this reading, let go after it: a batch holds a few pages at a time
                page.release()

    def collect(self, job: Job, future: Future[Result]) -> Result:
        return future.result()

    def cancel(self, futures: list[Any]) -> None:
        for future in futures:
            future.cancel()

    def file_opened(self, source: Source) -> None:
        pass

    def file_done(self, source: Source) -> None:
        pass

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


# -- opening files -----------------------------------------------------------------------------------


def as_source(item: FileLike) -> Source | Page:
    """A batch item as a :class:`Source` (a :class:`Page` stays itself)."""
    if isinstance(item, (Source, Page)):
        return item
    if isinstance(item, tuple):
        return Source(item[0], data=item[1])
    return Source(Path(item).name, path=os.fspath(item))


def open_source(source: Source, reading: Reading, text_layer: str) -> tuple[list[Job], list[str]]:
    """The jobs for a file's pages (a page that keeps its own text comes done), and the file's notes.
    Raises the file's error as one sentence."""

    what: bytes | str = source.data if source.data is not None else source.path or ""
    pages = load(what, source.name, pdf_dpi=reading.pdf_dpi, limits=reading.limits)
    chosen = range(len(pages)) if source.pages is None else source.pages
    with_text: list[bool] = []
    data: bytes | str = b""
    if pages and pages[0].kind == "PDF" and text_layer != "redo":
        from .pdf import text_pages  # pikepdf: only a PDF's batch pays for its import
        data = source.data if source.data is not None else source.path or ""
        with_text = text_pages(data)
    jobs, kept = [], []
    for index in chosen:
        if not 0 <= index < len(pages):
            raise SettingsError(f"it has no page {index + 1} ({len(pages)} pages).")
        page = pages[index]
        origin = Origin(kind=page.kind, index=index, count=page.count, dpi=page.dpi, data=source.data,
                        path=source.path)
        outcome = Outcome(page.name, source.name, page=page, index=index, count=page.count, notes=list(page.notes),
                          origin=origin)
        if index < len(with_text) and with_text[index]:
            from .pdf import page_text
            outcome.result = Result(text=page_text(data, index), words=[], name=page.name,
                                    origin=origin, engine="text layer", dpi=page.dpi or PDF_DPI,
                                    warnings=["The page already has text; it was kept and not read again."])
            outcome.kept = True
            kept.append(index + 1)
        jobs.append(Job(source, index, outcome, page=page, dpi=page.dpi))
    notes = []
    if kept and text_layer == "keep":
        listed = _numbers(kept)
        many = len(kept) > 1
        them = "them" if many else "it"
        notes.append(f"page{'s' if many else ''} {listed} already {'have' if many else 'has'} text; "
                     f"kept as {'they are' if many else 'it is'}, not read again (--redo reads {them} again; "
                     f"--skip-text keeps {them} without this note).")
    return jobs, notes


def _numbers(numbers: list[int]) -> str:
    """1, 2, 3, 7 -> "1-3, 7"."""
    runs: list[list[int]] = []
    for n in numbers:
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    return ", ".join(str(r[0]) if len(r) == 1 else f"{r[0]}-{r[-1]}" for r in runs)


def _open_all(files: Iterable[FileLike], reading: Reading, text_layer: str) -> Iterator[deque[Job] | Outcome]:
    """Each file in turn (opened when asked for): its jobs, or one failed outcome when it cannot be
    opened. A file's notes ride on its first page (``file_notes``)."""
    for number, item in enumerate(files):
        source = as_source(item)
        if isinstance(source, Page):  # a page already loaded: read from its pixels
            outcome = Outcome(source.name, source.source, page=source, index=source.index, count=source.count,
                              notes=list(source.notes), file=number, origin=origin_of(source))
            yield deque([Job(Source(source.source or source.name), source.index, outcome, page=source, dpi=source.dpi)])
            continue
        try:
            jobs, notes = open_source(source, reading, text_layer)
        except OcrError as e:  # one sentence for this file; the others go on
            yield Outcome(source.name, source.name, error=describe_error(e), file=number)
            continue
        except Exception as e:  # a decoder library's unexpected failure: logged, one sentence, the others go on
            log.exception("%s could not be opened", source.name)
            yield Outcome(source.name, source.name, error=describe_error(e), file=number)
            continue
        for job in jobs:
            job.outcome.file = number
        if jobs:
            jobs[0].outcome.file_notes.extend(notes)
        batch = deque(jobs)  # the driver takes jobs out of this very deque: none stays held here once read
        del jobs
        yield batch


# -- the ordered stream ------------------------------------------------------------------------------


def stream_pages(
    files: Iterable[FileLike],
    settings: Settings | None = None,
    options: Options | None = None,
    *,
    runner: Runner | None = None,
    jobs: int | None = None,
    engine: Engine | None = None,
    backend: str = "api",
    tune: Tuner | None = None,
    progress: Progress | None = None,
    limits: Limits | None = None,
    text_layer: str = "keep",
    window: int | None = None,
) -> Iterator[Outcome]:
    """Read every page of every file and yield each :class:`Outcome` in document order, as soon as it
    and all before it are done.

    ``runner`` reads the pages (default: a :class:`LocalRunner` of ``jobs`` threads over ``engine``).
    At most ``window`` pages (default: twice the runner's workers, plus two) are in flight or waiting
    for an earlier page, so memory does not grow with the batch. ``progress(done, total, outcome)`` is
    called in this thread as each page finishes, in any order; ``total`` counts the pages of the files
    opened so far plus one for each file not yet opened. A PDF page that already has text is kept as
    it is (``text_layer="keep"``: with a note on the file's first page; ``"skip"``: without) or read
    again (``"redo"``). Stopping the iteration early (or Ctrl-C) cancels the pages not yet done.
    """
    if text_layer not in TEXT_LAYERS:
        raise SettingsError(f"text_layer must be one of {', '.join(TEXT_LAYERS)}, not {text_layer!r}.")
    reading = Reading(settings, options, PDF_DPI, limits or Limits())
    own = runner is None
    active: Runner = runner if runner is not None else LocalRunner(engine, jobs, tune, backend)
    files = files if isinstance(files, list) else list(files)
    try:
        yield from _Drive(files, reading, text_layer, active, window or 2 * active.workers + 2, progress).run()
    finally:
        if own and isinstance(active, LocalRunner):
            active.close()


class _Drive:
    """One ordered run: submits pages in document order while fewer than ``window`` are unfinished or
    waiting to be yielded, and yields outcomes in that order."""

    def __init__(self, files: list[FileLike], reading: Reading, text_layer: str, runner: Runner, window: int,
                 progress: Progress | None) -> None:
        self.files = _open_all(files, reading, text_layer)
        self.reading, self.runner, self.window, self.progress = reading, runner, max(1, window), progress
        self.total = len(files)  # one per file until it is opened
        self.done = 0
        self.pending: deque[Job] = deque()  # the open file's jobs not yet submitted, in order
        self.slots: deque[Job | Outcome] = deque()  # every position not yet yielded, in order
        self.ready: set[int] = set()  # ids of slots done
        self.futures: dict[int, tuple[Job, Any]] = {}  # id(job) -> (job, future), until collected
        self.left: dict[int, int] = {}  # id(source) -> its jobs not yet collected
        self.finished: queue.Queue[int] = queue.Queue()
        self.exhausted = False

    def run(self) -> Iterator[Outcome]:
        try:
            while True:
                self._fill()
                while self.slots and id(self.slots[0]) in self.ready:
                    slot = self.slots.popleft()
                    self.ready.discard(id(slot))
                    yield slot if isinstance(slot, Outcome) else slot.outcome
                if not self.slots and self.exhausted and not self.pending:
                    return
                if self.futures:
                    self._collect(self._wait())
        finally:
            if self.futures:
                self.runner.cancel([future for _, future in self.futures.values()])

    def _fill(self) -> None:
        """Submit (or settle) the next pages while the window has room."""
        while len(self.slots) < self.window:
            if not self.pending:
                if self.exhausted:
                    return
                opened = next(self.files, None)
                if opened is None:
                    self.exhausted = True
                    return
                if isinstance(opened, Outcome):
                    self._settle(opened, opened)
                    continue
                self.total += len(opened) - 1
                self.pending = opened
                if opened:
                    self.runner.file_opened(opened[0].source)
                    self.left[id(opened[0].source)] = len(opened)
                else:
                    self.total += 1  # no page chosen: nothing to count
                continue
            job = self.pending.popleft()
            if job.outcome.kept:
                self._settle(job, job.outcome)
                self._source_done(job)
                continue
            self.slots.append(job)
            future = self.runner.submit(job, self.reading)
            key = id(job)
            self.futures[key] = (job, future)
            future.add_done_callback(partial(self._done, key))

    def _done(self, key: int, future: Any) -> None:
        """Called by the runner's thread when a job is done: hand it to the iterating thread."""
        self.finished.put(key)

    def _settle(self, slot: Job | Outcome, outcome: Outcome, *, new: bool = True) -> None:
        """Mark a slot done (``new``: one that never went to the runner) and say so."""
        if new:
            self.slots.append(slot)
        self.ready.add(id(slot))
        self.done += 1
        if self.progress:
            self.progress(self.done, self.total, outcome)

    def _wait(self) -> int:
        """The next finished job; waits in short steps so Ctrl-C is noticed at once."""
        while True:
            with contextlib.suppress(queue.Empty):
                return self.finished.get(timeout=0.2)

    def _collect(self, key: int) -> None:
        job, future = self.futures.pop(key)
        try:
            result = self.runner.collect(job, future)
            result.origin = job.outcome.origin or result.origin
            job.outcome.result = result
        except OcrError as e:  # this page's failure, as one sentence
            job.outcome.error = describe_error(e)
        except Exception as e:  # a runner may raise anything (a Dask worker's death, a bug): logged, one sentence
            log.exception("%s page %d could not be read", job.outcome.source, job.index + 1)
            job.outcome.error = describe_error(e)
        self._source_done(job)
        self._settle(job, job.outcome, new=False)

    def _source_done(self, job: Job) -> None:
        key = id(job.source)
        self.left[key] = self.left.get(key, 1) - 1
        if self.left[key] <= 0:
            self.left.pop(key, None)
            self.runner.file_done(job.source)


def read_files(
    files: Iterable[FileLike],
    settings: Settings | None = None,
    options: Options | None = None,
    *,
    jobs: int | None = None,
    engine: Engine | None = None,
    backend: str = "api",
    tune: Tuner | None = None,
    progress: Progress | None = None,
    limits: Limits | None = None,
    text_layer: str = "keep",
    runner: Runner | None = None,
    scheduler: str | None = None,
) -> list[Outcome]:
    """Read every page of every file, ``jobs`` pages at a time (default: one per core), in order.

    Files are paths, ``(name, bytes)``, :class:`Source` or :class:`~ocr.decode.Page` objects. ``tune``,
    when given, chooses settings and options for each page (auto-tune). ``progress`` is called in the
    calling thread as each page finishes, with (done, total, outcome). ``scheduler`` (a Dask scheduler's
    address, or ``local:N``) reads the pages on that cluster instead of this machine's engine.
    """
    if scheduler:
        from .cluster import connect

        with connect(scheduler) as cluster_runner:
            return list(stream_pages(files, settings, options, runner=cluster_runner,
                                     progress=progress, limits=limits, text_layer=text_layer))
    return list(stream_pages(files, settings, options, runner=runner, jobs=jobs, engine=engine,
                             backend=backend, tune=tune, progress=progress, limits=limits,
                             text_layer=text_layer))


def read_chosen(
    chosen: Iterable[tuple[str, bytes, int]],
    settings: Settings | None = None,
    options: Options | None = None,
    *,
    engine: Engine | None = None,
    progress: Progress | None = None,
    scheduler: str | None = None,
    text_layer: str = "keep",
) -> list[Outcome]:
    """Read chosen pages, each given as (file name, file bytes, page index), in that order: on the Dask
    cluster ``scheduler`` names, else the one ``OCR_SCHEDULER`` names (see docs/cluster.md), else on this
    machine with ``engine``. What the app's "Extract all" calls: the same outcomes and the same
    ``progress(done, total, outcome)`` in the calling thread wherever the pages are read. Consecutive pages
    of one file travel as one :class:`Source`, so its bytes go to a cluster once."""
    sources: list[Source] = []
    for name, data, index in chosen:
        last = sources[-1] if sources else None
        if last is not None and last.data is data and last.pages is not None:
            sources[-1] = Source(name, data=data, pages=(*last.pages, index))
        else:
            sources.append(Source(name, data=data, pages=(index,)))
    if scheduler is None:
        scheduler = configured_scheduler()
    return read_files(sources, settings, options, engine=engine, progress=progress, scheduler=scheduler,
                      text_layer=text_layer)


def configured_scheduler() -> str | None:
    """The scheduler the app reads on: the ``OCR_SCHEDULER`` environment variable (an address such as
    ``tcp://host:8786``, or ``local:N`` for a cluster on this machine), or None to read here."""
    return os.environ.get(SCHEDULER_VARIABLE, "").strip() or None

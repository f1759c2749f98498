"""Jobs: a document's pages read on the server, apart from any browser's script run.

A job names a file (its bytes kept in the store's blobs under their SHA-256, as a workspace's files are),
the pages to read and how; each page's result is written to the workspace database as it finishes, so a
reload, a second tab or an HTTP client sees the same progress, and a restart finds what was done. The
app's "Extract all" (a job of a workspace, each page under its page key) and the HTTP API's jobs (of no
workspace) are the same rows: :class:`Jobs` keeps them, :class:`JobRunner` reads them one job at a time
with every worker of the engine (or on the Dask cluster ``OCR_SCHEDULER`` names).

This module does not import streamlit.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import ocr
from ocr.settings import parse_preset, preset_json

from .database import StoreUnavailable
from .store import Store, result_from_json, result_to_json

log = logging.getLogger(__name__)

QUEUED, RUNNING, DONE, CANCELLED, INTERRUPTED = "queued", "running", "done", "cancelled", "interrupted"
ENDED = (DONE, CANCELLED, INTERRUPTED)
SWEEP_EVERY_S = 3600.0


@dataclass(frozen=True)
class Job:
    """One job as the store holds it, with how many of its pages are read (or failed) so far."""

    id: str
    ws: str | None
    name: str
    sha: str
    pages: tuple[int, ...]
    settings: ocr.Settings
    options: ocr.Options
    state: str
    created: float
    started: float | None
    updated: float
    done: int = 0
    failed: int = 0

    @property
    def total(self) -> int:
        return len(self.pages)

    @property
    def ended(self) -> bool:
        return self.state in ENDED

    def seconds_left(self, now: float | None = None) -> float | None:
        """The time left at the pace so far, once a page is done (None before, or when ended)."""
        if self.ended or self.started is None or not self.done:
            return None
        spent = (time.time() if now is None else now) - self.started
        return spent / self.done * (self.total - self.done)


@dataclass(frozen=True)
class JobPage:
    """One page of a job: its place in the job, the page's index in its file, the app's page key (when
    the job is a workspace's), and its result or the sentence saying why it could not be read."""

    position: int
    page: int
    key: str
    result: ocr.Result | None
    error: str | None

    @property
    def finished(self) -> bool:
        return self.result is not None or self.error is not None


class Jobs:
    """The jobs in a :class:`~workbench.store.Store`'s database (tables ``job`` and ``job_page``)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.db = store.db
        self._changed = threading.Condition()

    def submit(self, name: str, data: bytes, pages: list[int], settings: ocr.Settings, options: ocr.Options, *,
               ws: str | None = None, keys: list[str] | None = None) -> Job:
        """A new queued job of these pages (indexes in the file; ``keys``: the app's key of each)."""
        if not pages:
            raise ValueError("a job needs pages")
        sha = hashlib.sha256(data).hexdigest()
        self.store._put_blob(sha, data)
        job_id, now = secrets.token_urlsafe(16), time.time()
        preset = preset_json(settings, options)

        def work(db: sqlite3.Connection) -> None:
            if ws is not None:
                self.store._claim(db, ws)
            db.execute("INSERT INTO job (id, ws, name, sha, preset, state, created, updated) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (job_id, ws, name, sha, preset, QUEUED, now, now))
            db.executemany("INSERT INTO job_page (job, position, page, key) VALUES (?, ?, ?, ?)",
                           [(job_id, n, page, (keys or [""] * len(pages))[n]) for n, page in enumerate(pages)])

        self.db.write(work)
        self._notify()
        found = self.get(job_id)
        assert found is not None
        return found

    def get(self, job_id: str, ws: str | None = None) -> Job | None:
        """The job, when it exists and (``ws`` given) belongs to that workspace."""
        rows = self.db.read(_JOB + " WHERE j.id = ?", job_id)
        if not rows:
            return None
        job = self._job(rows[0])
        return job if ws is None or job.ws == ws else None

    def of_workspace(self, ws: str) -> list[Job]:
        """A workspace's jobs, the newest first."""
        return [self._job(row) for row in self.db.read(_JOB + " WHERE j.ws = ? ORDER BY j.created DESC", ws)]

    def waiting(self) -> list[Job]:
        """Queued jobs, the oldest first."""
        return [self._job(row) for row in self.db.read(_JOB + " WHERE j.state = ? ORDER BY j.created", QUEUED)]

    def pages(self, job_id: str) -> list[JobPage]:
        """A job's pages in order, read or not."""
        return self._pages("", job_id)

    def _pages(self, condition: str, job_id: str) -> list[JobPage]:
        """A job's pages in order, those that meet the SQL ``condition`` (ANDed) when one is given."""
        return [JobPage(position, page, key, None if result is None else result_from_json(result), error)
                for position, page, key, result, error in self.db.read(
                    f"SELECT position, page, key, result, error FROM job_page WHERE job = ? {condition} "
                    "ORDER BY position", job_id)]

    def data(self, job: Job) -> bytes:
        return self.store._blob(job.sha).read_bytes()

    def cancel(self, job_id: str) -> bool:
        """Stop a job: a queued one at once, a running one after the pages being read. False when it ended."""
        changed = self._set_state(job_id, CANCELLED, (QUEUED, RUNNING))
        self._notify()
        return changed

    def cancel_interrupted(self, job_id: str) -> bool:
        """Let an interrupted job rest (its missing pages finished by a new job, or left unread)."""
        return self._set_state(job_id, CANCELLED, (INTERRUPTED,))

    def claim(self, job_id: str, ws: str, position: int) -> bool:
        """Mark a finished page of a workspace's job as taken into the workspace; True for the one caller
        that did it (two tabs of one workspace take each page once)."""
        def work(db: sqlite3.Connection) -> int:
            return db.execute("UPDATE job_page SET taken = 1 WHERE job = ? AND position = ? AND taken = 0 AND job IN "
                              "(SELECT id FROM job WHERE ws = ?)", (job_id, position, ws)).rowcount

        return bool(self.db.write(work))

    def untaken(self, job_id: str) -> list[JobPage]:
        """The finished pages of a job not yet taken into its workspace, in order."""
        return self._pages("AND NOT taken AND (result IS NOT NULL OR error IS NOT NULL)", job_id)

    def missing(self, job_id: str) -> list[int]:
        """Positions of the pages of a job nobody read (an interrupted or cancelled job's rest)."""
        return [p.position for p in self.pages(job_id) if not p.finished]

    def interrupt_unfinished(self) -> list[Job]:
        """At start-up: jobs a stopped server left running or queued. A workspace's are marked interrupted
        (the app offers to finish them); the API's go back to the queue. Returns the ones marked."""
        left = [self._job(row) for row in self.db.read(_JOB + " WHERE j.state IN (?, ?)", QUEUED, RUNNING)]
        for job in left:
            self._set_state(job.id, INTERRUPTED if job.ws is not None else QUEUED, (QUEUED, RUNNING))
        return [job for job in left if job.ws is not None]

    def sweep(self, older_than: float) -> int:
        """Delete the API's jobs last changed before ``older_than`` (a workspace's go with it)."""
        def work(db: sqlite3.Connection) -> tuple[int, list[str]]:
            shas = [sha for (sha,) in db.execute("SELECT sha FROM job WHERE ws IS NULL AND updated < ?", (older_than,))]
            return db.execute("DELETE FROM job WHERE ws IS NULL AND updated < ?", (older_than,)).rowcount, shas

        count, shas = self.db.write(work)
        self.store._drop_unheld(shas)
        return int(count)

    def _job(self, row: tuple[object, ...]) -> Job:
        job_id, ws, name, sha, preset, state, created, started, updated, done, failed = row
        settings, options = parse_preset(str(preset))
        pages = tuple(int(p) for (p,) in self.db.read(
            "SELECT page FROM job_page WHERE job = ? ORDER BY position", job_id))
        return Job(str(job_id), None if ws is None else str(ws), str(name), str(sha), pages, settings,
                   options or ocr.Options(), str(state), float(str(created)),
                   None if started is None else float(str(started)), float(str(updated)), int(str(done)),
                   int(str(failed)))

    # -- what the runner writes --

    def _set_state(self, job_id: str, state: str, was: tuple[str, ...]) -> bool:
        now = time.time()

        def work(db: sqlite3.Connection) -> int:
            marks = ", ".join("?" * len(was))
            started = ", started = COALESCE(started, ?)" if state == RUNNING else ""
            args = (state, now, *((now,) if started else ()), job_id, *was)
            return db.execute(f"UPDATE job SET state = ?, updated = ?{started} WHERE id = ? AND state IN ({marks})",
                              args).rowcount

        return bool(self.db.write(work))

    def _page_done(self, job_id: str, position: int, result: ocr.Result | None, error: str | None) -> None:
        stored = None if result is None else result_to_json(result)

        def work(db: sqlite3.Connection) -> None:
            db.execute("UPDATE job_page SET result = ?, error = ? WHERE job = ? AND position = ?",
                       (stored, error, job_id, position))
            db.execute("UPDATE job SET updated = ? WHERE id = ?", (time.time(), job_id))

        self.db.write(work)
        self._notify()

    def _notify(self) -> None:
        with self._changed:
            self._changed.notify_all()

    def wait(self, seconds: float) -> None:
        """Wait until a job is submitted, cancelled or a page is done, or ``seconds`` pass."""
        with self._changed:
            self._changed.wait(seconds)


_JOB = ("SELECT j.id, j.ws, j.name, j.sha, j.preset, j.state, j.created, j.started, j.updated, "
        "(SELECT COUNT(*) FROM job_page p WHERE p.job = j.id AND p.result IS NOT NULL), "
        "(SELECT COUNT(*) FROM job_page p WHERE p.job = j.id AND p.error IS NOT NULL) FROM job j")


class Cancelled(Exception):
    """Raised in a job's progress callback to stop reading its pages."""


class JobRunner:
    """Reads queued jobs, one at a time, each with every worker of ``engine`` (pages side by side), in a
    thread of its own; each page's result is written as it finishes. ``scheduler`` names the Dask
    cluster to read on, when there is one (asked at each job)."""

    def __init__(self, jobs: Jobs, engine: ocr.Engine | None,
                 scheduler: Callable[[], str | None] | None = None) -> None:
        self.jobs, self.engine = jobs, engine
        self.scheduler = scheduler or (lambda: None)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.current: str | None = None

    def start(self) -> JobRunner:
        """Mark what a stopped server left unfinished (see :meth:`Jobs.interrupt_unfinished`), then read."""
        for job in self.jobs.interrupt_unfinished():
            log.info("job %s… of a workspace was cut off by a restart: %d of %d pages read", job.id[:6],
                     job.done + job.failed, job.total)
        self._thread = threading.Thread(target=self._loop, daemon=True, name="ocr-jobs")
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        self.jobs._notify()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _loop(self) -> None:
        swept = 0.0
        while not self._stop.is_set():
            if time.time() - swept > SWEEP_EVERY_S:  # the API's jobs expire as workspaces do
                swept = time.time()
                try:
                    self.jobs.sweep(swept - self.jobs.store.expire_s)
                except StoreUnavailable as e:  # a read-only store keeps its jobs until it can be written
                    log.warning("Old jobs could not be removed (%s).", e)
            waiting = self.jobs.waiting()
            if not waiting:
                self.jobs.wait(5.0)
                continue
            try:
                self.run(waiting[0])
            except Exception:  # a bug of ours in one job must not stop the jobs after it: logged, job ended
                log.exception("job %s… failed", waiting[0].id[:6])
                self.jobs._set_state(waiting[0].id, INTERRUPTED, (RUNNING, QUEUED))

    def run(self, job: Job) -> None:
        """Read a job's unread pages (all of them for a new job) and end it."""
        if not self.jobs._set_state(job.id, RUNNING, (QUEUED,)):
            return  # cancelled meanwhile
        self.current = job.id
        todo = [p for p in self.jobs.pages(job.id) if not p.finished]
        data = self.jobs.data(job)
        place = {p.page: p.position for p in todo}  # outcomes come in the file's order, by page index
        start = time.perf_counter()
        log.info("job %s…: reading %d pages of %s", job.id[:6], len(todo), job.name)

        def progress(done: int, total: int, outcome: ocr.Outcome) -> None:
            position = place.get(outcome.index, todo[0].position)
            self.jobs._page_done(job.id, position, outcome.result if outcome.ok else None,
                                 None if outcome.ok else outcome.error or "the page could not be read.")
            now = self.jobs.get(job.id)
            if self._stop.is_set() or now is None or now.state != RUNNING:
                raise Cancelled

        try:
            ocr.read_chosen([(job.name, data, p.page) for p in todo], job.settings, job.options, engine=self.engine,
                            progress=progress, scheduler=self.scheduler())
        except Cancelled:
            log.info("job %s…: stopped after %.1f s", job.id[:6], time.perf_counter() - start)
            return
        finally:
            self.current = None
        said = [p.error for p in self.jobs.pages(job.id) if p.error]
        for page in self.jobs.pages(job.id):  # a file that cannot be opened at all is one outcome, for every page
            if not page.finished:
                self.jobs._page_done(job.id, page.position, None, said[-1] if said else "the page could not be read.")
        self.jobs._set_state(job.id, DONE, (RUNNING,))
        log.info("job %s…: %d pages in %.1f s", job.id[:6], len(todo), time.perf_counter() - start)

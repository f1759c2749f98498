"""A pool of engine worker processes, shared by threads: :class:`Engine`.

At most ``workers`` pages are read at once, each in its own process with one thread, by whichever
registered engine the page's options name. A worker is handed out only when it is alive, and put back
only after a clean reply: a crash, a hang past its limit, or an interruption while it was reading costs
that one page, and the worker is stopped and replaced. A page read by an engine that shares its work
(PP-OCR's lines) while a core is free gets a hand: a copy of its own worker, forked with the engine
loaded, reads part of it (:meth:`Engine._hand`). A worker's private folder goes when it stops, whoever
stopped it (see :func:`sweep`).
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import queue
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import numpy as np

from ..errors import EngineCrashError, EngineTimeoutError, MissingDependencyError, OcrError
from ..language import first as first_language
from ..settings import Options
from . import registry, spawn
from .install import INSTALL_HINT
from .protocol import Answer, Request, encode, recv, send, write
from .spawn import FOLDER_PREFIX
from .tesseract import command_orientation

log = logging.getLogger(__name__)

BACKENDS = ("api", "cli")
GRACE_SECONDS = 30.0  # beyond an engine's own time-out, before its worker is killed (a loaded machine
# can take seconds to reach the point where Tesseract checks its time-out; only a real hang should be killed)
START_SECONDS = 60.0  # a worker that has not said hello by then is given up


def sweep(folder: str | None = None) -> int:
    """Remove the folders of workers that are gone (killed together with the process that started
    them, so neither could); returns how many went. A worker writes its process id into its folder."""
    removed = 0
    for path in Path(folder or tempfile.gettempdir()).glob(f"{FOLDER_PREFIX}*"):
        try:
            pid = int((path / "pid").read_text())
        except (OSError, ValueError):
            pid = 0
            with contextlib.suppress(OSError):
                if time.time() - path.stat().st_mtime < START_SECONDS:
                    continue  # a worker still starting: it has not written its pid yet
        if pid and _alive(pid):
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed += not path.exists()
    return removed


_SWEPT = threading.Event()


def _sweep_once() -> None:
    """The first pool of a process clears what killed workers left behind."""
    if not _SWEPT.is_set():
        _SWEPT.set()
        if removed := sweep():
            log.info("removed %d folders of engine workers that were gone", removed)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class WorkerProcess:
    """The parent's handle on one worker process."""

    def __init__(self, wait: bool = True) -> None:
        """Start the process; ``wait`` for its hello now, or let :meth:`ready` wait for it later (the
        process starts while the caller goes on)."""
        self.stopped = False
        self.greeted = False
        self.ahead = 0  # replies owed to requests sent ahead (send_ahead), read before the next call
        self.proc, self.folder = spawn.adopt() or spawn.start()
        self.room = spawn.widen(self.proc.stdin)  # what the pipe to it holds
        if wait:
            self.ready()

    def ready(self) -> None:
        """Wait for the worker's hello (once); RuntimeError when it did not start."""
        if self.greeted:
            return
        try:
            hello = recv(self._out.fileno(), time.monotonic() + START_SECONDS)
        except TimeoutError:
            hello = None
        if not hello or hello[0] != "ok":
            self.stop()
            raise RuntimeError(hello[1] if hello else "the worker did not start")
        self.greeted = True
        log.debug("engine worker %d started", self.proc.pid)

    def send_ahead(self, op: str, payload: tuple[Any, ...]) -> None:
        """Ask for an operation whose reply is read (and set aside) before the next call: the worker
        does it while the caller goes on (a language loaded before the first page arrives)."""
        send(self._in.fileno(), (op, payload))
        self.ahead += 1

    def _settle(self, limit: float) -> None:
        while self.ahead:
            reply = recv(self._out.fileno(), time.monotonic() + limit)
            self.ahead -= 1
            if reply is None:
                return
            if reply[0] == "error":
                log.info("a request sent ahead failed: %s", reply[1])

    @property
    def _in(self) -> IO[bytes]:
        assert self.proc.stdin is not None
        return self.proc.stdin

    @property
    def _out(self) -> IO[bytes]:
        assert self.proc.stdout is not None
        return self.proc.stdout

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def call(self, op: str, payload: tuple[Any, ...], limit: float, who: str = "the engine",
             hand: Callable[[], Callable[[], None] | None] | None = None) -> Any:
        """Ask for one operation and wait at most ``limit`` seconds. The worker's own error for the
        request comes out as a :class:`WorkerError` (the worker stays usable); a crash or a hang raises
        our error, naming ``who`` was reading. While it works, the worker may ask for a hand: ``hand()``
        holds a free core for it and returns what gives the core back, or None when none is free. The
        worker is told at once ("taken" or "unhelped"); a hand taken is the worker's own copy (a fork,
        :meth:`ocr.engines.worker.Worker.help`), and the core goes back once the worker says it is done
        ("handed")."""
        try:
            self.ready()
            message = encode((op, payload))
            # A request the pipe holds goes now, while the worker still does what was sent ahead (a cold
            # command's page, while the language loads); a larger one would wait for the worker to take it
            # with no time limit, so it goes after the replies owed, which have one.
            if len(message) > self.room:
                self._settle(START_SECONDS)
            write(self._in.fileno(), message)
            self._settle(START_SECONDS)
            deadline = time.monotonic() + limit
            reply = recv(self._out.fileno(), deadline)
            while reply is not None and reply[0] == "help":
                give_back = hand() if hand is not None else None
                if give_back is None:
                    send(self._in.fileno(), ("unhelped", None))
                    reply = recv(self._out.fileno(), deadline)
                    continue
                try:
                    send(self._in.fileno(), ("taken", None))
                    reply = recv(self._out.fileno(), deadline)
                    if reply is not None and reply[0] == "handed":
                        reply = recv(self._out.fileno(), deadline)
                finally:
                    give_back()
        except TimeoutError:
            raise EngineTimeoutError(f"{who} did not answer within {limit:g} s and was stopped.") from None
        except OSError:  # a broken pipe: it died
            reply = None
        if reply is None:
            raise EngineCrashError(f"{who} crashed on this page ({self._death()}); it was restarted.")
        status, value = reply
        if status == "error":
            raise WorkerError(value)
        return value

    def _death(self) -> str:
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return "it stopped answering"
        said = f"signal {signal.Signals(-code).name}" if code < 0 else f"exit code {code}"
        if not self.stopped:  # not our own stop (a pool closed while it read)
            log.warning("engine worker %d died (%s)", self.proc.pid, said)
        return said

    def stop(self, wait: bool = True) -> None:
        """Kill the process and any copy of it lending a hand (its process group: the worker leads its
        own session), if alive (``wait``: and wait until it is gone), close its pipes, remove its folder."""
        self.stopped = True
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:  # not a group leader after all (a worker started otherwise): the process alone
                self.proc.kill()
        if wait:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=5)
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        shutil.rmtree(self.folder, ignore_errors=True)


class _Slots:
    """At most ``n`` pages at once (a semaphore that also says how many are free)."""

    def __init__(self, n: int) -> None:
        self._semaphore = threading.BoundedSemaphore(n)
        self._lock = threading.Lock()
        self.free = n

    def take(self, blocking: bool = True) -> bool:
        """Take a slot (waiting for one, or only if one is free now when not ``blocking``); give it back
        with :meth:`give`."""
        if not self._semaphore.acquire(blocking=blocking):
            return False
        with self._lock:
            self.free -= 1
        return True

    def give(self) -> None:
        with self._lock:
            self.free += 1
        self._semaphore.release()

    def __enter__(self) -> None:
        self.take()

    def __exit__(self, *exc: object) -> None:
        self.give()


class WorkerError(Exception):
    """Carries a worker's own error for a request out of :meth:`WorkerProcess.call` (the worker is fine)."""

    def __init__(self, error: OcrError) -> None:
        super().__init__(str(error))
        self.error = error


class Engine:
    """A pool of engine workers. Thread-safe: call :meth:`run` from as many threads as you like; at most
    ``workers`` pages are read at once.

    ``backend="api"`` reads in worker processes (Tesseract's library kept loaded); ``"cli"`` runs the
    ``tesseract`` command per page, and is also where the pool falls back when the library cannot load.
    """

    def __init__(self, backend: str = "api", workers: int | None = None) -> None:
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, not {backend!r}")
        self.workers = max(1, workers or os.cpu_count() or 1)
        self.backend = backend
        self.warnings: list[str] = []
        self._idle: queue.LifoQueue[WorkerProcess] = queue.LifoQueue()
        self._slots = _Slots(self.workers)
        self._live: set[WorkerProcess] = set()
        self._lock = threading.Lock()
        self._closed = False
        self.reading = threading.Event()  # set once a page is on its way to a worker (see ocr.cli's _warm)
        self.lent = 0  # hands lent to pages being read (_hand)
        _sweep_once()
        if backend == "cli" and not shutil.which("tesseract"):
            raise MissingDependencyError(f"the `tesseract` command is not installed: {INSTALL_HINT}.")

    # public ------------------------------------------------------------------------------------------

    def run(self, req: Request) -> Answer:
        """Read one page with the registered engine its options name (``"auto"`` is
        :func:`ocr.recognize`'s to resolve). Raises an :class:`~ocr.errors.EngineError` (time-out, crash,
        failure) or :class:`MissingDependencyError` for this page alone. An engine that shares a page's
        work gets a hand while a core is free (:meth:`_hand`)."""
        info = registry.get(req.options.engine)
        info.check(req.options.lang)
        limit = req.options.timeout + (GRACE_SECONDS if info.own_timeout else 0.0)
        with self._slots:
            worker = self._checkout() if self.backend == "api" or info.fallback is None else None
            if worker is None:
                if info.fallback is not None:
                    fallen: Answer = info.fallback(req)
                    return fallen
                raise MissingDependencyError(f"{info.label} runs in the engine's worker processes, which could "
                                             "not start here; read with another engine instead.")
            self.reading.set()
            if info.shares and self.workers > 1:
                answer: Answer = self._call(worker, "read", (info.module, req.packed(), True), limit, info.label,
                                            hand=self._hand)
            else:
                answer = self._call(worker, "read", (info.module, req.packed()), limit, info.label)
        return answer

    def orientation(self, image: np.ndarray, dpi: float, timeout: float = 60.0) -> tuple[int, float] | None:
        """``(degrees clockwise to turn the page upright, confidence)``, or None when the orientation
        detection finds too little text."""
        with self._slots:
            if self.backend == "api":
                worker = self._checkout()
                if worker is not None:
                    found: tuple[int, float] | None = self._call(
                        worker, "orientation", (image, int(dpi)), timeout + GRACE_SECONDS, "Orientation detection")
                    return found
            return command_orientation(image, int(dpi), timeout)

    def raw_seconds(self, image: np.ndarray, dpi: int, lang: str = "eng") -> float:
        """Seconds Tesseract's bare API takes on ``image`` in a worker (set image, recognise, get text),
        timed inside the worker: what :func:`ocr.recognize`'s cost is measured against (scripts/bench.py)."""
        with self._slots:
            worker = self._checkout()
            if worker is None:
                raise MissingDependencyError("the raw API needs the worker processes, which could not start.")
            seconds: float = self._call(worker, "raw", (image, dpi, lang), START_SECONDS, "Tesseract")
            return seconds

    def warm(self, options: Options | None = None, engines: tuple[str, ...] | None = None) -> None:
        """Start the workers now, with the engines named (default: those ``options`` reads with) and
        what reading with ``options`` needs loaded, rather than on the first page. What cannot load is
        left for the first page to report."""
        if self.backend != "api":
            return
        options = options or Options()
        options = options.replace(lang=first_language(options.lang))  # "auto" reads in English first
        chosen = [registry.get(name) for name in engines] if engines else registry.chosen(options.engine)
        named = [(info.name, info.module) for info in chosen if info.reads(options.lang)]
        started = [self._checkout() for _ in range(self.workers)]
        for worker in started:
            if worker is not None:
                try:
                    self._call(worker, "prepare", (named, options), START_SECONDS)
                except OcrError as e:
                    log.info("warming the engines: %s", e)

    def prestart(self, count: int, options: Options | None = None) -> None:
        """Start ``count`` workers now without waiting for them, loading what reading with ``options``
        needs (the engines taken in turn: the first worker the first engine, the next the next...), so
        a command's first page does not wait for a worker's start."""
        if self.backend != "api":
            return
        options = options or Options()
        options = options.replace(lang=first_language(options.lang))
        for n in range(max(0, min(count, self.workers) - len(self.worker_pids()))):
            worker = WorkerProcess(wait=False)
            engines = registry.for_worker(options.engine, options.lang, n)
            worker.send_ahead("prepare", (engines, options))
            with self._lock:
                self._live.add(worker)
            self._idle.put(worker)

    def free(self) -> int:
        """How many workers are not reading a page now."""
        return self._slots.free

    def worker_pids(self) -> list[int]:
        with self._lock:
            return [w.pid for w in self._live]

    def close(self, wait: bool = True) -> None:
        """Stop the workers. ``wait=False``: kill them and remove their folders without waiting for each
        to be gone (a command about to end: a worker holding PP-OCR takes 8 ms to give its memory back)."""
        with self._lock:
            self._closed = True
            live, self._live = list(self._live), set()
        for worker in live:
            worker.stop(wait)

    # inside ------------------------------------------------------------------------------------------

    def _checkout(self) -> WorkerProcess | None:
        """A live idle worker, else a new one; None when the library cannot load (then: the command)."""
        while True:
            try:
                worker = self._idle.get_nowait()
            except queue.Empty:
                break
            if worker.alive():
                try:
                    worker.ready()
                except RuntimeError as e:  # a worker started ahead that could not load: the command reads
                    self._retire(worker)
                    self._no_workers(e)
                    return None
                return worker
            self._retire(worker)  # died while idle (the out-of-memory killer, say): no page pays for it
        try:
            worker = WorkerProcess()
        except RuntimeError as e:
            self._no_workers(e)
            return None
        with self._lock:
            self._live.add(worker)
        return worker

    def _no_workers(self, e: RuntimeError) -> None:
        """No worker can start here: the command reads from now on (said once)."""
        with self._lock:
            if self.backend == "api":
                self.backend = "cli"
                self.warnings.append(f"tesserocr could not load ({e}); using the tesseract command instead.")
                log.warning("engine workers cannot start (%s); the tesseract command reads instead", e)

    def _retire(self, worker: WorkerProcess) -> None:
        with self._lock:
            self._live.discard(worker)
        worker.stop()

    def _hand(self) -> Callable[[], None] | None:
        """A free core held for a page's hand (a page being read there is not waited for: the asking
        worker may ask again later), and what gives it back; None when every core is busy."""
        if not self._slots.take(blocking=False):
            return None
        with self._lock:
            self.lent += 1
        return self._slots.give

    def _call(self, worker: WorkerProcess, op: str, payload: tuple[Any, ...], limit: float,
              who: str = "the engine", hand: Callable[[], Callable[[], None] | None] | None = None) -> Any:
        """One operation on a checked-out worker. It goes back to the pool only after a clean reply
        (an answer, or its own error for the request); anything else (a crash, a hang, an interruption
        while it was reading) stops it, so no later page can receive this page's answer."""
        clean = False
        try:
            value = worker.call(op, payload, limit, who, hand)
            clean = True
            return value
        except WorkerError as e:
            clean = True
            if e.error.detail:  # an engine library's own failure: its traceback, logged once
                log.error("engine worker %d failed on a page:\n%s", worker.pid, e.error.detail)
            raise e.error from None
        finally:
            if clean and not self._closed:
                self._idle.put(worker)
            else:
                self._retire(worker)


# -- one shared engine per process -------------------------------------------------------------------

_DEFAULT: dict[str, Engine] = {}
_DEFAULT_LOCK = threading.Lock()


def default_engine(backend: str = "api") -> Engine:
    """The process's shared engine for a backend, created on first use and closed at exit."""
    with _DEFAULT_LOCK:
        if backend not in _DEFAULT:
            _DEFAULT[backend] = Engine(backend)
        return _DEFAULT[backend]


@atexit.register
def close_all() -> None:
    """Stop every shared engine's workers (at exit)."""
    for engine in list(_DEFAULT.values()):
        engine.close()

"""An engine's worker process: ``python -m ocr.engines.worker``.

It loads each registered engine on first use and keeps it, then serves one request at a time from
stdin, answering on a copy of stdout; stderr is captured per request (``stderr.txt`` in the worker's
folder), so a failure can say what the engine printed. A request's own failure travels back as its
error (an unexpected one with its traceback, for the parent to log) and the worker goes on; a crash or
a hang is noticed by the parent, which kills and replaces the worker. While it reads, a worker may
ask the parent for a hand ("help", answered "unhelped" at once, or "taken": a core is held for it);
the hand is a copy of this process, forked with the engine loaded, that does part of the page's work
while this one does the rest, and the parent is told once it is done ("handed"), before the reading's
own reply (:meth:`Worker.help`). Nothing of the work crosses the parent, and no other worker need
load the engine first.
``OCR_WORKER_TEST_HOOKS=1`` enables the ``hang`` operation, for tests.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import pickle
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import EngineError, MissingDependencyError, OcrError
from ..settings import Options
from . import registry
from .protocol import Answer, Pixels, Reader, Request, recv, send, write
from .spawn import FIRST_OPTIONS

if TYPE_CHECKING:
    import numpy as np

    from .tesseract import TesseractReader

OPERATIONS = ("prepare", "read", "orientation", "raw", "hang")


class Worker:
    """The engines loaded in this process, and the operations the parent may ask for."""

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self.log = Path(folder) / "stderr.txt"
        self.readers: dict[str, Reader] = {}
        self.hooks = os.environ.get("OCR_WORKER_TEST_HOOKS") == "1"
        self.fds = (0, 1)  # the protocol's pipes (serve sets them): a reading may ask the parent for help

    def reader(self, name: str, module: str) -> Reader:
        """An engine's reader, loaded on first use (``module`` registers it, when this process has not
        imported it yet) and kept."""
        if name not in self.readers:
            if name not in registry.CHOICES:
                importlib.import_module(module)
            self.readers[name] = registry.get(name).load(self.folder)
        return self.readers[name]

    # operations --------------------------------------------------------------------------------------

    def prepare(self, engines: list[tuple[str, str]], options: Options) -> None:
        """Load the engines named (name, module) and what reading with ``options`` needs."""
        for name, module in engines:
            self.reader(name, module).prepare(options.replace(engine=name))

    def read(self, module: str, req: Request, helped: bool = False) -> Answer:
        """Read a page. ``helped``: the parent may lend another worker, which an engine that can share a
        page's work (a reader with ``share``) asks for while it reads (:meth:`help`)."""
        reader = self.reader(req.options.engine, module)
        image = req.image
        if isinstance(image, Pixels) and not getattr(reader, "takes_pixels", False):
            image = image.array()
        share = getattr(reader, "share", None) if helped else None
        if share is not None:
            share(self.help)
        try:
            answer = reader.read(image, req.told())  # type: ignore[arg-type]
        finally:
            if share is not None:
                share(None)
        answer.engine = req.options.engine
        answer.log = self.log.read_text(errors="replace")
        return answer

    def help(self, task: Callable[[], Any]) -> Callable[[], Any] | None:
        """Ask the parent for a hand with ``task`` (part of the page being read): None at once when no
        core is free; else ``task`` runs in a copy of this process (forked: the engine is loaded there
        already) while this one goes on, and what is returned waits for the copy's result (None when it
        failed: the caller does the task itself). The parent holds the core until it is told "handed"."""
        fd_in, fd_out = self.fds
        send(fd_out, ("help", None))
        answer = recv(fd_in)
        if answer is None or answer[0] != "taken":
            return None
        try:
            copy = _forked(task, self.fds)
        except OSError:  # no memory or processes left for a copy: the task is done here
            send(fd_out, ("handed", None))
            return None

        def result() -> Any:
            try:
                return copy()
            finally:
                send(fd_out, ("handed", None))

        return result

    def _tesseract(self) -> TesseractReader:
        from .tesseract import TESSERACT, TesseractReader

        reader = self.reader(TESSERACT.name, TESSERACT.module)
        assert isinstance(reader, TesseractReader)
        return reader

    def orientation(self, image: np.ndarray, dpi: int) -> tuple[int, float] | None:
        """Tesseract's orientation detection (no other engine offers one)."""
        return self._tesseract().orientation(image, dpi)

    def raw(self, image: np.ndarray, dpi: int, lang: str) -> float:
        """The benchmark's reference: Tesseract's bare API, timed in here."""
        return self._tesseract().raw(image, dpi, lang)

    def hang(self, seconds: float, helped: bool = False) -> None:
        """Test only: stop answering for ``seconds`` (as an engine stuck inside a page would); ``helped``:
        with a hand that hangs as long, when the parent lends one."""
        if not self.hooks:
            raise EngineError("the hang operation is for tests only.")
        if helped:
            self.help(partial(time.sleep, seconds))
        time.sleep(seconds)

    def prepare_first(self, words: str | None) -> None:
        """Before the hello: load what the pool's ``prepare`` will ask of this worker, for the options the
        first page will most likely be read with (``words``, JSON: :func:`ocr.engines.spawn.start`'s
        ``first`` and ``n``; None: nothing said). A failure is left for the parent's own ``prepare`` to report."""
        planned = _planned(words)
        if planned is not None:
            self.handle("prepare", planned)

    # the loop ----------------------------------------------------------------------------------------

    def handle(self, op: str, payload: tuple[Any, ...]) -> tuple[str, Any]:
        """Run one operation with stderr going to the log; its reply, never an exception."""
        log_fd = os.open(self.log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        saved = os.dup(2)
        os.dup2(log_fd, 2)
        try:
            return "ok", getattr(self, op)(*payload)
        except OcrError as e:  # this page's own failure (a library's error under it travels for the log)
            if e.__cause__ is not None and not isinstance(e.__cause__, OcrError):
                e.detail = "".join(traceback.format_exception(e.__cause__))
            return "error", e
        except Exception as e:  # an engine library's unexpected failure: still this page's alone
            error = EngineError(f"the engine failed on this page ({type(e).__name__}: {e}).")
            error.detail = traceback.format_exc()  # the parent logs it, once
            return "error", error
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            os.close(log_fd)

    def serve(self, fd_in: int, fd_out: int) -> None:
        self.fds = (fd_in, fd_out)
        while True:
            message = recv(fd_in)
            if message is None:
                return
            op, payload = message
            if op not in OPERATIONS:
                send(fd_out, ("error", EngineError(f"unknown operation {op!r}.")))
                continue
            send(fd_out, self.handle(op, payload))


def serve() -> None:
    """Entry of a worker process: the protocol runs over stdin and a copy of stdout; anything else
    printed to stdout goes to stderr."""
    fd_in, fd_out = 0, os.dup(1)
    os.dup2(2, 1)
    folder = os.environ.get("OCR_WORKER_DIR") or tempfile.mkdtemp(prefix="ocr-worker-")
    with contextlib.suppress(OSError):  # whoever finds the process gone may remove the folder
        (Path(folder) / "pid").write_text(str(os.getpid()))
    said = os.environ.get(FIRST_OPTIONS)
    planned = _planned(said)
    try:
        worker = Worker(folder)
        if planned is None or not planned[0] or planned[0][0][0] == _first_engine()[0]:
            worker.reader(*_first_engine())  # else another engine is this worker's (auto's second worker)
    except (ImportError, OSError, RuntimeError, MissingDependencyError) as e:
        # the first engine's library missing or broken: the parent falls back (the tesseract command)
        send(fd_out, ("error", f"{type(e).__name__}: {e}"))
        return
    if planned is not None:  # what prepare_first would load, found once above
        worker.handle("prepare", planned)
    send(fd_out, ("ok", None))
    try:
        worker.serve(fd_in, fd_out)
    finally:  # the parent closed the pipe (or died): the folder is ours to remove
        shutil.rmtree(folder, ignore_errors=True)


def _forked(task: Callable[[], Any], fds: tuple[int, int]) -> Callable[[], Any]:
    """Run ``task`` in a copy of this process (``os.fork``: the engines loaded here are there too, their
    memory shared until written); what waits for its result and returns it, or None when the copy
    failed (its traceback is in this request's log). The copy closes the protocol's pipes (``fds``), so
    the parent sees this worker end when it ends, and it leaves without running this process's exit
    handlers. Forking here is safe: a worker runs one thread of its own, and its engines run one thread
    (onnxruntime's idle internal thread holds nothing the copy needs)."""
    read_end, write_end = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(read_end)
        os.close(write_end)
        raise
    if pid == 0:  # the copy
        code = 1
        try:
            os.close(read_end)
            for fd in fds:
                os.close(fd)
            write(write_end, pickle.dumps(task(), protocol=5))
            code = 0
        except BaseException:  # said in the log; the worker does the task itself
            traceback.print_exc()
        finally:
            os._exit(code)
    os.close(write_end)

    def result() -> Any:
        with os.fdopen(read_end, "rb") as pipe:
            data = pipe.read()
        _, status = os.waitpid(pid, 0)
        return pickle.loads(data) if os.waitstatus_to_exitcode(status) == 0 and data else None

    return result


def _planned(words: str | None) -> tuple[list[tuple[str, str]], Options] | None:
    """What a worker started for a command's first page loads before its hello (see
    :meth:`Worker.prepare_first`): the engines (name, module) and the options; None when nothing was said
    or the engine named is not registered (the parent says so)."""
    if words is None:
        return None
    from ..language import first

    try:
        said = json.loads(words)
        options, n = Options.from_strings(said["options"]), int(said["worker"])
    except (ValueError, KeyError, TypeError, OcrError):
        options, n = Options(), 0
    options = options.replace(lang=first(options.lang))
    try:
        return registry.for_worker(options.engine, options.lang, n), options
    except OcrError:
        return None


def _first_engine() -> tuple[str, str]:
    """The engine a worker loads before saying hello: the first registered (Tesseract), so a worker
    that cannot read says so at once."""
    first = registry.first()
    return first.name, first.module


if __name__ == "__main__":
    # Serve from the imported module, not from __main__, so that what is pickled names ocr.engines.
    from ocr.engines.install import ask_early

    ask_early()  # Tesseract's folder, asked while the engine's library is imported
    from ocr.engines.worker import serve as _serve

    _serve()
    sys.exit(0)

"""An engine's worker process: ``python -m ocr.engines.worker``.

It loads the engines once and then reads one request at a time from stdin, answering on a copy of
stdout (anything the libraries print goes to stderr, which is captured per request so that a failure
can say what the engine said). A request's own failure travels back as its error and the worker goes
on; a crash or a hang is noticed by the parent, which kills and replaces the worker.

The parent gives each worker a private folder (``OCR_WORKER_DIR``) and removes it when the worker ends.
``OCR_WORKER_TEST_HOOKS=1`` enables the ``hang`` operation, for tests of hangs and interruptions.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import EngineError, MissingDependencyError, OcrError
from .protocol import Answer, Request, recv, send
from .tesseract import TesseractReader

if TYPE_CHECKING:
    from .ppocr import PPOCRReader


class Worker:
    """The engines loaded in this process, and the operations the parent may ask for."""

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self.log = Path(folder) / "stderr.txt"
        self.tesseract = TesseractReader(folder)
        self._ppocr: PPOCRReader | None = None
        self.hooks = os.environ.get("OCR_WORKER_TEST_HOOKS") == "1"

    # operations --------------------------------------------------------------------------------------

    @property
    def ppocr(self) -> PPOCRReader:
        """PP-OCR's models, loaded on first use (a second or two) and kept."""
        if self._ppocr is None:
            from .ppocr import PPOCRReader

            self._ppocr = PPOCRReader()
        return self._ppocr

    def load(self, lang: str, oem: int, engines: tuple[str, ...] = ("tesseract",)) -> None:
        """Load a language, and the engines named, now (what :meth:`Engine.warm` asks for)."""
        if "tesseract" in engines:
            self.tesseract.load(lang, oem)
        if "ppocr" in engines:
            self.ppocr  # noqa: B018 - loading is the point

    def recognize(self, req: Request) -> Answer:
        if req.options.engine == "ppocr":
            start = time.perf_counter()
            text, words = self.ppocr.read(req.image, req.options.lang)
            answer = Answer(text=text, words=list(words), engine="ppocr", backend="api",
                            seconds=time.perf_counter() - start)
        else:
            answer = self.tesseract.recognize(req, self.log)
        answer.log = self.log.read_text(errors="replace")
        return answer

    def orientation(self, image: np.ndarray, dpi: int) -> tuple[int, float] | None:
        return self.tesseract.orientation(image, dpi)

    def raw(self, image: np.ndarray, dpi: int, lang: str) -> float:
        """The benchmark's reference: Tesseract's bare API, timed in here."""
        return self.tesseract.raw(image, dpi, lang)

    def hang(self, seconds: float) -> None:
        """Test only: stop answering for ``seconds`` (as an engine stuck inside a page would)."""
        if not self.hooks:
            raise EngineError("the hang operation is for tests only.")
        time.sleep(seconds)

    # the loop ----------------------------------------------------------------------------------------

    def handle(self, op: str, payload: tuple[Any, ...]) -> tuple[str, Any]:
        """Run one operation with stderr going to the log; its reply, never an exception."""
        log_fd = os.open(self.log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        saved = os.dup(2)
        os.dup2(log_fd, 2)
        try:
            return "ok", getattr(self, op)(*payload)
        except OcrError as e:  # this page's own failure
            return "error", e
        except Exception as e:  # an engine's unexpected failure: still this page's alone
            return "error", EngineError(f"the engine failed on this page ({type(e).__name__}: {e}).")
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            os.close(log_fd)

    def serve(self, fd_in: int, fd_out: int) -> None:
        while True:
            message = recv(fd_in)
            if message is None:
                return
            op, payload = message
            if op not in ("load", "recognize", "orientation", "raw", "hang"):
                send(fd_out, ("error", EngineError(f"unknown operation {op!r}.")))
                continue
            send(fd_out, self.handle(op, payload))


def serve() -> None:
    """Entry of a worker process: the protocol runs over stdin and a copy of stdout; anything else
    printed to stdout goes to stderr."""
    fd_in, fd_out = 0, os.dup(1)
    os.dup2(2, 1)
    folder = os.environ.get("OCR_WORKER_DIR") or tempfile.mkdtemp(prefix="ocr-worker-")
    try:
        import cv2  # PP-OCR's pre- and post-processing: one thread, like the engines themselves

        cv2.setNumThreads(1)
    except ImportError:
        pass
    try:
        worker = Worker(folder)
    except (ImportError, OSError, RuntimeError, MissingDependencyError) as e:
        # tesserocr missing or broken: the parent falls back to the command line
        send(fd_out, ("error", f"{type(e).__name__}: {e}"))
        return
    send(fd_out, ("ok", None))
    worker.serve(fd_in, fd_out)


if __name__ == "__main__":
    # Serve from the imported module, not from __main__, so that what is pickled names ocr.engines.
    from ocr.engines.worker import serve as _serve

    _serve()
    sys.exit(0)

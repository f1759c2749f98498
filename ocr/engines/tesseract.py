"""Tesseract through its C API (the ``tesserocr`` wheel), as loaded inside a worker process.

:class:`TesseractReader` keeps a few languages loaded and reads one page at a time: one recognition
gives the text, every word (from the TSV renderer) and, when asked, the hOCR and PDF renderers' output.
A recognition that fails says what happened: Tesseract's own time-out, a page it refuses, or what it
printed. Orientation detection (OSD) is here too.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import EngineError, EngineTimeoutError, MissingDependencyError, TesseractError
from .install import tessdata_dir
from .protocol import Answer, Request, Word

MAX_SIDE = 32767  # Tesseract refuses a page longer than this on a side ("Image too large")
LOADED_LANGUAGES = 3  # languages kept loaded in one worker; the oldest goes first


def variables(req: Request) -> dict[str, str]:
    """Tesseract's variables for a request (the same for the API and the command line)."""
    o = req.options
    return {
        "tessedit_char_whitelist": o.whitelist,
        "tessedit_char_blacklist": o.blacklist,
        "preserve_interword_spaces": "1" if o.preserve_spaces else "0",
        "user_defined_dpi": str(int(req.dpi)),
    }


def words_from_tsv(tsv: str) -> list[Word]:
    """Tesseract's TSV as words: level-5 rows with text (a header row, if any, is skipped)."""
    words = []
    for row in tsv.splitlines():
        cells = row.split("\t")
        if len(cells) < 12 or cells[0] != "5" or not cells[11].strip():
            continue
        _, _, block, par, line, word, left, top, width, height = (int(c) for c in cells[:10])
        words.append(Word(cells[11], float(cells[10]), left, top, width, height, block, par, line, word))
    return words


def write_png(image: np.ndarray, path: str, dpi: int) -> None:
    """The page as a PNG that states its resolution (what Tesseract's file-based paths read)."""
    from PIL import Image

    Image.fromarray(image).save(path, format="PNG", dpi=(dpi, dpi), compress_level=1)


def refusal(image: np.ndarray) -> str | None:
    """Why Tesseract would refuse this page without trying, or None."""
    h, w = image.shape[:2]
    if max(h, w) > MAX_SIDE:
        return f"the page is {w}x{h} pixels and Tesseract reads at most {MAX_SIDE} pixels on a side"
    return None


class TesseractReader:
    """Loaded Tesseract APIs in one worker process; ``folder`` is the worker's own (for its log)."""

    def __init__(self, folder: str) -> None:
        import tesserocr

        self.tesserocr: Any = tesserocr
        self.path = tessdata_dir()
        self.folder = folder
        self.apis: dict[tuple[str, int], Any] = {}
        self.osd: Any = None

    def load(self, lang: str, oem: int) -> Any:
        """The API for a language and engine mode, loaded on first use."""
        key = (lang, oem)
        if key not in self.apis:
            if len(self.apis) >= LOADED_LANGUAGES:
                self.apis.pop(next(iter(self.apis))).End()
            try:
                self.apis[key] = self.tesserocr.PyTessBaseAPI(path=self.path, lang=lang, oem=oem)
            except RuntimeError:
                raise TesseractError(f"Tesseract could not load language {lang!r} with engine mode {oem}.") from None
        return self.apis[key]

    def _set_image(self, api: Any, image: np.ndarray, dpi: int) -> None:
        image = np.ascontiguousarray(image)
        h, w = image.shape[:2]
        bpp = 1 if image.ndim == 2 else image.shape[2]
        api.SetImageBytes(image.tobytes(), w, h, bpp, w * bpp)
        api.SetSourceResolution(int(dpi))

    def recognize(self, req: Request, log: Path) -> Answer:
        """Read one page. ``log`` is where this process's stderr goes while it reads (the reason of a
        failure is taken from it)."""
        start = time.perf_counter()
        o = req.options
        api = self.load(o.lang, o.oem)
        api.SetPageSegMode(o.psm)
        for name, value in variables(req).items():
            api.SetVariable(name, value)
        try:
            self._set_image(api, req.image, req.dpi)
            if not api.Recognize(timeout=int(o.timeout * 1000)):
                raise self._failure(req, start, log)
            text, tsv = api.GetUTF8Text(), api.GetTSVText(0)
        finally:
            api.Clear()
        return Answer(text=text, words=words_from_tsv(tsv), engine="tesseract", backend="api",
                      seconds=time.perf_counter() - start)

    def raw(self, image: np.ndarray, dpi: int, lang: str) -> float:
        """Seconds of Tesseract's bare API on ``image``: set the image, recognise, get the text; nothing
        else (no words, no renderers). The reference :func:`ocr.recognize`'s own cost is measured against."""
        api = self.load(lang, 3)
        api.SetPageSegMode(3)
        start = time.perf_counter()
        self._set_image(api, image, dpi)
        api.Recognize(timeout=0)
        api.GetUTF8Text()
        seconds = time.perf_counter() - start
        api.Clear()
        return seconds

    def _failure(self, req: Request, start: float, log: Path) -> EngineError:
        """Say what happened when a recognition returned failure: its time-out ran out, or it stopped
        early (with what Tesseract printed, when it printed something)."""
        took = time.perf_counter() - start
        if reason := refusal(req.image):
            return TesseractError(f"Tesseract cannot read this page: {reason}.")
        if took >= 0.9 * req.options.timeout:
            return EngineTimeoutError(f"Tesseract gave up after its time-out of {req.options.timeout:g} s.")
        said = " ".join(line.strip() for line in log.read_text(errors="replace").splitlines() if line.strip())
        return TesseractError(
            f"Tesseract could not read this page (it stopped after {took:.1f} s"
            + (f" saying: {said[:200]}" if said else "") + ")."
        )

    def orientation(self, image: np.ndarray, dpi: int) -> tuple[int, float] | None:
        """``(degrees clockwise to turn the page upright, confidence)``; None when there is too little
        text to tell."""
        if self.osd is None:
            if not (Path(self.path) / "osd.traineddata").exists():
                raise MissingDependencyError(
                    "Tesseract's orientation data (osd) is not installed; install it with "
                    "`sudo apt-get install tesseract-ocr-osd`."
                )
            self.osd = self.tesserocr.PyTessBaseAPI(path=self.path, lang="osd", psm=self.tesserocr.PSM.OSD_ONLY)
        if refusal(image):
            return None
        self._set_image(self.osd, image, dpi)
        try:
            found = self.osd.DetectOrientationScript()
        finally:
            self.osd.Clear()
        if not found:
            return None
        # Tesseract reports how far the page is turned clockwise; undo it.
        return (360 - int(found["orient_deg"])) % 360, float(found["orient_conf"])

    def close(self) -> None:
        for api in [*self.apis.values(), self.osd]:
            if api is not None:
                api.End()
        self.apis, self.osd = {}, None

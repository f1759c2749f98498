"""Tesseract: its C API (the ``tesserocr`` wheel) as loaded in a worker process, the ``tesseract``
command (the fallback, and the reference every figure is measured against), and its registry entry.

:class:`TesseractReader` keeps a few languages loaded; one recognition gives the text and every word
(the TSV renderer). A failure says what happened: its own time-out, a page it refuses, or what it
printed. Orientation detection (OSD) is here too. The command line is built here and nowhere else.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import EngineCrashError, EngineError, EngineTimeoutError, MissingDependencyError, TesseractError
from ..settings import Options
from .install import INSTALL_HINT, check_languages, child_environment, languages, tessdata_dir, tesseract_version
from .protocol import Answer, Pixels, Request, Word
from .registry import EngineInfo, register

if TYPE_CHECKING:
    import numpy as np

MAX_SIDE = 32767  # Tesseract refuses a page longer than this on a side ("Image too large")
LOADED_LANGUAGES = 3  # languages kept loaded in one worker; the oldest goes first


def variables(o: Options) -> dict[str, str]:
    """Tesseract's variables for a reading (the same for the API and the command line); ``o.dpi`` is
    the resolution told."""
    return {
        "tessedit_char_whitelist": o.whitelist,
        "tessedit_char_blacklist": o.blacklist,
        "preserve_interword_spaces": "1" if o.preserve_spaces else "0",
        "user_defined_dpi": str(int(o.dpi)),
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


def refusal(image: np.ndarray | Pixels) -> str | None:
    """Why Tesseract would refuse this page without trying, or None."""
    h, w = image.shape[:2]
    if max(h, w) > MAX_SIDE:
        return f"the page is {w}x{h} pixels and Tesseract reads at most {MAX_SIDE} pixels on a side"
    return None


class TesseractReader:
    """Loaded Tesseract APIs in one worker process; ``folder`` is the worker's own (its ``stderr.txt``
    holds what Tesseract prints while it reads, where the reason of a failure is taken from). A page
    comes as :class:`~ocr.engines.protocol.Pixels` (``takes_pixels``): Tesseract reads the bytes."""

    takes_pixels = True

    def __init__(self, folder: str) -> None:
        import tesserocr

        self.tesserocr: Any = tesserocr
        self.path = tessdata_dir()
        self.folder = folder
        self.log = Path(folder) / "stderr.txt"
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

    def _set_image(self, api: Any, image: np.ndarray | Pixels, dpi: int) -> None:
        h, w = image.shape[:2]
        bpp = 1 if image.ndim == 2 else image.shape[2]
        api.SetImageBytes(image.tobytes(), w, h, bpp, w * bpp)  # an array's bytes come row after row
        api.SetSourceResolution(int(dpi))

    def prepare(self, options: Options) -> None:
        self.load(options.lang, options.oem)

    def read(self, image: np.ndarray | Pixels, o: Options) -> Answer:
        """Read one page at the resolution ``o.dpi``."""
        start = time.perf_counter()
        api = self.load(o.lang, o.oem)
        api.SetPageSegMode(o.psm)
        for name, value in variables(o).items():
            api.SetVariable(name, value)
        try:
            self._set_image(api, image, o.dpi)
            if not api.Recognize(timeout=int(o.timeout * 1000)):
                raise self._failure(image, o.timeout, start)
            text, tsv = api.GetUTF8Text(), api.GetTSVText(0)
        finally:
            api.Clear()
        return Answer(text=text, words=words_from_tsv(tsv), engine=TESSERACT.name, backend="api",
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

    def _failure(self, image: np.ndarray | Pixels, timeout: float, start: float) -> EngineError:
        """Say what happened when a recognition returned failure: its time-out ran out, or it stopped
        early (with what Tesseract printed, when it printed something)."""
        took = time.perf_counter() - start
        if reason := refusal(image):
            return TesseractError(f"Tesseract cannot read this page: {reason}.")
        if took >= 0.9 * timeout:
            return EngineTimeoutError(f"Tesseract gave up after its time-out of {timeout:g} s.")
        try:
            printed = self.log.read_text(errors="replace")
        except OSError:
            printed = ""
        said = " ".join(line.strip() for line in printed.splitlines() if line.strip())
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


# -- the command ---------------------------------------------------------------------------------------


def executable() -> str:
    exe = shutil.which("tesseract")
    if not exe:
        raise MissingDependencyError(f"the `tesseract` command is not installed: {INSTALL_HINT}.")
    return exe


def run(args: list[str], timeout: float) -> subprocess.CompletedProcess[bytes]:
    """Run the tesseract command with ``args``; our errors for a time-out, a crash or a failure."""
    try:
        out = subprocess.run([executable(), *args], capture_output=True, timeout=timeout, env=child_environment())
    except subprocess.TimeoutExpired:
        raise EngineTimeoutError(f"Tesseract gave up after its time-out of {timeout:g} s.") from None
    if out.returncode < 0:
        name = signal.Signals(-out.returncode).name
        raise EngineCrashError(f"Tesseract crashed on this page (signal {name}).")
    if out.returncode != 0:
        said = " ".join(out.stderr.decode("utf-8", errors="replace").split())[:200]
        raise TesseractError(f"Tesseract failed on this page (exit code {out.returncode}: {said}).")
    return out


def _options(o: Options) -> list[str]:
    args = ["-l", o.lang, "--psm", str(o.psm), "--oem", str(o.oem), "--dpi", str(int(o.dpi)),
            "--tessdata-dir", tessdata_dir()]
    for name, value in variables(o).items():
        if name != "user_defined_dpi" and value:
            args += ["-c", f"{name}={value}"]
    return args


def command_read(req: Request) -> Answer:
    """Read one page with the ``tesseract`` command: text and words from one run (the fallback when
    the worker processes cannot start, and ``backend="cli"``)."""
    start = time.perf_counter()
    if reason := refusal(req.image):
        raise TesseractError(f"Tesseract cannot read this page: {reason}.")
    with tempfile.TemporaryDirectory(prefix="ocr-cli-") as tmp:
        source, base = Path(tmp) / "page.png", Path(tmp) / "page"
        write_png(req.image.array() if isinstance(req.image, Pixels) else req.image, str(source), req.dpi)
        run([str(source), str(base), *_options(req.told()), "txt", "tsv"], timeout=req.options.timeout)

        def read(ext: str) -> str:
            path = base.with_suffix(f".{ext}")
            return path.read_text(encoding="utf-8") if path.exists() else ""

        return Answer(
            text=read("txt").replace("\f", ""),
            words=words_from_tsv(read("tsv")),
            engine=TESSERACT.name,
            backend="cli",
            seconds=time.perf_counter() - start,
        )


def command_orientation(image: np.ndarray, dpi: int, timeout: float) -> tuple[int, float] | None:
    """Orientation detection with the command (``--psm 0``); None when there is too little text."""
    if refusal(image):
        return None
    with tempfile.TemporaryDirectory(prefix="ocr-cli-") as tmp:
        source = os.path.join(tmp, "page.png")
        write_png(image, source, dpi)
        try:
            out = run([source, "stdout", "--psm", "0", "--dpi", str(dpi), "--tessdata-dir", tessdata_dir()], timeout)
        except TesseractError as e:
            if "too few characters" in str(e).lower():
                return None
            raise
    text = out.stdout.decode("utf-8", errors="replace")
    rotate = re.search(r"Rotate:\s*(\d+)", text)
    conf = re.search(r"Orientation confidence:\s*([\d.]+)", text)
    return (int(rotate.group(1)) % 360, float(conf.group(1)) if conf else 0.0) if rotate else None


def plain_tesseract(path: str | os.PathLike[str], *, lang: str = "eng", timeout: float = 120.0) -> str:
    """``OMP_THREAD_LIMIT=1 tesseract FILE stdout``: the reference every speed and accuracy figure is
    measured against (the command as a person would run it, on the file itself)."""
    out = run([str(path), "stdout", "-l", lang], timeout)
    return out.stdout.decode("utf-8", errors="replace").replace("\f", "")


TESSERACT = register(EngineInfo(
    name="tesseract", label="Tesseract", module=__name__, load=TesseractReader, check=check_languages,
    languages=lambda: [lang for lang in languages() if lang != "osd"], version=tesseract_version,
    cost=1.0, options=frozenset({"psm", "oem", "whitelist", "blacklist", "preserve_spaces"}), search="full",
    own_timeout=True, fallback=command_read, best_for="clean scans and book pages", by_language=True,
))

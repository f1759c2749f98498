"""The one door to Tesseract. Nothing else in the project imports ``tesserocr`` or ``pytesseract``.

Two backends answer the same requests:

``api`` (the default)
    Tesseract's C API through the ``tesserocr`` wheel, kept loaded in long-lived worker processes, one
    page at a time each. A worker that crashes (Tesseract can abort the whole process on misuse) or hangs
    past the time-out is killed and replaced; the page it held gets an :class:`EngineCrashError` or
    :class:`EngineTimeoutError` and every other page goes on.
``cli``
    The ``tesseract`` command through ``pytesseract``, one process per page. Used when asked
    (``backend="cli"``) and when ``tesserocr`` cannot load.

Every Tesseract runs with one thread (``OMP_THREAD_LIMIT=1``): Debian's build uses OpenMP, which on
two cores made one page ten times slower. Parallelism comes from running pages side by side.

One recognition per page yields the text, every word with its box and confidence (TSV), and the
hOCR and PDF renderers' output when asked for.
"""

from __future__ import annotations

import atexit
import os
import pickle
import queue
import re
import select
import shlex
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from .errors import EngineCrashError, EngineTimeoutError, LanguageMissingError, MissingDependencyError, TesseractError

os.environ["OMP_THREAD_LIMIT"] = "1"

BACKENDS = ("api", "cli")
INSTALL_HINT = "install it with `sudo apt-get install tesseract-ocr tesseract-ocr-eng tesseract-ocr-osd` (or run `make run`)"
GRACE_SECONDS = 10.0  # beyond Tesseract's own time-out, before a worker is killed


# -- what is installed --------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def tessdata_dir() -> str:
    """The folder holding ``*.traineddata``: ``TESSDATA_PREFIX`` when set, else the one the installed
    ``tesseract`` names, else a usual place."""
    env = os.environ.get("TESSDATA_PREFIX")
    if env:
        path = Path(env)
        if not any(path.glob("*.traineddata")) and (path / "tessdata").is_dir():
            path = path / "tessdata"
        return str(path) + os.sep
    exe = shutil.which("tesseract")
    if exe:
        try:
            out = subprocess.run([exe, "--list-langs"], capture_output=True, text=True, timeout=30)
            found = re.search(r'"([^"]+)"', out.stdout + out.stderr)
            if found and Path(found.group(1)).is_dir():
                return str(Path(found.group(1))) + os.sep
        except (OSError, subprocess.TimeoutExpired):
            pass
    for guess in sorted(Path("/usr/share/tesseract-ocr").glob("*/tessdata"), reverse=True) + [
        Path("/usr/share/tessdata"),
        Path("/usr/local/share/tessdata"),
    ]:
        if any(guess.glob("*.traineddata")):
            return str(guess) + os.sep
    raise MissingDependencyError(f"Tesseract's language data was not found: {INSTALL_HINT}.")


def languages() -> list[str]:
    """Installed language data, e.g. ``['eng', 'osd']``."""
    return sorted(p.stem for p in Path(tessdata_dir()).glob("*.traineddata"))


def check_languages(lang: str) -> None:
    """Raise :class:`MissingDependencyError` naming the package to install when a language is missing."""
    have = languages()
    for part in lang.split("+"):
        if part not in have:
            package = "tesseract-ocr-" + part.lower().replace("_", "-")
            raise LanguageMissingError(
                f"the language data for {part!r} is not installed (installed: {', '.join(have) or 'none'}); "
                f"install it with `sudo apt-get install {package}`."
            )


def tesseract_version() -> str:
    exe = shutil.which("tesseract")
    if not exe:
        return "not installed"
    out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=30)
    return (out.stdout or out.stderr).splitlines()[0] if (out.stdout or out.stderr) else "unknown"


def wordlist(lang: str = "eng") -> frozenset[str]:
    """The words in a language's own dictionary (its traineddata's word list), lower-cased.

    Extracted once with Tesseract's ``combine_tessdata`` and ``dawg2wordlist`` and cached under
    ``~/.cache/ocr-workbench``. Empty when the tools or the dictionary are missing.
    """
    return _wordlist(tessdata_dir(), lang)


@lru_cache(maxsize=8)
def _wordlist(folder: str, lang: str) -> frozenset[str]:
    source = Path(folder) / f"{lang}.traineddata"
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "ocr-workbench"
    target = cache / f"{lang}-{int(source.stat().st_mtime) if source.exists() else 0}.words"
    if not target.exists():
        if not source.exists() or not shutil.which("combine_tessdata") or not shutil.which("dawg2wordlist"):
            return frozenset()
        with tempfile.TemporaryDirectory() as tmp:
            base = Path(tmp) / lang
            shutil.copy(source, f"{base}.traineddata")
            subprocess.run(["combine_tessdata", "-u", f"{base}.traineddata", f"{base}."], capture_output=True, timeout=120)
            for prefix in ("lstm-", ""):
                unicharset, dawg = Path(f"{base}.{prefix}unicharset"), Path(f"{base}.{prefix}word-dawg")
                if unicharset.exists() and dawg.exists():
                    out = Path(tmp) / "words.txt"
                    subprocess.run(["dawg2wordlist", str(unicharset), str(dawg), str(out)], capture_output=True, timeout=120)
                    if out.exists():
                        cache.mkdir(parents=True, exist_ok=True)
                        partial = target.with_suffix(".part")
                        partial.write_text(out.read_text(encoding="utf-8", errors="replace"), encoding="utf-8")
                        partial.replace(target)
                        break
        if not target.exists():
            return frozenset()
    return frozenset(w.lower() for w in target.read_text(encoding="utf-8").split())


# -- requests and answers -----------------------------------------------------------------------------


@dataclass
class Request:
    """One page for Tesseract. ``outputs`` may name ``"hocr"`` and ``"pdf"``."""

    image: np.ndarray
    dpi: int
    lang: str = "eng"
    psm: int = 3
    oem: int = 3
    whitelist: str = ""
    blacklist: str = ""
    preserve_spaces: bool = False
    timeout: float = 60.0
    outputs: tuple[str, ...] = ()


@dataclass
class Answer:
    """What Tesseract made of one page: text, words as TSV, the page's hOCR ``<div>`` and a one-page
    PDF when asked, its log."""

    text: str
    tsv: str
    hocr: str = ""
    pdf: bytes | None = None
    seconds: float = 0.0
    backend: str = ""
    log: str = ""
    warnings: list[str] = field(default_factory=list)


def _variables(req: Request) -> dict[str, str]:
    return {
        "tessedit_char_whitelist": req.whitelist,
        "tessedit_char_blacklist": req.blacklist,
        "preserve_interword_spaces": "1" if req.preserve_spaces else "0",
        "user_defined_dpi": str(int(req.dpi)),
    }


# -- the worker side (runs in its own process: `python -m ocr.engine`) --------------------------------


def _send(fd: int, obj) -> None:
    data = pickle.dumps(obj, protocol=5)
    view = memoryview(struct.pack("!Q", len(data)) + data)
    while view:
        view = view[os.write(fd, view):]


def _read_exact(fd: int, n: int, deadline: float | None = None) -> bytes | None:
    chunks, left = [], n
    while left:
        if deadline is not None:
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([fd], [], [], wait)[0]:
                raise TimeoutError
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _recv(fd: int, deadline: float | None = None):
    head = _read_exact(fd, 8, deadline)
    if head is None:
        return None
    body = _read_exact(fd, struct.unpack("!Q", head)[0], deadline)
    return None if body is None else pickle.loads(body)


class _Worker:
    """Worker-process side: loaded APIs, one request at a time."""

    def __init__(self) -> None:
        import tesserocr

        self.tesserocr = tesserocr
        self.path = tessdata_dir()
        self.apis: dict[tuple[str, int], object] = {}
        self.osd = None
        self.tmp = tempfile.mkdtemp(prefix="ocr-worker-")
        self.log = Path(self.tmp) / "stderr.txt"

    def load(self, lang: str, oem: int) -> None:
        """Load a language now (what :meth:`Engine.warm` asks for)."""
        self.api(lang, oem)

    def api(self, lang: str, oem: int):
        key = (lang, oem)
        if key not in self.apis:
            if len(self.apis) >= 3:  # a few languages stay loaded; the oldest goes
                self.apis.pop(next(iter(self.apis))).End()
            try:
                self.apis[key] = self.tesserocr.PyTessBaseAPI(path=self.path, lang=lang, oem=oem)
            except RuntimeError:
                raise TesseractError(f"Tesseract could not load language {lang!r} with engine mode {oem}.") from None
        return self.apis[key]

    def _set_image(self, api, image: np.ndarray, dpi: int) -> None:
        image = np.ascontiguousarray(image)
        h, w = image.shape[:2]
        bpp = 1 if image.ndim == 2 else image.shape[2]
        api.SetImageBytes(image.tobytes(), w, h, bpp, w * bpp)
        api.SetSourceResolution(int(dpi))

    def recognize(self, req: Request) -> Answer:
        start = time.perf_counter()
        api = self.api(req.lang, req.oem)
        api.SetPageSegMode(req.psm)
        for name, value in _variables(req).items():
            api.SetVariable(name, value)
        ms = int(req.timeout * 1000)
        pdf = None
        if "pdf" in req.outputs:  # the PDF renderer runs inside the same recognition
            base, source = str(Path(self.tmp) / "page"), str(Path(self.tmp) / "page.png")
            _write_png(req.image, source, req.dpi)
            api.SetVariable("tessedit_create_pdf", "1")
            ok = api.ProcessPages(base, source, None, ms)
            api.SetVariable("tessedit_create_pdf", "0")
            if not ok:
                self._raise_failed(api, req)
            pdf = Path(base + ".pdf").read_bytes()
        else:
            self._set_image(api, req.image, req.dpi)
            if not api.Recognize(timeout=ms):
                self._raise_failed(api, req)
        text, tsv = api.GetUTF8Text(), api.GetTSVText(0)
        hocr = api.GetHOCRText(0) if "hocr" in req.outputs else ""
        api.Clear()
        return Answer(text=text, tsv=tsv, hocr=hocr, pdf=pdf, seconds=time.perf_counter() - start, backend="api")

    def _raise_failed(self, api, req: Request):
        api.Clear()
        raise EngineTimeoutError(f"Tesseract gave up after its time-out of {req.timeout:g} s.")

    def orientation(self, image: np.ndarray, dpi: int):
        if self.osd is None:
            if not (Path(self.path) / "osd.traineddata").exists():
                raise MissingDependencyError(
                    "Tesseract's orientation data (osd) is not installed; install it with "
                    "`sudo apt-get install tesseract-ocr-osd`."
                )
            tesserocr = self.tesserocr
            self.osd = tesserocr.PyTessBaseAPI(path=self.path, lang="osd", psm=tesserocr.PSM.OSD_ONLY)
        self._set_image(self.osd, image, dpi)
        found = self.osd.DetectOrientationScript()
        self.osd.Clear()
        if not found:
            return None
        # Tesseract reports how far the page is turned clockwise; undo it.
        return (360 - int(found["orient_deg"])) % 360, float(found["orient_conf"])

    def serve(self, fd_in: int, fd_out: int) -> None:
        while True:
            message = _recv(fd_in)
            if message is None:
                return
            op, payload = message
            log_fd = os.open(self.log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            saved = os.dup(2)
            os.dup2(log_fd, 2)
            try:
                value = getattr(self, op)(*payload)
                reply = ("ok", value)
            except Exception as e:  # travels back as this page's error
                reply = ("error", e if isinstance(e, TesseractError | MissingDependencyError) else TesseractError(str(e)))
            finally:
                os.dup2(saved, 2)
                os.close(saved)
                os.close(log_fd)
            if reply[0] == "ok" and isinstance(reply[1], Answer):
                reply[1].log = self.log.read_text(errors="replace")
            _send(fd_out, reply)


def _serve() -> None:
    """Entry of a worker process: the protocol runs over stdin and a copy of stdout; anything else
    printed to stdout goes to stderr."""
    fd_in, fd_out = 0, os.dup(1)
    os.dup2(2, 1)
    try:
        worker = _Worker()
    except Exception as e:  # tesserocr missing or broken: the parent falls back to the command line
        _send(fd_out, ("error", f"{type(e).__name__}: {e}"))
        return
    _send(fd_out, ("ok", worker.tesserocr.tesseract_version().splitlines()[0]))
    worker.serve(fd_in, fd_out)


# -- the parent side ----------------------------------------------------------------------------------


class _Process:
    """The parent's handle on one worker process."""

    def __init__(self, start_timeout: float = 60.0) -> None:
        env = dict(os.environ, OMP_THREAD_LIMIT="1", PYTHONPATH=os.pathsep.join(
            [str(Path(__file__).resolve().parent.parent)] + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else [])
        ))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ocr.engine"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            start_new_session=True,  # a Ctrl-C in a terminal reaches the parent, which then stops us
        )
        try:
            hello = _recv(self.proc.stdout.fileno(), time.monotonic() + start_timeout)
        except TimeoutError:
            hello = None
        if not hello or hello[0] != "ok":
            self.kill()
            raise RuntimeError(hello[1] if hello else "the worker did not start")
        self.version = hello[1]

    @property
    def pid(self) -> int:
        return self.proc.pid

    def call(self, op: str, payload: tuple, limit: float):
        try:
            _send(self.proc.stdin.fileno(), (op, payload))
            reply = _recv(self.proc.stdout.fileno(), time.monotonic() + limit)
        except TimeoutError:
            self.kill()
            raise EngineTimeoutError(f"Tesseract did not answer within {limit:g} s and was stopped.") from None
        except (BrokenPipeError, ConnectionResetError, OSError):
            reply = None
        if reply is None:
            code = self.proc.wait(timeout=5) if self.proc.poll() is None else self.proc.returncode
            self.kill()
            how = f"signal {signal.Signals(-code).name}" if code and code < 0 else f"exit code {code}"
            raise EngineCrashError(f"Tesseract crashed on this page ({how}); the engine was restarted.")
        status, value = reply
        if status == "error":
            raise value
        return value

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass


class Engine:
    """A pool of Tesseracts. Thread-safe: call :meth:`run` from as many threads as you like; at most
    ``workers`` pages are read at once."""

    def __init__(self, backend: str = "api", workers: int | None = None) -> None:
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, not {backend!r}")
        self.workers = max(1, workers or os.cpu_count() or 1)
        self.backend = backend
        self.warnings: list[str] = []
        self._idle: queue.LifoQueue[_Process] = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(self.workers)
        self._live: set[_Process] = set()
        self._lock = threading.Lock()
        self._closed = False
        if backend == "cli" and not shutil.which("tesseract"):
            raise MissingDependencyError(f"the `tesseract` command is not installed: {INSTALL_HINT}.")

    # public ------------------------------------------------------------------------------------------

    def run(self, req: Request) -> Answer:
        """Read one page. Raises :class:`EngineTimeoutError`, :class:`EngineCrashError`,
        :class:`TesseractError` or :class:`MissingDependencyError` for this page alone."""
        check_languages(req.lang)
        with self._slots:
            if self.backend == "api":
                worker = self._checkout()
                if worker is not None:
                    return self._call(worker, "recognize", (req,), req.timeout + GRACE_SECONDS)
            return _cli_recognize(req)

    def orientation(self, image: np.ndarray, dpi: float, timeout: float = 60.0):
        """``(degrees clockwise to turn the page upright, confidence)``, or None when Tesseract's
        orientation detection finds too little text."""
        with self._slots:
            if self.backend == "api":
                worker = self._checkout()
                if worker is not None:
                    return self._call(worker, "orientation", (image, int(dpi)), timeout + GRACE_SECONDS)
            return _cli_orientation(image, int(dpi), timeout)

    def warm(self, lang: str = "eng", oem: int = 3) -> None:
        """Start the workers now, with ``lang`` loaded, rather than on the first page. A language that
        cannot load is left for the first page to report."""
        if self.backend != "api":
            return
        started = [self._checkout() for _ in range(self.workers)]
        for worker in started:
            if worker is not None:
                try:
                    self._call(worker, "load", (lang, oem), 60.0)
                except (TesseractError, MissingDependencyError):
                    pass

    def worker_pids(self) -> list[int]:
        with self._lock:
            return [w.pid for w in self._live]

    def close(self) -> None:
        with self._lock:
            self._closed = True
            live, self._live = list(self._live), set()
        for worker in live:
            worker.kill()

    # inside ------------------------------------------------------------------------------------------

    def _checkout(self) -> _Process | None:
        """An idle worker, a new one, or None when ``tesserocr`` cannot load (then: the command line)."""
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        try:
            worker = _Process()
        except RuntimeError as e:
            with self._lock:
                if self.backend == "api":
                    self.backend = "cli"
                    self.warnings.append(f"tesserocr could not load ({e}); using the tesseract command instead.")
            return None
        with self._lock:
            self._live.add(worker)
        return worker

    def _call(self, worker: _Process, op: str, payload: tuple, limit: float):
        try:
            value = worker.call(op, payload, limit)
        except (EngineCrashError, EngineTimeoutError):
            with self._lock:
                self._live.discard(worker)
            raise
        except BaseException:
            self._idle.put(worker)
            raise
        if self._closed:
            worker.kill()
        else:
            self._idle.put(worker)
        return value


def plain_tesseract(path: str | os.PathLike, *, lang: str = "eng", timeout: float = 120.0) -> str:
    """``OMP_THREAD_LIMIT=1 tesseract FILE stdout``: the reference every speed and accuracy figure is
    measured against (the command as a person would run it, on the file itself)."""
    exe = shutil.which("tesseract")
    if not exe:
        raise MissingDependencyError(f"the `tesseract` command is not installed: {INSTALL_HINT}.")
    out = subprocess.run([exe, str(path), "stdout", "-l", lang], capture_output=True, timeout=timeout,
                         env=dict(os.environ, OMP_THREAD_LIMIT="1"))
    return out.stdout.decode("utf-8", errors="replace").replace("\f", "")


# -- the command-line backend ------------------------------------------------------------------------


def _cli_config(req: Request, tsv: bool = True) -> str:
    parts = [f"--psm {req.psm}", f"--oem {req.oem}", f"--dpi {int(req.dpi)}", f"--tessdata-dir {shlex.quote(tessdata_dir())}"]
    if tsv:
        parts.append("-c tessedit_create_tsv=1")
    for name, value in _variables(req).items():
        if name != "user_defined_dpi" and value:
            parts.append(f"-c {shlex.quote(f'{name}={value}')}")
    return " ".join(parts)


def _write_png(image: np.ndarray, path: str, dpi: int) -> None:
    from PIL import Image

    Image.fromarray(image).save(path, format="PNG", dpi=(dpi, dpi), compress_level=1)


def _cli_run(callable_, *args, timeout: float, **kwargs):
    import pytesseract

    try:
        return callable_(*args, timeout=timeout, **kwargs)
    except pytesseract.TesseractNotFoundError:
        raise MissingDependencyError(f"the `tesseract` command is not installed: {INSTALL_HINT}.") from None
    except RuntimeError as e:
        if "timeout" in str(e).lower():
            raise EngineTimeoutError(f"Tesseract gave up after its time-out of {timeout:g} s.") from None
        raise TesseractError(f"Tesseract failed: {e}") from None
    except pytesseract.TesseractError as e:
        if isinstance(e.status, int) and e.status < 0:
            raise EngineCrashError(f"Tesseract crashed on this page (signal {-e.status}).") from None
        raise TesseractError(f"Tesseract failed: {e.message or e.status}") from None


def _cli_recognize(req: Request) -> Answer:
    from pytesseract import pytesseract as pt

    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="ocr-cli-") as tmp:
        source, base = f"{tmp}/page.png", f"{tmp}/page"
        _write_png(req.image, source, req.dpi)
        extension = " ".join(["txt", *[k for k in ("hocr", "pdf") if k in req.outputs]])
        _cli_run(pt.run_tesseract, source, base, extension, req.lang, config=_cli_config(req), timeout=req.timeout)
        read = lambda ext: Path(f"{base}.{ext}").read_text(encoding="utf-8") if Path(f"{base}.{ext}").exists() else ""
        tsv = read("tsv")
        return Answer(
            text=read("txt").replace("\f", ""),
            tsv=tsv.split("\n", 1)[1] if tsv.startswith("level") else tsv,
            hocr=_hocr_page(read("hocr")) if "hocr" in req.outputs else "",
            pdf=Path(f"{base}.pdf").read_bytes() if "pdf" in req.outputs else None,
            seconds=time.perf_counter() - start,
            backend="cli",
        )


def _hocr_page(document: str) -> str:
    """The page part of an hOCR document (what the API's ``GetHOCRText`` gives)."""
    start, end = document.find("<body>"), document.rfind("</body>")
    return document[start + len("<body>"):end].strip("\n") + "\n" if start >= 0 and end > start else document


def _cli_orientation(image: np.ndarray, dpi: int, timeout: float):
    import pytesseract

    with tempfile.TemporaryDirectory(prefix="ocr-cli-") as tmp:
        source = f"{tmp}/page.png"
        _write_png(image, source, dpi)
        try:
            text = _cli_run(pytesseract.image_to_osd, source, timeout=timeout,
                            config=f"--psm 0 --dpi {dpi} --tessdata-dir {shlex.quote(tessdata_dir())}")
        except TesseractError as e:
            if "too few characters" in str(e).lower():
                return None
            raise
    rotate = re.search(r"Rotate:\s*(\d+)", text)
    conf = re.search(r"Orientation confidence:\s*([\d.]+)", text)
    return (int(rotate.group(1)) % 360, float(conf.group(1)) if conf else 0.0) if rotate else None


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
def _close_all() -> None:
    for engine in list(_DEFAULT.values()):
        engine.close()


if __name__ == "__main__":
    # Serve from the imported module, not from __main__, so that what we pickle names `ocr.engine`.
    from ocr.engine import _serve as serve

    serve()

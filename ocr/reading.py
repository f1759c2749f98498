"""One page's reading, and what every runner of a batch shares: a file to read (:class:`Source`), a page to
read (:class:`Job`) and how (:class:`Reading`), a page's :class:`Outcome`, and :func:`read_page`, which a
runner calls wherever it runs (a thread here, a Dask worker there)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from .decode import PDF_DPI, Page
from .engines import registry
from .engines.pool import Engine, default_engine
from .errors import OcrError
from .limits import Limits
from .preprocessing import Step, preprocess
from .recognition import lead_and_others, read_auto, recognize, start_others
from .result import Origin, Result, origin_of
from .settings import Options, Settings
from .settled import looks_turned

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Source:
    """A file to read: its name and bytes, or its path (on storage every reader sees); ``pages``
    (0-based) to read only some of its pages."""

    name: str
    data: bytes | None = None
    path: str | None = None
    pages: tuple[int, ...] | None = None



Progress = Callable[[int, int, "Outcome"], None]


@dataclass
class Outcome:
    """One page's result, or one sentence saying why a page or a whole file could not be read.

    ``kept`` says the page already had text and was not read (its own text is the result's); ``origin``
    names the page's file and place (what a searchable PDF copies, even for a page that failed).
    """

    name: str
    source: str
    result: Result | None = None
    error: str | None = None
    page: Page | None = None
    index: int = 0
    count: int = 1
    kept: bool = False
    notes: list[str] = field(default_factory=list)
    file: int = 0  # the file's place in the batch (0-based)
    file_notes: list[str] = field(default_factory=list)  # about the whole file, on its first page
    origin: Origin | None = None  # where the page came from, known even when it failed

    @property
    def ok(self) -> bool:
        return self.error is None


def describe_error(error: BaseException) -> str:
    """One sentence for a person; never a traceback."""
    if isinstance(error, OcrError):
        return str(error)
    if isinstance(error, MemoryError):
        return "there was not enough memory to read it."
    if type(error).__name__ == "KilledWorker":  # Dask: the page's worker died on each try
        return "the worker reading it stopped each time it was tried (out of memory, or a crash)."
    return f"unexpected error ({type(error).__name__}: {error})."


def read_page(
    page: Page,
    settings: Settings | None = None,
    options: Options | None = None,
    *,
    engine: Engine | None = None,
    backend: str = "api",
    origin: Origin | None = None,
    speculate: bool = False,
) -> Result:
    """Preprocess one page and recognise it. The result remembers where the page came from
    (``origin``, by default the page itself), so a searchable PDF can be laid over it. Each page read
    is logged (file, page, engine, seconds, outcome), never its text. ``speculate``: a page read alone
    (see :func:`ocr.recognize`)."""
    engine = engine or default_engine(backend)
    settings, options = settings or Settings(), options or Options()
    start = time.perf_counter()
    try:
        result = _read_upright(page, settings, options, engine, speculate)
    except OcrError as e:
        log.info("%s: %s failed after %.2f s: %s", where(page), options.engine, time.perf_counter() - start, e)
        raise
    log.info("%s: read by %s%s in %.2f s, %d words", where(page), result.engine,
             f" ({options.engine})" if options.engine != result.engine else "", time.perf_counter() - start,
             result.word_count)
    result.origin = origin or origin_of(page)
    return result


def _read_upright(page: Page, settings: Settings, options: Options, engine: Engine, speculate: bool) -> Result:
    """The page read as it lies, and turned upright only when that reading looks like a page lying turned
    (:func:`ocr.settled.looks_turned`): orientation detection costs about a small page's reading, and on a
    page that reads as text it changes nothing. With ``auto``, the first engine's reading decides both
    the turn and whether the others read (:func:`ocr.recognition.read_auto`)."""
    auto = options.engine == registry.AUTO
    if not settings.auto_orient:
        processed = preprocess(page, settings, orient=engine.orientation)
        return recognize(processed, options, engine=engine, name=page.name, speculate=speculate)
    lead = options.replace(engine=lead_and_others(options.lang)[0].name) if auto else options
    processed = preprocess(page, settings.replace(auto_orient=False))
    started = start_others(processed, options, engine, page.name) if auto and speculate else None
    first = recognize(processed, lead, engine=engine, name=page.name)
    checked = "the page read as text as it lies; orientation detection not needed"
    if looks_turned(first):
        turned = preprocess(page, settings, orient=engine.orientation)
        checked = next((step.detail for step in turned.steps if step.name == "auto-orient"), "")
        if turned.orientation != processed.orientation:
            processed, started = turned, None
            first = recognize(turned, lead, engine=engine, name=page.name)
        first.timings = {"preprocess: auto-orient": sum(s.seconds for s in turned.steps if s.name == "auto-orient"),
                         **first.timings}
    first.settings = processed.settings = settings
    if not any(step.name == "auto-orient" for step in processed.steps):
        processed.steps.insert(0, Step("auto-orient", 0.0, checked))
    result = read_auto(processed, options, first=first, started=started, engine=engine, name=page.name) if auto \
        else first
    result.settings = settings
    return result


def where(page: Page) -> str:
    """A page as the log names it: its file and its number."""
    return f"{page.source or page.name} page {page.index + 1}/{page.count}"


# -- jobs and runners ------------------------------------------------------------------------------

@dataclass
class Job:
    """One page to read: where it is (the file's bytes or path and the page's number) and, on this
    machine, its :class:`Page` (decoded only when read). ``outcome`` is filled when it is done."""

    source: Source
    index: int
    outcome: Outcome
    page: Page | None = None
    dpi: float | None = None


@dataclass(frozen=True)
class Reading:
    """How every page of a batch is read."""

    settings: Settings | None = None
    options: Options | None = None
    pdf_dpi: int = PDF_DPI
    limits: Limits = field(default_factory=Limits)


class Runner(Protocol):
    """Reads jobs somewhere: :meth:`submit` returns a future whose result :meth:`collect` turns into the
    job's result (raising the page's error); :meth:`cancel` stops what is left."""

    workers: int

    def submit(self, job: Job, reading: Reading) -> Any: ...

    def collect(self, job: Job, future: Any) -> Result: ...

    def cancel(self, futures: list[Any]) -> None: ...

    def file_opened(self, source: Source) -> None: ...

    def file_done(self, source: Source) -> None: ...



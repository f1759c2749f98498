"""Reading many files and pages side by side, each page's failure kept to that page."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Union

from .decode import DEFAULT_MAX_PIXELS, Page, load
from .engines import Engine, default_engine
from .errors import OcrError
from .preprocessing import preprocess
from .recognition import recognize
from .result import Result
from .settings import Options, Settings

FileLike = Union[str, os.PathLike, tuple[str, bytes], Page]
Tuner = Callable[[Page], tuple[Settings, Options]]


@dataclass
class Outcome:
    """One page's result, or one sentence saying why a page or a whole file could not be read."""

    name: str
    source: str
    result: Result | None = None
    error: str | None = None
    page: Page | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def describe_error(error: BaseException) -> str:
    """One sentence for a person; never a traceback."""
    if isinstance(error, OcrError):
        return str(error)
    if isinstance(error, MemoryError):
        return "there was not enough memory to read it."
    return f"unexpected error ({type(error).__name__}: {error})."


def read_page(
    page: Page,
    settings: Settings | None = None,
    options: Options | None = None,
    *,
    outputs: tuple[str, ...] = ("hocr",),
    engine: Engine | None = None,
    backend: str = "api",
) -> Result:
    """Preprocess one page and recognise it."""
    engine = engine or default_engine(backend)
    processed = preprocess(page, settings, orient=engine.orientation)
    return recognize(processed, options, outputs=outputs, engine=engine, name=page.name)


def open_files(files: Iterable[FileLike], max_pixels: int = DEFAULT_MAX_PIXELS) -> list[Outcome]:
    """Open every file (headers only: pages decode when read); pages come back without results, unreadable
    files with their error."""
    outcomes = []
    for item in files:
        if isinstance(item, Page):
            outcomes.append(Outcome(item.name, item.source, page=item))
            continue
        name, data = (item if isinstance(item, tuple) else (Path(item).name, Path(item)))
        try:
            pages = load(data, name, max_pixels=max_pixels)
        except Exception as e:  # one sentence for this file; the others go on
            outcomes.append(Outcome(name, name, error=describe_error(e)))
            continue
        outcomes.extend(Outcome(p.name, name, page=p) for p in pages)
    return outcomes


def read_files(
    files: Iterable[FileLike],
    settings: Settings | None = None,
    options: Options | None = None,
    *,
    jobs: int | None = None,
    outputs: tuple[str, ...] = ("hocr",),
    engine: Engine | None = None,
    backend: str = "api",
    tune: Tuner | None = None,
    progress: Callable[[int, int, Outcome], None] | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> list[Outcome]:
    """Read every page of every file, ``jobs`` pages at a time (default: one per core), in order.

    ``tune``, when given, chooses settings and options for each page (auto-tune). ``progress`` is
    called in the calling thread as each page finishes, with (done, total, outcome).
    """
    engine = engine or default_engine(backend)
    outcomes = open_files(files, max_pixels)
    todo = [o for o in outcomes if o.page is not None]
    done = 0
    total = len(outcomes)
    for o in outcomes:
        if o.page is None:
            done += 1
            if progress:
                progress(done, total, o)

    def work(outcome: Outcome) -> Outcome:
        held = outcome.page.held  # pixels held before (e.g. the app's page on screen) stay held
        try:
            page_settings, page_options = tune(outcome.page) if tune else (settings, options)
            outcome.result = read_page(outcome.page, page_settings, page_options, outputs=outputs, engine=engine)
        except Exception as e:
            outcome.error = describe_error(e)
        finally:
            if not held:  # pages are decoded when read and let go after: a batch holds a few at a time
                outcome.page.release()
        return outcome

    with ThreadPoolExecutor(max_workers=max(1, jobs or engine.workers)) as pool:
        for future in as_completed([pool.submit(work, o) for o in todo]):
            done += 1
            if progress:
                progress(done, total, future.result())
    return outcomes

"""Turning an image into a :class:`~ocr.result.Result`: one recognition per page."""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from . import judge
from .decode import Page
from .engines import ENGINE_NAMES, ENGINES, Engine, Request, default_engine, ppocr_reads
from .errors import OcrError
from .preprocessing import DEFAULT_DPI, Processed
from .result import Result, words_frame
from .settings import Options, Settings

# Tesseract log lines worth passing on, and how to say them (an empty page is said from its empty text).
CLEARLY = (2.0, 0.02)  # characters, and share of the score, by which a later engine's reading must win
_LOG = [
    (re.compile(r"Too few characters", re.I), "Too little text to tell the page's orientation."),
    (re.compile(r"Image too (small|large)", re.I), "The image is too small or too large for Tesseract to read well."),
]


def recognize(
    image: np.ndarray | Processed | Page,
    options: Options | None = None,
    *,
    dpi: float | None = None,
    engine: Engine | None = None,
    backend: str = "api",
    name: str = "",
    **overrides: Any,
) -> Result:
    """Read the text of ``image``: an array, a :class:`~ocr.preprocessing.Processed` (its settings,
    resolution and step timings are kept) or a :class:`~ocr.decode.Page`.

    ``options`` (or keyword overrides such as ``lang="eng+deu", psm=6``) say how the page is read; with
    ``engine="auto"`` it is read by every engine that reads its language, side by side, and the reading
    the judge (:mod:`ocr.judge`) scores best is returned, saying so in its warnings.
    The resolution the engine is told is ``options.dpi`` when set, else the image's own, else 300.
    ``engine`` is the pool of worker processes to read in (by default the process's shared one).
    """
    options = options or Options()
    if overrides:
        options = options.replace(**overrides)
    pool = engine or default_engine(backend)
    if options.engine == "ppocr" and not ppocr_reads(options.lang):
        result = _read(image, options.replace(engine="tesseract"), dpi, pool, name)
        result.warnings.insert(0, unread_by_ppocr(options.lang))
        return result
    if options.engine != "auto":
        return _read(image, options, dpi, pool, name)
    return best(read_each(image, options, dpi=dpi, engine=engine, backend=backend, name=name))


def read_each(
    image: np.ndarray | Processed | Page,
    options: Options | None = None,
    *,
    engines: tuple[str, ...] = ENGINES,
    dpi: float | None = None,
    engine: Engine | None = None,
    backend: str = "api",
    name: str = "",
) -> list[Result]:
    """The page read by each of ``engines`` that reads its language, side by side, each reading judged
    (``Result.score``), in the order of ``engines``. An engine that fails leaves its reading out, with a
    warning on the others; when every engine fails, the first one's error is raised."""
    options = options or Options()
    pool = engine or default_engine(backend)
    chosen = [e for e in engines if e != "ppocr" or ppocr_reads(options.lang)]
    results: dict[str, Result] = {}
    errors: dict[str, OcrError] = {}
    with ThreadPoolExecutor(max_workers=len(chosen)) as side:
        futures = {e: side.submit(_read, image, options.replace(engine=e), dpi, pool, name) for e in chosen}
        for e, future in futures.items():
            try:
                results[e] = future.result()
            except OcrError as error:
                errors[e] = error
    if not results:
        raise errors[chosen[0]]
    for result in results.values():
        result.score = judge.score(result.words, options.lang, engine=result.engine).score
        result.options = result.options.replace(engine=options.engine)
        result.warnings.extend(f"{ENGINE_NAMES[e]} could not read this page: {error}" for e, error in errors.items())
    if len(chosen) < len(engines):
        for result in results.values():
            result.warnings.append(unread_by_ppocr(options.lang))
    return list(results.values())


def unread_by_ppocr(lang: str) -> str:
    """The sentence for a page in a language PP-OCR's model does not read."""
    return (f"PP-OCR does not read {lang!r} (its model reads Latin-script languages, Chinese and Japanese); "
            "Tesseract read this page.")


def best(readings: list[Result]) -> Result:
    """The reading the judge scores best, saying so when there was a choice. A later reading must beat
    an earlier one by :data:`CLEARLY` (two readings of the same text differ by a point or two)."""
    chosen = readings[0]
    for r in readings[1:]:
        mine, theirs = r.score or 0.0, chosen.score or 0.0
        if mine > theirs + max(CLEARLY[0], CLEARLY[1] * abs(theirs)):
            chosen = r
    others = [r for r in readings if r is not chosen]
    if others:
        scores = ", ".join(f"{ENGINE_NAMES[r.engine]} {r.score:.0f}" for r in others)
        chosen.warnings.insert(0, f"Read by each engine; {ENGINE_NAMES[chosen.engine]}'s reading looked best "
                                  f"(judged {chosen.score:.0f} characters right, against {scores}).")
    return chosen


def _read(image: np.ndarray | Processed | Page, options: Options, dpi: float | None, engine: Engine,
          name: str) -> Result:
    """One reading with one engine (``options.engine``)."""
    settings: Settings | None = None
    timings: dict[str, float] = {}
    warnings: list[str] = []
    transform, source = np.eye(3), (0, 0)
    if isinstance(image, Processed):
        settings, dpi = image.settings, dpi or image.dpi
        transform, source = image.transform, image.source_size
        timings = {f"preprocess: {s.name}": s.seconds for s in image.steps}
        warnings = list(image.warnings)
        pixels = image.image
    elif isinstance(image, Page):
        dpi, name = dpi or image.dpi, name or image.name
        pixels = image.image
    else:
        pixels = image
    pixels = _as_uint8(pixels)
    tell = options.dpi or round(dpi or DEFAULT_DPI)
    start = time.perf_counter()
    answer = engine.run(Request(image=pixels, dpi=tell, options=options))
    timings["recognize"] = answer.seconds
    timings["total"] = sum(timings.values()) + max(0.0, time.perf_counter() - start - answer.seconds)
    text = answer.text.replace("\f", "")
    said = [sentence for pattern, sentence in _LOG if pattern.search(answer.log)]
    if not text.strip():
        said.append(f"{ENGINE_NAMES[answer.engine]} found no text on this page.")
    warnings.extend(w for w in [*said, *engine.warnings] if w not in warnings)
    h, w = pixels.shape[:2]
    return Result(
        transform=transform, source_size=source if source != (0, 0) else (w, h),
        text=text, words=words_frame(answer.words), name=name, settings=settings, options=options,
        dpi=float(tell), size=(w, h), timings=timings, warnings=warnings, engine=answer.engine,
        backend=answer.backend,
    )


def _as_uint8(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[2] == 4:
        image = image[:, :, :3]
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.dtype == bool:
        image = image.astype(np.uint8) * 255
    elif image.dtype != np.uint8:
        image = np.clip(image, 0, 255).astype(np.uint8)
    if image.ndim not in (2, 3) or image.size == 0:
        raise ValueError("an image must be a non-empty gray (H, W) or colour (H, W, 3) array")
    return np.ascontiguousarray(image)

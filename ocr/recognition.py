"""Turning an image into a :class:`~ocr.result.Result`: one engine's reading, or the best of each
registered engine's (``engine="auto"``)."""

from __future__ import annotations

import logging
import re
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np

from . import judge, language
from .decode import DEFAULT_DPI, Page
from .engines import registry
from .engines.pool import Engine, default_engine
from .engines.protocol import Request
from .errors import OcrError
from .preprocessing import Processed
from .result import Result
from .settings import Options, Settings

log = logging.getLogger(__name__)

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
    speculate: bool = False,
    **overrides: Any,
) -> Result:
    """Read the text of ``image``: an array, a :class:`~ocr.preprocessing.Processed` (its settings, resolution and step
    timings are kept) or a :class:`~ocr.decode.Page`. ``options`` (or keyword overrides such as ``lang="eng+deu",
    psm=6``) say how the page is read; with ``engine="auto"`` the first engine reads it, and the others too where
    that can change the text (:func:`read_auto`); with ``lang="auto"`` the page is read in English first and again
    in the language found, when that changes the reading (:func:`in_found_language`). The resolution the engine is
    told is ``options.dpi`` when set, else the image's own, else 300. ``engine`` is the pool of worker processes to
    read in (by default the process's shared one); ``speculate`` lets ``auto`` start the other engines at once on
    idle workers (one page read alone: less waiting, some work thrown away).
    """
    options = options or Options()
    if overrides:
        options = options.replace(**overrides)
    pool = engine or default_engine(backend)
    if options.engine != registry.AUTO:
        if options.lang == language.AUTO:
            first = recognize(image, options.replace(lang=language.FIRST), dpi=dpi, engine=pool, name=name)
            return in_found_language(first, image, dpi=dpi, engine=pool, name=name)
        info = registry.get(options.engine)
        if info.reads(options.lang) or not registry.reading(options.lang):
            return _read(image, options, dpi, pool, name)
        instead = registry.reading(options.lang)[0]
        result = _read(image, options.replace(engine=instead.name), dpi, pool, name)
        result.warnings.insert(0, unread_by(info.name, options.lang, instead.name))
        return result
    return read_auto(image, options, dpi=dpi, engine=pool, name=name, speculate=speculate)


def in_found_language(first: Result, image: np.ndarray | Processed | Page, *, dpi: float | None = None,
                      engine: Engine | None = None, name: str = "") -> Result:
    """The page in the language its first reading (``first``, made in English) is found to be in: read
    again by an engine whose model is chosen by the language (Tesseract) when its data is installed,
    else ``first`` relabelled, so the judge scores it against that language's words. ``Result.language``
    is the language found, ``Result.note`` says it, and a language found but not installed is warned of."""
    info = registry.get(first.engine)
    found = language.resolve(first.text, info.languages(), info.label)
    result = first
    if found.lang != first.options.lang:
        if info.by_language:
            result = _read(image, first.options.replace(lang=found.lang), dpi, engine or default_engine(), name)
            spent = first.timings.get("total", 0.0)
            result.timings = {"read in English first": spent, **result.timings,
                              "total": result.timings.get("total", 0.0) + spent}
        else:
            result.options = result.options.replace(lang=found.lang)
    _say_found(result, found)
    return result


def _say_found(result: Result, found: language.Found) -> None:
    result.language = found.code or language.UNSURE
    result.note = " ".join(filter(None, [found.note, result.note]))
    if found.warning and found.warning not in result.warnings:
        result.warnings.insert(0, found.warning)


def read_auto(
    image: np.ndarray | Processed | Page,
    options: Options,
    *,
    first: Result | None = None,
    started: dict[str, Future[Result]] | None = None,
    dpi: float | None = None,
    engine: Engine | None = None,
    name: str = "",
    speculate: bool = False,
) -> Result:
    """The best reading of every engine that reads the page's language, spending the engines after the first only where
    they can change the text: the first engine's reading (``first``, when it was made already, with ``options`` but
    its own engine: with ``lang="auto"`` its language is found) stands when :func:`ocr.settled.unsettled` finds
    nothing left to do; otherwise the others read the page too (``started``: their readings begun already) and the
    judge keeps the best (:func:`best`), each judged in the language found. ``result.note`` says which."""
    from . import settled

    pool = engine or default_engine()
    lead, others = lead_and_others(options.lang)
    if started is None and first is None and speculate:
        started = start_others(image, options, pool, name, dpi)
    if first is None:
        first = recognize(image, options.replace(engine=lead.name), dpi=dpi, engine=pool, name=name)
    found: language.Found | None = None
    if options.lang == language.AUTO:
        code = "" if first.language == language.UNSURE else first.language
        found = language.Found(code, first.options.lang, lead.label)
        first.note = ""  # said again, before what the engines did
        options = options.replace(lang=first.options.lang)
        lead, others = lead_and_others(options.lang)
    judged = judge.judge(first)
    why = settled.unsettled(first, _pixels(image), judged) if others else ""
    unread = [unread_by(info.name, options.lang, lead.name) for info in registry.engines()
              if not info.reads(options.lang)]
    first.warnings.extend(w for w in unread if w not in first.warnings)
    if not why:
        first.options = first.options.replace(engine=options.engine)
        if others:
            first.note = (f"{lead.label}'s reading looked right (no doubted words, nothing left unread), so "
                          f"{_listed(others)} did not read this page.")
        if found is not None:
            _say_found(first, found)
        return first
    log.debug("%s: %s; %s read it too", name or "page", why, _listed(others))
    if started:
        readings = _collect(started, first, options)
    else:
        readings = read_each(image, options, engines=tuple(others), dpi=dpi, engine=pool, name=name, first=first)
    chosen = best(readings)
    chosen.note = f"{lead.label} read the page first and left something to do ({why}), so {chosen.note}"
    if found is not None:
        _say_found(chosen, found)
    return chosen


def lead_and_others(lang: str) -> tuple[registry.EngineInfo, list[str]]:
    """The engine ``auto`` reads with first, and the names of those that may read after it."""
    engines = registry.reading(language.first(lang)) or registry.engines()[:1]
    return engines[0], [info.name for info in engines[1:]]


def start_others(image: np.ndarray | Processed | Page, options: Options, pool: Engine, name: str = "",
                 dpi: float | None = None) -> dict[str, Future[Result]] | None:
    """The engines after the first, started now on workers that are idle (None when there are too few):
    for a page read alone, they read while the first does, and their work is thrown away when the first
    engine's reading stands. With ``lang="auto"`` they read in English, and are judged in the language
    found (:func:`_collect`)."""
    _, others = lead_and_others(options.lang)
    options = options.replace(lang=language.first(options.lang))
    if not others or pool.free() <= len(others):
        return None
    side = ThreadPoolExecutor(max_workers=len(others), thread_name_prefix="ocr-auto")
    try:
        return {e: side.submit(_read, image, options.replace(engine=e), dpi, pool, name) for e in others}
    finally:
        side.shutdown(wait=False)


def _collect(started: dict[str, Future[Result]], first: Result, options: Options) -> list[Result]:
    """The first reading and those started beside it, judged; an engine that failed is said on the others."""
    results, failed = [first], {}
    for e, future in started.items():
        try:
            results.append(future.result())
        except OcrError as error:
            failed[e] = error
    for r in results:
        r.options = r.options.replace(engine=options.engine, lang=options.lang)
        if r is not first:
            judge.judge(r)
        r.warnings.extend(f"{registry.label(e)} could not read this page: {error}" for e, error in failed.items())
    return results


def _listed(names: list[str]) -> str:
    labels = [registry.label(n) for n in names]
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]


def _pixels(image: np.ndarray | Processed | Page) -> np.ndarray:
    return image.image if isinstance(image, (Processed, Page)) else np.asarray(image)


def read_each(
    image: np.ndarray | Processed | Page,
    options: Options | None = None,
    *,
    engines: tuple[str, ...] | None = None,
    dpi: float | None = None,
    engine: Engine | None = None,
    backend: str = "api",
    name: str = "",
    first: Result | None = None,
) -> list[Result]:
    """The page read by each of ``engines`` (default: every registered engine) that reads its language,
    side by side, each reading judged (``Result.score``), in the order of ``engines``, after ``first``
    (a reading made already, by an engine not among them). An engine that fails leaves its reading out,
    with a warning on the others; when every engine fails, the first one's error is raised."""
    options = options or Options()
    pool = engine or default_engine(backend)
    asked = [registry.get(e) for e in engines] if engines is not None else list(registry.engines())
    chosen = [info for info in asked if info.reads(options.lang)] or asked[:1]
    results: dict[str, Result] = {first.engine: first} if first is not None else {}
    errors: dict[str, OcrError] = {}
    with ThreadPoolExecutor(max_workers=len(chosen)) as side:
        futures = {info.name: side.submit(_read, image, options.replace(engine=info.name), dpi, pool, name)
                   for info in chosen}
        for e, future in futures.items():
            try:
                results[e] = future.result()
            except OcrError as error:
                errors[e] = error
    if not results:
        raise errors[chosen[0].name]
    if first is not None:
        first.warnings.extend(f"{registry.label(e)} could not read this page: {error}" for e, error in errors.items())
    left_out = [info for info in asked if info not in chosen]
    for result in results.values():
        judge.judge(result)
        result.options = result.options.replace(engine=options.engine)
        result.warnings.extend(f"{registry.label(e)} could not read this page: {error}" for e, error in errors.items())
        result.warnings.extend(unread_by(info.name, options.lang, result.engine) for info in left_out)
    return list(results.values())


def unread_by(engine: str, lang: str, instead: str) -> str:
    """The sentence for a page in a language an engine's model does not read."""
    return f"{registry.label(engine)} does not read {lang!r}; {registry.label(instead)} read this page."


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
        mine = chosen.score or 0.0
        close = all(abs((r.score or 0.0) - mine) <= max(CLEARLY[0], CLEARLY[1] * abs(mine)) for r in others)
        label = registry.label(chosen.engine)
        if close and chosen is readings[0]:  # never "kept A (174) against B (175)" without the why
            scores = ", ".join(f"{registry.label(r.engine)} {r.score or 0.0:.0f}" for r in readings)
            chosen.note = (f"each engine read it and their readings looked about as good ({scores} characters "
                           f"that look right): {label}'s reading was kept, as the first engine's is when the "
                           "readings are this close.")
        else:
            scores = ", ".join(f"{registry.label(r.engine)}'s {r.score or 0.0:.0f}" for r in others)
            chosen.note = (f"each engine read it and {label}'s reading was kept, as it looked more like real "
                           f"text ({mine:.0f} characters that look right, against {scores}).")
    return chosen


def _read(image: np.ndarray | Processed | Page, options: Options, dpi: float | None, engine: Engine,
          name: str) -> Result:
    """One reading with one engine (``options.engine``)."""
    settings: Settings | None = None
    timings: dict[str, float] = {}
    warnings: list[str] = []
    transform, source, bend = np.eye(3), (0, 0), None
    if isinstance(image, Processed):
        settings, dpi = image.settings, dpi or image.dpi
        transform, source, bend = image.transform, image.source_size, image.bend
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
        said.append(f"{registry.label(answer.engine)} found no text on this page.")
    warnings.extend(w for w in [*said, *engine.warnings] if w not in warnings)
    h, w = pixels.shape[:2]
    return Result(
        transform=transform, bend=bend, source_size=source if source != (0, 0) else (w, h),
        text=text, words=answer.words, name=name, settings=settings, options=options,
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

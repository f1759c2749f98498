"""Turning an image into a :class:`~ocr.result.Result`: one recognition per page."""

from __future__ import annotations

import re
import time
from typing import Any

import numpy as np

from .decode import Page
from .engines import Engine, Request, default_engine
from .preprocessing import DEFAULT_DPI, Processed
from .result import Result, words_frame
from .settings import Options, Settings

# Tesseract log lines worth passing on, and how to say them.
_LOG = [
    (re.compile(r"Empty page", re.I), "Tesseract found no text on this page."),
    (re.compile(r"Too few characters", re.I), "Too little text to tell the page's orientation."),
    (re.compile(r"Image too (small|large)", re.I), "The image is too small or too large for Tesseract to read well."),
]
NO_TEXT = "Tesseract found no text on this page."


def recognize(
    image: np.ndarray | Processed | Page,
    options: Options | None = None,
    *,
    dpi: float | None = None,
    outputs: tuple[str, ...] = ("hocr",),
    engine: Engine | None = None,
    backend: str = "api",
    name: str = "",
    **overrides: Any,
) -> Result:
    """Read the text of ``image``: an array, a :class:`~ocr.preprocessing.Processed` (its settings,
    resolution and step timings are kept) or a :class:`~ocr.decode.Page`.

    ``options`` (or keyword overrides such as ``lang="eng+deu", psm=6``) say how the page is read.
    The resolution the engine is told is ``options.dpi`` when set, else the image's own, else 300.
    ``outputs`` names the renderers to run in the same recognition: ``"hocr"``, ``"pdf"``.
    """
    options = options or Options()
    if overrides:
        options = options.replace(**overrides)
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
    engine = engine or default_engine(backend)
    answer = engine.run(Request(image=pixels, dpi=tell, options=options, outputs=tuple(outputs)))
    timings["recognize"] = answer.seconds
    timings["total"] = sum(timings.values()) + max(0.0, time.perf_counter() - start - answer.seconds)
    text = answer.text.replace("\f", "")
    for pattern, sentence in _LOG:
        if pattern.search(answer.log) and sentence not in warnings and not (sentence == NO_TEXT and text.strip()):
            warnings.append(sentence)
    if not text.strip() and NO_TEXT not in warnings:
        warnings.append(NO_TEXT)
    warnings.extend(w for w in engine.warnings if w not in warnings)
    h, w = pixels.shape[:2]
    return Result(
        transform=transform, source_size=source if source != (0, 0) else (w, h),
        text=text, words=words_frame(answer.words), name=name, settings=settings, options=options,
        dpi=float(tell), size=(w, h), timings=timings, warnings=warnings, engine=answer.engine,
        backend=answer.backend, hocr=answer.hocr, pdf=answer.pdf,
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

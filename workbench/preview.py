"""The pictures the pages show: a file's thumbnail, the original page with the crop framed, and the
processed page as the engine will get it, all display-sized.

Each is cached with ``st.cache_data`` (every caller gets its own copy) on the file's SHA-256, the page's
index and the settings as text, never on an array. The caches are shared by every session, so they hold
encoded pictures only (a few hundred kilobytes each, never a page's pixels), are bounded in entries and
forget what was not asked for in ``TTL_S`` seconds: the app's memory does not grow with a batch and
does not keep a finished session's pictures. A failure is never cached: the cached function raises, and
:func:`processed` turns the error into a sentence outside the cache, so a one-off time-out is tried
again on the next run.
"""

from __future__ import annotations

import io
import json
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import streamlit as st
from PIL import Image

import ocr
from ocr import overlay, preprocessing
from ocr.batch import describe_error

from . import keys
from .engine import engine
from .files import FileEntry, PageRef, pages_of
from .url import settings_key

log = logging.getLogger(__name__)

TTL_S = 900  # seconds a cached picture is kept when nobody asks for it


@st.cache_data(max_entries=200, ttl=TTL_S, show_spinner=False)
def _thumbnail(sha: str, _pixels: Callable[[], np.ndarray]) -> bytes:
    return overlay.encode(overlay.thumbnail(_pixels(), 220), "jpeg")


def thumbnail(entry: FileEntry) -> bytes:
    """The file's first page, small, as JPEG bytes (the page is decoded only when not cached)."""
    return _thumbnail(entry.sha, lambda: pages_of(entry)[0].image)


@st.cache_data(max_entries=32, ttl=TTL_S, show_spinner=False)
def _original(sha: str, index: int, crop: tuple[int, int, int, int] | None, _page: ocr.Page) -> bytes:
    image, factor = overlay.fit(_page.image)
    return overlay.encode(overlay.draw_crop(image, crop, factor), "jpeg")


def original(ref: PageRef, crop: tuple[int, int, int, int] | None) -> bytes:
    """The page as it was opened, display-sized, with the crop framed (JPEG bytes)."""
    return _original(ref.entry.sha, ref.page.index, crop, ref.page)


@dataclass(frozen=True)
class Preview:
    """The processed page at display size, and what was done to it."""

    data: bytes = b""  # the processed page, display-sized (at most about a megapixel), encoded for the browser
    fmt: Literal["PNG", "JPEG"] = "PNG"  # PNG for black and white (sharp), JPEG for greys (small)
    factor: float = 1.0  # size of ``image`` relative to the full-size processed page
    seconds: float = 0.0  # preprocessing of the preview
    steps: tuple[tuple[str, float, str], ...] = ()  # (step, seconds, what it did)
    skew: float = 0.0
    warnings: tuple[str, ...] = ()
    error: str | None = None  # one sentence when the settings cannot be applied to this page
    size: tuple[int, int] = (0, 0)  # (width, height) of the shown picture

    def image(self) -> np.ndarray:
        """The picture's pixels (grey or RGB), decoded from its bytes, to draw on."""
        with Image.open(io.BytesIO(self.data)) as picture:
            return np.asarray(picture.convert("L" if picture.mode in ("1", "L") else "RGB"))


def _enlarge(s: ocr.Settings, dpi: float | None) -> float:
    """How much the settings enlarge the page (the resize, or the resize to a resolution)."""
    return s.target_dpi / (dpi or ocr.DEFAULT_DPI) if s.target_dpi else s.scale


def preview_factor(size: tuple[int, int], dpi: float | None, s: ocr.Settings) -> float:
    """The preview's pixels per pixel of the page at the point the clean-up's sizes apply (after the
    crop, before the resize): how :func:`processed` reduces the page (``ocr.preprocess``'s ``max_pixels``)."""
    w, h = (s.crop[2], s.crop[3]) if s.crop else size
    w, h = min(w, size[0]), min(h, size[1])
    most = overlay.DISPLAY_PIXELS / max(1.0, _enlarge(s, dpi)) ** 2
    return float(min(1.0, (most / max(1, w * h)) ** 0.5))


@dataclass(frozen=True)
class Working:
    """A page's working copy for the preview: cropped, turned and reduced to about a megapixel once, and
    kept (one per session) while the page, the crop and the turn stand, so a slider move starts from it."""

    ident: tuple[str, int, tuple[int, int, int, int] | None, int]  # (sha, page index, crop, turn)
    image: np.ndarray
    reduced: float  # the copy's width per page width (after the crop)
    dpi: float | None  # the page's


def working_copy(ref: PageRef, s: ocr.Settings) -> Working:
    """The session's working copy of the page for the crop and turn of ``s``, made when it is not held."""
    ident = (ref.entry.sha, ref.page.index, s.crop, s.rotate)
    held: Working | None = st.session_state.get(keys.WORKING)
    if held is not None and held.ident == ident:
        return held
    image = ref.page.image
    if s.crop is not None:
        image = preprocessing.crop(image, s.crop)
    if s.rotate:
        image = preprocessing.rotate(image, s.rotate)
    reduced = 1.0
    if image.shape[0] * image.shape[1] > overlay.DISPLAY_PIXELS:
        reduced = math.sqrt(overlay.DISPLAY_PIXELS / (image.shape[0] * image.shape[1]))
        image = preprocessing.reduce(image, reduced)
    made = Working(ident=ident, image=np.ascontiguousarray(image), reduced=reduced, dpi=ref.page.dpi)
    st.session_state[keys.WORKING] = made
    return made


@st.cache_data(max_entries=256, ttl=TTL_S, show_spinner=False)
def _orientation(copy_key: str, _work: Working) -> tuple[int, float] | None:
    return engine().orientation(_work.image, (_work.dpi or ocr.DEFAULT_DPI) * _work.reduced)


def _orienter(work: Working) -> Callable[[np.ndarray, float], tuple[int, float] | None]:
    """The engine's orientation detection, asked once per working copy, on the copy (it is the slowest
    part of a preview: every setting after it, a resize too, would otherwise ask again)."""
    def orient(image: np.ndarray, dpi: float) -> tuple[int, float] | None:
        return _orientation(repr(work.ident), work)
    return orient


def run(work: Working, s: ocr.Settings) -> ocr.Processed:
    """The whole pipeline of ``s`` on the working copy, reduced further when the settings enlarge it,
    so that the result is about a megapixel whatever the scale."""
    enlarge = _enlarge(s, work.dpi)
    most = int(overlay.DISPLAY_PIXELS / enlarge**2) if enlarge > 1 else None
    return ocr.preprocess(work.image, s.replace(crop=None, rotate=0), dpi=work.dpi, max_pixels=most,
                          reduced=work.reduced, orient=_orienter(work))


@st.cache_data(max_entries=64, show_spinner=False)
def _processed(sha: str, index: int, settings_json: str, _work: Working) -> Preview:
    """The processed page at display size, encoded. Raises when it cannot be made."""
    s = ocr.Settings.from_dict(json.loads(settings_json))
    done = run(_work, s)
    image, shrink = overlay.fit(done.image)
    fmt: Literal["PNG", "JPEG"] = "PNG" if s.threshold != "none" else "JPEG"
    return Preview(
        data=overlay.encode(image, fmt.lower()), size=(image.shape[1], image.shape[0]), fmt=fmt,
        factor=done.factor * shrink,
        seconds=done.seconds, steps=tuple((step.name, step.seconds, step.detail) for step in done.steps),
        skew=done.skew, warnings=tuple(done.warnings),
    )


def drawn_in_browser(s: ocr.Settings) -> bool:
    """Whether the browser can draw the picture of ``s`` from the page before its threshold while the
    server makes it: a black & white level the person sets, then at most an inversion (pixel
    arithmetic: ``255 if grey > level else 0``, inverted)."""
    return s.threshold == "fixed" and s.invert in ("no", "yes") and s.morphology == "none" and not s.border


def _before_level(s: ocr.Settings) -> ocr.Settings:
    """The settings of the picture the level is applied to (the same for every level)."""
    return s.replace(threshold="none", invert="no", grayscale=True, threshold_value=128)


@st.cache_data(max_entries=16, ttl=TTL_S, show_spinner=False)
def _grey(sha: str, index: int, settings_json: str, _work: Working) -> bytes | None:
    done = run(_work, ocr.Settings.from_dict(json.loads(settings_json)))
    image, shrink = overlay.fit(done.image)
    return overlay.encode(image, "png") if shrink == 1.0 and image.ndim == 2 else None


def grey_before_level(ref: PageRef, s: ocr.Settings) -> bytes | None:
    """The processed page just before its black & white level (grey, lossless PNG), when the browser can
    draw the picture from it (:func:`drawn_in_browser`); else None. Cached on the settings without the
    level: moving the level does not make it again."""
    if not drawn_in_browser(s):
        return None
    try:
        return _grey(ref.entry.sha, ref.page.index, settings_key(_before_level(s)), working_copy(ref, s))
    except Exception:  # the server's picture says why; the browser simply does not draw ahead of it
        log.warning("the picture before the level could not be made", exc_info=True)
        return None


def processed(ref: PageRef, s: ocr.Settings) -> Preview:
    """The processed page at display size; when the settings cannot be applied, a Preview with only the
    sentence that says why (not cached: the next run tries again)."""
    try:
        return _processed(ref.entry.sha, ref.page.index, settings_key(s), working_copy(ref, s))
    except Exception as e:  # one sentence for the person; the other pages and settings go on
        return Preview(error=describe_error(e))

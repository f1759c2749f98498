"""The pictures the pages show: a file's thumbnail, the original page with the crop framed, and the
processed page as Tesseract will get it, all display-sized.

Each is cached with ``st.cache_data`` (every caller gets its own copy) on the file's SHA-256, the page's
index and the settings as text, never on an array, and bounded. A failure is never cached: the cached
function raises, and :func:`processed` turns the error into a sentence outside the cache, so a one-off
time-out is tried again on the next run.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import streamlit as st

import ocr
from ocr import overlay
from ocr.batch import describe_error

from .engine import engine
from .files import FileEntry, PageRef, pages_of
from .url import settings_key


@st.cache_data(max_entries=64, show_spinner=False)
def _thumbnail(sha: str, _pixels: Callable[[], np.ndarray]) -> bytes:
    return overlay.encode(overlay.thumbnail(_pixels(), 220), "jpeg")


def thumbnail(entry: FileEntry) -> bytes:
    """The file's first page, small, as JPEG bytes (the page is decoded only when not cached)."""
    return _thumbnail(entry.sha, lambda: pages_of(entry)[0].image)


@st.cache_data(max_entries=16, show_spinner=False)
def _display(sha: str, index: int, _page: ocr.Page) -> tuple[np.ndarray, float]:
    return overlay.fit(_page.image)


@st.cache_data(max_entries=32, show_spinner=False)
def _original(sha: str, index: int, crop: tuple[int, int, int, int] | None, _page: ocr.Page) -> bytes:
    image, factor = _display(sha, index, _page)
    return overlay.encode(overlay.draw_crop(image, crop, factor), "jpeg")


def original(ref: PageRef, crop: tuple[int, int, int, int] | None) -> bytes:
    """The page as it was opened, display-sized, with the crop framed (JPEG bytes)."""
    return _original(ref.entry.sha, ref.page.index, crop, ref.page)


@dataclass(frozen=True)
class Preview:
    """The processed page at display size, and what was done to it."""

    image: np.ndarray | None  # the processed page, display-sized (at most about a megapixel)
    data: bytes = b""  # encoded for the browser
    fmt: Literal["PNG", "JPEG"] = "PNG"  # PNG for black and white (sharp), JPEG for greys (small)
    factor: float = 1.0  # size of ``image`` relative to the full-size processed page
    seconds: float = 0.0  # preprocessing of the preview
    steps: tuple[tuple[str, float, str], ...] = ()  # (step, seconds, what it did)
    skew: float = 0.0
    warnings: tuple[str, ...] = ()
    error: str | None = None  # one sentence when the settings cannot be applied to this page

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the shown image."""
        return (0, 0) if self.image is None else (self.image.shape[1], self.image.shape[0])


@st.cache_data(max_entries=64, show_spinner=False)
def _processed(sha: str, index: int, settings_json: str, _page: ocr.Page) -> Preview:
    """The whole pipeline on a reduced copy of the page, reduced further when the settings enlarge it,
    so that the result is about a megapixel whatever the scale. Raises when it cannot be made."""
    s = ocr.Settings.from_dict(json.loads(settings_json))
    enlarge = s.target_dpi / (_page.dpi or 300) if s.target_dpi else s.scale
    done = ocr.preprocess(_page, s, max_pixels=int(overlay.DISPLAY_PIXELS / max(1.0, enlarge) ** 2),
                          orient=engine().orientation)
    image, shrink = overlay.fit(done.image)
    fmt: Literal["PNG", "JPEG"] = "PNG" if s.threshold != "none" else "JPEG"
    return Preview(
        image=image, data=overlay.encode(image, fmt.lower()), fmt=fmt, factor=done.factor * shrink,
        seconds=done.seconds, steps=tuple((step.name, step.seconds, step.detail) for step in done.steps),
        skew=done.skew, warnings=tuple(done.warnings),
    )


def processed(ref: PageRef, s: ocr.Settings) -> Preview:
    """The processed page at display size; when the settings cannot be applied, a Preview with only the
    sentence that says why (not cached: the next run tries again)."""
    try:
        return _processed(ref.entry.sha, ref.page.index, settings_key(s), ref.page)
    except Exception as e:  # one sentence for the person; the other pages and settings go on
        return Preview(image=None, error=describe_error(e))

"""Pictures for people: display-sized copies of pages, thumbnails, a crop frame, word boxes coloured by
confidence, and the encoded bytes a browser shows. The app draws nothing itself; it calls these.

Every function takes a uint8 array (gray or RGB) and returns a new one (or bytes); none keeps state.
Boxes and crops are in pixels of the image they are drawn on unless a scale is given.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import pandas as pd

from .preprocessing import reduce

DISPLAY_PIXELS = 1_000_000  # what a preview or a display copy is reduced to
MAX_SIDE = 8192  # no display copy is longer than this on a side (JPEG and PNG encoders stop at 65,500)
# Confidence bands for word boxes: (lowest confidence, RGB colour, what to call it).
BANDS = (
    (90.0, (27, 158, 77), "90+"),
    (70.0, (166, 166, 0), "70-90"),
    (50.0, (230, 120, 0), "50-70"),
    (-1.0, (215, 25, 28), "under 50"),
)


def rgb(image: np.ndarray) -> np.ndarray:
    """An RGB copy (gray is repeated into three channels)."""
    return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB) if image.ndim == 2 else image.copy()


def fit(image: np.ndarray, max_pixels: int = DISPLAY_PIXELS, max_side: int = MAX_SIDE) -> tuple[np.ndarray, float]:
    """The image reduced to at most ``max_pixels`` and ``max_side`` pixels on its longer side (never
    enlarged; a 100000x10 strip becomes 8192x1), and the factor it was reduced by."""
    h, w = image.shape[:2]
    factor = min(1.0, math.sqrt(max_pixels / (h * w)), max_side / max(h, w))
    if factor >= 1.0:
        return image, 1.0
    small = reduce(image, factor)
    return small, small.shape[1] / w


def thumbnail(image: np.ndarray, max_side: int = 320) -> np.ndarray:
    """A copy whose longer side is at most ``max_side`` pixels."""
    return fit(image, image.shape[0] * image.shape[1], max_side)[0]


def encode(image: np.ndarray, fmt: str = "png") -> bytes:
    """PNG (fast, light compression: sharp for black-and-white pages) or JPEG (small, for photos)."""
    array = cv2.cvtColor(image, cv2.COLOR_RGB2BGR) if image.ndim == 3 else image
    if fmt == "jpeg":
        ok, data = cv2.imencode(".jpg", array, [cv2.IMWRITE_JPEG_QUALITY, 85])
    else:
        ok, data = cv2.imencode(".png", array, [cv2.IMWRITE_PNG_COMPRESSION, 1])
    if not ok:
        raise ValueError("the image could not be encoded")
    return data.tobytes()


def _line(image: np.ndarray) -> int:
    """A line width that reads at display size."""
    return max(1, round(int(max(image.shape[:2])) / 500))


def draw_crop(image: np.ndarray, box: tuple[int, int, int, int] | None, scale: float = 1.0) -> np.ndarray:
    """The image with everything outside ``box`` (x, y, width, height; in pixels of the image before
    ``scale``) dimmed and the box framed. No box: an RGB copy."""
    out = rgb(image)
    if box is None:
        return out
    h, w = out.shape[:2]
    x0, y0 = max(0, round(box[0] * scale)), max(0, round(box[1] * scale))
    x1, y1 = min(w, round((box[0] + box[2]) * scale)), min(h, round((box[1] + box[3]) * scale))
    if x1 <= x0 or y1 <= y0:
        return (out * 0.4).astype(np.uint8)
    inside = out[y0:y1, x0:x1].copy()
    out = (out * 0.4).astype(np.uint8)
    out[y0:y1, x0:x1] = inside
    cv2.rectangle(out, (x0, y0), (x1 - 1, y1 - 1), (30, 110, 255), _line(out) + 1)
    return out


def band_colour(conf: float) -> tuple[int, int, int]:
    """The RGB colour of a word with confidence ``conf`` (0-100; -1 when Tesseract gave none)."""
    for low, colour, _ in BANDS:
        if conf >= low:
            return colour
    return BANDS[-1][1]


def draw_words(image: np.ndarray, words: pd.DataFrame, scale: tuple[float, float] = (1.0, 1.0),
               min_conf: float | None = None) -> np.ndarray:
    """The image with every word's box drawn in its confidence colour (see :data:`BANDS`), lightly
    filled so that low-confidence words stand out. ``words`` has ``left top width height conf`` in pixels
    of the image Tesseract read; ``scale`` maps them onto ``image``. ``min_conf`` hides surer words."""
    out = rgb(image)
    if words is None or not len(words):
        return out
    fill = out.copy()
    sx, sy = scale
    line = _line(out)
    for left, top, width, height, conf in words[["left", "top", "width", "height", "conf"]].itertuples(index=False):
        if min_conf is not None and conf >= min_conf:
            continue
        p0 = (int(left * sx), int(top * sy))
        p1 = (int((left + width) * sx), int((top + height) * sy))
        colour = band_colour(float(conf))
        cv2.rectangle(fill, p0, p1, colour, -1)
        cv2.rectangle(out, p0, p1, colour, line)
    return cv2.addWeighted(fill, 0.18, out, 0.82, 0)


# -- crops in the app's terms: percentages of the page ------------------------------------------------


def crop_box(size: tuple[int, int], xs: tuple[float, float],
             ys: tuple[float, float]) -> tuple[int, int, int, int] | None:
    """The crop (x, y, width, height in pixels) for the page ``size`` (width, height) covering ``xs`` and
    ``ys`` (percent ranges, 0-100). The whole page gives None (no crop)."""
    w, h = size
    x0, x1 = sorted(min(max(v, 0.0), 100.0) for v in xs)
    y0, y1 = sorted(min(max(v, 0.0), 100.0) for v in ys)
    if x0 <= 0 and x1 >= 100 and y0 <= 0 and y1 >= 100:
        return None
    left, top = round(w * x0 / 100), round(h * y0 / 100)
    right, bottom = max(left + 1, round(w * x1 / 100)), max(top + 1, round(h * y1 / 100))
    return left, top, min(right, w) - left or 1, min(bottom, h) - top or 1


def crop_percent(size: tuple[int, int], box: tuple[int, int, int, int] | None,
                 step: float = 0.5) -> tuple[tuple[float, float], tuple[float, float]]:
    """The percent ranges (x and y, rounded to ``step``) that show ``box`` on a page of ``size``."""
    if box is None:
        return (0.0, 100.0), (0.0, 100.0)
    w, h = size

    def pct(v: float, whole: int) -> float:
        return min(100.0, max(0.0, round(100.0 * v / whole / step) * step))

    x, y, bw, bh = box
    return (pct(x, w), pct(x + bw, w)), (pct(y, h), pct(y + bh, h))

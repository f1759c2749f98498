"""Image clean-up before recognition: small pure functions driven by one :class:`~ocr.settings.Settings`.

Each step takes a uint8 array (gray, or RGB where noted) and returns a new one; none does I/O or keeps
state. :func:`preprocess` runs the steps a ``Settings`` asks for, in a fixed order, timing each, and
carries the page's resolution along (a rescale multiplies it) so that Tesseract is told the truth.

Images are dark ink on light paper after :func:`invert`; morphology speaks of the ink.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from . import flatten
from .decode import DEFAULT_DPI
from .errors import OcrError, SettingsError, TooLargeError
from .settings import Settings

if TYPE_CHECKING:
    from .decode import Page

# Orientation detection turns a page only this sure (Tesseract's OSD confidence). Measured on the dev set
# and 80 drawn pages: pages truly turned by 90/180/270 degrees scored 9.3 to 16.8; on upright pages its
# wrong answers scored 2.1 at most.
ORIENT_MIN_CONF = 5.0


@dataclass
class Step:
    name: str
    seconds: float
    detail: str = ""


@dataclass
class Processed:
    """The output of :func:`preprocess`: the image, its resolution and what each step did.

    ``transform`` is the 3x3 matrix that takes a point of the original page (x, y in its pixels) to the
    processed image, through the crop, the turns, the resizes and the deskew; :meth:`to_original` maps
    boxes found on the processed image back onto the page as it was (what a searchable PDF needs).
    """

    image: np.ndarray
    dpi: float
    steps: list[Step] = field(default_factory=list)
    skew: float = 0.0  # degrees the deskew step turned the page (counter-clockwise positive)
    orientation: int = 0  # degrees clockwise the page was turned to stand upright (rotate + OSD)
    factor: float = 1.0  # size of the output relative to the (cropped, rotated) original
    warnings: list[str] = field(default_factory=list)
    settings: Settings | None = None
    transform: np.ndarray = field(default_factory=lambda: np.eye(3))
    source_size: tuple[int, int] = (0, 0)  # width, height of the original page
    bend: flatten.Bend | None = None  # set when a curled page was flattened: the exact way back

    @property
    def seconds(self) -> float:
        return sum(s.seconds for s in self.steps)

    def to_original(self, boxes: np.ndarray) -> np.ndarray:
        """Boxes (rows of left, top, width, height in processed pixels) as boxes on the original page:
        each box's corners mapped back, and the box around them. After a curled page was flattened
        (``bend``) the corners go back through its grid; ``transform`` is then only the closest matrix."""
        if self.bend is not None:
            return boxes_bent(self.bend, boxes)
        return boxes_through(np.linalg.inv(self.transform), boxes)


def boxes_through(matrix: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Boxes (N x 4: left, top, width, height) through a 3x3 point transform: the axis-aligned box
    around each box's mapped corners."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    if not len(boxes):
        return boxes
    x0, y0 = boxes[:, 0], boxes[:, 1]
    x1, y1 = x0 + boxes[:, 2], y0 + boxes[:, 3]
    corners = np.stack([np.stack([x, y, np.ones_like(x)]) for x, y in ((x0, y0), (x1, y0), (x0, y1), (x1, y1))])
    mapped = np.einsum("ij,kjn->kin", matrix, corners)  # (corner, xyw, box)
    xs, ys = mapped[:, 0, :] / mapped[:, 2, :], mapped[:, 1, :] / mapped[:, 2, :]
    left, top = xs.min(axis=0), ys.min(axis=0)
    return np.stack([left, top, xs.max(axis=0) - left, ys.max(axis=0) - top], axis=1)


def boxes_bent(bend: flatten.Bend, boxes: np.ndarray) -> np.ndarray:
    """Boxes (N x 4: left, top, width, height) of a processed image back through ``bend``: the box
    around each box's corners and edge midpoints mapped back (a curl bends a box's edges)."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    if not len(boxes):
        return boxes
    x0, y0, w, h = boxes.T
    fx = np.array([0, 0.5, 1, 1, 1, 0.5, 0, 0])
    fy = np.array([0, 0, 0, 0.5, 1, 1, 1, 0.5])
    points = np.stack([x0[:, None] + fx * w[:, None], y0[:, None] + fy * h[:, None]], axis=-1).reshape(-1, 2)
    back = bend.to_original(points).reshape(len(boxes), len(fx), 2)
    left, top = back[..., 0].min(axis=1), back[..., 1].min(axis=1)
    return np.stack([left, top, back[..., 0].max(axis=1) - left, back[..., 1].max(axis=1) - top], axis=1)


def _affine(m: np.ndarray) -> np.ndarray:
    """A 2x3 affine matrix as 3x3."""
    return np.vstack([m, [0.0, 0.0, 1.0]])


def _quarter(degrees: int, w: int, h: int) -> np.ndarray:
    """Where points go when an image of ``w`` x ``h`` pixels turns by ``degrees`` clockwise."""
    degrees %= 360
    if degrees == 90:
        return np.array([[0.0, -1.0, h], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    if degrees == 180:
        return np.array([[-1.0, 0.0, w], [0.0, -1.0, h], [0.0, 0.0, 1.0]])
    if degrees == 270:
        return np.array([[0.0, 1.0, 0.0], [-1.0, 0.0, w], [0.0, 0.0, 1.0]])
    return np.eye(3)


def _resized(before: tuple[int, ...], after: tuple[int, ...]) -> np.ndarray:
    """Where points go when an image of shape ``before`` is resized to ``after``."""
    return np.diag([after[1] / before[1], after[0] / before[0], 1.0])


# -- the steps ---------------------------------------------------------------------------------------


def to_gray(image: np.ndarray) -> np.ndarray:
    """Luminance of an RGB image; a gray image is returned as is."""
    if image.ndim == 2:
        return image
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)


def crop(image: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """The region ``(x, y, width, height)``, clipped to the image."""
    x, y, w, h = box
    height, width = image.shape[:2]
    x0, y0 = min(max(x, 0), width), min(max(y, 0), height)
    x1, y1 = min(x0 + w, width), min(y0 + h, height)
    if x1 <= x0 or y1 <= y0:
        raise SettingsError(f"the crop {tuple(box)} lies outside the {width}x{height} image.")
    return np.ascontiguousarray(image[y0:y1, x0:x1])


_ROTATE = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}


def rotate(image: np.ndarray, degrees: int) -> np.ndarray:
    """Turn by a multiple of 90 degrees clockwise."""
    degrees %= 360
    return image if degrees == 0 else cv2.rotate(image, _ROTATE[degrees])


def rescale(image: np.ndarray, factor: float) -> np.ndarray:
    """Resize by ``factor``: cubic interpolation to enlarge, pixel-area averaging to shrink."""
    if abs(factor - 1.0) < 1e-3:
        return image
    h, w = image.shape[:2]
    size = (max(1, round(w * factor)), max(1, round(h * factor)))
    return cv2.resize(image, size, interpolation=cv2.INTER_CUBIC if factor > 1 else cv2.INTER_AREA)


def reduce(image: np.ndarray, factor: float) -> np.ndarray:
    """Shrink by ``factor`` (< 1) quickly: halve with OpenCV's exact two-by-two area path while more than
    half must go, then pixel-area averaging for the rest. Looks like :func:`rescale` at a third of the
    cost on a 12-megapixel photo (what keeps a preview quick)."""
    while factor <= 0.5 and min(image.shape[:2]) >= 4:
        h, w = image.shape[:2]
        image = cv2.resize(image[: h - h % 2, : w - w % 2], (w // 2, h // 2), interpolation=cv2.INTER_AREA)
        factor *= 2
    return rescale(image, factor)


def _ink_mask(gray: np.ndarray) -> np.ndarray:
    """255 where Otsu calls a pixel ink (the darker class), 0 elsewhere."""
    _, mask = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    return mask


def find_skew(gray: np.ndarray, max_angle: float = 15.0) -> float:
    """The angle (degrees, counter-clockwise positive) that makes text lines horizontal.

    Projection-profile search: the rotation whose row sums of ink vary the most lines the text up with
    the rows. Coarse 1-degree steps, then 0.1-degree steps, on a copy about 800 pixels wide, with dark
    borders at the page edge left out.
    """
    mask = _ink_mask(gray)
    h, w = mask.shape
    shrink = min(1.0, 800 / max(h, w))
    if shrink < 1:
        mask = cv2.resize(mask, (max(1, round(w * shrink)), max(1, round(h * shrink))), interpolation=cv2.INTER_AREA)
    mask[_border_ink(mask)] = 0  # a scanner's dark border would line up with the rows at any angle
    if not mask.any():
        return 0.0
    h, w = mask.shape
    center = (w / 2, h / 2)

    def spread(angle: float) -> float:
        m = cv2.getRotationMatrix2D(center, angle, 1.0)
        turned = cv2.warpAffine(mask, m, (w, h), flags=cv2.INTER_NEAREST, borderValue=0)
        rows = turned.sum(axis=1, dtype=np.float64)
        return float(np.var(rows))

    coarse = np.arange(-max_angle, max_angle + 0.5, 1.0)
    best = max(coarse, key=spread)
    fine = np.arange(best - 1.0, best + 1.05, 0.1)
    best = max(fine, key=spread)
    # a flat profile gains nothing from turning: keep the page as it is
    return float(round(best, 1)) if spread(best) > spread(0.0) * 1.02 else 0.0


def turn_matrix(size: tuple[int, int], angle: float) -> tuple[np.ndarray, tuple[int, int]]:
    """The 2x3 matrix that turns an image of ``size`` (width, height) by ``angle`` degrees
    (counter-clockwise positive) about its centre into a canvas that keeps all of it, and that
    canvas's size."""
    w, h = size
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    cos, sin = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = math.ceil(h * sin + w * cos), math.ceil(h * cos + w * sin)
    m[0, 2] += nw / 2 - w / 2
    m[1, 2] += nh / 2 - h / 2
    return m, (nw, nh)


def turn(image: np.ndarray, angle: float) -> np.ndarray:
    """Rotate by ``angle`` degrees (counter-clockwise positive) about the centre, padding with the
    paper's colour (the image's brightest common value), keeping the whole page in view."""
    if abs(angle) < 0.05:
        return image
    h, w = image.shape[:2]
    m, (nw, nh) = turn_matrix((w, h), angle)
    channels = image.shape[2] if image.ndim == 3 else 1
    paper = tuple(int(v) for v in np.percentile(image.reshape(-1, channels), 95, axis=0))
    return cv2.warpAffine(image, m, (nw, nh), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_CONSTANT,
                          borderValue=paper)


def _odd(n: float, low: int = 3) -> int:
    n = max(low, round(n))
    return n if n % 2 else n + 1


def normalize_background(gray: np.ndarray, method: str = "blur", size: int = 0) -> np.ndarray:
    """Divide the page by an estimate of its background, flattening shadows, shading and coloured paper.

    ``blur`` estimates the background with a large median filter, ``close`` with a morphological closing
    (the ink removed by a dilation of the paper). ``size`` is the filter's width in pixels: larger than
    the strokes, smaller than the shadows; 0 picks a twentieth of the short side. The estimate is made on
    a reduced copy, so large sizes cost little.
    """
    h, w = gray.shape
    size = size or max(15, min(h, w) // 20)
    shrink = min(1.0, 15 / size)
    small = gray
    if shrink < 1:
        size_small = (max(1, round(w * shrink)), max(1, round(h * shrink)))
        small = cv2.resize(gray, size_small, interpolation=cv2.INTER_AREA)
    k = _odd(size * shrink)
    if method == "close":
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
        background = cv2.morphologyEx(small, cv2.MORPH_CLOSE, kernel)
    else:
        background = cv2.medianBlur(small, min(k, 255))
    if shrink < 1:
        background = cv2.resize(background, (w, h), interpolation=cv2.INTER_LINEAR)
    background = np.maximum(background, 1)
    return cv2.divide(gray, background, scale=255)


def denoise(gray: np.ndarray, method: str = "median", strength: int = 3) -> np.ndarray:
    """Remove speckle: a median filter of ``strength`` pixels, or non-local means of strength ``h``."""
    if method == "median":
        return cv2.medianBlur(gray, _odd(strength))
    if method == "nlmeans":
        return cv2.fastNlMeansDenoising(gray, None, h=float(strength), templateWindowSize=7, searchWindowSize=21)
    return gray


def equalize(gray: np.ndarray, clip: float = 2.0, tiles: int = 8) -> np.ndarray:
    """Contrast-limited adaptive histogram equalisation (CLAHE) over ``tiles`` x ``tiles`` regions."""
    return cv2.createCLAHE(clipLimit=clip, tileGridSize=(tiles, tiles)).apply(gray)


def threshold(gray: np.ndarray, method: str, *, value: int = 128, block_size: int = 31, c: float = 10.0,
              k: float = 0.2) -> np.ndarray:
    """Black and white (0/255).

    ``fixed``: ``value`` splits ink from paper. ``otsu``: one global split chosen from the histogram.
    ``adaptive_mean`` / ``adaptive_gaussian``: each pixel against the (Gaussian-weighted) mean of its
    ``block_size`` neighbourhood minus ``c``; for uneven lighting. ``sauvola``: the local threshold
    ``m * (1 + k * (s / 128 - 1))`` from the neighbourhood's mean ``m`` and deviation ``s`` (Sauvola and
    Pietikainen, 2000); for stained or faded paper.
    """
    if method == "none":
        return gray
    if method == "fixed":
        return np.where(gray > value, 255, 0).astype(np.uint8)
    if method == "otsu":
        return cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)[1]
    block = _odd(block_size)
    if method in ("adaptive_mean", "adaptive_gaussian"):
        kind = cv2.ADAPTIVE_THRESH_MEAN_C if method == "adaptive_mean" else cv2.ADAPTIVE_THRESH_GAUSSIAN_C
        return cv2.adaptiveThreshold(gray, 255, kind, cv2.THRESH_BINARY, block, c)
    if method == "sauvola":
        g = gray.astype(np.float32)
        mean = cv2.boxFilter(g, -1, (block, block), borderType=cv2.BORDER_REFLECT)
        sq = cv2.boxFilter(g * g, -1, (block, block), borderType=cv2.BORDER_REFLECT)
        std = np.sqrt(np.maximum(sq - mean * mean, 0))
        limit = mean * (1 + k * (std / 128.0 - 1))
        return np.where(g > limit, 255, 0).astype(np.uint8)
    raise ValueError(f"unknown threshold {method!r}")


def is_dark(gray: np.ndarray) -> bool:
    """True when most of the page is dark: light text on a dark ground."""
    return bool(np.count_nonzero(_ink_mask(gray)) > gray.size / 2)


def invert(image: np.ndarray) -> np.ndarray:
    return cv2.bitwise_not(image)


_MORPH = {"open": cv2.MORPH_OPEN, "close": cv2.MORPH_CLOSE, "dilate": cv2.MORPH_DILATE, "erode": cv2.MORPH_ERODE}


def morphology(gray: np.ndarray, op: str, size: int = 2) -> np.ndarray:
    """Shape the ink (dark strokes): ``open`` removes specks smaller than ``size``, ``close`` fills gaps,
    ``dilate`` thickens strokes, ``erode`` thins them. ``size`` is the square kernel's side in pixels."""
    if op == "none":
        return gray
    kernel = np.ones((max(1, size), max(1, size)), np.uint8)
    return cv2.bitwise_not(cv2.morphologyEx(cv2.bitwise_not(gray), _MORPH[op], kernel))


def _border_ink(mask: np.ndarray) -> np.ndarray:
    """True on ink regions that touch the page edge and span over a third of a side: scanner borders and
    book gutters, not letters cut off at the edge."""
    h, w = mask.shape
    _count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    x, y, bw, bh = stats[:, 0], stats[:, 1], stats[:, 2], stats[:, 3]
    border = ((x == 0) | (y == 0) | (x + bw == w) | (y + bh == h)) & ((bw > w / 3) | (bh > h / 3))
    border[0] = False  # the background label
    found: np.ndarray = border[labels]
    return found


def remove_border(gray: np.ndarray) -> np.ndarray:
    """Paint dark regions that touch the page edge (scanner borders, book gutters) with the paper colour.
    Ink touching the edge counts as border only where it spans over a third of a side: letters cut off
    at the edge stay."""
    out = gray.copy()
    out[_border_ink(_ink_mask(gray))] = int(np.percentile(gray, 95))
    return out


# -- the pipeline ------------------------------------------------------------------------------------


Orienter = Callable[[np.ndarray, float], "tuple[int, float] | None"]


def upright(image: np.ndarray, dpi: float, orient: Orienter | None = None) -> tuple[np.ndarray, int, str, str]:
    """The page turned upright as ``orient`` (by default Tesseract's orientation detection) finds it:
    ``(image, degrees turned clockwise, what happened, warning or "")``. The page is left as it is when
    the detection finds too little text or is not sure (:data:`ORIENT_MIN_CONF`), and, with a warning,
    when it fails (no orientation data, a time-out)."""
    if orient is None:
        from .engines import default_engine

        orient = default_engine().orientation
    try:
        found = orient(to_gray(image), dpi)  # a third of the bytes to the engine, and a quarter less time
    except OcrError as e:
        return image, 0, "failed; left as it is", f"Orientation detection failed ({e}); the page was left as it is."
    if found is None:
        return image, 0, "too little text to tell the orientation; left as it is", ""
    degrees, confidence = found
    if degrees % 360 and confidence < ORIENT_MIN_CONF:
        return image, 0, f"{degrees} degrees, but not sure enough (confidence {confidence:.1f}); left as it is", ""
    return rotate(image, degrees), degrees % 360, f"turned {degrees} degrees (confidence {confidence:.1f})", ""


def preprocess(
    image: np.ndarray | Page,
    settings: Settings | None = None,
    *,
    dpi: float | None = None,
    max_pixels: int | None = None,
    orient: Orienter | None = None,
    reduced: float = 1.0,
) -> Processed:
    """Run the pipeline ``settings`` describes on ``image`` (an array, or a :class:`~ocr.decode.Page`
    whose resolution is used).

    ``max_pixels`` makes a quick preview: the (cropped) page is first reduced to at most that many
    pixels and every size in pixels shrinks with it, so the preview looks like the full-size result.
    ``orient`` finds the page's orientation for ``auto_orient``; by default Tesseract's OSD.
    ``reduced`` says ``image`` is already such a reduced copy (that fraction of the page's width, made
    once and kept by a caller that previews many settings): sizes in pixels shrink with it, ``dpi`` is
    still the page's.
    """
    settings = settings or Settings()
    if not isinstance(image, np.ndarray):  # a Page
        dpi = dpi or image.dpi
        image = image.image
    known_dpi = dpi
    dpi = float(dpi or DEFAULT_DPI)
    out = Processed(image=image, dpi=dpi, source_size=(image.shape[1], image.shape[0]))

    def moved(m: np.ndarray) -> None:
        out.transform = m @ out.transform
        if out.bend is not None:
            out.bend = out.bend.then(m)

    def timed(name: str, fn: Callable[..., np.ndarray], *args: Any, detail: str = "", **kwargs: Any) -> np.ndarray:
        start = time.perf_counter()
        result = fn(*args, **kwargs)
        out.steps.append(Step(name, time.perf_counter() - start, detail))
        return result

    img = image
    if settings.crop is not None:
        img = timed("crop", crop, img, settings.crop, detail="x={} y={} w={} h={}".format(*settings.crop))
        x, y = (min(max(v, 0), limit) for v, limit in zip(settings.crop[:2], out.source_size))
        moved(np.array([[1.0, 0.0, -x], [0.0, 1.0, -y], [0.0, 0.0, 1.0]]))
    if settings.rotate:
        moved(_quarter(settings.rotate, img.shape[1], img.shape[0]))
        img = timed("rotate", rotate, img, settings.rotate, detail=f"{settings.rotate} degrees")
        out.orientation = settings.rotate

    preview = reduced
    dpi *= reduced
    if max_pixels and img.shape[0] * img.shape[1] > max_pixels:
        shrink = math.sqrt(max_pixels / (img.shape[0] * img.shape[1]))
        before = img.shape
        img = timed("preview", reduce, img, shrink, detail=f"reduced to {shrink:.2f} for the preview")
        moved(_resized(before, img.shape))
        dpi *= shrink
        preview *= shrink

    def px(n: float, low: int = 1) -> int:
        return max(low, round(n * preview))

    if settings.find_page:
        start = time.perf_counter()
        corners = flatten.find_page(to_gray(img))
        if corners is None:
            detail = "no page edge found inside the photo; left as it is"
        else:
            img, m = flatten.straighten(img, corners)
            moved(m)
            detail = "page found; straightened to {}x{}".format(*img.shape[1::-1])
        out.steps.append(Step("find page", time.perf_counter() - start, detail))

    if settings.auto_orient:
        start = time.perf_counter()
        before = img.shape
        img, degrees, detail, warning = upright(img, dpi, orient)
        moved(_quarter(degrees, before[1], before[0]))
        out.orientation = (out.orientation + degrees) % 360
        if warning:
            out.warnings.append(warning)
        out.steps.append(Step("auto-orient", time.perf_counter() - start, detail))

    if settings.uncurl:
        start = time.perf_counter()
        curl = flatten.find_curl(to_gray(img))
        if curl is None:
            detail = "too few text lines to see a curl; left as it is"
        elif curl.bend < flatten.STRAIGHT:
            detail = f"lines bent {curl.bend:.2f} line heights: straight already; left as it is"
        else:
            img, remap = flatten.uncurl(img, curl)
            out.bend = flatten.Bend(out.transform.copy(), remap, np.eye(3))
            out.transform = remap.homography() @ out.transform
            detail = f"lines bent {curl.bend:.1f} line heights, from {curl.lines} pieces; straightened"
        out.steps.append(Step("uncurl", time.perf_counter() - start, detail))

    if settings.grayscale or _needs_gray(settings):
        img = timed("grayscale", to_gray, img)

    factor = settings.scale
    detail = f"x{factor:g}"
    if settings.target_dpi:
        factor = settings.target_dpi / (known_dpi or DEFAULT_DPI)
        detail = f"x{factor:.2f} to reach {settings.target_dpi} dpi"
        detail += "" if known_dpi else f" (assuming {DEFAULT_DPI})"
    if abs(factor - 1.0) >= 1e-3:
        h, w = img.shape[:2]
        if h * w * factor * factor > 200_000_000 * preview * preview:
            raise TooLargeError(f"rescaling {w}x{h} by {factor:g} would make an image too large to read.")
        before = img.shape
        img = timed("rescale", rescale, img, factor, detail=detail)
        moved(_resized(before, img.shape))
        dpi *= factor
    out.factor = preview * factor

    if settings.deskew:
        start = time.perf_counter()
        angle = find_skew(to_gray(img), settings.max_skew)
        if abs(angle) >= 0.05:
            moved(_affine(turn_matrix((img.shape[1], img.shape[0]), angle)[0]))
        img = turn(img, angle)
        out.skew = angle
        out.steps.append(Step("deskew", time.perf_counter() - start, f"{angle:+.1f} degrees"))

    if settings.background != "none":
        size = px(settings.background_size) if settings.background_size else 0
        img = timed("background", normalize_background, img, settings.background, size, detail=settings.background)
    if settings.denoise != "none":
        strength = px(settings.denoise_strength) if settings.denoise == "median" else settings.denoise_strength
        img = timed("denoise", denoise, img, settings.denoise, strength, detail=f"{settings.denoise} {strength}")
    if settings.clahe:
        img = timed("contrast", equalize, img, settings.clahe_clip, settings.clahe_tile,
                    detail=f"CLAHE clip {settings.clahe_clip:g}")
    if settings.threshold != "none":
        img = timed(
            "threshold", threshold, img, settings.threshold, value=settings.threshold_value,
            block_size=px(settings.block_size, 3), c=settings.c, k=settings.sauvola_k, detail=settings.threshold,
        )
    if settings.invert == "yes" or (settings.invert == "auto" and is_dark(to_gray(img))):
        img = timed("invert", invert, img, detail=settings.invert)
    if settings.morphology != "none":
        size = px(settings.morph_kernel)
        img = timed("morphology", morphology, img, settings.morphology, size, detail=f"{settings.morphology} {size}px")
    if settings.border:
        img = timed("border", remove_border, img)

    out.image = img
    out.dpi = dpi
    out.settings = settings
    return out


def _needs_gray(s: Settings) -> bool:
    """Steps that work on one channel only."""
    return (s.background != "none" or s.denoise != "none" or s.clahe or s.threshold != "none"
            or s.morphology != "none" or s.border)

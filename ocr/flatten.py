"""Flatten photographed pages: find the page against what lies around it and straighten its
perspective, and straighten the text lines of a page that curls (towards a book's spine).

Two pure steps, each in two halves, so that a caller can look before it changes anything:

- :func:`find_page` finds the page's four corners where the page shows against a background (a table,
  a desk) and :func:`straighten` maps that quadrilateral onto an upright rectangle: a homography, so a
  point maps back exactly through its inverse.
- :func:`find_curl` models the text lines as level lines of a smooth sheet: a vertical displacement
  ``d(x, y)``, cubic B-splines across the page times a quadratic down it, fitted by penalised linear
  least squares so that every line found (a run of words merged into one blob) has one height after
  ``y - d(x, y)``. :func:`uncurl` resamples the page so those lines are straight. That is not a matrix:
  :class:`Remap` keeps where each output pixel came from on a coarse grid, which maps boxes back.

:func:`needs` says cheaply whether a photo shows either (a page edge inside the photo, lines that
curve), for auto-tune. Detection runs on a reduced copy, so its cost hardly grows with the photo.

References: M. Zucker, "Page dewarping" (2016), https://mzucker.github.io/2016/08/15/page-dewarping.html
(text lines as the level curves of a smooth page); P. Eilers and B. Marx, "Flexible smoothing with
B-splines and penalties", Statistical Science 11(2), 1996, doi:10.1214/ss/1038425655 (the fit).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

PAGE_PIXELS = 250_000  # find_page looks at a copy of at most this many pixels
CURL_PIXELS = 1_000_000  # find_curl looks at a copy of at most this many pixels
KNOTS = 16  # B-spline intervals across the page: a bend as narrow as a sixteenth of the page is followed
GRID = 16  # a Remap keeps one source point every GRID output pixels
MIN_LINES = 6  # fewer line pieces than this tell too little about a curl
CURVED = 0.5  # needs() calls lines curved when they bend more than this many line heights
STRAIGHT = 0.3  # lines bent less than this many line heights are left as they are (a flat page)


# -- mapping points through a warp -------------------------------------------------------------------


@dataclass(frozen=True, eq=False)  # holds arrays: compared and hashed as itself
class Remap:
    """Where each pixel of a warped image came from, on a coarse grid: ``x``, ``y`` (float32 arrays)
    hold the source point of the output pixel ``(origin + j * step, origin + i * step)`` at ``[i, j]``.
    :meth:`source` interpolates between them."""

    x: np.ndarray
    y: np.ndarray
    step: int
    origin: float

    def nodes(self) -> tuple[np.ndarray, np.ndarray]:
        """The output points the grid's nodes stand for (x and y, each shaped like the grid)."""
        rows, cols = self.x.shape
        xs = self.origin + np.arange(cols) * self.step
        ys = self.origin + np.arange(rows) * self.step
        gx, gy = np.meshgrid(xs, ys)
        return gx, gy

    def source(self, points: np.ndarray) -> np.ndarray:
        """Points (N x 2, output pixels) as points of the source image: bilinear between the grid's
        nodes, and beyond its outer nodes, on as the grid ends (one pixel out for one pixel out)."""
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        rows, cols = self.x.shape
        fx_raw, fy_raw = (pts[:, 0] - self.origin) / self.step, (pts[:, 1] - self.origin) / self.step
        gx, gy = np.clip(fx_raw, 0, cols - 1), np.clip(fy_raw, 0, rows - 1)
        x0 = np.minimum(np.floor(gx).astype(int), cols - 2).clip(0)
        y0 = np.minimum(np.floor(gy).astype(int), rows - 2).clip(0)
        x1, y1 = np.minimum(x0 + 1, cols - 1), np.minimum(y0 + 1, rows - 1)
        fx, fy = gx - x0, gy - y0
        out = np.empty_like(pts)
        for i, grid in enumerate((self.x, self.y)):
            g = grid.astype(np.float64)
            top = g[y0, x0] * (1 - fx) + g[y0, x1] * fx
            bottom = g[y1, x0] * (1 - fx) + g[y1, x1] * fx
            out[:, i] = top * (1 - fy) + bottom * fy
        out[:, 0] += (fx_raw - gx) * self.step
        out[:, 1] += (fy_raw - gy) * self.step
        return out

    def maps(self, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        """Full-size source maps (float32, ``size`` = width, height) for ``cv2.remap``, the same as
        :meth:`source` gives: the grid, with one more node around it continuing as it ends, enlarged
        by ``step`` (``cv2.resize`` puts node ``k`` at ``k * step + (step - 1) / 2``: :attr:`origin`)."""
        w, h = size
        gx = np.pad(self.x, 1, mode="edge")
        gy = np.pad(self.y, 1, mode="edge")
        gx[:, 0] -= self.step
        gx[:, -1] += self.step
        gy[0, :] -= self.step
        gy[-1, :] += self.step
        big = (gx.shape[1] * self.step, gx.shape[0] * self.step)
        first = self.step + round(self.origin - (self.step - 1) / 2)
        maps = []
        for grid in (gx, gy):
            m = cv2.resize(grid, big, interpolation=cv2.INTER_LINEAR)
            maps.append(np.ascontiguousarray(m[first:first + h, first:first + w]))
        return maps[0], maps[1]

    def homography(self) -> np.ndarray:
        """The 3x3 matrix (source to output) that comes closest to this warp: for code that only speaks
        matrices (least squares over the grid)."""
        gx, gy = self.nodes()
        out = np.stack([gx.ravel(), gy.ravel()], axis=1)
        src = np.stack([self.x.ravel(), self.y.ravel()], axis=1)
        m, _ = cv2.findHomography(src.astype(np.float32), out.astype(np.float32), 0)
        return np.asarray(m if m is not None else np.eye(3), dtype=np.float64)


@dataclass(frozen=True, eq=False)  # holds arrays: compared and hashed as itself
class Bend:
    """A pipeline that ran a :class:`Remap`: ``before`` (3x3) takes the original page to the remap's
    source, ``after`` (3x3) the remap's output to the processed image."""

    before: np.ndarray
    remap: Remap
    after: np.ndarray

    def then(self, m: np.ndarray) -> Bend:
        """This bend followed by the matrix ``m``."""
        return Bend(self.before, self.remap, m @ self.after)

    def to_original(self, points: np.ndarray) -> np.ndarray:
        """Points (N x 2) of the processed image as points of the original page."""
        return _through(np.linalg.inv(self.before), self.remap.source(_through(np.linalg.inv(self.after), points)))


def _through(m: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Points (N x 2) through a 3x3 point transform."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    h = np.hstack([pts, np.ones((len(pts), 1))]) @ m.T
    return np.asarray(h[:, :2] / h[:, 2:3])


def _shrunk(gray: np.ndarray, pixels: int) -> tuple[np.ndarray, float]:
    """A copy of at most ``pixels`` pixels (pixel-area averaging) and its scale."""
    h, w = gray.shape[:2]
    s = min(1.0, math.sqrt(pixels / (h * w)))
    if s >= 1.0:
        return gray, 1.0
    return cv2.resize(gray, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA), s


def _gray(image: np.ndarray) -> np.ndarray:
    return image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)


# -- the page in a photo -----------------------------------------------------------------------------


def _corners(hull: np.ndarray) -> np.ndarray | None:
    """The four corners of a convex outline (top-left, top-right, bottom-right, bottom-left), or None
    when it is not near a quadrilateral."""
    perimeter = cv2.arcLength(hull, True)
    for eps in np.linspace(0.01, 0.08, 15):
        quad = cv2.approxPolyDP(hull, eps * perimeter, True)
        if len(quad) == 4:
            break
    else:
        return None
    pts = quad.reshape(4, 2).astype(np.float64)
    centre = pts.mean(axis=0)
    pts = pts[np.argsort(np.arctan2(pts[:, 1] - centre[1], pts[:, 0] - centre[0]))]  # clockwise from the left
    first = int(np.argmin(pts.sum(axis=1)))
    return np.roll(pts, -first, axis=0)


def _refined(outline: np.ndarray, quad: np.ndarray) -> np.ndarray:
    """The corners again, as the meeting points of straight lines fitted to the middle of each side of
    ``outline`` (a median filter rounds a region's corners off; its straight sides it keeps)."""
    pts = outline.reshape(-1, 2).astype(np.float64)
    lines = []
    for a, b in zip(quad, np.roll(quad, -1, axis=0)):
        side = b - a
        length = float(np.hypot(*side))
        t = (pts - a) @ side / length**2
        off = np.abs((pts - a) @ np.array([-side[1], side[0]]) / length)
        near = pts[(t > 0.15) & (t < 0.85) & (off < 0.03 * length)]
        if len(near) < 2:
            return quad
        vx, vy, x0, y0 = cv2.fitLine(near.astype(np.float32), cv2.DIST_HUBER, 0, 0.01, 0.01).ravel()
        lines.append(np.cross([x0, y0, 1.0], [x0 + vx, y0 + vy, 1.0]))
    corners = []
    for i in range(4):
        p = np.cross(lines[i - 1], lines[i])
        if abs(p[2]) < 1e-9:
            return quad
        corners.append(p[:2] / p[2])
    out = np.array(corners)
    return out if np.abs(out - quad).max() < 0.1 * float(np.ptp(quad)) else quad


def _paper(small: np.ndarray, k: int) -> np.ndarray:
    """255 on the light region around the middle of ``small`` (text already filtered away): a flood
    fill from the brightest of a few points near the middle that follows shading that changes a little
    from pixel to pixel and stops at an edge (where paper meets table; Canny's edges are walls)."""
    h, w = small.shape
    seeds = [(w // 2 + dx * w // 6, h // 2 + dy * h // 6) for dx, dy in ((0, 0), (-1, 0), (1, 0), (0, -1), (0, 1))]
    seed = max(seeds, key=lambda p: int(small[p[1], p[0]]))
    # edges are walls: where a light stripe of the table meets the page in shadow, the fill must not leak
    walls = cv2.dilate(cv2.Canny(small, 20, 60), np.ones((3, 3), np.uint8))
    walled = np.where(walls > 0, 0, np.maximum(small, 8)).astype(np.uint8)
    if walled[seed[1], seed[0]] == 0:
        return np.zeros_like(small)
    mask = np.zeros((h + 2, w + 2), np.uint8)
    cv2.floodFill(walled, mask, seed, 0, loDiff=3, upDiff=3, flags=4 | cv2.FLOODFILL_MASK_ONLY | (255 << 8))
    region = mask[1:-1, 1:-1]
    return cv2.morphologyEx(region, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))


def find_page(gray: np.ndarray) -> np.ndarray | None:
    """The page's four corners (4 x 2, top-left first, clockwise, in ``gray``'s pixels) where a page
    shows against a background with an edge between them, or None: no edge stops the page, the page
    fills the photo, or its outline is not four straight sides.

    On a copy of a quarter of a megapixel, a median filter a fortieth of the photo wide takes the
    text away; the page is the region a flood fill from near the middle reaches while the light
    changes gently (shading and soft shadows pass, the step at the page's edge does not); its convex
    outline is reduced to four corners. The page must cover 15-97 % of the photo, fill its
    quadrilateral, and leave at least two sides inside the photo (else there is nothing to straighten).
    """
    gray = _gray(gray)
    small, s = _shrunk(gray, PAGE_PIXELS)
    h, w = small.shape
    k = max(3, round(max(h, w) / 40)) | 1
    mask = _paper(cv2.medianBlur(small, k), k)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    if not contours:
        return None
    outline = max(contours, key=cv2.contourArea)
    area = cv2.contourArea(outline)
    if not 0.15 * h * w <= area <= 0.97 * h * w:
        return None
    hull = cv2.convexHull(outline)
    quad = _corners(hull)
    if quad is None:
        return None
    quad = _refined(outline, quad)
    quad_area = cv2.contourArea(quad.astype(np.float32))
    if quad_area <= 0 or area / quad_area < 0.85 or cv2.contourArea(hull) / quad_area > 1.1:
        return None
    margin = 0.015 * max(h, w)
    mids = (quad + np.roll(quad, -1, axis=0)) / 2
    inside = ((mids[:, 0] > margin) & (mids[:, 0] < w - 1 - margin)
              & (mids[:, 1] > margin) & (mids[:, 1] < h - 1 - margin))
    if inside.sum() < 2:
        return None
    found: np.ndarray = (quad + 0.5) / s - 0.5
    return found


def page_size(corners: np.ndarray) -> tuple[int, int]:
    """Width and height of the rectangle a quadrilateral is straightened to: its longer opposite sides."""
    tl, tr, br, bl = corners
    w = max(np.linalg.norm(tr - tl), np.linalg.norm(br - bl))
    h = max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr))
    return max(1, round(w)), max(1, round(h))


def straighten(image: np.ndarray, corners: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The quadrilateral ``corners`` (from :func:`find_page`) of ``image`` mapped onto an upright
    rectangle, and the 3x3 matrix that takes points of ``image`` to it."""
    w, h = page_size(corners)
    target = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], dtype=np.float32)
    m = cv2.getPerspectiveTransform(corners.astype(np.float32), target)
    out = cv2.warpPerspective(image, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return out, np.asarray(m, dtype=np.float64)


# -- the curl of the text lines ----------------------------------------------------------------------


@dataclass(frozen=True, eq=False)  # holds arrays: compared and hashed as itself
class Curl:
    """A fitted sheet: ``y - d(x, y)`` is level along every text line. ``coef`` (KNOTS+3 x 3) weighs the
    B-splines across times 1, y, y^2 down, with x and y in units of the fitted image's ``size`` (width,
    height). ``bend`` is how far the lines bend from straight (the spread, peak to peak, of ``d`` less
    the plane closest to it over the text, in line heights); ``lines`` how many line pieces it was fitted to."""

    coef: np.ndarray
    size: tuple[int, int]
    bend: float
    lines: int
    line_height: float

    def shift(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """``d(x, y)`` in pixels of the fitted image."""
        w, h = self.size
        basis = _bsplines(np.asarray(x, dtype=np.float64) / w)
        yn = 2 * np.asarray(y, dtype=np.float64) / h - 1
        rows = np.stack([np.ones_like(yn), yn, yn * yn], axis=-1)
        return np.asarray(np.einsum("...i,ij,...j->...", basis, self.coef, rows) * h)


def _bsplines(u: np.ndarray) -> np.ndarray:
    """Uniform cubic B-splines on [0, 1] with :data:`KNOTS` intervals: shape ``u.shape + (KNOTS+3,)``;
    they sum to 1 everywhere (and go on as cubics beyond the ends)."""
    t = np.asarray(u, dtype=np.float64) * KNOTS
    i = np.clip(np.floor(t), 0, KNOTS - 1)
    f = t - i
    weights = np.stack([(1 - f) ** 3 / 6, (3 * f**3 - 6 * f**2 + 4) / 6, (-3 * f**3 + 3 * f**2 + 3 * f + 1) / 6,
                        f**3 / 6], axis=-1)
    out = np.zeros((*t.shape, KNOTS + 3))
    idx = i.astype(int)[..., None] + np.arange(4)
    np.put_along_axis(out, idx, weights, axis=-1)
    return out


def _line_points(gray: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Points along the middle of the text lines: (N x 2 points, N ids of the line piece each lies on,
    the text's line height in pixels). Letters are found by a local threshold, their median height
    sizes a horizontal closing that merges words into line pieces, and each piece long enough is
    sampled every half line height (the middle of its ink in that column; columns where it is taller
    than a line are left out). The pieces may climb or fall across the page: that is the curl."""
    h = gray.shape[0]
    ink = cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 31, 12)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    bw, bh, area = stats[1:, 2], stats[1:, 3], stats[1:, 4]
    letters = (bh >= 4) & (bh <= h / 15) & (bw <= 3 * bh) & (area >= 8) & (area <= 0.9 * bw * bh)
    if letters.sum() < 20:
        return np.zeros((0, 2)), np.zeros(0, int), 0.0
    size = float(np.median(bh[letters]))
    keep = np.zeros(n, bool)
    keep[1:] = letters & (bh <= 3 * size)
    text = np.where(keep[labels], 255, 0).astype(np.uint8)
    gap = max(3, round(size * 1.2))
    joined = cv2.morphologyEx(text, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (gap, 1)))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    pts, ids = [], []
    every = max(2, round(size / 2))
    for k in range(1, n):
        x, y, cw, ch = stats[k, :4]
        if cw < 5 * size or ch < 0.6 * size:
            continue
        piece = labels[y:y + ch, x:x + cw] == k
        cols = np.arange(0, cw, every)
        counts = piece[:, cols].sum(axis=0)
        rows = (piece[:, cols] * np.arange(ch)[:, None]).sum(axis=0)
        ok = (counts > 0) & (counts <= 2.5 * size)  # a column where two lines touch says nothing
        if np.median(counts) > 2.5 * size:  # a picture or a block of lines run together
            continue
        if ok.sum() < 4:
            continue
        pts.append(np.stack([x + cols[ok], y + rows[ok] / counts[ok]], axis=1))
        ids.append(np.full(int(ok.sum()), k))
    if not pts:
        return np.zeros((0, 2)), np.zeros(0, int), size
    return np.vstack(pts).astype(np.float64), np.concatenate(ids), size * 1.5


def _fit(points: np.ndarray, ids: np.ndarray, size: tuple[int, int], smooth: float = 0.1) -> np.ndarray:
    """The sheet's coefficients (KNOTS+3 x 3) by penalised least squares: each line piece's points,
    less their mean, against the basis less its mean over the piece (each piece's height drops out);
    a second-difference penalty across keeps it smooth where there is no text, and a small ridge
    picks, of sheets that differ by a function of y alone (no change to any line), the least."""
    w, h = size
    basis = _bsplines(points[:, 0] / w)
    yn = 2 * points[:, 1] / h - 1
    rows = np.stack([np.ones_like(yn), yn, yn * yn], axis=1)
    design = (basis[:, :, None] * rows[:, None, :]).reshape(len(points), -1)
    target = points[:, 1] / h
    _, inverse, counts = np.unique(ids, return_inverse=True, return_counts=True)

    def centred(a: np.ndarray) -> np.ndarray:
        sums = np.zeros((len(counts), *a.shape[1:]))
        np.add.at(sums, inverse, a)
        return np.asarray(a - (sums / counts.reshape((-1,) + (1,) * (a.ndim - 1)))[inverse])

    a, b = centred(design), centred(target)
    nb = KNOTS + 3
    d2 = np.diff(np.eye(nb), 2, axis=0)
    penalty = np.kron(d2, np.eye(3)) * math.sqrt(smooth * len(points) / nb)
    ridge = np.eye(nb * 3) * math.sqrt(1e-4 * len(points))
    normal = a.T @ a + penalty.T @ penalty + ridge.T @ ridge  # the normal equations: a few ms, not an SVD
    coef = np.linalg.solve(normal, a.T @ b)
    return np.asarray(coef.reshape(nb, 3))


def find_curl(gray: np.ndarray) -> Curl | None:
    """The sheet the text lines of ``gray`` lie on (see :class:`Curl`), fitted on a copy of at most
    :data:`CURL_PIXELS`, in ``gray``'s pixels; None when fewer than :data:`MIN_LINES` line pieces are
    found. Two rounds: points further than three robust deviations from the first fit are dropped."""
    gray = _gray(gray)
    small, s = _shrunk(gray, CURL_PIXELS)
    points, ids, line = _line_points(small)
    if len(np.unique(ids)) < MIN_LINES:
        return None
    size = (small.shape[1], small.shape[0])
    coef = _fit(points, ids, size)
    for _ in range(2):
        level = points[:, 1] - Curl(coef, size, 0.0, 0, line).shift(points[:, 0], points[:, 1])
        _, inverse = np.unique(ids, return_inverse=True)
        means = np.bincount(inverse, level) / np.bincount(inverse)
        resid = level - means[inverse]
        spread = 1.4826 * float(np.median(np.abs(resid))) + 1e-6
        good = np.abs(resid) <= 3 * spread
        if good.all() or len(np.unique(ids[good])) < MIN_LINES:
            break
        points, ids = points[good], ids[good]
        coef = _fit(points, ids, size)
    curl = Curl(coef, size, 0.0, len(np.unique(ids)), line)
    # how far the sheet departs from a plane (a plain slant) over the text, in line heights
    d = curl.shift(points[:, 0], points[:, 1])
    plane = np.stack([np.ones(len(points)), points[:, 0], points[:, 1]], axis=1)
    flat = d - plane @ np.linalg.lstsq(plane, d, rcond=None)[0]
    bend = float(np.subtract(*np.percentile(flat, [99, 1]))) / max(line, 1.0)
    # back to the caller's pixels: d scales with the image; the basis is in units of the size
    full = (gray.shape[1], gray.shape[0])
    return Curl(coef, full, bend, curl.lines, line / s)


def uncurl(image: np.ndarray, curl: Curl) -> tuple[np.ndarray, Remap]:
    """``image`` resampled so the text lines of ``curl`` (fitted on this image) are straight: each
    column moves up or down by the sheet's ``d``, so output row ``v`` takes the source row ``y`` with
    ``y - d(x, y) = v`` (a few fixed-point steps on a coarse grid). Returns the image and the
    :class:`Remap` that maps its points back."""
    h, w = image.shape[:2]
    origin = (GRID - 1) / 2
    cols, rows = math.ceil(w / GRID) + 1, math.ceil(h / GRID) + 1
    xx, vv = np.meshgrid(origin + np.arange(cols) * GRID, origin + np.arange(rows) * GRID)
    yy = vv.copy()
    for _ in range(6):
        yy = vv + curl.shift(xx, np.clip(yy, 0, h - 1))
    remap = Remap(xx.astype(np.float32), yy.astype(np.float32), GRID, origin)
    map_x, map_y = remap.maps((w, h))
    out = cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return out, remap


# -- what a photo shows ------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)  # holds arrays: compared and hashed as itself
class Needs:
    """What :func:`needs` sees in a photo: the page's corners when its edge shows inside the photo,
    how far the text lines bend (in line heights; 0 when too few lines were found) and whether that
    is :data:`CURVED`."""

    corners: np.ndarray | None
    bend: float

    @property
    def page_edge(self) -> bool:
        return self.corners is not None

    @property
    def curved(self) -> bool:
        return self.bend >= CURVED

    def settings(self) -> list[dict[str, bool]]:
        """The :class:`~ocr.settings.Settings` changes worth trying on this photo (none when it shows
        neither need), e.g. ``[{"find_page": True}, {"find_page": True, "uncurl": True}]``."""
        out: list[dict[str, bool]] = []
        if self.page_edge:
            out.append({"find_page": True})
        if self.curved:
            out.append({"uncurl": True})
            if self.page_edge:
                out.append({"find_page": True, "uncurl": True})
        return out


def needs(gray: np.ndarray) -> Needs:
    """Whether a photo (gray or RGB) shows a page edge inside it or text lines that curve: the page
    finder, and the sheet fitted on a copy of a quarter of a megapixel (cheap; bends measured in line
    heights do not change with the size). A page found is straightened before its lines are looked
    at, so the slant of a page in perspective is not taken for a curl."""
    gray = _gray(gray)
    corners = find_page(gray)
    small, _ = _shrunk(gray, 4 * PAGE_PIXELS)
    if corners is not None:
        s = small.shape[1] / gray.shape[1]
        small, _ = straighten(small, (corners + 0.5) * s - 0.5)
    curl = find_curl(small)
    return Needs(corners, curl.bend if curl is not None else 0.0)

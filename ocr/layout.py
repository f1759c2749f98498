"""Engine-neutral page layout: detected text lines to words, blocks and reading order.

A detector such as PP-OCR finds text lines (or pieces of lines) anywhere on the page and says nothing about
columns or reading order. :func:`arrange` turns such a list of :class:`TextLine` into what Tesseract gives:
the page's text in the order a person reads it and a list of :class:`Word` with boxes, numbered by block,
paragraph, line and word like Tesseract's TSV.

How the page is ordered (all in a "reading frame" where the text runs left to right and is level):

1. The frame: a page whose text mostly runs another way than left to right (a page turned by 90, 180 or 270
   degrees, told by the lines' character positions and shapes) is turned back, and the median slope of the
   long lines is levelled out, so the steps below only compare boxes.
2. Columns and blocks, by a recursive XY cut. A vertical cut is a channel that no line's core crosses (a box
   shrunk a little at both ends, because detected boxes of neighbouring columns touch). A cut between two
   sides whose lines sit at the same heights (a receipt's labels and prices) is only taken when both sides
   read as running text; otherwise the label and its price stay one printed line. Without a vertical cut the
   region is cut at wide horizontal gaps; bands that share a channel (two columns whose paragraph breaks
   happen to line up) are cut as columns together, so the left column is read to its end first.
3. Within a block, pieces at the same height form a printed line (left to right); a wider gap or an indented
   first line starts a paragraph.

Words get their boxes from the recogniser's character or word positions when the line carries them, and
otherwise from the line's box split in proportion to character counts.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from .engines.protocol import Word  # with what travels between processes: a Tesseract worker needs no NumPy

Box = tuple[float, float, float, float]  # left, top, right, bottom

# Thresholds in units of the page's median line height (the height of a detected line box).
_BLOCK_GAP = 0.75  # a vertical gap at least this tall between printed lines separates blocks
_PAR_GAP = 0.3  # ... and at least this tall, paragraphs
_INDENT = 1.0  # a first line indented by this much starts a paragraph
_CORE_TRIM = 1.0  # a box's core: trimmed by this much (at most 15% of its width) at both ends
_CORE_SHARE = 0.15
_ROW_OVERLAP = 0.5  # pieces overlapping vertically by this share of the smaller height share a line
_ROW_HEIGHTS = 0.5  # ... when the smaller height is at least this share of the larger
_CLASH = 0.3  # pieces overlapping horizontally by more than this share of the narrower one are stacked lines
_TEXT_CHARS = 12  # a side of a cut whose lines have at least this many characters (median) is running text
_TEXT_LINES = 3  # ... when it has at least this many lines
_VERTICAL = 1.5  # a line box this many times taller than wide runs top to bottom (as rapidocr decides)


class Piece(NamedTuple):
    """A recogniser's position of part of a line's text (one character or one word) in image pixels."""

    text: str
    conf: float  # 0-100
    box: Box


@dataclass(frozen=True, eq=False)
class TextLine:
    """One detected line (or piece of a line) and what was read in it.

    ``polygon``: its outline in image pixels, (x, y) points starting at the top left of the text and going
    clockwise as the text is upright (a 4-point box from a detector). ``conf``: 0-100. ``pieces``: optional
    positions of its characters or words, in reading order; their texts joined must equal the line's text
    without white space, else they are ignored.
    """

    polygon: tuple[tuple[float, float], ...]
    text: str
    conf: float
    pieces: tuple[Piece, ...] = field(default=())


@dataclass(frozen=True)
class _Frame:
    """The turn (clockwise degrees the page was turned: 0, 90, 180 or 270) and skew (radians) to undo."""

    width: float
    height: float
    turn: int = 0
    skew: float = 0.0

    def forward(self, points: np.ndarray) -> np.ndarray:
        """Image (x, y) points to the reading frame: text runs left to right, level."""
        x, y = points[:, 0], points[:, 1]
        if self.turn == 90:
            x, y = y, self.width - x
        elif self.turn == 180:
            x, y = self.width - x, self.height - y
        elif self.turn == 270:
            x, y = self.height - y, x
        c, s = math.cos(self.skew), math.sin(self.skew)
        return np.stack([x * c + y * s, -x * s + y * c], axis=1)

    def backward(self, points: np.ndarray) -> np.ndarray:
        """Reading-frame points back to image (x, y)."""
        c, s = math.cos(self.skew), math.sin(self.skew)
        u, v = points[:, 0], points[:, 1]
        x, y = u * c - v * s, u * s + v * c
        if self.turn == 90:
            x, y = self.width - y, x
        elif self.turn == 180:
            x, y = self.width - x, self.height - y
        elif self.turn == 270:
            x, y = y, self.height - x
        return np.stack([x, y], axis=1)


@dataclass(frozen=True)
class _Item:
    """A line in the reading frame: its box there, its text and where it came from."""

    index: int
    box: Box
    chars: int

    @property
    def height(self) -> float:
        return self.box[3] - self.box[1]

    @property
    def cy(self) -> float:
        return (self.box[1] + self.box[3]) / 2


def arrange(lines: Sequence[TextLine], size: tuple[int, int]) -> tuple[str, list[Word]]:
    """Order detected lines as a person reads them; return the text and the words with boxes.

    ``size`` is the image's (width, height) in pixels. The text has one printed line per line and a blank
    line between blocks, like Tesseract's; the words come in the same order, numbered by block, paragraph
    (line numbers restart in each), line and word, each from 1. Lines without text are dropped.
    """
    lines = [line for line in lines if line.text.split() and len(line.polygon) >= 3]
    if not lines:
        return "", []
    polygons = [np.asarray(line.polygon, dtype=np.float64).reshape(-1, 2) for line in lines]
    frame = _frame(lines, polygons, size)
    items = [_item(i, frame.forward(p), lines[i].text) for i, p in enumerate(polygons)]
    unit = max(statistics.median(item.height for item in items), 1.0)
    blocks = [_paragraphs(_rows(block, unit), unit) for block in _blocks(items, unit)]
    return _emit(blocks, lines, frame, size)


# ----------------------------------------------------------------------------------------------- frame


def _direction(points: np.ndarray) -> tuple[float, float]:
    """Angle (radians, image axes) and length of a polygon's longest edge: the way its text runs."""
    edges = np.roll(points, -1, axis=0) - points
    lengths = np.hypot(edges[:, 0], edges[:, 1])
    k = int(np.argmax(lengths))
    return math.atan2(float(edges[k, 1]), float(edges[k, 0])), float(lengths[k])


def _extent(points: np.ndarray) -> tuple[float, float]:
    """Width and height of a polygon's bounding box."""
    return float(np.ptp(points[:, 0])), float(np.ptp(points[:, 1]))


def _turn(lines: Sequence[TextLine], polygons: Sequence[np.ndarray]) -> int:
    """How the page was turned (0, 90, 180 or 270 degrees clockwise): the way most of its text runs.

    Each line votes with its length for the way its pieces run (first to last); a line without pieces
    runs left to right when it is wider than tall and downwards when clearly taller (a page turned
    clockwise, the way rapidocr reads such lines).
    """
    votes = {0: 0.0, 90: 0.0, 180: 0.0, 270: 0.0}
    for line, points in zip(lines, polygons):
        width, height = _extent(points)
        if len(line.pieces) >= 2:
            first, last = line.pieces[0].box, line.pieces[-1].box
            dx = (last[0] + last[2] - first[0] - first[2]) / 2
            dy = (last[1] + last[3] - first[1] - first[3]) / 2
            if abs(dx) >= abs(dy):
                votes[0 if dx >= 0 else 180] += max(width, height)
            else:
                votes[90 if dy > 0 else 270] += max(width, height)
        elif height >= _VERTICAL * width:
            votes[90] += height
        else:
            votes[0] += width
    return max(votes, key=lambda turn: (votes[turn], turn == 0))


def _frame(lines: Sequence[TextLine], polygons: Sequence[np.ndarray], size: tuple[int, int]) -> _Frame:
    """The reading frame: the page's turn, then the length-weighted median slope of its long lines."""
    turned = _Frame(float(size[0]), float(size[1]), _turn(lines, polygons))
    angles, weights = [], []
    for points in polygons:
        local = turned.forward(points)
        width, height = _extent(local)
        if width < 2 * height:
            continue  # too short to show a slope
        angle, length = _direction(local)
        angle = (angle + math.pi / 2) % math.pi - math.pi / 2  # the same line drawn either way
        if abs(angle) < math.radians(20):
            angles.append(angle)
            weights.append(length)
    if not angles:
        return turned
    order = np.argsort(angles)
    cumulative = np.cumsum(np.asarray(weights)[order])
    skew = float(np.asarray(angles)[order][int(np.searchsorted(cumulative, cumulative[-1] / 2))])
    return _Frame(turned.width, turned.height, turned.turn, skew)


def _item(index: int, points: np.ndarray, text: str) -> _Item:
    x0, y0 = points.min(axis=0)
    x1, y1 = points.max(axis=0)
    return _Item(index, (float(x0), float(y0), float(x1), float(y1)), len(text.strip()))


# ---------------------------------------------------------------------------------------------- blocks


def _core(item: _Item, unit: float) -> tuple[float, float]:
    """The item's x-range trimmed at both ends, so boxes of neighbouring columns that touch leave a gap."""
    x0, _, x1, _ = item.box
    trim = min(_CORE_TRIM * unit, _CORE_SHARE * (x1 - x0))
    return x0 + trim, x1 - trim


def _channels(items: Sequence[_Item], unit: float) -> list[tuple[float, float]]:
    """Vertical channels: x-ranges between the items' cores that no core crosses, inside the region."""
    spans = sorted(_core(item, unit) for item in items)
    gaps, reach = [], spans[0][1]
    for x0, x1 in spans[1:]:
        if x0 > reach:
            gaps.append((reach, x0))
        reach = max(reach, x1)
    return gaps


def _split(items: Sequence[_Item], cut: float) -> tuple[list[_Item], list[_Item]]:
    """Items left and right of a vertical cut, by their centres."""
    left = [item for item in items if (item.box[0] + item.box[2]) / 2 < cut]
    return left, [item for item in items if (item.box[0] + item.box[2]) / 2 >= cut]


def _same_line(a: Box, b: Box) -> float:
    """How much two boxes overlap vertically when they can be pieces of one printed line, else 0.

    They must overlap by half the smaller height and be of like heights (a large title beside small print
    is not one line).
    """
    ha, hb = a[3] - a[1], b[3] - b[1]
    overlap = min(a[3], b[3]) - max(a[1], b[1])
    if min(ha, hb) < _ROW_HEIGHTS * max(ha, hb) or overlap < _ROW_OVERLAP * min(ha, hb):
        return 0.0
    return max(overlap, 1e-9)


def _stacked(a: Box, b: Box) -> bool:
    """Whether two boxes overlap horizontally more than neighbouring pieces of one line do."""
    overlap = min(a[2], b[2]) - max(a[0], b[0])
    return overlap > _CLASH * min(a[2] - a[0], b[2] - b[0])


def _aligned(item: _Item, others: Sequence[_Item]) -> bool:
    """Whether some other item sits at the same height (the same printed line)."""
    return any(_same_line(item.box, other.box) > 0 for other in others)


def _running_text(items: Sequence[_Item]) -> bool:
    return len(items) >= _TEXT_LINES and statistics.median(item.chars for item in items) >= _TEXT_CHARS


def _is_column_cut(left: Sequence[_Item], right: Sequence[_Item]) -> bool:
    """Whether a channel separates two columns rather than the fields of a table's rows.

    Sides whose lines mostly sit at the same heights are one table (a receipt's labels and prices), unless
    both read as running text (two columns set on the same baseline grid).
    """
    if not left or not right:
        return False
    few, many = (left, right) if len(left) <= len(right) else (right, left)
    share = sum(_aligned(item, many) for item in few) / len(few)
    if share < 0.5:
        return True
    return _running_text(left) and _running_text(right)


def _column_cuts(items: Sequence[_Item], channels: Sequence[tuple[float, float]]) -> list[float]:
    """The channels (by their middles) that separate columns, left to right."""
    cuts: list[float] = []
    for x0, x1 in channels:
        cut = (x0 + x1) / 2
        left, right = _split(items, cut)
        if cuts:
            left = [item for item in left if (item.box[0] + item.box[2]) / 2 >= cuts[-1]]
        if _is_column_cut(left, right):
            cuts.append(cut)
    return cuts


def _columns(items: Sequence[_Item], cuts: Sequence[float]) -> list[list[_Item]]:
    """Items split at the cuts into columns, left to right."""
    columns: list[list[_Item]] = [[] for _ in range(len(cuts) + 1)]
    for item in items:
        centre = (item.box[0] + item.box[2]) / 2
        columns[sum(centre >= cut for cut in cuts)].append(item)
    return [column for column in columns if column]


def _bands(items: Sequence[_Item], unit: float) -> list[list[_Item]]:
    """Items split at horizontal gaps at least a block gap tall, top to bottom."""
    ordered = sorted(items, key=lambda item: item.box[1])
    bands, reach = [[ordered[0]]], ordered[0].box[3]
    for item in ordered[1:]:
        if item.box[1] - reach >= _BLOCK_GAP * unit:
            bands.append([])
        bands[-1].append(item)
        reach = max(reach, item.box[3])
    return bands


def _intersect(a: Sequence[tuple[float, float]], b: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    out = []
    for x0, x1 in a:
        for u0, u1 in b:
            lo, hi = max(x0, u0), min(x1, u1)
            if lo < hi:
                out.append((lo, hi))
    return out


def _blocks(items: Sequence[_Item], unit: float) -> list[list[_Item]]:
    """Blocks in reading order, by a recursive XY cut (see the module's docstring)."""
    if len(items) <= 1:
        return [list(items)]
    cuts = _column_cuts(items, _channels(items, unit))
    if cuts:
        return [block for column in _columns(items, cuts) for block in _blocks(column, unit)]
    bands = _bands(items, unit)
    if len(bands) == 1:
        return [list(items)]
    out: list[list[_Item]] = []
    start = 0
    while start < len(bands):
        shared, end = _channels(bands[start], unit), start + 1
        while end < len(bands) and shared:
            joint = _intersect(shared, _channels(bands[end], unit))
            if not joint:
                break
            shared, end = joint, end + 1
        group = [item for band in bands[start:end] for item in band]
        cuts = _column_cuts(group, shared) if end - start > 1 else []
        if cuts:
            out.extend(block for column in _columns(group, cuts) for block in _blocks(column, unit))
            start = end
        else:
            out.extend(_blocks(bands[start], unit))
            start += 1
    return out


# ------------------------------------------------------------------------------------ lines, paragraphs


def _rows(items: Sequence[_Item], unit: float) -> list[list[_Item]]:
    """Printed lines of a block: items at the same height, each line left to right, lines top to bottom."""
    rows: list[list[_Item]] = []
    for item in sorted(items, key=lambda it: it.cy):
        best, best_overlap = None, 0.0
        for row in rows[-3:]:
            band = (0.0, statistics.median(it.box[1] for it in row), 0.0, statistics.median(it.box[3] for it in row))
            overlap = _same_line(item.box, band)
            if overlap > best_overlap and not any(_stacked(item.box, it.box) for it in row):
                best, best_overlap = row, overlap
        if best is None:
            rows.append([item])
        else:
            best.append(item)
    for row in rows:
        row.sort(key=lambda it: it.box[0])
    rows.sort(key=lambda row: statistics.median(it.box[1] for it in row))
    return rows


def _paragraphs(rows: list[list[_Item]], unit: float) -> list[list[list[_Item]]]:
    """Rows split into paragraphs: at a gap taller than usual, or at a first line indented after a flush one."""
    if not rows:
        return []
    lefts = [row[0].box[0] for row in rows]
    margin = statistics.median(lefts)
    pars: list[list[list[_Item]]] = [[rows[0]]]
    for prev, row, left, prev_left in zip(rows, rows[1:], lefts[1:], lefts):
        gap = min(it.box[1] for it in row) - max(it.box[3] for it in prev)
        indented = left - margin >= _INDENT * unit and prev_left - margin < _INDENT * unit
        if gap >= _PAR_GAP * unit or (indented and len(rows) > 2):
            pars.append([])
        pars[-1].append(row)
    return pars


# ------------------------------------------------------------------------------------------------ words


def _piece_boxes(line: TextLine, tokens: Sequence[str]) -> list[tuple[Box, float]] | None:
    """Each token's box (union of its pieces) and confidence (their mean), or None when pieces don't fit."""
    if not line.pieces or "".join(p.text for p in line.pieces) != "".join(tokens):
        return None
    owner: list[int] = []  # token index of each non-space character
    for t, token in enumerate(tokens):
        owner.extend([t] * len(token))
    found: list[list[Piece]] = [[] for _ in tokens]
    pos = 0
    for piece in line.pieces:
        span = set(owner[pos:pos + len(piece.text)])
        if len(span) != 1:
            return None  # a piece across two words
        found[span.pop()].append(piece)
        pos += len(piece.text)
    out = []
    for pieces in found:
        boxes = np.asarray([p.box for p in pieces], dtype=np.float64)
        box = (boxes[:, 0].min(), boxes[:, 1].min(), boxes[:, 2].max(), boxes[:, 3].max())
        out.append((tuple(float(v) for v in box), float(np.mean([p.conf for p in pieces]))))
    return out  # type: ignore[return-value]


def _share_boxes(line: TextLine, tokens: Sequence[str], frame: _Frame, item: _Item) -> list[tuple[Box, float]]:
    """Each token's box by its share of the line's characters (spaces count), cut along the reading frame."""
    total = sum(len(t) for t in tokens) + len(tokens) - 1
    x0, y0, x1, y1 = item.box
    step = (x1 - x0) / max(total, 1)
    out, pos = [], 0
    for token in tokens:
        a, b = x0 + pos * step, x0 + (pos + len(token)) * step
        corners = frame.backward(np.asarray([[a, y0], [b, y0], [b, y1], [a, y1]], dtype=np.float64))
        lo, hi = corners.min(axis=0), corners.max(axis=0)
        out.append(((float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])), line.conf))
        pos += len(token) + 1
    return out


def _word(text: str, conf: float, box: Box, size: tuple[int, int], numbers: tuple[int, int, int, int]) -> Word:
    """A Word with its box rounded and clipped to the image."""
    width, height = size
    left = min(max(math.floor(box[0]), 0), max(width - 1, 0))
    top = min(max(math.floor(box[1]), 0), max(height - 1, 0))
    right = min(max(math.ceil(box[2]), left + 1), width)
    bottom = min(max(math.ceil(box[3]), top + 1), height)
    conf = round(min(max(conf, 0.0), 100.0), 2)
    return Word(text, conf, left, top, max(right - left, 1), max(bottom - top, 1), *numbers)


def _emit(blocks: list[list[list[list[_Item]]]], lines: Sequence[TextLine], frame: _Frame,
          size: tuple[int, int]) -> tuple[str, list[Word]]:
    """The text and the numbered words of the ordered blocks."""
    words: list[Word] = []
    texts: list[str] = []
    for b, pars in enumerate(blocks, start=1):
        block_lines: list[str] = []
        for p, rows in enumerate(pars, start=1):
            for n, row in enumerate(rows, start=1):
                row_tokens: list[str] = []
                for item in row:
                    line = lines[item.index]
                    tokens = line.text.split()
                    boxes = _piece_boxes(line, tokens) or _share_boxes(line, tokens, frame, item)
                    for token, (box, conf) in zip(tokens, boxes):
                        row_tokens.append(token)
                        words.append(_word(token, conf, box, size, (b, p, n, len(row_tokens))))
                block_lines.append(" ".join(row_tokens))
        texts.append("\n".join(block_lines))
    return "\n\n".join(texts), words


# ------------------------------------------------------------------------------------------ ink fitting

_INK_CONTRAST = 24  # gray levels between ink and paper below which a word's box is left as it is
_INK_SHARE = 0.02  # a row or column belongs to the word when this share of it (at least 1 pixel) is ink
_INK_WIDTH = 0.8  # ink narrower than this share of the box is doubtful: the box keeps its sides
_INK_HEIGHT = 0.35  # ink lower than this share of the box is doubtful: the box keeps its top and bottom


def _otsu(values: np.ndarray) -> float:
    """Otsu's threshold of uint8 values: the level that best splits them into two classes."""
    counts = np.bincount(values.ravel(), minlength=256).astype(np.float64)
    levels = np.arange(256, dtype=np.float64)
    weight = np.cumsum(counts)
    mass = np.cumsum(counts * levels)
    total, total_mass = weight[-1], mass[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (total_mass * weight - mass * total) ** 2 / (weight * (total - weight))
    return float(np.nanargmax(np.nan_to_num(between[:-1], nan=-1.0)))


def _ink_bounds(region: np.ndarray) -> tuple[int, int, int, int] | None:
    """Bounds (x0, y0, x1, y1) of the ink in a word's region of a gray page, or None when unclear."""
    if region.shape[0] < 3 or region.shape[1] < 3:
        return None
    level = _otsu(region)
    dark = region <= level
    if not dark.any() or dark.all() or region[~dark].mean() - region[dark].mean() < _INK_CONTRAST:
        return None
    ink = dark if dark.mean() <= 0.5 else ~dark  # ink is the smaller class (light text on dark too)
    rows = np.flatnonzero(ink.sum(axis=1) >= max(1.0, _INK_SHARE * ink.shape[1]))
    cols = np.flatnonzero(ink.sum(axis=0) >= max(1.0, _INK_SHARE * ink.shape[0]))
    if rows.size == 0 or cols.size == 0:
        return None
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def fit_to_ink(words: Sequence[Word], image: np.ndarray) -> list[Word]:
    """Words with their boxes shrunk to the ink inside them, as Tesseract's boxes are.

    Detectors' line boxes reach well above and below the letters; this keeps each word's box within what
    it had and fits it to the dark (or, on dark paper, light) pixels found by Otsu's threshold inside it.
    A box whose inside shows no clear ink stays as it is, and so do its sides (or its top and bottom) when
    the ink found spans too little of it to be the whole word (blur and uneven light split letters).
    ``image``: the page the words were read from, uint8 gray or RGB.
    """
    gray = image if image.ndim == 2 else image[..., :3].mean(axis=2).astype(np.uint8)
    out = []
    for word in words:
        region = gray[word.top:word.top + word.height, word.left:word.left + word.width]
        bounds = _ink_bounds(region)
        if bounds is None:
            out.append(word)
            continue
        x0, y0, x1, y1 = bounds
        if x1 - x0 < _INK_WIDTH * word.width:
            x0, x1 = 0, word.width
        if y1 - y0 < _INK_HEIGHT * word.height:
            y0, y1 = 0, word.height
        out.append(word._replace(left=word.left + x0, top=word.top + y0, width=x1 - x0, height=y1 - y0))
    return out

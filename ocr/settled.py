"""Whether a reading leaves anything for another engine to do, judged from the reading and the page alone.

``engine="auto"`` reads a page with the first engine (Tesseract) and asks the others only when
:func:`unsettled` names a reason: too little read, words the engine doubted, symbols ordinary text hardly
has, or ink that looks like print and lies outside every word it read (text it missed: a page-level
confidence alone was shown to let such pages through). :func:`looks_turned` tells an upright reading from
the nonsense a page lying turned gives, so orientation detection runs only when it can change something.
The thresholds and the pages they were chosen and checked on: docs/accuracy.md, "When the second engine
reads".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from .judge import Judgement, judge
from .preprocessing import normalize_background, reduce, to_gray
from .result import Result, word_boxes

MIN_CHARS = 20  # fewer characters read than this: the page may hold text the engine did not see
MIN_CONF = 90.0  # the words' mean confidence, on Tesseract's scale
DOUBTED = 60.0  # a word below this confidence is doubted ...
MOST_DOUBTED = 0.05  # ... and more than this share of them unsettles the reading
MOST_GARBAGE = 0.01  # symbols ordinary text hardly has, as a share of the characters read
MOST_MISSED = 0.03  # print-like marks outside every word read, as a share of all print-like marks
SENSIBLE = 0.4  # an upright reading has at least this share of its characters in words or numbers
WORK_HEIGHT = 16.0  # pixels: the ink is looked at with words about this tall (a reduced copy)
WORK_PIXELS = 2_000_000  # and on at most this many pixels


@dataclass(frozen=True)
class Missed:
    """Print-like marks on the page (connected pieces of ink about a letter's size) and how many lie
    outside every word's box."""

    marks: int
    outside: int

    @property
    def share(self) -> float:
        return self.outside / max(1, self.marks)


def missed(image: np.ndarray, result: Result) -> Missed:
    """The print-like marks of ``image`` (the picture ``result`` was read from) left outside its words."""
    words = result.columns()
    gray = to_gray(image)
    height = float(np.median(words["height"])) if len(words["height"]) else 0.0
    shrink = min(1.0, WORK_HEIGHT / height if height > 0 else 1.0,
                 math.sqrt(WORK_PIXELS / max(1, gray.shape[0] * gray.shape[1])))
    if shrink < 1:
        gray = reduce(gray, shrink)
    letter = height * shrink if height > 0 else max(8.0, gray.shape[0] / 60)
    _, ink = cv2.threshold(normalize_background(gray), 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    _, _, stats, centres = cv2.connectedComponentsWithStats(ink, connectivity=8)
    h, w = stats[1:, cv2.CC_STAT_HEIGHT], stats[1:, cv2.CC_STAT_WIDTH]
    printed = (h >= 0.35 * letter) & (h <= 2.5 * letter) & (w <= 3 * letter) & \
              (stats[1:, cv2.CC_STAT_AREA] >= 0.05 * letter * letter)
    covered = np.zeros(ink.shape, dtype=bool)
    pad = max(1, round(0.3 * letter))
    for left, top, width, tall in (word_boxes(words) * shrink).astype(int):
        covered[max(0, top - pad):top + tall + pad, max(0, left - pad):left + width + pad] = True
    x = np.clip(centres[1:, 0].astype(int), 0, ink.shape[1] - 1)
    y = np.clip(centres[1:, 1].astype(int), 0, ink.shape[0] - 1)
    return Missed(marks=int(printed.sum()), outside=int((printed & ~covered[y, x]).sum()))


def unsettled(result: Result, image: np.ndarray, judgement: Judgement | None = None) -> str:
    """Why another engine should read this page too, in a few words; "" when the reading stands."""
    j = judgement or judge(result)
    if j.chars < MIN_CHARS:
        return "little text was read"
    conf = result.columns()["conf"].astype(float)
    conf = conf[conf >= 0]
    if j.mean_conf < MIN_CONF or (len(conf) and float((conf < DOUBTED).mean()) > MOST_DOUBTED):
        return "the engine doubted some words"
    if j.garbage > MOST_GARBAGE * j.chars:
        return "it holds symbols text hardly has"
    if missed(image, result).share > MOST_MISSED:
        return "some print lies outside the words read"
    return ""


def looks_turned(result: Result, judgement: Judgement | None = None) -> bool:
    """Whether a reading looks like what an engine makes of a page lying turned (or of nothing): few
    characters, or few of them in words of the language and numbers."""
    j = judgement or judge(result)
    return j.chars < MIN_CHARS or j.dictionary + j.numbers < SENSIBLE * j.chars

"""How well was a page read, judged without its true text, alike for every engine.

The score counts characters that look right (dictionary words, well-formed numbers and codes, plausible
unknown words at good confidence) minus characters that look wrong (symbol soup, implausible words, a
word split off from its row, a word read twice over itself, specks in the margin), after putting the
engine's confidences on Tesseract's scale (its registry entry's calibration). Scores are in characters,
so readings of one page by different engines, scales and clean-ups compare directly. The rules and how
they were chosen: docs/accuracy.md, "How the choice is made".
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .engines import registry
from .result import word_boxes, word_columns

if TYPE_CHECKING:
    import pandas as pd

    from .result import Result, Rows

Columns = dict[str, np.ndarray]  # words by column (Result.columns)

# Edges of a token that are punctuation rather than part of the word.
_EDGE = "\"'`.,;:!?()[]{}<>«»“”‘’*_"
_NUMBER = re.compile(
    r"^[-+(]?(?:[$€£¥]|rm|rs|usd|eur)?\s?"  # sign and currency
    r"(?:\d[\d,.]*(?:[.:/-]\d+)*)"  # 12, 1,234.50, 22/04/2022, 14:18, 2020-01-31
    r"(?:%|[a-z]{1,3})?[)]?$",  # percent or a short unit: 5kg, 500ml, 12pc, 3rd
    re.I,
)
_CODE = re.compile(r"^(?=.*\d)(?=.*[a-z])[a-z0-9]+(?:[-/.][a-z0-9]+)*$", re.I)  # A4, C40260, SN-12/B
_SPLIT = re.compile(r"[-/']|\u2019")
_INSIDE = re.compile(r"[^\w'\u2019-]+")  # punctuation that splits a token into words
_ODD = set("|~^{}<>=_*#@\\\u00a2\u00a7\u2122\u00ae\u00a9")  # symbols ordinary text hardly has


@dataclass(frozen=True)
class Weights:
    """The judge's few numbers. Defaults were chosen on drawn pages and the dev set, then checked on
    drawn pages of other text (see docs/accuracy.md)."""

    dict_low_conf: float = 0.8  # credit for a dictionary word Tesseract gave under 50 %
    number_min: float = 0.0  # credit per character of a number or code at confidence 0 ...
    number_max: float = 1.0  # ... and at confidence 100
    short_credit: float = 0.5  # at most this credit per character for words of 1-3 letters
    unknown_min: float = -1.0  # credit per character of an unknown word at confidence 0 ...
    unknown_max: float = 0.5  # ... and at confidence 100
    garbage: float = -1.0  # credit per character of symbol soup
    stray: float = -1.0  # credit per character of a word split off from its row into a block of its own
    plausible: float = -2.5  # mean log-probability per letter (trigram) at which an unknown word earns its
    implausible: float = -4.0  # ... best credit, and at which it earns its worst (from the dictionary's words)
    layout: float = -1.0  # credit per character of a word read twice over itself, or a speck in the margin
    accentless: float = 0.5  # credit per character of a dictionary word without the accents its language's
    # dictionary also has it with ("etait" for "était"): a reading that drops a language's letters is worse


DEFAULT_WEIGHTS = Weights()


@dataclass
class Judgement:
    """The score of one reading and the counts it was made from."""

    score: float = 0.0
    words: int = 0
    chars: int = 0
    dictionary: int = 0  # characters in dictionary words of 4+ letters
    numbers: int = 0  # characters in numbers and codes
    unknown: int = 0  # characters in other words
    garbage: int = 0  # characters in symbol soup
    stray: int = 0  # characters of words split off from their row (read out of order)
    layout: int = 0  # characters read twice over themselves, or specks in the margins
    mean_conf: float = 0.0


def load_words(lang: str) -> frozenset[str]:
    """The dictionary of each language in ``lang`` (``"eng+deu"``), joined; cached per process."""
    return _load_words(lang)


@lru_cache(maxsize=8)
def _load_words(lang: str) -> frozenset[str]:
    from .engines import wordlist

    each: list[frozenset[str]] = []
    for part in lang.split("+"):
        with contextlib.suppress(Exception):  # no dictionary for this language: the judge leans on confidence
            each.append(wordlist(part))
    return each[0] if len(each) == 1 else frozenset().union(*each)


def fold(word: str) -> str:
    """``word`` without its accents ("été" -> "ete", "Straße" stays)."""
    return "".join(ch for ch in unicodedata.normalize("NFD", word) if unicodedata.category(ch) != "Mn")


def accented(lang: str) -> frozenset[str]:
    """The words of each language of ``lang`` but English that its dictionary has with accents, as they
    read without them ("etait"): a reading of that language that has them dropped its letters."""
    return _accented(lang)


@lru_cache(maxsize=8)
def _accented(lang: str) -> frozenset[str]:
    out: set[str] = set()
    for part in lang.split("+"):
        if part != "eng":
            out |= {folded for w in load_words(part) if (folded := fold(w)) != w}
    return frozenset(out)


class CharModel:
    """A character trigram model of a language's words: how plausible a string of letters is as a word.
    Trained on the dictionary (add-k smoothing); ``^`` and ``$`` mark a word's edges."""

    def __init__(self, trigrams: dict[str, int], k: float = 0.1) -> None:
        self.trigrams: Counter[str] = Counter(trigrams)
        self.contexts: Counter[str] = Counter()
        for gram, count in trigrams.items():
            self.contexts[gram[:2]] += count
        alphabet = {ch for gram in trigrams for ch in gram if ch not in "^$"}
        self.k, self.size = k, len(alphabet) + 2

    @classmethod
    def of(cls, words: Iterable[str]) -> CharModel:
        """The model of these words."""
        trigrams: Counter[str] = Counter()
        for word in words:
            padded = "^^" + "".join(ch for ch in word.lower() if ch.isalpha()) + "$"
            trigrams.update(padded[i - 2:i + 1] for i in range(2, len(padded)))
        return cls(dict(trigrams))

    def plausibility(self, word: str) -> float:
        """Mean log-probability per letter of ``word`` (its letters, lower-cased): about -2 for ordinary
        words, below -4 for strings no word of the language looks like."""
        padded = "^^" + "".join(ch for ch in word.lower() if ch.isalpha()) + "$"
        steps = [math.log((self.trigrams[padded[i - 2:i + 1]] + self.k) / (self.contexts[padded[i - 2:i]]
                                                                              + self.k * self.size))
                 for i in range(2, len(padded))]
        return sum(steps) / len(steps)


@lru_cache(maxsize=8)
def char_model(lang: str) -> CharModel | None:
    """The trigram model of ``lang``'s dictionary words; None without a dictionary. Counted once per
    machine (a few seconds) and kept as JSON beside the word lists."""
    words = load_words(lang)
    if not words:
        return None
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "ocr-workbench"
    path = cache / f"{lang.replace('+', '_')}-{len(words)}.trigrams.json"
    with contextlib.suppress(OSError, ValueError):
        return CharModel(json.loads(path.read_text(encoding="utf-8")))
    model = CharModel.of(words)
    with contextlib.suppress(OSError):
        cache.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part")
        partial.write_text(json.dumps(dict(model.trigrams)), encoding="utf-8")
        partial.replace(path)
    return model


def _letters(core: str) -> int:
    return sum(ch.isalpha() for ch in core)


def _in_dictionary(core: str, words: frozenset[str]) -> bool:
    low = core.lower()
    if low in words:
        return True
    if low.endswith(("'s", "\u2019s")) and low[:-2] in words:
        return True
    parts = [p for p in _SPLIT.split(low) if p]
    return len(parts) > 1 and all(p in words for p in parts) and sum(len(p) >= 3 for p in parts) >= 1


def _case_jumble(part: str) -> bool:
    """Lower then upper case twice inside one word of letters ("tHe qUicK"): OCR noise, not a name."""
    return len(re.findall(r"[a-z][A-Z]", part)) >= 2


def word_credit(token: str, conf: float, words: frozenset[str], w: Weights = DEFAULT_WEIGHTS,
                model: CharModel | None = None,
                accentless: frozenset[str] = frozenset()) -> list[tuple[str, int, float]]:
    """The (kind, characters, credit) parts of one token as Tesseract read it. A dictionary word found in
    ``accentless`` (:func:`accented`) earns less: it may be the page's word with its accents dropped.

    A token is split at punctuation inside it (``islice(iterable,`` is two words, ``wo|rd`` two short
    ones); the punctuation itself counts nothing, except the symbols ordinary text hardly has
    (``| ~ ^ { } < > = _ * #``...), which count as garbage.
    """
    token = unicodedata.normalize("NFKC", token.strip())
    core = token.strip(_EDGE)
    if not core:
        return [("garbage", max(1, len(token)), w.garbage * max(1, len(token)))]
    p = max(0.0, min(1.0, conf / 100.0))
    n = len(core)
    if _NUMBER.match(core) or (_CODE.match(core) and n >= 2):
        return [("numbers", n, n * (w.number_min + (w.number_max - w.number_min) * p))]
    letters, digits = _letters(core), sum(ch.isdigit() for ch in core)
    if n - letters - digits > letters + digits:  # symbol soup
        return [("garbage", len(token), w.garbage * len(token))]
    out: list[tuple[str, int, float]] = []
    odd = sum(ch in _ODD for ch in token)
    if odd:
        out.append(("garbage", odd, w.garbage * odd))
    for part in _INSIDE.split(core):
        part = part.strip("'\u2019-")
        if not part:
            continue
        m = len(part)
        if _NUMBER.match(part) or (_CODE.match(part) and m >= 2):
            out.append(("numbers", m, m * (w.number_min + (w.number_max - w.number_min) * p)))
        elif _case_jumble(part):
            out.append(("garbage", m, w.garbage * m))
        elif _letters(part) >= 4 and words and _in_dictionary(part, words):
            credit = w.accentless if part.lower() in accentless else 1.0
            out.append(("dictionary", m, m * credit * (1.0 if conf >= 50 else w.dict_low_conf)))
        else:
            unknown = m * (w.unknown_min + (w.unknown_max - w.unknown_min) * p)
            if _letters(part) <= 3:  # too short for the dictionary to say anything: confidence alone, capped
                unknown = min(unknown, m * w.short_credit * p)
            elif model is not None:  # as much the letters' plausibility as the engine's confidence
                share = (model.plausibility(part) - w.implausible) / (w.plausible - w.implausible)
                looks = w.unknown_min + (w.unknown_max - w.unknown_min) * min(1.0, max(0.0, share))
                unknown = (unknown + m * looks) / 2
            out.append(("unknown", m, unknown))
    return out


def _strays(words: Columns) -> int:
    """Characters of words that Tesseract put alone on a line of their own block while they sit on the
    same row as words of another block: a column of prices cut off from its items, read after them.
    Real columns of text have lines of many words and are not counted. Needs the word boxes."""
    if not {"block", "par", "line", "top", "height", "text"} <= words.keys() or len(words["text"]) < 2:
        return 0
    keep = np.array([bool(t.strip()) for t in words["text"]], dtype=bool)
    key = list(zip(words["block"][keep].tolist(), words["par"][keep].tolist(), words["line"][keep].tolist()))
    counts = Counter(key)
    alone = np.array([counts[k] == 1 for k in key], dtype=bool)
    if not alone.any():
        return 0
    top = words["top"][keep].astype(float)
    bottom = top + words["height"][keep].astype(float)
    block = words["block"][keep]
    texts = words["text"][keep]
    total = 0
    for i in np.flatnonzero(alone):
        overlap = np.minimum(bottom, bottom[i]) - np.maximum(top, top[i])
        shorter = np.minimum(bottom - top, bottom[i] - top[i])
        beside = (block != block[i]) & (overlap >= 0.5 * np.maximum(shorter, 1))
        if beside.any():
            total += len(texts[i].strip())
    return total


_BOX = ["left", "top", "width", "height"]


def _doubles(words: Columns) -> int:
    """Characters of words read twice over themselves: a word whose box lies for the most part inside
    another's (two lines laid on one printed line, a stroke read as a second word). Needs the boxes."""
    if not set(_BOX) <= words.keys() or len(words["text"]) < 2:
        return 0
    box = word_boxes(words)
    x0, y0 = box[:, 0], box[:, 1]
    x1, y1 = x0 + box[:, 2], y0 + box[:, 3]
    area = np.maximum(box[:, 2] * box[:, 3], 1.0)
    texts = words["text"]
    total = 0
    order = np.argsort(-area, kind="stable")  # the larger of two overlapping words keeps its credit
    for rank, i in enumerate(order):
        later = order[rank + 1:]
        if not len(later):
            break
        w = np.minimum(x1[later], x1[i]) - np.maximum(x0[later], x0[i])
        h = np.minimum(y1[later], y1[i]) - np.maximum(y0[later], y0[i])
        inside = (w > 0) & (h > 0) & (w * h > 0.6 * area[later])
        total += sum(len(texts[j].strip()) for j in later[inside])
    return total


def _specks(words: Columns) -> int:
    """Characters of one- or two-character words out in the margin: beyond the body of the text (the
    middle 90 % of the words' centres, widened by two line heights) on either side."""
    if not set(_BOX) <= words.keys() or len(words["text"]) < 10:
        return 0
    box = word_boxes(words)
    cx, cy = box[:, 0] + box[:, 2] / 2, box[:, 1] + box[:, 3] / 2
    line = float(np.median(box[:, 3]))
    (left, right), (top, bottom) = np.percentile(cx, [5, 95]), np.percentile(cy, [5, 95])
    outside = (cx < left - 2 * line) | (cx > right + 2 * line) | (cy < top - 2 * line) | (cy > bottom + 2 * line)
    texts = np.array([t.strip() for t in words["text"]], dtype=object)
    short = np.array([0 < len(t) <= 2 for t in texts], dtype=bool)
    return int(sum(len(t) for t in texts[outside & short]))


def score(words: pd.DataFrame | Rows | Columns, lang: str = "eng", *, dictionary: frozenset[str] | None = None,
          weights: Weights = DEFAULT_WEIGHTS, engine: str = registry.DEFAULT) -> Judgement:
    """Judge a reading from its words (``Result.words``, its rows or :meth:`Result.columns`: text and
    conf, and the boxes when there are) by the engine that read it."""
    model = char_model(lang) if dictionary is None else (CharModel.of(dictionary) if dictionary else None)
    accentless = accented(lang) if dictionary is None else frozenset()
    dictionary = load_words(lang) if dictionary is None else dictionary
    out = Judgement()
    if words is None or len(words) == 0:
        return out
    cols = words if isinstance(words, dict) else word_columns(words)
    if not len(cols["text"]):
        return out
    confs: list[float] = []
    given = cols["conf"].astype(float)
    calibration = registry.get(engine).calibration if engine in registry.CHOICES else None
    if calibration is not None:
        given = np.where(given >= 0, np.interp(given, *calibration), given)
    for token, conf in zip(cols["text"].tolist(), given.tolist()):
        if not token.strip():
            continue
        out.words += 1
        for kind, n, credit in word_credit(token, conf, dictionary, weights, model, accentless):
            out.chars += n
            setattr(out, kind, getattr(out, kind) + n)
            out.score += credit
        confs.append(max(conf, 0.0))
    out.mean_conf = float(sum(confs) / len(confs)) if confs else 0.0
    out.stray = _strays(cols)
    out.layout = _doubles(cols) + _specks(cols)
    out.score += weights.stray * out.stray + weights.layout * out.layout
    out.score = round(float(out.score), 3)
    return out


def judge(result: Result) -> Judgement:
    """The judgement of a reading, by the engine that read it, in every language it was read in; it
    also becomes ``result.score``, the one score shown for the reading wherever a score is shown."""
    found = score(result.columns(), result.options.lang, engine=result.engine)
    result.score = found.score
    return found

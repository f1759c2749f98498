"""Auto-tune: find the settings Tesseract reads a page best with, without a person moving sliders.

The search runs coarse to fine in stages; each stage's candidates run side by side on the engine's
loaded workers, and each is judged without the true text by :mod:`ocr.judge` (characters that look
right minus characters that look wrong). The stages are the ``stage`` column of the trace:

1. ``plain``: the page as it is, with the caller's options, and Tesseract's orientation detection
   beside it. Plain is always a candidate, and the decision rule keeps it unless another candidate
   beats it by a clear margin, so a clean page is not made worse.
2. ``orientation``: the page turned as the orientation detection says, when it says so.
   ``deskew``: the page deskewed, when it is measured clearly skewed (:data:`SKEW_CLEAR`). Tesseract
   cuts the lines of a skewed page into pieces and reads them out of order, which the judge can hardly
   see (the words are the same); so when the deskewed reading scores at least as well as plain, the
   search starts from it and it becomes the reading to beat in the decision.
3. ``scale``: enlarged (or reduced) towards the print height Tesseract reads best, estimated from the
   words plain found; each factor judged as it is and with two common clean-ups, and with page
   segmentation "one block" beside "automatic".
4. ``clean-up``: thresholds (Otsu, adaptive, Sauvola), background normalisation, contrast, median
   filter, inversion, and combinations with deskew and border removal, at the best scale; a
   combination is skipped when one of its steps alone read clearly worse than none. On a large page,
   when they would not all fit, successive halving: all on a sample first (``clean-up (sample)``: the
   page at half size, or a band across its words), then the best three on the page.
5. ``segmentation``: the best two with page segmentation 3, 4 and 6.
6. ``refine``: small steps around the best: threshold parameters, background size, deskew, scale.

Pages over :data:`SAMPLE_PIXELS` are judged on a reduced copy (the reduction becomes part of the
returned ``scale``, so the choice is exactly what was judged); plain is read at full size as the
reading to beat, and a reduced choice gets a last look at full size (``full size``). Candidates that
would not fit in the time left are not started; each Tesseract run is given a time-out that ends with
the budget, less what the caller's final read will take.
"""

from __future__ import annotations

import math
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from .engine import Engine, default_engine
from .errors import OcrError
from .judge import Judgement, load_words, score as judge_score
from .preprocessing import DEFAULT_DPI, Processed, find_skew, is_dark, preprocess, reduce, rotate, to_gray
from .recognition import recognize
from .settings import Options, Settings

Progress = Callable[[float, str], None]

SAMPLE_PIXELS = 3_000_000  # pages larger than this are judged on a reduced copy
SAMPLE_MIN_PIXELS = 1_500_000  # clean-ups are first judged on a sample only for pages larger than this
MAX_PIXELS = 24_000_000  # no candidate enlarges the page beyond this
TEXT_HEIGHT = 36.0  # pixels: word-box height (ascender to descender) Tesseract reads best at
MARGIN_CHARS = 4.0  # a candidate must beat plain by this many characters of score ...
MARGIN_SHARE = 0.10  # ... and by this share of plain's score
OSD_MIN_CONF = 1.5  # orientation detection below this confidence is not acted on
SKEW_CLEAR = 1.5  # degrees: a page measured this skewed is read deskewed beside plain
_COARSE = (dict(background="blur"), dict(denoise="median"))  # clean-ups tried at every scale
PSMS = (3, 4, 6)  # 11 (sparse text) reads columns and tables out of order: judged well, scored badly


@dataclass
class Candidate:
    settings: Settings  # relative to the working copy (before the reduction for large pages)
    psm: int
    stage: str
    index: int = 0
    judgement: Judgement | None = None
    seconds: float = 0.0
    error: str = ""
    height: float = 0.0  # median word height in the image Tesseract read, pixels
    middle: float = 0.5  # where its words are: median of their centres, as a share of the page's height
    view: str = "work"  # what it reads: "work" (the page, reduced when large), "full", "sample" (a band)
    shown: Settings | None = None  # for a sample: the settings it stands for on the whole page

    @property
    def score(self) -> float:
        return self.judgement.score if self.judgement else float("-inf")


@dataclass
class _Search:
    image: np.ndarray
    dpi: float | None
    options: Options
    engine: Engine
    budget: float
    progress: Progress | None
    start: float = field(default_factory=time.perf_counter)
    tried: list[Candidate] = field(default_factory=list)
    seen: set = field(default_factory=set)
    unit: float = 0.5  # seconds a plain run took (predicts the others)
    views: dict = field(default_factory=dict)  # view -> (pixels, dpi, cost relative to the working copy)

    def left(self) -> float:
        return self.budget - (time.perf_counter() - self.start)

    def cost(self, c: Candidate) -> float:
        """Predicted seconds of one candidate: the plain run's time, by the pixels it reads."""
        relative = self.views[c.view][2] if c.view in self.views else 1.0
        extra = 1.3 if c.settings.denoise == "nlmeans" else 1.0
        return self.unit * relative * max(0.25, c.settings.scale ** 2) * extra + 0.05

    def report(self, message: str) -> None:
        if self.progress:
            fraction = min(0.99, max(0.0, 1 - self.left() / self.budget))
            self.progress(fraction, message)

    def best(self) -> Candidate:
        """The best candidate read from the working copy."""
        pool = [c for c in self.tried if c.judgement and c.view == "work"]
        return max(pool, key=lambda c: c.score) if pool else self.tried[0]

    def run(self, candidates: list[Candidate], reserve: float,
            skip: Callable[[Candidate], bool] | None = None, always: bool = False) -> list[Candidate]:
        """Run what fits in the time left (keeping ``reserve`` seconds), one per worker at a time,
        in order; ``skip`` drops a candidate that what has finished shows not worth its time.
        Progress is reported here, in the calling thread."""
        todo = []
        for c in candidates:
            key = (c.settings, c.psm, c.view)
            if key not in self.seen:
                self.seen.add(key)
                todo.append(c)
        done: list[Candidate] = []
        running: dict[Future, Candidate] = {}
        workers = max(1, self.engine.workers)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            while todo or running:
                while todo and len(running) < workers:
                    c = todo.pop(0)
                    if not always and (self.cost(c) > self.left() - reserve or (skip and skip(c))):
                        continue  # does not fit, or not worth it: skipped, not tried
                    c.index = len(self.tried)
                    self.tried.append(c)
                    # a run far slower than predicted is reading noise: cut it off, and never past the budget
                    limit = max(1.0, min(self.left() - reserve, 3 * self.cost(c) + 0.5))
                    running[pool.submit(self._read, c, limit)] = c
                if not running:
                    break
                finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for future in finished:
                    c = running.pop(future)
                    future.result()
                    done.append(c)
                    best = self.best()
                    self.report(f"{c.stage}: {c.settings.describe()}, psm {c.psm}: "
                                f"{c.score:.0f} (best so far: {best.settings.describe()}, psm {best.psm})")
        return done

    def _read(self, c: Candidate, timeout: float) -> None:
        t0 = time.perf_counter()
        try:
            image, dpi, _ = self.views.get(c.view, (self.image, self.dpi, 1.0))
            processed = preprocess(image, c.settings, dpi=dpi, orient=self.engine.orientation)
            left = timeout - (time.perf_counter() - t0)  # preprocessing counts too
            if left < 0.5:
                raise OcrError("no time left to read it")
            options = self.options.replace(psm=c.psm, timeout=min(self.options.timeout, max(1.0, left)))
            result = recognize(processed, options, engine=self.engine, outputs=())
            c.judgement = judge_score(result.words, self.options.lang)
            letters = result.words[result.words["text"].str.contains(r"[A-Za-z0-9]{2,}", regex=True)]
            c.height = float(letters["height"].median()) if len(letters) else 0.0
            if len(letters):
                centres = (letters["top"] + letters["height"] / 2) / max(1, result.size[1])
                c.middle = float(centres.median())
        except Exception as e:  # this candidate's failure (a time-out, a crash): recorded, the search goes on
            c.error = str(e) or type(e).__name__
        c.seconds = time.perf_counter() - t0


def _as_image(image, dpi: float | None) -> tuple[np.ndarray, float | None, Settings]:
    """The pixels to tune on, their resolution, and the settings the answer must keep (a crop)."""
    if isinstance(image, Processed):
        kept = Settings(rotate=image.orientation % 360)  # its turns, by hand and by orientation detection
        if image.settings is not None:
            kept = kept.replace(crop=image.settings.crop)
        return image.image, dpi or image.dpi, kept
    if isinstance(image, np.ndarray):
        return image, dpi, Settings()
    return image.image, dpi or getattr(image, "dpi", None), Settings()  # a Page


def _scales(height: float, pixels: int) -> list[float]:
    """Rescale factors worth trying for text whose words are ``height`` pixels tall."""
    out = []
    if height <= 0:  # nothing read: try larger, and smaller for huge type
        out = [2.0, 0.5]
    else:
        ideal = TEXT_HEIGHT / height
        if ideal > 1.3:
            out = [min(4.0, round(ideal * 2) / 2), 2.0] if ideal > 2.5 else [2.0]
        elif ideal < 0.6:
            out = [max(0.25, round(ideal * 4) / 4)]
        else:
            out = [2.0] if height < 28 else []
    limit = math.sqrt(MAX_PIXELS / max(1, pixels))
    return sorted({s for s in out if s <= limit})


def _cleanups(gray: np.ndarray) -> list[dict]:
    dark = is_dark(gray)
    base = [  # single steps first, so that combinations can be skipped when a step of theirs fails
        dict(threshold="otsu"),
        dict(background="blur"),
        dict(threshold="adaptive_gaussian"),
        dict(threshold="sauvola"),
        dict(clahe=True),
        dict(denoise="median"),
        dict(background="blur", threshold="otsu"),
        dict(background="blur", denoise="median"),
        dict(denoise="median", threshold="otsu"),
        dict(background="blur", deskew=True),
        dict(threshold="otsu", border=True),
    ]
    singles, combinations = base[:6], base[6:]
    inverted = [dict(invert="yes")] + [dict(k, invert="yes") for k in (base[0], base[1], base[6])]
    if dark:  # light print on a dark ground: the inverted ones first
        return inverted[:1] + singles + inverted[1:] + combinations
    return singles + inverted[:1] + combinations


def _refinements(s: Settings, height: float) -> list[dict]:
    """Small steps around ``s``, whose reading had words ``height`` pixels tall."""
    out: list[dict] = []
    if s.threshold in ("adaptive_gaussian", "adaptive_mean"):
        out += [dict(block_size=15), dict(block_size=61), dict(c=5.0), dict(c=20.0)]
    if s.threshold == "sauvola":
        out += [dict(sauvola_k=0.1), dict(sauvola_k=0.35), dict(block_size=61)]
    if s.threshold == "otsu":
        out += [dict(threshold="sauvola"), dict(denoise="median")]
    if s.background != "none":
        out += [dict(background_size=max(15, 3 * (s.background_size or 60) // 2)), dict(background="close")]
    else:
        out += [dict(background="blur")]
    if not s.deskew:
        out.append(dict(deskew=True))
    if height * 1.5 <= 3 * TEXT_HEIGHT:
        out.append(dict(scale=round(s.scale * 1.5, 2)))
    if height * 0.75 >= 0.8 * TEXT_HEIGHT:  # smaller only while the print stays large enough
        out.append(dict(scale=round(s.scale * 0.75, 2)))
    return out


def autotune(
    image,
    budget_s: float = 20,
    progress: Progress | None = None,
    *,
    options: Options | None = None,
    engine: Engine | None = None,
    dpi: float | None = None,
) -> tuple[Settings, Options, pd.DataFrame]:
    """Find the settings and options Tesseract reads ``image`` best with, within ``budget_s`` seconds.

    ``image`` is a :class:`~ocr.decode.Page`, a :class:`~ocr.preprocessing.Processed` (taken as the
    page as it stands; its crop and rotation are kept in the answer) or an array (with ``dpi``).
    ``options`` are the caller's (language, time-out...); the answer may change the page segmentation.
    ``progress(fraction, message)`` is called in the calling thread. Returns the settings, the
    options, and a table with one row per candidate tried (``candidate, stage, settings, psm, score,
    seconds, chosen`` and the judge's counts).
    """
    options = options or Options()
    engine = engine or default_engine()
    budget_s = max(1.0, float(budget_s))
    pixels_in, dpi, kept = _as_image(image, dpi)
    h, w = pixels_in.shape[:2]

    # Large pages: judge on a reduced copy; its factor is folded into the answer's scale.
    shrink = 1.0
    work = pixels_in
    if h * w > SAMPLE_PIXELS:
        shrink = math.sqrt(SAMPLE_PIXELS / (h * w))
        work = reduce(pixels_in, shrink)
    work_dpi = (dpi or DEFAULT_DPI) * shrink

    load_words(options.lang)  # the dictionary (extracted once per machine, then cached)
    search = _Search(image=work, dpi=work_dpi, options=options, engine=engine, budget=budget_s, progress=progress)
    search.views = {"work": (work, work_dpi, 1.0), "full": (pixels_in, dpi, 1.0 / shrink ** 2)}
    search.report("reading the page as it is")

    # 1. plain, with orientation detection beside it; on a large page plain is read at full size (the
    #    reading the answer must beat) and on the reduced copy (the baseline of the search)
    plain = Candidate(Settings(), options.psm, "plain", view="full" if shrink < 1 else "work")
    reduced = Candidate(Settings(), options.psm, "plain") if shrink < 1 else plain
    with ThreadPoolExecutor(max_workers=1) as side:
        osd = side.submit(_orientation, engine, work, work_dpi, min(30.0, budget_s / 2))
        search.run([plain, reduced], reserve=0.0, always=True)  # plain is always a candidate
        found = osd.result()
    search.unit = max(0.05, reduced.seconds)
    reserve = 1.5 * max(plain.seconds, search.unit) + 0.5  # what the caller's final read will take
    base = Settings()
    if found and found[0] and found[1] >= OSD_MIN_CONF:
        turned = Candidate(Settings(rotate=found[0]), options.psm, "orientation")
        search.run([turned], reserve)
        if turned.score > reduced.score:
            base = turned.settings

    # 1b. a clearly skewed page: Tesseract cuts its lines into pieces and reads them out of order, which
    #     the judge can hardly see (the words are the same). Read it deskewed; when that reads at least
    #     as well as everything so far, it is where the search starts and the reading to beat.
    anchor = plain  # the reading the decision keeps unless something beats it clearly
    angle = find_skew(rotate(to_gray(work), base.rotate))
    if abs(angle) >= SKEW_CLEAR:
        straight = Candidate(base.replace(deskew=True), options.psm, "deskew")
        so_far = max(c.score for c in search.tried)
        search.run([straight], reserve)
        if straight.judgement and straight.score >= so_far:
            base, anchor = straight.settings, straight
    best = search.best()

    # 2. scale, judged with the page as it is and with two common clean-ups (when noise or shading hide
    #    the print, the size alone says little), and the one-block segmentation beside it
    factors = [1.0] + _scales(best.height, work.shape[0] * work.shape[1])
    sizes = [Candidate(base.replace(scale=f), options.psm, "scale") for f in factors[1:]]
    sizes += [Candidate(c.settings, 6, "scale") for c in [best] + sizes if c.psm != 6]
    sizes += [Candidate(base.replace(scale=f, **kw), options.psm, "scale") for kw in _COARSE for f in factors]
    search.run(sizes, reserve)
    top = search.best()
    scale, psm = top.settings.scale, top.psm

    # 3. clean-up at that scale. A combination is skipped when one of its steps alone read clearly
    #    worse than no clean-up. When they would not all fit comfortably: successive halving, all of
    #    them on a sample (the page at half size, or a band across its middle when the print is
    #    small), then the best three on the page.
    steps = _cleanups(to_gray(work))
    cleanups = [base.replace(scale=scale, **kw) for kw in steps]
    predicted = sum(search.cost(Candidate(c, psm, "")) for c in cleanups) / max(1, engine.workers)
    pixels = work.shape[0] * work.shape[1] * scale * scale
    if pixels > SAMPLE_MIN_PIXELS and predicted > 0.4 * (search.left() - reserve):
        upright = rotate(work, base.rotate)
        if top.height * 0.5 >= 14:
            sample, share = reduce(upright, 0.5), 0.25
        else:  # a third of the page, across where the words are
            band_h = max(1, upright.shape[0] // 3)
            y0 = int(min(max(0, top.middle * upright.shape[0] - band_h / 2), upright.shape[0] - band_h))
            sample, share = np.ascontiguousarray(upright[y0:y0 + band_h]), 1 / 3
        shown = [c.replace(rotate=0) for c in [top.settings] + cleanups]
        search.views["sample"] = (sample, work_dpi * (0.5 if share == 0.25 else 1.0), share)
        sampled = search.run([Candidate(x, psm, "clean-up (sample)", view="sample", shown=c)
                              for x, c in zip(shown, [top.settings] + cleanups)], reserve)
        sampled.sort(key=lambda c: -c.score)
        cleanups = [c.shown for c in sampled[:3] if c.judgement]
    reference = top

    def worse_step(c: Candidate) -> bool:
        """A combination one of whose single steps, tried alone, read clearly worse than none."""
        changed = c.settings.changes()
        for other in search.tried:
            if other.stage == "clean-up" and other.view == "work" and other.psm == c.psm:
                alone = other.settings.changes()
                if len(alone) < len(changed) and alone.items() <= changed.items() and len(alone) > len(base.replace(scale=scale).changes()):
                    if not other.judgement or other.score < reference.score - max(20.0, 0.5 * abs(reference.score)):
                        return True
        return False

    search.run([Candidate(c, psm, "clean-up") for c in cleanups], reserve, skip=worse_step)

    # 4. page segmentation for the best two
    ranked = sorted((c for c in search.tried if c.judgement and c.view == "work"), key=lambda c: -c.score)
    leaders: list[Candidate] = []
    for c in ranked:
        if c.settings not in [x.settings for x in leaders]:
            leaders.append(c)
        if len(leaders) == 2:
            break
    search.run([Candidate(c.settings, p, "segmentation") for c in leaders for p in PSMS], reserve)

    # 5. refine around the best
    top = search.best()
    refined = [_safe_replace(top.settings, kw) for kw in _refinements(top.settings, top.height)]
    search.run([Candidate(r, top.psm, "refine") for r in refined if r is not None], reserve)

    # decision: plain (or the deskewed page) unless something beats it clearly
    top = search.best()
    chosen = top if top.score >= _needed(anchor.score) else anchor
    if not anchor.judgement:  # plain failed (time-out): take the best that worked
        chosen = top

    # 6. a last look at full size when the page was judged reduced and the choice keeps it reduced
    if shrink < 1 and chosen is not plain and chosen.settings.scale * shrink < 1:
        full = Candidate(chosen.settings.replace(scale=1.0), chosen.psm, "full size", view="full")
        search.run([full], reserve)
        if full.judgement and full.score > chosen.score:
            chosen = full

    search.report(f"chose {chosen.settings.describe()}, psm {chosen.psm}")
    if progress:
        progress(1.0, f"done: {chosen.settings.describe()}, page segmentation {chosen.psm}")
    settings = _final(chosen, shrink, kept)
    return settings, options.replace(psm=chosen.psm), _trace(search.tried, chosen, shrink, kept)


def _needed(plain_score: float) -> float:
    return plain_score + max(MARGIN_CHARS, MARGIN_SHARE * abs(plain_score))


def _safe_replace(s: Settings, changes: dict) -> Settings | None:
    try:
        return s.replace(**changes)
    except OcrError:
        return None


def _orientation(engine: Engine, image: np.ndarray, dpi: float, timeout: float):
    try:
        return engine.orientation(image, dpi, timeout=timeout)
    except OcrError:
        return None


def _final(c: Candidate, shrink: float, kept: Settings) -> Settings:
    """Settings for the page as given: the reduction folded into the scale, the input's crop and
    rotation kept."""
    s = c.shown or c.settings
    scale = round(s.scale * (1.0 if c.view == "full" else shrink), 4)
    return s.replace(crop=kept.crop, rotate=(kept.rotate + s.rotate) % 360, scale=max(0.1, scale))


def _trace(tried: list[Candidate], chosen: Candidate, shrink: float, kept: Settings) -> pd.DataFrame:
    rows = []
    for c in tried:
        j = c.judgement or Judgement()
        rows.append({
            "candidate": c.index,
            "stage": c.stage,
            "settings": _final(c, shrink, kept).describe(),
            "psm": c.psm,
            "score": c.score if c.judgement else float("nan"),
            "seconds": round(c.seconds, 3),
            "chosen": c is chosen,
            "words": j.words,
            "mean_conf": round(j.mean_conf, 1),
            "dictionary": j.dictionary,
            "garbage": j.garbage,
            "view": c.view,
            "error": c.error,
        })
    columns = ["candidate", "stage", "settings", "psm", "score", "seconds", "chosen", "words", "mean_conf",
               "dictionary", "garbage", "view", "error"]
    table = pd.DataFrame(rows, columns=columns)
    return table.astype({"candidate": int, "psm": int, "score": float, "seconds": float, "chosen": bool})

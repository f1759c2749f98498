"""Auto-tune: find the settings Tesseract reads a page best with, without a person moving sliders.

The search runs coarse to fine in stages; each stage's candidates run side by side on the engine's
loaded workers, and each is judged without the true text by :mod:`ocr.judge` (characters that look
right minus characters that look wrong):

1. ``plain``: the page as it is, with the caller's options, and Tesseract's orientation detection
   beside it. Plain is always a candidate, and the decision rule keeps it unless another candidate
   beats it by a clear margin, so a clean page is not made worse.
2. ``orientation``: the page turned as the orientation detection says, when it says so.
3. ``scale``: enlarged (or reduced) so the text reaches the height Tesseract reads best, estimated
   from the words plain found; with page segmentation "one block" beside "automatic".
4. ``clean-up``: background normalisation, thresholds (Otsu, adaptive, Sauvola), denoising, contrast,
   inversion, deskew, at the best scale so far.
5. ``segmentation``: the best two clean-ups with the other page segmentation modes.
6. ``refine``: small steps around the best: threshold parameters, scale, background size.

Large pages are judged on a reduced copy (the reduction becomes part of the returned ``scale``, so the
choice is exactly what was judged), with one last look at full size. Candidates that would not fit in
the time left are not started; each Tesseract run is given a time-out that ends with the budget.
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
from .preprocessing import DEFAULT_DPI, Processed, is_dark, preprocess, to_gray
from .recognition import recognize
from .settings import Options, Settings

Progress = Callable[[float, str], None]

SAMPLE_PIXELS = 3_000_000  # pages larger than this are judged on a reduced copy
MAX_PIXELS = 24_000_000  # no candidate enlarges the page beyond this
TEXT_HEIGHT = 36.0  # pixels: word-box height (ascender to descender) Tesseract reads best at
MARGIN_CHARS = 4.0  # a candidate must beat plain by this many characters of score ...
MARGIN_SHARE = 0.10  # ... and by this share of plain's score
OSD_MIN_CONF = 1.5  # orientation detection below this confidence is not acted on
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
    full: bool = False  # read from the page at full size, not from the reduced copy

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
    full_image: np.ndarray | None = None  # the page at full size when ``image`` is a reduced copy
    full_dpi: float | None = None
    shrink: float = 1.0

    def left(self) -> float:
        return self.budget - (time.perf_counter() - self.start)

    def cost(self, c: Candidate) -> float:
        """Predicted seconds of one candidate: the plain run's time, by the pixels it reads."""
        scale = c.settings.scale / (self.shrink if c.full else 1.0)
        extra = 1.3 if c.settings.denoise == "nlmeans" else 1.0
        return self.unit * max(0.25, scale * scale) * extra + 0.05

    def report(self, message: str) -> None:
        if self.progress:
            fraction = min(0.99, max(0.0, 1 - self.left() / self.budget))
            self.progress(fraction, message)

    def best(self) -> Candidate:
        """The best candidate read from the working copy."""
        pool = [c for c in self.tried if c.judgement and not c.full]
        return max(pool, key=lambda c: c.score) if pool else self.tried[0]

    def run(self, candidates: list[Candidate], reserve: float) -> list[Candidate]:
        """Run what fits in the time left (keeping ``reserve`` seconds), two at a time per worker
        slot; progress is reported here, in the calling thread."""
        todo = []
        for c in candidates:
            key = (c.settings, c.psm, c.full)
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
                    if self.cost(c) > self.left() - reserve:
                        continue  # does not fit: skipped, not tried
                    c.index = len(self.tried)
                    self.tried.append(c)
                    running[pool.submit(self._read, c, max(1.0, self.left()))] = c
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
            image, dpi = (self.full_image, self.full_dpi) if c.full else (self.image, self.dpi)
            processed = preprocess(image, c.settings, dpi=dpi, orient=self.engine.orientation)
            options = self.options.replace(psm=c.psm, timeout=min(self.options.timeout, max(1.0, timeout)))
            result = recognize(processed, options, engine=self.engine, outputs=())
            c.judgement = judge_score(result.words, self.options.lang)
            letters = result.words[result.words["text"].str.contains(r"[A-Za-z0-9]{2,}", regex=True)]
            c.height = float(letters["height"].median()) if len(letters) else 0.0
        except (OcrError, ValueError, MemoryError) as e:
            c.error = str(e) or type(e).__name__
        c.seconds = time.perf_counter() - t0


def _as_image(image, dpi: float | None) -> tuple[np.ndarray, float | None, Settings]:
    """The pixels to tune on, their resolution, and the settings the answer must keep (a crop)."""
    if isinstance(image, Processed):
        kept = Settings()
        if image.settings is not None:
            kept = Settings(crop=image.settings.crop, rotate=image.settings.rotate)
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
    base = [
        dict(threshold="otsu"),
        dict(background="blur"),
        dict(background="blur", threshold="otsu"),
        dict(threshold="adaptive_gaussian"),
        dict(threshold="sauvola"),
        dict(denoise="median", threshold="otsu"),
        dict(clahe=True),
        dict(background="blur", deskew=True),
    ]
    if dark:
        base = [dict(invert="yes")] + [dict(k, invert="yes") for k in base[:3]] + base
    else:
        base.append(dict(invert="yes"))
    return base


def _refinements(s: Settings) -> list[dict]:
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
    out += [dict(scale=round(s.scale * 1.5, 2)), dict(scale=round(s.scale * 0.75, 2))]
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
        from .preprocessing import rescale

        work = rescale(pixels_in, shrink)
    work_dpi = (dpi or DEFAULT_DPI) * shrink

    search = _Search(image=work, dpi=work_dpi, options=options, engine=engine, budget=budget_s, progress=progress,
                     full_image=pixels_in, full_dpi=dpi, shrink=shrink)
    load_words(options.lang)  # the dictionary, before the clock matters
    search.report("reading the page as it is")

    # 1. plain, with orientation detection beside it; on a large page plain is read at full size (the
    #    reading the answer must beat) and on the reduced copy (the baseline of the search)
    plain = Candidate(Settings(), options.psm, "plain", full=shrink < 1)
    reduced = Candidate(Settings(), options.psm, "plain") if shrink < 1 else plain
    with ThreadPoolExecutor(max_workers=1) as side:
        osd = side.submit(_orientation, engine, work, work_dpi, min(30.0, budget_s / 2))
        search.run([plain, reduced], reserve=0.0)
        found = osd.result()
    search.unit = max(0.05, reduced.seconds)
    reserve = search.unit * 1.2 + 0.2  # what the caller's final read will take
    base = Settings()
    if found and found[0] and found[1] >= OSD_MIN_CONF:
        turned = Candidate(Settings(rotate=found[0]), options.psm, "orientation")
        search.run([turned], reserve)
        if turned.score > reduced.score:
            base = turned.settings
    best = search.best()

    # 3. scale (and the one-block segmentation beside it)
    height = best.height
    sizes = [Candidate(base.replace(scale=s), options.psm, "scale") for s in _scales(height, work.size // (work.shape[2] if work.ndim == 3 else 1))]
    sizes += [Candidate(c.settings, 6, "scale") for c in [best] + sizes if c.psm != 6]
    search.run(sizes, reserve)
    top = search.best()
    scale, psm = top.settings.scale, top.psm

    # 4. clean-up at that scale
    gray = to_gray(work)
    cleanups = [Candidate(base.replace(scale=scale, **kw), psm, "clean-up") for kw in _cleanups(gray)]
    search.run(cleanups, reserve)

    # 5. page segmentation for the best two
    ranked = sorted((c for c in search.tried if c.judgement and not c.full), key=lambda c: -c.score)
    leaders = []
    for c in ranked:
        if c.settings not in [x.settings for x in leaders]:
            leaders.append(c)
        if len(leaders) == 2:
            break
    search.run([Candidate(c.settings, p, "segmentation") for c in leaders for p in PSMS], reserve)

    # 6. refine around the best
    top = search.best()
    search.run([Candidate(_safe_replace(top.settings, kw), top.psm, "refine") for kw in _refinements(top.settings)
                if _safe_replace(top.settings, kw) is not None], reserve)

    # decision: plain unless something beats it clearly
    top = search.best()
    chosen = top if top.score >= _needed(plain.score) else plain
    if not plain.judgement:  # plain failed (time-out): take the best that worked
        chosen = top

    # 7. a last look at full size when the page was judged reduced and the choice keeps it reduced
    if shrink < 1 and chosen is not plain and chosen.settings.scale * shrink < 1:
        full = Candidate(chosen.settings.replace(scale=1.0), chosen.psm, "full size", full=True)
        search.run([full], reserve / shrink ** 2)
        if full.judgement and full.score > chosen.score:
            chosen = full

    search.report(f"chose {chosen.settings.describe()}, psm {chosen.psm}")
    if progress:
        progress(1.0, f"done: {chosen.settings.describe()}, page segmentation {chosen.psm}")
    settings = _final(chosen.settings, 1.0 if chosen.full else shrink, kept)
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


def _final(s: Settings, shrink: float, kept: Settings) -> Settings:
    """Settings for the page as given: the reduction folded into the scale, the input's crop and
    rotation kept."""
    scale = round(s.scale * shrink, 4)
    return s.replace(crop=kept.crop, rotate=(kept.rotate + s.rotate) % 360, scale=max(0.1, scale))


def _trace(tried: list[Candidate], chosen: Candidate, shrink: float, kept: Settings) -> pd.DataFrame:
    rows = []
    for c in tried:
        j = c.judgement or Judgement()
        rows.append({
            "candidate": c.index,
            "stage": c.stage,
            "settings": _final(c.settings, 1.0 if c.full else shrink, kept).describe(),
            "psm": c.psm,
            "score": c.score if c.judgement else float("nan"),
            "seconds": round(c.seconds, 3),
            "chosen": c is chosen,
            "words": j.words,
            "mean_conf": round(j.mean_conf, 1),
            "dictionary": j.dictionary,
            "garbage": j.garbage,
            "error": c.error,
        })
    columns = ["candidate", "stage", "settings", "psm", "score", "seconds", "chosen", "words", "mean_conf",
               "dictionary", "garbage", "error"]
    table = pd.DataFrame(rows, columns=columns)
    return table.astype({"candidate": int, "psm": int, "score": float, "seconds": float, "chosen": bool})

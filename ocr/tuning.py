"""Auto-tune: find the settings a page reads best with, without a person moving sliders.

The search runs coarse to fine in stages over one :class:`Search` (the ``stage`` column of the trace):
plain with each engine, orientation, deskew, print sizes, clean-ups, page layouts, refinements. Each
stage's candidates run side by side on the engine's workers and are judged without the true text
(:mod:`ocr.judge`); plain stays the answer unless a candidate beats it clearly. Engines whose registry
entry says ``search="full"`` (Tesseract) get every stage, the others a few clean-ups. The budget,
``effort``, is counted in work (megapixels read, by what a megapixel costs each engine), so the same
page and effort give the same choice on any machine; seconds are only the caller's outer limit. The
stages and their reasons: docs/accuracy.md, "How the choice is made".
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from .decode import DEFAULT_DPI, Page
from .engines import registry
from .engines.pool import Engine, default_engine
from .errors import OcrError
from .judge import Judgement, load_words, score as judge_score
from .language import AUTO as AUTO_LANGUAGE
from .metrics import cer
from .preprocessing import (
    ORIENT_MIN_CONF,
    Processed,
    find_skew,
    is_dark,
    preprocess,
    reduce,
    rotate,
    to_gray,
)
from .recognition import CLEARLY, lead_and_others, recognize
from .settings import DEFAULT_EFFORT, Options, Settings

Progress = Callable[[float, str], None]

MIN_COST = 0.1  # megapixels a candidate costs however small its page (the engine's own overhead)
SAMPLE_PIXELS = 3_000_000  # pages larger than this are judged on a reduced copy
SAMPLE_MIN_PIXELS = 1_500_000  # clean-ups are first judged on a sample only for pages larger than this
MAX_PIXELS = 24_000_000  # no candidate enlarges the page beyond this
TEXT_HEIGHT = 36.0  # pixels: word-box height (ascender to descender) Tesseract reads best at
MARGIN_CHARS = 4.0  # a candidate must beat plain by this many characters of score ...
MARGIN_SHARE = 0.10  # ... and by this share of plain's score
FAR_AHEAD = (20.0, 0.10)  # an engine this far ahead of the other (characters, share) is left to search alone
AGREE = 0.02  # two engines' plain readings this close (character error rate of one against the other) agree
POOR = 50.0  # characters' worth (judged): when neither plain reading reaches it, the page defeats both
OSD_MIN_CONF = 1.5  # a turn orientation detection is less sure of than this is not even tried
PLAIN = Settings(auto_orient=False)  # candidates are turned by the search itself, never by detection
SKEW_CLEAR = 1.5  # degrees: a page measured this skewed is read deskewed beside plain
NOT_READ = "not read: the search was stopped first"
SAFETY_FACTOR = 8.0  # a candidate taking this many times plain's seconds is reading noise: stopped
_COARSE = (dict(background="blur"), dict(denoise="median"))  # clean-ups tried at every scale
PSMS = (3, 4, 6)  # 11 (sparse text) reads columns and tables out of order: judged well, scored badly
TRACE_COLUMNS = ["candidate", "stage", "engine", "settings", "psm", "score", "seconds", "chosen", "words", "mean_conf",
                 "dictionary", "garbage", "view", "error"]

# What each stage is called while it runs, in words a person reads.
STAGE_WORDS = {
    "plain": "reading the page as it is",
    "engine": "trying the other engines' clean-ups",
    "orientation": "turning the page upright",
    "flatten": "flattening the photographed page",
    "deskew": "straightening the page",
    "scale": "trying other print sizes",
    "clean-up (sample)": "trying clean-ups on a part of the page",
    "clean-up": "trying clean-ups",
    "segmentation": "trying page layouts",
    "refine": "fine-tuning the best",
    "full size": "checking the choice at full size",
}


class Tuning(NamedTuple):
    """What auto-tune found: the settings and options to read the page with, one trace row per
    candidate, and whether the caller's time limit (or a stop) ended the search early."""

    settings: Settings
    options: Options
    trace: pd.DataFrame
    cut_short: bool = False


@dataclass
class Candidate:
    settings: Settings  # relative to the view it reads
    options: Options
    stage: str
    view: str = "work"  # what it reads: "work" (the page, reduced when large), "full", "sample" (a part)
    shown: Settings | None = None  # for a sample: the settings it stands for on the whole page
    index: int = 0
    judgement: Judgement | None = None
    seconds: float = 0.0
    error: str = ""
    height: float = 0.0  # median word height in the image read, pixels
    middle: float = 0.5  # where its words are: median of their centres, as a share of the page's height
    text: str = ""  # what it read

    @property
    def score(self) -> float:
        return self.judgement.score if self.judgement else float("-inf")

    @property
    def psm(self) -> int:
        return self.options.psm

    def key(self) -> tuple[Settings, Options, str]:
        return self.settings, self.options, self.view


@dataclass
class View:
    """A picture candidates read: its pixels and resolution."""

    image: np.ndarray
    dpi: float | None

    @property
    def megapixels(self) -> float:
        return float(self.image.shape[0] * self.image.shape[1]) / 1e6


@dataclass
class Search:
    """The state of one search: what it reads, what it has tried, what it may still spend."""

    views: dict[str, View]
    options: Options
    engine: Engine
    effort: float
    progress: Progress | None = None
    deadline: float | None = None  # time.monotonic() of the caller's outer limit
    stop: threading.Event | None = None
    shrink: float = 1.0  # the working copy's size relative to the page given
    kept: Settings = PLAIN  # what the answer must keep of the page given (its crop and turns)
    osd: tuple[int, float] | None = None  # what orientation detection said of the working copy
    tried: list[Candidate] = field(default_factory=list)
    seen: set[tuple[Settings, Options, str]] = field(default_factory=set)
    spent: dict[str, float] = field(default_factory=dict)  # effort spent, by engine
    cut_short: bool = False
    safety: dict[str, float] = field(default_factory=dict)  # seconds a candidate may take, by engine
    finished: int = 0  # candidates read so far, every stage together (the count a person sees)

    @property
    def engines(self) -> tuple[str, ...]:
        """The engines the search reads with: the caller's, or for "auto" each that reads the language."""
        if self.options.engine != registry.AUTO:
            return (self.options.engine,)
        return tuple(info.name for info in registry.reading(self.options.lang)) or registry.names()[:1]

    def searching(self, kind: str) -> tuple[str, ...]:
        """The search's engines whose registry entry searches this way ("full" or "light")."""
        return tuple(e for e in self.engines if registry.get(e).search == kind)

    def reading(self, engine: str, **changes: Any) -> Options:
        """The caller's options for one engine (and any other changes)."""
        return self.options.replace(engine=engine, **changes)

    def cost(self, c: Candidate) -> float:
        """Effort one candidate spends: the megapixels it reads, by what a megapixel costs its engine."""
        extra = 1.3 if c.settings.denoise == "nlmeans" else 1.0
        pixels = self.views[c.view].megapixels * c.settings.scale ** 2 * extra
        return max(MIN_COST, pixels) * registry.get(c.options.engine).cost

    def out_of_time(self) -> bool:
        late = self.deadline is not None and time.monotonic() >= self.deadline
        if late or (self.stop is not None and self.stop.is_set()):
            self.cut_short = True
        return self.cut_short

    def done(self) -> float:
        """How far the search has come, 0-1: the effort spent by the engines searching."""
        spent = sum(self.spent.get(e, 0.0) for e in self.engines)
        return min(0.99, spent / (self.effort * len(self.engines)))

    def best(self, view: str = "work", engine: str | None = None) -> Candidate:
        """The best-scored candidate that read ``view`` (with ``engine``, when given); the first tried
        when none was judged."""
        mine = [c for c in self.tried if engine is None or c.options.engine == engine]
        pool = [c for c in mine if c.judgement and c.view == view]
        return max(pool, key=lambda c: c.score) if pool else (mine or self.tried)[0]

    def run(self, candidates: Iterable[Candidate], *, always: bool = False) -> list[Candidate]:
        """Read, side by side, the candidates not seen before that fit in the effort left, in order
        (``always``: whatever they cost). Which ones run is decided before any starts, so the answer
        does not depend on the machine's speed."""
        batch = []
        for c in candidates:
            if c.key() in self.seen:
                continue
            spent = self.spent.get(c.options.engine, 0.0)
            if not always and (spent + self.cost(c) > self.effort or self.out_of_time()):
                continue
            self.seen.add(c.key())
            c.index = len(self.tried)
            self.tried.append(c)
            self.spent[c.options.engine] = spent + self.cost(c)
            batch.append(c)
        with ThreadPoolExecutor(max_workers=max(1, self.engine.workers)) as pool:
            futures = [pool.submit(self._read, c, always) for c in batch]
            for future in as_completed(futures):
                future.result()  # our own errors are the candidate's; anything else is a bug: raise it
                self.finished += 1
                if self.progress and batch:  # one count for the whole search: it never starts again at 1
                    words = STAGE_WORDS.get(batch[0].stage, batch[0].stage)
                    self.progress(self.done(), f"{words} ({settings_tried(self.finished)} so far)")
        unread = [c for c in batch if c.error == NOT_READ]  # the limit came before they started
        if unread:
            for c in unread:
                self.spent[c.options.engine] -= self.cost(c)
            self.tried = [c for c in self.tried if c.error != NOT_READ]
            for index, c in enumerate(self.tried):
                c.index = index
        return [c for c in batch if c.error != NOT_READ]

    def _read(self, c: Candidate, always: bool = False) -> None:
        start = time.perf_counter()
        try:
            if not always and self.out_of_time():
                c.error = NOT_READ
                return
            view = self.views[c.view]
            processed = preprocess(view.image, c.settings, dpi=view.dpi, orient=self.engine.orientation)
            limit = self.safety.get(c.options.engine, c.options.timeout)
            if self.deadline is not None:
                limit = min(limit, max(0.5, self.deadline - time.monotonic()))
            options = c.options.replace(timeout=min(c.options.timeout, max(0.1, limit)))
            result = recognize(processed, options, engine=self.engine)
            c.judgement = judge_score(result.words, c.options.lang, engine=result.engine)
            c.text = result.text
            letters = result.words[result.words["text"].str.contains(r"[A-Za-z0-9]{2,}", regex=True)]
            if len(letters):
                c.height = float(letters["height"].median())
                c.middle = float(((letters["top"] + letters["height"] / 2) / max(1, result.size[1])).median())
        except OcrError as e:  # this candidate's failure (a time-out, a crash, the limit): recorded
            c.error = str(e) or type(e).__name__
        c.seconds = time.perf_counter() - start


# -- the stages ---------------------------------------------------------------------------------------


def read_plain(search: Search, full: bool) -> tuple[dict[str, Candidate], dict[str, Candidate],
                                                   tuple[int, float] | None]:
    """Stage 1: plain, with each engine (at full size too when the page is judged reduced), with
    orientation detection beside it. Returns each engine's reading to beat and its baseline on the
    working copy, and what the orientation detection found."""
    # an engine reads a large page at full size too (the reading to beat), unless its detector sizes the
    # page itself: then the working copy is its plain reading
    plains = {e: Candidate(PLAIN, search.reading(e), "plain",
                           view="full" if full and not registry.get(e).resizes else "work")
              for e in search.engines}
    baselines = {e: Candidate(PLAIN, search.reading(e), "plain") if c.view == "full" else c
                 for e, c in plains.items()}
    work = search.views["work"]
    with ThreadPoolExecutor(max_workers=1) as side:
        osd = side.submit(_orientation, search.engine, work.image, work.dpi or DEFAULT_DPI)
        search.run([*plains.values(), *baselines.values()], always=True)  # plain is always a candidate
        found = search.osd = osd.result()
    for e in search.engines:
        took = max(plains[e].seconds, baselines[e].seconds)
        search.safety[e] = min(search.options.timeout, max(5.0, SAFETY_FACTOR * took))
    return plains, baselines, found


def try_orientation(search: Search, baselines: dict[str, Candidate], found: tuple[int, float] | None) -> Settings:
    """Stage 2a: the page turned as orientation detection says, with each engine; kept when a turned
    reading is the best so far."""
    if not found or not found[0] or found[1] < OSD_MIN_CONF:
        return PLAIN
    turned = [Candidate(PLAIN.replace(rotate=found[0]), search.reading(e), "orientation") for e in search.engines]
    search.run(turned)
    so_far = max(c.score for c in baselines.values())
    return turned[0].settings if max(c.score for c in turned) > so_far else PLAIN


def better_plain(plains: dict[str, Candidate]) -> Candidate:
    """The reading to beat: the first engine's plain reading, unless a later one's beats it by the margin
    :func:`ocr.recognize` chooses between engines with (two readings, not the best of many: the search's
    own margin guards against a lucky candidate among dozens, which two plain readings are not)."""
    anchor = next(iter(plains.values()))
    for c in list(plains.values())[1:]:
        needed = anchor.score + max(CLEARLY[0], CLEARLY[1] * abs(anchor.score))
        if c.judgement and (not anchor.judgement or c.score > needed):
            anchor = c
    return anchor


def worth_searching(search: Search, texts: dict[str, str]) -> tuple[str, ...]:
    """Which engines' searches are worth their time, from their readings so far: with one engine, that
    one. With more: none when every plain reading agrees with the first (``texts``: engines of different
    kinds reading the same text is the best evidence the page is read); all when none reads the page;
    otherwise an engine with the full search unless another is far ahead of it (no clean-up has been seen
    to bring it back), and an engine with the light search only where it leads the others."""
    if len(search.engines) < 2:
        return search.engines
    first, *others = search.engines
    if all(texts.values()) and all(cer(texts[first], texts[e]) <= AGREE for e in others):
        return ()
    scores = {e: search.best(engine=e).score for e in search.engines}
    if max(scores.values()) < POOR:  # no engine reads it: try everything
        return search.engines
    chosen = []
    for e in search.engines:
        rivals = max(score for other, score in scores.items() if other != e)
        if registry.get(e).search == "full":
            far = scores[e] + max(FAR_AHEAD[0], FAR_AHEAD[1] * abs(scores[e]))
            if rivals < far:
                chosen.append(e)
        elif scores[e] >= _needed(rivals):
            chosen.append(e)
    return tuple(chosen)


def try_light(search: Search, base: Settings, engine: str) -> None:
    """A light-search engine's few clean-ups that matter: light print on dark inverted, small or huge
    print resized (a detector has a size it reads best at too), and on a page that defeats its plain
    reading a median filter, alone and after flattening shadows."""
    best = search.best(engine=engine)
    options = best.options
    changes: list[dict[str, Any]] = []
    if is_dark(to_gray(search.views["work"].image)):
        changes.append(dict(invert="yes"))
    if best.score < POOR:
        changes += [dict(denoise="median"), dict(background="blur", denoise="median")]
    if 0 < best.height < TEXT_HEIGHT / 2.5:
        changes.append(dict(scale=2.0))
    elif best.height > 4 * TEXT_HEIGHT:
        changes.append(dict(scale=0.5))
    search.run([Candidate(base.replace(**kw), options, "engine") for kw in changes])


def try_flatten(search: Search, base: Settings, anchor: Candidate) -> tuple[Settings, Candidate]:
    """Stage 2a': on a photo that shows the need (:func:`ocr.flatten.needs`: a page edge inside it, text
    lines that curve), the page found and straightened and/or uncurled, with each engine. The best of
    them is where the search goes on from, and the reading to beat, only when the judge prefers it to
    everything so far by the search's margin; otherwise nothing is flattened."""
    from .flatten import needs

    changes = needs(rotate(to_gray(search.views["work"].image), base.rotate)).settings()
    if not changes:
        return base, anchor
    flat = [Candidate(base.replace(**kw), search.reading(e), "flatten") for kw in changes for e in search.engines]
    so_far = max(c.score for c in search.tried)
    search.run(flat)
    read = [c for c in flat if c.judgement]
    top = max(read, key=lambda c: c.score) if read else None
    if top is not None and top.score >= _needed(so_far):
        return top.settings, top
    return base, anchor


def try_deskew(search: Search, base: Settings, anchor: Candidate, engine: str) -> tuple[Settings, Candidate]:
    """Stage 2b: a clearly skewed page read deskewed; when that reads at least as well as everything so
    far, it is where the search goes on from, and the reading to beat."""
    angle = find_skew(rotate(to_gray(search.views["work"].image), base.rotate))
    if abs(angle) < SKEW_CLEAR:
        return base, anchor
    straight = Candidate(base.replace(deskew=True), search.reading(engine), "deskew")
    so_far = max(c.score for c in search.tried)
    search.run([straight])
    if straight.judgement and straight.score >= so_far:
        return straight.settings, straight
    return base, anchor


def try_scales(search: Search, base: Settings, engine: str) -> Candidate:
    """Stage 3: print sizes, each as it is and with two common clean-ups (when noise or shading hide
    the print, the size alone says little), and the one-block layout beside the caller's."""
    best = search.best(engine=engine)
    work = search.views["work"].image
    factors = [1.0, *_scales(best.height, work.shape[0] * work.shape[1])]
    options = search.reading(engine)
    sizes = [Candidate(base.replace(scale=f), options, "scale") for f in factors[1:]]
    if registry.understands("psm", engine):
        block = search.reading(engine, psm=6)
        sizes += [Candidate(c.settings, block, "scale") for c in [best, *sizes] if c.psm != 6]
    sizes += [Candidate(base.replace(scale=f, **kw), options, "scale") for kw in _COARSE for f in factors]
    search.run(sizes)
    return search.best(engine=engine)


def try_cleanups(search: Search, base: Settings, top: Candidate) -> None:
    """Stage 4: clean-ups at the best scale and layout: single steps, then the combinations none of
    whose steps alone read clearly worse than no clean-up. When they would not all fit comfortably in
    the effort left, all are judged on a sample of the page first and only the best three on the page."""
    scale, options = top.settings.scale, top.options
    work = search.views["work"]
    singles, combinations = _cleanups(to_gray(work.image))
    if _sample_first(search, base, top, singles + combinations):
        ranked = _on_sample(search, base, top, singles + combinations)
        search.run([Candidate(s, options, "clean-up") for s in ranked[:3]])
        return
    search.run([Candidate(base.replace(scale=scale, **kw), options, "clean-up") for kw in singles])
    floor = top.score - max(20.0, 0.5 * abs(top.score))
    alone = {i: _tried(search, base.replace(scale=scale, **kw), options) for i, kw in enumerate(singles)}
    failed = [singles[i] for i, c in alone.items() if c is not None and c.score < floor]
    worth = [kw for kw in combinations if not any(kw.items() >= bad.items() for bad in failed)]
    search.run([Candidate(base.replace(scale=scale, **kw), options, "clean-up") for kw in worth])


def try_segmentation(search: Search, engine: str) -> None:
    """Stage 5: the best two settings with page layouts 3, 4 and 6 (for an engine that has layouts)."""
    if not registry.understands("psm", engine):
        return
    mine = [c for c in search.tried if c.options.engine == engine]
    ranked = sorted((c for c in mine if c.judgement and c.view == "work"), key=lambda c: -c.score)
    leaders: list[Settings] = []
    for c in ranked:
        if c.settings not in leaders:
            leaders.append(c.settings)
        if len(leaders) == 2:
            break
    search.run([Candidate(s, search.reading(engine, psm=p), "segmentation") for s in leaders for p in PSMS])


def refine(search: Search, engine: str) -> None:
    """Stage 6: small steps around the engine's best reading."""
    top = search.best(engine=engine)
    refined = [_safe_replace(top.settings, kw) for kw in _refinements(top.settings, top.height)]
    search.run([Candidate(r, top.options, "refine") for r in refined if r is not None])


def decide(search: Search, anchor: Candidate, plains: list[Candidate], shrink: float) -> Candidate:
    """Plain (or the deskewed page) unless something beats it clearly; a reduced choice gets a last
    look at full size."""
    top = search.best()
    chosen = top if top.score >= _needed(anchor.score) or not anchor.judgement else anchor
    if shrink < 1 and not any(chosen is p for p in plains) and chosen.settings.scale * shrink < 1:
        full = Candidate(chosen.settings.replace(scale=1.0), chosen.options, "full size", view="full")
        search.run([full])
        if full.judgement and full.score > chosen.score:
            chosen = full
    return chosen


# -- the whole search ---------------------------------------------------------------------------------


def autotune(
    image: Page | Processed | np.ndarray,
    effort: float = DEFAULT_EFFORT,
    progress: Progress | None = None,
    *,
    options: Options | None = None,
    engine: Engine | None = None,
    dpi: float | None = None,
    limit_s: float | None = None,
    stop: threading.Event | None = None,
) -> Tuning:
    """Find the settings and options ``image`` reads best with, reading at most ``effort`` megapixels.

    ``image`` is a :class:`~ocr.decode.Page`, a :class:`~ocr.preprocessing.Processed` (taken as the
    page as it stands; its crop and rotation are kept in the answer) or an array (with ``dpi``).
    ``options`` are the caller's (language, time-out...); the answer may change the page layout.
    ``progress(fraction, message)`` is called in the calling thread with plain words ("trying clean-ups:
    2 of 6"). ``limit_s`` (seconds) and ``stop`` (an event another thread sets, a Cancel button) end
    the search early: the best found so far is the answer, and ``cut_short`` says so.
    """
    options = options or Options()
    engine = engine or default_engine()
    pixels_in, dpi, kept = _as_image(image, dpi)
    h, w = pixels_in.shape[:2]
    shrink = min(1.0, math.sqrt(SAMPLE_PIXELS / (h * w)))
    work = reduce(pixels_in, shrink) if shrink < 1 else pixels_in
    work_dpi = (dpi or DEFAULT_DPI) * shrink
    asked = options
    if options.lang == AUTO_LANGUAGE:
        options = options.replace(lang=found_language(work, work_dpi, options, engine))
    load_words(options.lang)  # the dictionary (extracted once per machine, then cached)
    search = Search(
        views={"work": View(work, work_dpi), "full": View(pixels_in, dpi)},
        options=options, engine=engine, effort=max(1.0, float(effort)), progress=progress, stop=stop,
        deadline=None if limit_s is None else time.monotonic() + max(0.0, limit_s), shrink=shrink, kept=kept,
    )
    if progress:
        progress(0.0, STAGE_WORDS["plain"])

    plains, baselines, found = read_plain(search, full=shrink < 1)
    base = try_orientation(search, baselines, found)
    anchor = better_plain(plains)
    base, anchor = try_flatten(search, base, anchor)
    searching = worth_searching(search, {e: c.text for e, c in baselines.items()})
    for e in search.searching("light"):
        if e in searching:
            try_light(search, base, e)
    for e in search.searching("full"):
        if e in searching:
            start, anchor = try_deskew(search, base, anchor, e)
            top = try_scales(search, start, e)
            try_cleanups(search, start, top)
            try_segmentation(search, e)
            refine(search, e)
    chosen = decide(search, anchor, list(plains.values()), shrink)

    if progress:
        plain = any(chosen is p for p in plains.values())
        progress(1.0, summary(_final(chosen, search), chosen.options, options, plain=plain,
                              cut_short=search.cut_short, count=search.finished))
    return Tuning(_final(chosen, search), chosen.options.replace(timeout=options.timeout, lang=asked.lang),
                  _trace(search, chosen),
                  search.cut_short)


# -- pieces --------------------------------------------------------------------------------------------


def found_language(image: np.ndarray, dpi: float, options: Options, engine: Engine) -> str:
    """What a page asked to be read in ``lang="auto"`` is read with (its language found from a first
    reading, joined with English): found once, so every candidate is read and judged in it."""
    lead = lead_and_others(options.lang)[0].name
    return recognize(image, options.replace(engine=lead), dpi=dpi, engine=engine).options.lang


def settings_tried(count: int) -> str:
    """How many settings were tried, in words: "1 setting tried", "24 settings tried"."""
    return f"{count} setting{'' if count == 1 else 's'} tried"


def summary(settings: Settings, chosen: Options, options: Options, *, plain: bool, cut_short: bool,
            count: int) -> str:
    """Auto-tune's last words, in the settings' and options' own plain words (their ``describe``): what
    it chose and how many it tried, or that nothing read the page better than the page as it is."""
    done = "Stopped early" if cut_short else "Done"
    how = chosen.describe(options)
    if plain:
        kept = settings.describe()
        return (f"{done}: no clean-up read this page better than the page as it is ({settings_tried(count)}), so the "
                f"settings stay {'plain' if kept == 'plain' else kept}" + (f", read with {how}." if how else "."))
    return (f"{done}: the best reading came with {settings.describe()}" + (f", read with {how}" if how else "")
            + f" ({settings_tried(count)}).")


def _needed(plain_score: float) -> float:
    return plain_score + max(MARGIN_CHARS, MARGIN_SHARE * abs(plain_score))


def _safe_replace(s: Settings, changes: dict[str, Any]) -> Settings | None:
    try:
        return s.replace(**changes)
    except OcrError:
        return None


def _orientation(engine: Engine, image: np.ndarray, dpi: float) -> tuple[int, float] | None:
    try:
        return engine.orientation(image, dpi, timeout=30.0)
    except OcrError:
        return None


def _tried(search: Search, settings: Settings, options: Options) -> Candidate | None:
    """The candidate that read ``settings`` with ``options`` on the working copy, if one did."""
    for c in search.tried:
        if c.view == "work" and c.settings == settings and c.options == options:
            return c
    return None


def _sample_first(search: Search, base: Settings, top: Candidate, steps: list[dict[str, Any]]) -> bool:
    """Whether clean-ups are judged on a sample first: a large page where reading them all would spend
    more than 40 % of the effort left."""
    work = search.views["work"].image
    scale = top.settings.scale
    predicted = sum(search.cost(Candidate(base.replace(scale=scale, **kw), top.options, "")) for kw in steps)
    pixels = work.shape[0] * work.shape[1] * scale * scale
    left = search.effort - search.spent.get(top.options.engine, 0.0)
    return pixels > SAMPLE_MIN_PIXELS and predicted > 0.4 * left


def _on_sample(search: Search, base: Settings, top: Candidate, steps: list[dict[str, Any]]) -> list[Settings]:
    """Successive halving's first round: every clean-up (and the best so far) on a sample of the page:
    half the page when its print stays readable at half size, else a band a third of its height across
    its words. Returns the settings they stand for on the whole page, best first."""
    scale = top.settings.scale
    upright = rotate(search.views["work"].image, base.rotate)
    work_dpi = search.views["work"].dpi or DEFAULT_DPI
    if top.height * 0.5 >= 14:
        sample, sample_dpi = reduce(upright, 0.5), work_dpi * 0.5
    else:
        band_h = max(1, upright.shape[0] // 3)
        y0 = int(min(max(0, top.middle * upright.shape[0] - band_h / 2), upright.shape[0] - band_h))
        sample, sample_dpi = np.ascontiguousarray(upright[y0:y0 + band_h]), work_dpi
    search.views["sample"] = View(sample, sample_dpi)
    stands = [top.settings] + [base.replace(scale=scale, **kw) for kw in steps]
    sampled = search.run([Candidate(s.replace(rotate=0), top.options, "clean-up (sample)", view="sample", shown=s)
                          for s in stands])
    sampled.sort(key=lambda c: -c.score)
    return [c.shown for c in sampled if c.judgement and c.shown is not None]


def _as_image(image: Page | Processed | np.ndarray, dpi: float | None) -> tuple[np.ndarray, float | None, Settings]:
    """The pixels to tune on, their resolution, and the settings the answer must keep (a crop, a turn)."""
    if isinstance(image, Processed):
        kept = PLAIN.replace(rotate=image.orientation % 360)  # its turns, by hand and by orientation detection
        if image.settings is not None:
            kept = kept.replace(crop=image.settings.crop)
        return image.image, dpi or image.dpi, kept
    if isinstance(image, np.ndarray):
        return image, dpi, Settings()
    return image.image, dpi or image.dpi, Settings()  # a Page: the answer may turn it by detection


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


def _cleanups(gray: np.ndarray) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The clean-ups to try: single steps, and combinations of them (light print on a dark ground: the
    inverted ones first)."""
    singles: list[dict[str, Any]] = [
        dict(threshold="otsu"), dict(background="blur"), dict(threshold="adaptive_gaussian"),
        dict(threshold="sauvola"), dict(clahe=True), dict(denoise="median"),
    ]
    combinations: list[dict[str, Any]] = [
        dict(background="blur", threshold="otsu"), dict(background="blur", denoise="median"),
        dict(denoise="median", threshold="otsu"), dict(background="blur", deskew=True),
        dict(threshold="otsu", border=True),
    ]
    inverted: list[dict[str, Any]] = [dict(invert="yes")] + [
        dict(kw, invert="yes") for kw in (singles[0], singles[1], combinations[0])]
    if is_dark(gray):
        return inverted[:1] + singles, inverted[1:] + combinations
    return singles + inverted[:1], inverted[1:] + combinations


def _refinements(s: Settings, height: float) -> list[dict[str, Any]]:
    """Small steps around ``s``, whose reading had words ``height`` pixels tall."""
    out: list[dict[str, Any]] = []
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


def _final(c: Candidate, search: Search) -> Settings:
    """Settings for the page as given: the reduction folded into the scale, the input's crop and turns
    kept, and the turn the search judged, as orientation detection when detection is sure enough to
    repeat it on the page (so a preset turns only the pages that lie turned), else as a fixed turn."""
    s, kept = c.shown or c.settings, search.kept
    scale = max(0.1, round(s.scale * (1.0 if c.view == "full" else search.shrink), 4))
    rotate, detect = (kept.rotate + s.rotate) % 360, kept.auto_orient
    sure = search.osd is not None and search.osd[1] >= ORIENT_MIN_CONF and bool(search.osd[0] % 360)
    if detect and s.rotate and sure:
        rotate = kept.rotate  # detection will find the same turn when the page is read
    elif detect and sure:
        detect = False  # detection would turn it, and the page read better as it is
    elif detect and s.rotate:
        detect = False  # a turn detection is not sure enough to make by itself: fixed
    return s.replace(crop=kept.crop, rotate=rotate, scale=scale, auto_orient=detect)


def _trace(search: Search, chosen: Candidate) -> pd.DataFrame:
    rows = []
    for c in search.tried:
        j = c.judgement or Judgement()
        rows.append({
            "candidate": c.index, "stage": c.stage, "engine": c.options.engine,
            "settings": _final(c, search).describe(), "psm": c.psm,
            "score": c.score if c.judgement else float("nan"), "seconds": round(c.seconds, 3),
            "chosen": c is chosen, "words": j.words, "mean_conf": round(j.mean_conf, 1),
            "dictionary": j.dictionary, "garbage": j.garbage, "view": c.view, "error": c.error,
        })
    table = pd.DataFrame(rows, columns=TRACE_COLUMNS)
    table = table.astype({"candidate": int, "psm": int, "score": float, "seconds": float, "chosen": bool})
    table.attrs["cut_short"] = search.cut_short
    table.attrs["effort"] = {e: round(v, 2) for e, v in search.spent.items()}
    return table

"""The Tune page's quick reading: the text of the processed preview and the judge's score for it, read
beside the page while the person tunes, so a move's effect on the *reading* shows next to the picture.

Each session has one :class:`Live` reader: a worker thread with a single slot. Asking for a reading puts
it in the slot, replacing one that has not started (no queue of stale readings); a reading that is
already running when a newer one is asked for is left to finish and its answer thrown away, because an
engine call in a worker process cannot be cut short. Every request carries a generation number, and
only the answer of the latest generation is ever shown. The worker waits :data:`SETTLE_S` after the last
ask before it starts, so a burst of slider steps costs one reading, and it ends after :data:`IDLE_S`
without work (the next ask starts another). It calls the package only (:func:`ocr.recognize`, the judge),
never Streamlit.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

import ocr
from ocr import judge
from ocr.batch import describe_error

log = logging.getLogger(__name__)

SETTLE_S = 0.15  # seconds without a newer ask before a reading starts: the hand has stopped
IDLE_S = 60.0  # seconds without work after which the worker thread ends


def score_of(result: ocr.Result, lang: str) -> float:
    """The one score of a reading: the judge's, over every language of ``lang`` ("eng+deu")."""
    return float(judge.score(result.words, lang, engine=result.engine).score)


@dataclass(frozen=True)
class Reading:
    """A finished quick reading (or the sentence why it failed), and what it was of."""

    generation: int
    key: str  # the settings and options it was read with, as text
    label: str = ""  # the same in plain words, for the person
    text: str = ""
    score: float = 0.0
    engine: str = ""
    seconds: float = 0.0
    error: str | None = None


def change_words(before: Reading | None, after: Reading) -> str:
    """The change in score since the last setting, in plain words ("reads better: +42 characters look
    right"); the score counts, roughly, the characters that look like real text."""
    if before is None or before.error or after.error:
        return ""
    delta = round(after.score - before.score)
    if delta > 0:
        return f"reads better: +{delta} characters look right"
    if delta < 0:
        return f"reads worse: {delta} characters look right"
    return "reads as well as before"


@dataclass(frozen=True)
class _Ask:
    generation: int
    key: str
    image: Callable[[], np.ndarray]  # the pixels to read, made in the worker (decoding takes time)
    dpi: float
    options: ocr.Options
    label: str
    at: float


class Live:
    """One session's quick reader (see the module's docstring)."""

    def __init__(self, engine: Callable[[], ocr.Engine]) -> None:
        self._engine = engine
        self._cond = threading.Condition()
        self._slot: _Ask | None = None
        self._thread: threading.Thread | None = None
        self.generation = 0  # of the latest ask
        self.asked = ""  # the key of the latest ask
        self.latest: Reading | None = None  # the answer to the latest ask, once it is there
        self.before: Reading | None = None  # the answer shown before it (of other settings), to compare with
        self.running = False

    def ask(self, key: str, image: Callable[[], np.ndarray], dpi: float, options: ocr.Options, label: str = "") -> None:
        """Read ``image()`` with ``options`` unless the latest ask was for ``key`` (``label`` in words)
        already; a reading of an earlier ask that has not started is dropped."""
        with self._cond:
            if key == self.asked:
                return
            self.generation += 1
            self.asked = key
            self._slot = _Ask(self.generation, key, image, dpi, options, label, time.monotonic())
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._work, daemon=True, name="ocr-live-reading")
                self._thread.start()
            self._cond.notify_all()

    @property
    def busy(self) -> bool:
        """Whether the answer to the latest ask is still to come."""
        return self.latest is None or self.latest.generation != self.generation

    def _next(self) -> _Ask | None:
        """The ask to read, once no newer one has come for :data:`SETTLE_S`; None after :data:`IDLE_S` idle."""
        with self._cond:
            idle_since = time.monotonic()
            while True:
                ask = self._slot
                now = time.monotonic()
                if ask is None:
                    if now - idle_since > IDLE_S:
                        self._thread = None
                        return None
                    self._cond.wait(timeout=IDLE_S)
                    continue
                if now - ask.at < SETTLE_S:
                    self._cond.wait(timeout=SETTLE_S - (now - ask.at))
                    continue
                self._slot = None
                self.running = True
                return ask

    def _work(self) -> None:
        while (ask := self._next()) is not None:
            try:
                reading = self._read(ask)
            finally:
                self.running = False
            with self._cond:
                if ask.generation != self.generation:
                    continue  # a newer ask came while this one was read: its answer is never shown
                if self.latest is not None and self.latest.key != reading.key:
                    self.before = self.latest
                self.latest = reading

    def _read(self, ask: _Ask) -> Reading:
        start = time.perf_counter()
        try:
            result = ocr.recognize(ask.image(), ask.options, dpi=ask.dpi, engine=self._engine())
            return Reading(ask.generation, ask.key, ask.label, text=result.text,
                           score=score_of(result, result.options.lang), engine=result.engine,
                           seconds=time.perf_counter() - start)
        except Exception as e:  # any engine or decoding failure is one sentence beside the picture
            log.warning("the quick reading failed", exc_info=True)
            return Reading(ask.generation, ask.key, ask.label, error=describe_error(e),
                           seconds=time.perf_counter() - start)

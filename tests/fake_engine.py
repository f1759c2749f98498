"""A third engine for the tests, to prove an engine is one file: importing this module registers it.

It "reads" a page by finding its lines of ink and naming each one (``fake1 fake2 ...`` on line 1, and so
on), with boxes where the ink is; a worker process imports it by the module name its entry carries.
"""

from __future__ import annotations

import time

import numpy as np

from ocr.engines.protocol import Answer, Word
from ocr.engines.registry import EngineInfo, register
from ocr.settings import Options

NAME = "fake"


def lines_of_ink(image: np.ndarray) -> list[tuple[int, int, int, int]]:
    """(left, top, width, height) of each band of rows holding dark pixels."""
    gray = image if image.ndim == 2 else image.mean(axis=2)
    ink = gray < 128
    rows = np.flatnonzero(ink.any(axis=1))
    bands: list[tuple[int, int]] = []
    for y in rows:
        if bands and y <= bands[-1][1] + 2:
            bands[-1] = (bands[-1][0], int(y))
        else:
            bands.append((int(y), int(y)))
    out = []
    for top, bottom in bands:
        columns = np.flatnonzero(ink[top:bottom + 1].any(axis=0))
        if bottom - top >= 4 and len(columns):
            out.append((int(columns[0]), top, int(columns[-1] - columns[0] + 1), bottom - top + 1))
    return out


class FakeReader:
    def __init__(self, folder: str) -> None:
        self.folder = folder

    def prepare(self, options: Options) -> None:
        pass

    def read(self, image: np.ndarray, options: Options) -> Answer:
        start = time.perf_counter()
        words, text = [], []
        for n, (left, top, width, height) in enumerate(lines_of_ink(image), start=1):
            half, gap = width // 2, max(2, height // 2)
            pair = [Word(f"fake{n}a", 99.0, left, top, half - gap, height, 1, 1, n, 1),
                    Word(f"fake{n}b", 99.0, left + half, top, width - half, height, 1, 1, n, 2)]
            words += pair
            text.append(" ".join(w.text for w in pair))
        return Answer(text="\n".join(text) + "\n", words=words, engine=NAME, backend="api",
                      seconds=time.perf_counter() - start)


FAKE = register(EngineInfo(name=NAME, label="Fake engine", module=__name__, load=FakeReader,
                           reads=lambda lang: lang == "eng", cost=0.5, best_for="tests"))

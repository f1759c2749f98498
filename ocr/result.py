"""The one description of a reading: :class:`Result`. Every export is made from it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .settings import Options, Settings

if TYPE_CHECKING:
    from .flatten import Bend
    from .pdf import Origin

WORD_COLUMNS = ["text", "conf", "left", "top", "width", "height", "block", "par", "line", "word"]


def words_frame(words: Sequence[tuple[object, ...]]) -> pd.DataFrame:
    """Words (rows in the order of :data:`WORD_COLUMNS`, e.g. :class:`ocr.engines.Word`) as a table with
    those columns: text as str, conf as float, the rest as int."""
    table = pd.DataFrame(list(words), columns=WORD_COLUMNS)
    return table.astype({"text": str, "conf": float, **{c: int for c in WORD_COLUMNS[2:]}})


@dataclass
class Result:
    """Text, words (with boxes in the processed image's pixels and confidences 0-100), what made them,
    and how long each part took."""

    text: str
    words: pd.DataFrame
    name: str = ""
    settings: Settings | None = None
    options: Options = field(default_factory=Options)
    dpi: float = 0.0
    size: tuple[int, int] = (0, 0)  # width, height of the image the engine read
    timings: dict[str, float] = field(default_factory=dict)  # seconds
    warnings: list[str] = field(default_factory=list)
    engine: str = "tesseract"  # the engine that read it ("tesseract" or "ppocr")
    score: float | None = None  # the judge's score, when it was judged (see ocr.judge)
    backend: str = ""
    # from the original page to the image read (3x3), and the original page's size: see page_words()
    transform: np.ndarray = field(default_factory=lambda: np.eye(3))
    source_size: tuple[int, int] = (0, 0)
    # set when a curled page was flattened (Processed.bend): the exact way back; transform is then the
    # closest matrix, what a text layer placed by one matrix uses
    bend: Bend | None = None
    # the file and page it was read from, for a searchable PDF over the page as it was (see ocr.pdf)
    origin: Origin | None = None

    def page_words(self) -> pd.DataFrame:
        """The words with their boxes on the original page (before crop, turns, resizes, deskew and
        flattening), where a text layer over the page as it was must put them."""
        from .preprocessing import boxes_bent, boxes_through

        found = self.words[["left", "top", "width", "height"]].to_numpy()
        if self.bend is not None:
            boxes = boxes_bent(self.bend, found)
        else:
            boxes = boxes_through(np.linalg.inv(self.transform), found)
        out = self.words.copy()
        out[["left", "top", "width", "height"]] = boxes if len(boxes) else np.zeros((0, 4))
        return out

    @property
    def mean_conf(self) -> float:
        """Mean word confidence (0-100); 0 when no words were found."""
        conf = self.words["conf"][self.words["conf"] >= 0]
        return round(float(conf.mean()), 2) if len(conf) else 0.0

    @property
    def word_count(self) -> int:
        return len(self.words)

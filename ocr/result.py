"""The one description of an OCR run: :class:`Result`. Every export is made from it."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

import pandas as pd

from .settings import Options, Settings

WORD_COLUMNS = ["text", "conf", "left", "top", "width", "height", "block", "par", "line", "word"]


def words_from_tsv(tsv: str) -> pd.DataFrame:
    """Tesseract's TSV (level 5 rows are words) as a table with :data:`WORD_COLUMNS`."""
    names = ["level", "page", "block", "par", "line", "word", "left", "top", "width", "height", "conf", "text"]
    if tsv.startswith("level"):
        tsv = tsv.split("\n", 1)[1] if "\n" in tsv else ""
    rows = pd.read_csv(
        io.StringIO(tsv), sep="\t", names=names, header=None, quoting=csv.QUOTE_NONE,
        dtype={"text": str}, keep_default_na=False, na_filter=False, engine="python",
    ) if tsv.strip() else pd.DataFrame(columns=names)
    words = rows[(rows["level"].astype(int) == 5) & (rows["text"].str.strip() != "")] if len(rows) else rows
    words = words[WORD_COLUMNS].copy().reset_index(drop=True)
    for column in WORD_COLUMNS[2:]:
        words[column] = words[column].astype(int)
    words["conf"] = words["conf"].astype(float)
    words["text"] = words["text"].astype(str)
    return words


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
    size: tuple[int, int] = (0, 0)  # width, height of the image Tesseract read
    timings: dict[str, float] = field(default_factory=dict)  # seconds
    warnings: list[str] = field(default_factory=list)
    backend: str = ""
    hocr: str = ""
    pdf: bytes | None = None

    @property
    def mean_conf(self) -> float:
        """Mean word confidence (0-100); 0 when no words were found."""
        conf = self.words["conf"][self.words["conf"] >= 0]
        return round(float(conf.mean()), 2) if len(conf) else 0.0

    @property
    def word_count(self) -> int:
        return len(self.words)

    def summary(self) -> dict:
        """One row for a history or batch table."""
        return {
            "name": self.name,
            "settings": self.settings.describe() if self.settings else "plain",
            "psm": self.options.psm,
            "lang": self.options.lang,
            "words": self.word_count,
            "mean_conf": self.mean_conf,
            "seconds": round(self.timings.get("total", 0.0), 3),
        }

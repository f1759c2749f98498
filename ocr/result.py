"""The one description of a reading: :class:`Result`, and where its page came from (:class:`Origin`).
Every export is made from it."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, cast

import numpy as np

from .decode import DEFAULT_DPI, Page, load
from .engines import registry
from .errors import DamagedFileError, OcrError
from .settings import Options, Settings

if TYPE_CHECKING:
    import pandas as pd

    from .flatten import Bend

WORD_COLUMNS = ["text", "conf", "left", "top", "width", "height", "block", "par", "line", "word"]


def words_frame(words: Sequence[tuple[object, ...]]) -> pd.DataFrame:
    """Words (rows in the order of :data:`WORD_COLUMNS`, e.g. :class:`ocr.engines.Word`) as a table with
    those columns: text as str, conf as float, the rest as int."""
    import pandas as pd

    return typed_words(pd.DataFrame(list(words), columns=WORD_COLUMNS))


def typed_words(table: pd.DataFrame) -> pd.DataFrame:
    """A words table with every column of :data:`WORD_COLUMNS` (an empty one for each it lacks) and
    their types: text as str, conf as float, the rest as int."""
    import pandas as pd

    for column in WORD_COLUMNS:
        if column not in table.columns:
            table[column] = pd.Series(dtype=float if column == "conf" else int)
    return table.astype({"text": str, "conf": float, **{c: int for c in WORD_COLUMNS[2:]}})


Rows = Sequence[tuple[object, ...]]  # words as rows in the order of WORD_COLUMNS (``ocr.engines.Word``)


def word_columns(words: pd.DataFrame | Rows) -> dict[str, np.ndarray]:
    """The columns of :data:`WORD_COLUMNS` as arrays (text as str objects, conf as float, the rest as
    int), from rows (all of them, without pandas: a cold command's page is judged without importing it)
    or from a words table (the columns it has)."""
    if not isinstance(words, Sequence):  # a table
        kinds = {"text": str, "conf": float}
        return {c: words[c].to_numpy().astype(kinds.get(c, int)).astype(object if c == "text" else None)
                for c in WORD_COLUMNS if c in words.columns}
    rows = list(words)
    out: dict[str, np.ndarray] = {}
    for i, c in enumerate(WORD_COLUMNS):
        values = [r[i] for r in rows]
        out[c] = np.array([str(v) for v in values], dtype=object) if c == "text" else \
            np.array(values, dtype=float if c == "conf" else int).reshape(len(rows))
    return out


def word_boxes(columns: dict[str, np.ndarray]) -> np.ndarray:
    """The words' boxes (left, top, width, height) as one float array of shape (n, 4)."""
    return np.stack([columns[c].astype(float) for c in ("left", "top", "width", "height")], axis=1).reshape(-1, 4)


class _Words:
    """``Result.words``: the table is made (with pandas) the first time it is read; until then the rows
    an engine gave are kept, and :meth:`Result.columns` reads them without it."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.slot = f"_{name}"

    def __get__(self, obj: Result | None, owner: type | None = None) -> pd.DataFrame:
        if obj is None:
            raise AttributeError("words has no default")  # the dataclass field is required
        value = obj.__dict__[self.slot]
        if isinstance(value, Sequence):  # rows, not yet a table
            value = obj.__dict__[self.slot] = words_frame(value)
        return cast("pd.DataFrame", value)

    def __set__(self, obj: Result, value: pd.DataFrame | Rows) -> None:
        obj.__dict__[self.slot] = value


@dataclass(frozen=True)
class Origin:
    """Where a read page came from, so its text layer can be laid over the page as it was.

    ``data`` (the file's bytes) or ``path`` names the file; ``index`` is the page's place in it (0-based);
    ``kind`` the format found in its bytes ("PDF", "JPEG", ...); ``dpi`` the resolution the page was
    decoded at (a PDF page: the resolution it was drawn at; an image: its own, or None). When neither
    ``data`` nor ``path`` is known, ``page`` is kept and its pixels are embedded losslessly.
    """

    kind: str
    index: int = 0
    count: int = 1
    dpi: float | None = None
    data: bytes | None = None
    path: str | None = None
    page: Page | None = None

    @property
    def key(self) -> object:
        """What tells one file from another (its path, or the identity of its bytes)."""
        return self.path if self.path is not None else id(self.data) if self.data is not None else id(self.page)

    def read(self) -> bytes:
        """The file's bytes."""
        if self.data is not None:
            return self.data
        if self.path is not None:
            try:
                return Path(self.path).read_bytes()
            except OSError as e:
                raise DamagedFileError(f"the file cannot be read again ({e.strerror or e}).") from None
        raise OcrError("the page's file is not known.")

    def pixels(self) -> np.ndarray:
        """The page's pixels as decoded (uint8 gray or RGB)."""
        if self.page is not None:
            return self.page.image
        page = load(self.read(), "page", pdf_dpi=round(self.dpi or DEFAULT_DPI))[self.index]
        return page.image


def origin_of(page: Page, data: bytes | None = None, path: str | os.PathLike[str] | None = None) -> Origin:
    """The origin of ``page``, read from ``data`` (its file's bytes) or ``path``; with neither, the page itself."""
    known = data is not None or path is not None
    return Origin(kind=page.kind, index=page.index, count=page.count, dpi=page.dpi, data=data,
                  path=os.fspath(path) if path is not None else None, page=None if known else page)


@dataclass
class Result:
    """Text, words (with boxes in the processed image's pixels and confidences 0-100), what made them,
    and how long each part took."""

    text: str
    # the words table; rows (``ocr.engines.Word``) are kept as given and made a table when first read
    words: _Words = _Words()
    name: str = ""
    settings: Settings | None = None
    options: Options = field(default_factory=Options)
    dpi: float = 0.0
    size: tuple[int, int] = (0, 0)  # width, height of the image the engine read
    timings: dict[str, float] = field(default_factory=dict)  # seconds
    warnings: list[str] = field(default_factory=list)
    engine: str = registry.DEFAULT  # the name of the engine that read it
    score: float | None = None  # the judge's score, when it was judged (see ocr.judge)
    note: str = ""  # how the engine was chosen, in plain words (engine="auto"), for a person to read
    # lang="auto": the language found (Tesseract's code), "und" when it could not be told; "" when lang was given
    language: str = ""
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
    def asked(self) -> Options:
        """The options as asked: ``options`` say what the page was read with (the language found), and
        this says ``lang="auto"`` again when the language was found by itself."""
        return self.options.replace(lang="auto") if self.language else self.options

    @property
    def mean_conf(self) -> float:
        """Mean word confidence (0-100); 0 when no words were found."""
        conf = self.columns()["conf"]
        conf = conf[conf >= 0]
        return round(float(conf.mean()), 2) if len(conf) else 0.0

    @property
    def word_count(self) -> int:
        return len(self.__dict__["_words"])

    def columns(self) -> dict[str, np.ndarray]:
        """The words' columns as arrays (see :func:`word_columns`); made from the engine's rows without
        pandas while nobody has read :attr:`words`."""
        return word_columns(self.__dict__["_words"])

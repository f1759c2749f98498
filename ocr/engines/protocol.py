"""What travels between the calling process and an engine's worker process, and how.

A :class:`Request` is one page and the :class:`~ocr.settings.Options` it is read with; an :class:`Answer`
is what an engine made of it in engine-neutral terms (the text in reading order, every word with its box,
confidence and place); a :class:`Reader` is what an engine's ``load`` gives a worker. Messages are
pickled and framed by their length over a pipe; :func:`recv` waits with a deadline, so a hang is noticed.
"""

from __future__ import annotations

import dataclasses
import os
import pickle
import select
import struct
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from ..settings import Options

if TYPE_CHECKING:
    import numpy as np

__all__ = ["Answer", "Pixels", "Reader", "Request", "Word", "encode", "recv", "send", "write"]


class Pixels:
    """A page's pixels on their way to a worker (:meth:`Request.packed`): the array's bytes, shape and type.
    An engine that reads bytes (Tesseract: a reader with ``takes_pixels``) takes them as they are, so its
    worker never imports NumPy, a fifth of a cold command's worker start; any other gets the array back
    (:meth:`array`)."""

    __slots__ = ("data", "dtype", "shape")

    def __init__(self, data: bytes, shape: tuple[int, ...], dtype: str) -> None:
        self.data, self.shape, self.dtype = data, shape, dtype

    @classmethod
    def of(cls, image: np.ndarray) -> Pixels:
        return cls(image.tobytes(), tuple(image.shape), image.dtype.str)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def tobytes(self) -> bytes:
        """The pixels, row after row (as ``ndarray.tobytes``)."""
        return self.data

    def array(self) -> np.ndarray:
        """The pixels as a (writable) array again."""
        import numpy as np

        return np.frombuffer(bytearray(self.data), dtype=self.dtype).reshape(self.shape)


@dataclass
class Request:
    """One page for an engine: its pixels (uint8 gray or RGB), the resolution to tell the engine, and how
    to read it."""

    image: np.ndarray | Pixels
    dpi: int
    options: Options = field(default_factory=Options)

    def told(self) -> Options:
        """The options as the engine gets them: the resolution to tell it in ``dpi``."""
        return self.options.replace(dpi=int(self.dpi))

    def packed(self) -> Request:
        """This request as it travels to a worker process: its pixels as :class:`Pixels`."""
        if isinstance(self.image, Pixels):
            return self
        return dataclasses.replace(self, image=Pixels.of(self.image))


class Word(NamedTuple):
    """One word as Tesseract's TSV has it: conf 0-100, box in image pixels, numbers counted from 1."""

    text: str
    conf: float
    left: int
    top: int
    width: int
    height: int
    block: int
    par: int
    line: int
    word: int


@dataclass
class Answer:
    """What an engine made of one page."""

    text: str
    words: list[Word]
    engine: str = ""  # the registered name of the engine that read it
    backend: str = ""  # "api" (a worker process) or "cli" (a command run for the page)
    seconds: float = 0.0
    log: str = ""  # what the engine printed while reading


class Reader(Protocol):
    """An engine as loaded in a worker process (what its :class:`~ocr.engines.registry.EngineInfo`'s
    ``load`` returns)."""

    def prepare(self, options: Options) -> None:
        """Load what reading with ``options`` needs (a language's model), ahead of the first page."""

    def read(self, image: np.ndarray, options: Options) -> Answer:
        """Read one page (uint8 gray or RGB); ``options.dpi`` is the resolution to assume. A reader whose
        ``takes_pixels`` is true may be given :class:`Pixels` instead of an array."""


# -- framing ----------------------------------------------------------------------------------------


def send(fd: int, obj: Any) -> None:
    """Write one message: its length (8 bytes, big-endian), then the pickle."""
    write(fd, encode(obj))


def encode(obj: Any) -> bytes:
    """One message as it travels: its length (8 bytes, big-endian), then the pickle."""
    data = pickle.dumps(obj, protocol=5)
    return struct.pack("!Q", len(data)) + data


def write(fd: int, message: bytes) -> None:
    """Write an encoded message whole."""
    view = memoryview(message)
    while view:
        view = view[os.write(fd, view):]


def _read_exact(fd: int, n: int, deadline: float | None) -> bytes | None:
    chunks, left = [], n
    while left:
        if deadline is not None:
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([fd], [], [], wait)[0]:
                raise TimeoutError
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def recv(fd: int, deadline: float | None = None) -> Any:
    """Read one message; None when the other end closed the pipe. Raises TimeoutError past ``deadline``
    (a ``time.monotonic()`` value)."""
    head = _read_exact(fd, 8, deadline)
    if head is None:
        return None
    body = _read_exact(fd, struct.unpack("!Q", head)[0], deadline)
    return None if body is None else pickle.loads(body)

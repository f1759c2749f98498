"""The one door to the OCR engines. Nothing outside this package imports ``tesserocr`` (or any other
engine's library); everything else asks an :class:`Engine`.

=================  ===========================================================================
``install``        what is installed: language data, word lists, versions, the child environment
``protocol``       :class:`Request`, :class:`Answer`, :class:`Word`, and the pipe framing
``tesseract``      Tesseract's library as loaded in a worker: recognition, renderers, orientation
``worker``         the worker process (``python -m ocr.engines.worker``)
``pool``           :class:`Engine`: the pool of workers, shared by threads
``cli``            the ``tesseract`` command: the fallback backend and the reference run
=================  ===========================================================================

Every engine runs with one thread per process (``OMP_THREAD_LIMIT=1`` in the children's environment
only): Debian's Tesseract uses OpenMP, which on two cores made one page ten times slower. Parallelism
comes from reading pages side by side, and a crash or a hang costs one page.
"""

from __future__ import annotations

from .cli import plain_tesseract
from .install import check_languages, language_package, languages, tessdata_dir, tesseract_version, wordlist
from .pool import BACKENDS, Engine, default_engine
from .protocol import Answer, Request, Word

ENGINES = ("tesseract", "ppocr")  # what "auto" reads with, in this order
ENGINE_NAMES = {"tesseract": "Tesseract", "ppocr": "PP-OCR", "auto": "Best of both"}


def ppocr_reads(lang: str) -> bool:
    """Whether PP-OCR's bundled model reads every language of ``lang`` ("eng+deu"); no model is loaded."""
    from .ppocr import supports

    return supports(lang)

__all__ = [
    "BACKENDS",
    "ENGINES",
    "ENGINE_NAMES",
    "Answer",
    "Engine",
    "Request",
    "Word",
    "check_languages",
    "default_engine",
    "language_package",
    "languages",
    "plain_tesseract",
    "ppocr_reads",
    "tessdata_dir",
    "tesseract_version",
    "wordlist",
]

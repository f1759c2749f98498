"""The one door to the OCR engines: nothing outside this package imports an engine's library.

Each engine is one module that registers itself in :mod:`~ocr.engines.registry`; :class:`Engine`
(:mod:`~ocr.engines.pool`) reads pages in worker processes (:mod:`~ocr.engines.worker`), one thread
each, so a crash or a hang costs one page. :mod:`~ocr.engines.install` says what is installed and
:mod:`~ocr.engines.cli` runs the ``tesseract`` command. Names load on first use, so importing a
submodule (the registry, say) does not start the rest.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "BACKENDS": "pool", "Engine": "pool", "default_engine": "pool",
    "Answer": "protocol", "Request": "protocol", "Word": "protocol",
    "check_languages": "install", "language_package": "install", "languages": "install",
    "tessdata_dir": "install", "tesseract_version": "install", "wordlist": "install",
    "plain_tesseract": "tesseract",
    "EngineInfo": "registry", "AUTO": "registry", "register": "registry", "unregister": "registry",
    "engines": "registry", "names": "registry", "get": "registry", "label": "registry", "reading": "registry",
}
_SUBMODULES = ("registry",)

__all__ = sorted(_EXPORTS)


if not TYPE_CHECKING:  # type checkers see the imports below instead (a __getattr__ would hide typos)

    def __getattr__(name: str) -> Any:
        if name in _SUBMODULES:
            return importlib.import_module(f".{name}", __name__)
        if name in _EXPORTS:
            value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
            globals()[name] = value
            return value
        raise AttributeError(f"module 'ocr.engines' has no attribute {name!r}")


if TYPE_CHECKING:
    from . import registry as registry
    from .install import (
        check_languages as check_languages,
        language_package as language_package,
        languages as languages,
        tessdata_dir as tessdata_dir,
        tesseract_version as tesseract_version,
        wordlist as wordlist,
    )
    from .pool import BACKENDS as BACKENDS, Engine as Engine, default_engine as default_engine
    from .protocol import Answer as Answer, Request as Request, Word as Word
    from .registry import (
        AUTO as AUTO,
        EngineInfo as EngineInfo,
        engines as engines,
        get as get,
        label as label,
        names as names,
        reading as reading,
        register as register,
        unregister as unregister,
    )
    from .tesseract import plain_tesseract as plain_tesseract

"""OCR Workbench's engine room: read files into pages, clean them up, recognise their text, and export
the results.

    import ocr
    pages = ocr.load("scan.pdf")
    processed = ocr.preprocess(pages[0], ocr.Settings(threshold="otsu"))
    result = ocr.recognize(processed, lang="eng", psm=3)
    data = ocr.export(result, "txt")

Names are loaded on first use, so ``import ocr`` stays quick (and an engine's worker process starts
without pulling in pandas).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "load": "decode", "Page": "decode", "Limits": "limits",
    "Settings": "settings", "Options": "settings", "preset_json": "settings", "parse_preset": "settings",
    "preprocess": "preprocessing", "Processed": "preprocessing",
    "recognize": "recognition",
    "Result": "result",
    "export": "exports", "export_zip": "exports", "FORMATS": "exports",
    "Engine": "engines", "ENGINES": "engines", "default_engine": "engines", "languages": "engines",
    "language_package": "engines",
    "read_files": "batch", "read_page": "batch", "Outcome": "batch", "read_chosen": "batch", "Source": "batch",
    "stream_pages": "batch", "SearchablePdf": "pdf",
    "autotune": "tuning", "Tuning": "tuning",
    "OcrError": "errors", "InputError": "errors", "MissingDependencyError": "errors", "EngineError": "errors",
    "TesseractError": "errors", "EngineTimeoutError": "errors", "EngineCrashError": "errors",
    "SettingsError": "errors",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'ocr' has no attribute {name!r}")


if TYPE_CHECKING:  # for editors and type checkers: the same names, imported for real
    from .batch import Outcome, Source, read_chosen, read_files, read_page, stream_pages
    from .decode import Page, load
    from .engines import ENGINES, Engine, default_engine, language_package, languages
    from .errors import (
        EngineCrashError,
        EngineError,
        EngineTimeoutError,
        InputError,
        MissingDependencyError,
        OcrError,
        SettingsError,
        TesseractError,
    )
    from .exports import FORMATS, export, export_zip
    from .limits import Limits
    from .pdf import SearchablePdf
    from .preprocessing import Processed, preprocess
    from .recognition import recognize
    from .result import Result
    from .settings import Options, Settings, parse_preset, preset_json
    from .tuning import Tuning, autotune

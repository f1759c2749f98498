"""OCR Workbench's engine room: read files into pages, clean them up, recognise their text with
Tesseract, and export the results.

    import ocr
    pages = ocr.load("scan.pdf")
    processed = ocr.preprocess(pages[0], ocr.Settings(threshold="otsu"))
    result = ocr.recognize(processed, lang="eng", psm=3)
    data = ocr.export(result, "txt")

Names are loaded on first use, so ``import ocr`` stays quick (and a Tesseract worker process starts
without pulling in pandas).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

_EXPORTS = {
    "load": "decode", "Page": "decode",
    "Settings": "settings", "Options": "settings", "preset_json": "settings", "parse_preset": "settings",
    "preprocess": "preprocessing", "Processed": "preprocessing",
    "recognize": "recognition",
    "Result": "result",
    "export": "exports", "export_zip": "exports", "FORMATS": "exports",
    "Engine": "engine", "default_engine": "engine", "languages": "engine",
    "read_files": "batch", "read_page": "batch", "Outcome": "batch",
    "autotune": "tuning",
    "OcrError": "errors", "InputError": "errors", "MissingDependencyError": "errors",
    "TesseractError": "errors", "EngineTimeoutError": "errors", "EngineCrashError": "errors",
    "SettingsError": "errors",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'ocr' has no attribute {name!r}")


if TYPE_CHECKING:  # for editors and type checkers
    from .tuning import autotune
    from .batch import Outcome, read_files, read_page
    from .engine import Engine, default_engine, languages
    from .errors import (EngineCrashError, EngineTimeoutError, InputError, MissingDependencyError, OcrError,
                         SettingsError, TesseractError)
    from .export import FORMATS, export, export_zip
    from .decode import Page, load
    from .preprocessing import Processed, preprocess
    from .recognize import recognize
    from .result import Result
    from .settings import Options, Settings, parse_preset, preset_json

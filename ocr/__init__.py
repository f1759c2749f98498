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
    "load": "decode", "Page": "decode", "DEFAULT_DPI": "decode", "Limits": "limits",
    "Settings": "settings", "Options": "settings", "preset_json": "settings", "parse_preset": "settings",
    "preprocess": "preprocessing", "Processed": "preprocessing",
    "recognize": "recognition",
    "Result": "result",
    "export": "exports", "export_zip": "exports", "FORMATS": "exports",
    "Engine": "engines", "registry": "engines", "EngineInfo": "engines", "default_engine": "engines",
    "languages": "engines", "language_package": "engines",
    "read_files": "batch", "read_page": "reading", "Outcome": "reading", "read_chosen": "batch", "Source": "reading",
    "stream_pages": "batch", "SearchablePdf": "pdf",
    "autotune": "tuning", "Tuning": "tuning",
    "OcrError": "errors", "InputError": "errors", "MissingDependencyError": "errors", "EngineError": "errors",
    "TesseractError": "errors", "EngineTimeoutError": "errors", "EngineCrashError": "errors",
    "SettingsError": "errors",
}

__all__ = sorted(_EXPORTS)


if not TYPE_CHECKING:  # type checkers see the imports below instead (a __getattr__ would hide typos)

    def __getattr__(name: str) -> Any:
        if name in _EXPORTS:
            value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
            globals()[name] = value
            return value
        raise AttributeError(f"module 'ocr' has no attribute {name!r}")


if TYPE_CHECKING:  # for editors and type checkers: the same names, imported for real (``X as X``: re-exported)
    from .batch import (
        read_chosen as read_chosen,
        read_files as read_files,
        stream_pages as stream_pages,
    )
    from .decode import (
        DEFAULT_DPI as DEFAULT_DPI,
        Page as Page,
        load as load,
    )
    from .engines import (
        Engine as Engine,
        EngineInfo as EngineInfo,
        default_engine as default_engine,
        language_package as language_package,
        languages as languages,
        registry as registry,
    )
    from .errors import (
        EngineCrashError as EngineCrashError,
        EngineError as EngineError,
        EngineTimeoutError as EngineTimeoutError,
        InputError as InputError,
        MissingDependencyError as MissingDependencyError,
        OcrError as OcrError,
        SettingsError as SettingsError,
        TesseractError as TesseractError,
    )
    from .exports import (
        FORMATS as FORMATS,
        export as export,
        export_zip as export_zip,
    )
    from .limits import (
        Limits as Limits,
    )
    from .pdf import (
        SearchablePdf as SearchablePdf,
    )
    from .preprocessing import (
        Processed as Processed,
        preprocess as preprocess,
    )
    from .reading import (
        Outcome as Outcome,
        Source as Source,
        read_page as read_page,
    )
    from .recognition import (
        recognize as recognize,
    )
    from .result import (
        Result as Result,
    )
    from .settings import (
        Options as Options,
        Settings as Settings,
        parse_preset as parse_preset,
        preset_json as preset_json,
    )
    from .tuning import (
        Tuning as Tuning,
        autotune as autotune,
    )

"""Errors a person understands.

Every failure the package can meet on ordinary input has its own class here, and its message is one plain
sentence about the file (or page) it concerns. The command line and the app show ``str(error)`` and never
a traceback.
"""

from __future__ import annotations


class OcrError(Exception):
    """Base of every error this package raises on purpose. ``detail`` carries a traceback from another
    process (an engine's worker), for the log only; a person sees ``str(error)``."""

    detail: str = ""


class InputError(OcrError):
    """The file itself cannot be read as a page: not an image, empty, damaged or too large."""


class NotAnImageError(InputError):
    pass


class EmptyFileError(InputError):
    pass


class DamagedFileError(InputError):
    pass


class TooLargeError(InputError):
    pass


class OverLimitError(TooLargeError):
    """The file breaks one of the limits of :class:`ocr.limits.Limits`; ``limit`` names which one
    ("max_pages", "max_pixels_per_page", "max_pixels_per_file" or "max_side")."""

    def __init__(self, message: str, limit: str = "") -> None:
        super().__init__(message)
        self.limit = limit


class NotEnoughMemoryError(TooLargeError):
    """Decoding a page ran out of memory although the file was within its limits."""


class PasswordError(InputError):
    """The PDF is encrypted with a password (or a scheme) that it cannot be opened without."""


class MissingDependencyError(OcrError):
    """An engine, or the language data asked for, is not installed."""


class LanguageMissingError(MissingDependencyError):
    """The language data asked for is not installed."""


class EngineError(OcrError):
    """An engine could not read this page; the other pages go on."""


class TesseractError(EngineError):
    """Tesseract ran but failed on this page."""


class EngineTimeoutError(EngineError):
    """The page took longer than its time limit."""


class EngineCrashError(EngineError):
    """The engine's process died while reading this page."""


class SettingsError(OcrError, ValueError):
    """A preset or a setting that does not make sense."""


class UnsupportedLanguageError(LanguageMissingError):
    """The OCR engine asked for has no model for the language asked for (its alphabet is not covered)."""


class ModelDownloadRefusedError(MissingDependencyError):
    """A setting would make an engine download a model or font at run time; this package never downloads."""


class RecognitionError(OcrError):
    """An engine other than Tesseract ran but failed on this page."""

"""Errors a person understands.

Every failure the package can meet on ordinary input has its own class here, and its message is one plain
sentence about the file (or page) it concerns. The command line and the app show ``str(error)`` and never
a traceback.
"""

from __future__ import annotations


class OcrError(Exception):
    """Base of every error this package raises on purpose."""


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


class MissingDependencyError(OcrError):
    """Tesseract, or the language data asked for, is not installed."""


class LanguageMissingError(MissingDependencyError):
    """The language data asked for is not installed."""


class TesseractError(OcrError):
    """Tesseract ran but failed on this page."""


class EngineTimeoutError(TesseractError):
    pass


class EngineCrashError(TesseractError):
    pass


class SettingsError(OcrError, ValueError):
    """A preset or a setting that does not make sense."""


class UnsupportedLanguageError(LanguageMissingError):
    """The OCR engine asked for has no model for the language asked for (its alphabet is not covered)."""


class ModelDownloadRefusedError(MissingDependencyError):
    """A setting would make an engine download a model or font at run time; this package never downloads."""


class RecognitionError(OcrError):
    """An engine other than Tesseract ran but failed on this page."""

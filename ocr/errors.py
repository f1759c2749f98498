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

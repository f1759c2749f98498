"""Where the package's log records go: stderr, one line each, for the command line and the app alike.

Nothing here runs on import: a program that uses the package as a library keeps its own logging set-up.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
VARIABLE = "OCR_LOG_LEVEL"  # the app's level (default INFO: each page read)


def setup(level: str | int | None = None, names: Sequence[str] = ("ocr",)) -> None:
    """Send the records of the loggers ``names`` (and their children) at ``level`` or above to stderr;
    ``level`` defaults to ``$OCR_LOG_LEVEL``, else INFO. Calling it again replaces the handler."""
    chosen = level or os.environ.get(VARIABLE, "").upper() or "INFO"
    if isinstance(chosen, str) and chosen not in LEVELS:
        chosen = "INFO"
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT, "%H:%M:%S"))
    for name in names:
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(chosen)

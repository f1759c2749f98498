"""What a new session of the app starts with.

The package and the command line read with Tesseract unless asked otherwise (the fastest, and what a batch
of clean scans needs); the app starts with the best of both engines, because what people bring to it one
page at a time is mostly what Tesseract reads worst (photos, receipts, screens) and a page read twice costs
a second or two; and it finds the page's language by itself. A link says only what differs from these,
so a link without ``engine`` or ``lang`` means this.
"""

from __future__ import annotations

import ocr

SETTINGS = ocr.Settings()
OPTIONS = ocr.Options(engine="auto", lang="auto")


def describe(settings: ocr.Settings, options: ocr.Options) -> str:
    """What differs from a new session's settings and options, in plain words: "plain", or e.g.
    "×2, black & white: level found for the page · Tesseract, one column"."""
    return " · ".join(filter(None, [settings.describe(SETTINGS), options.describe(OPTIONS)]))

"""The engines' lifetime in the app: one pool of engine workers for every session, started with the server.

The pool's worker processes hold Tesseract and PP-OCR loaded; it is a shared resource (it holds no
session's data), so ``st.cache_resource`` keeps it for the life of the server. Its workers start and load
English and the engines a new session reads with (:data:`workbench.defaults.OPTIONS`) in the background as
soon as the first session opens, so the first page is read as quickly as the later ones.
"""

from __future__ import annotations

import threading

import streamlit as st

import ocr
import ocr.language
from workbench import defaults


@st.cache_resource(show_spinner=False)
def engine() -> ocr.Engine:
    """The app's engine, its workers warming up in the background on first use."""
    shared = ocr.default_engine()
    threading.Thread(target=_warm, args=(shared,), daemon=True, name="ocr-warm").start()
    return shared


def _warm(shared: ocr.Engine) -> None:
    """The engines' workers and, when the app finds languages by itself, the language identifier: loaded
    once for every session, so a server's idle memory holds them and the first page waits for neither."""
    if defaults.OPTIONS.lang == "auto":
        ocr.language.warm()
    shared.warm(defaults.OPTIONS)

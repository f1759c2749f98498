"""The Tesseract engine's lifetime in the app: one engine for every session, started with the server.

The engine is a pool of worker processes, each with Tesseract loaded; it is a shared resource (it holds
no session's data), so ``st.cache_resource`` keeps it for the life of the server. Its workers start and
load English in the background as soon as the first session opens, so the first page is read as quickly
as the later ones.
"""

from __future__ import annotations

import threading

import streamlit as st

import ocr


@st.cache_resource(show_spinner=False)
def engine() -> ocr.Engine:
    """The app's engine, its workers warming up in the background on first use."""
    shared = ocr.default_engine()
    threading.Thread(target=shared.warm, daemon=True, name="ocr-warm").start()
    return shared

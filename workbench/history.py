"""What the session has read: each page's latest result, the text as the person edited it, and the run
history (a :class:`Run` per page read, at most ``MAX_HISTORY``)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import streamlit as st

import ocr

from . import keys
from .url import options, settings

MAX_HISTORY = 200


@dataclass(frozen=True)
class Run:
    """One page read: what was read, with which settings, how well, and the text."""

    number: int  # 1, 2, ... in the order of the session's runs
    time: str  # the clock time it finished, HH:MM:SS
    page: str  # the page key ("sha256:index")
    file: str  # the page's name
    settings: ocr.Settings
    options: ocr.Options
    mean_conf: float
    words: int
    seconds: float
    text: str

    def label(self) -> str:
        """One line naming the run, e.g. "Run 2 · 10:41:07 · scan.png · x1.5, otsu"."""
        return f"Run {self.number} · {self.time} · {self.file} · {self.settings.describe()}"


def runs() -> list[Run]:
    """Every run of the session, oldest first."""
    found: list[Run] = st.session_state[keys.HISTORY]
    return found


def results() -> dict[str, ocr.Result]:
    """Each page's latest result, by page key."""
    found: dict[str, ocr.Result] = st.session_state[keys.RESULTS]
    return found


def record(key: str, result: ocr.Result) -> Run:
    """Keep a page's new result: it replaces the edited text, and joins the history."""
    results()[key] = result
    st.session_state[keys.EDITS][key] = result.text
    history = runs()
    run = Run(
        number=history[-1].number + 1 if history else 1, time=time.strftime("%H:%M:%S"), page=key,
        file=result.name, settings=result.settings or ocr.Settings(), options=result.options,
        mean_conf=result.mean_conf, words=result.word_count, seconds=round(result.timings.get("total", 0.0), 2),
        text=result.text,
    )
    history.append(run)
    del history[:-MAX_HISTORY]
    return run


def edited(key: str) -> str:
    """The page's text as the person left it (the text as read when they did not edit it)."""
    found: str = st.session_state[keys.EDITS].get(key, results()[key].text if key in results() else "")
    return found


def save_edit(key: str) -> None:
    """on_change of the text box: the edit goes under a plain key, so it outlives the widget."""
    st.session_state[keys.EDITS][key] = st.session_state[keys.TEXT]


def up_to_date(key: str) -> bool:
    """True when the page was read with the settings the controls show now."""
    result = results().get(key)
    return result is not None and (result.settings or ocr.Settings()) == settings() and result.options == options()

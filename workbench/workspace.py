"""This session's workspace: its id in the address bar, what it restores on a new session, and the writes
that keep the store (:mod:`workbench.store`) equal to what the session holds.

The session state stays the working copy (quick to read on every rerun); each change the person makes
is also written to the store as it happens: a file opened or closed, a page read, a text edited, a true
text pasted, an auto-tune trace, the settings, the chosen page. A new session whose link carries the id
of a workspace in the store gets all of it back. A link with an id the store does not hold gets a new,
empty workspace with a new id: never the id it asked for, so nobody can plant one.
"""

from __future__ import annotations

import io
import time
from typing import Any

import pandas as pd
import streamlit as st

from . import defaults, keys
from .store import Store, data_folder, expire_days, new_id, valid_id

PARAM = "ws"  # the query parameter that carries the id
SWEEP_EVERY_S = 3600.0  # expired workspaces are swept at start-up and at most this often after


@st.cache_resource(show_spinner=False, max_entries=4)
def _open(folder: str, days: float) -> Store:
    """The store in ``folder``: a shared resource (a handle; it holds no session's data)."""
    return Store(folder, days)


def store() -> Store:
    """The store the environment names (``OCR_WORKBENCH_DATA``, ``OCR_WORKBENCH_EXPIRE_DAYS``)."""
    return _open(str(data_folder()), expire_days())


def ws() -> str:
    """This session's workspace id."""
    found: str = st.session_state[keys.WS]
    return found


def start() -> None:
    """On a session's first run: the workspace the link names, restored, or a new one. Now and then,
    expired workspaces are swept."""
    ss = st.session_state
    if keys.WS in ss:
        return
    s = store()
    if time.time() - s.last_sweep > SWEEP_EVERY_S:
        s.sweep()
    asked = st.query_params.get(PARAM)
    if asked and valid_id(asked) and s.exists(asked):
        ss[keys.WS] = asked
        s.touch(asked)
        restore(asked)
        return
    ss[keys.WS] = new_id()
    ss[keys.SAVED] = {}
    if asked:
        ss[keys.NOTICE].append(("That workspace is not here (cleared, expired after "
                                f"{expire_days():g} days unused, or the link is cut short): this is a new, empty one.",
                                ""))


def restore(found: str) -> None:
    """Everything the store holds for workspace ``found``, into the session."""
    from .files import FileEntry
    from .history import Run

    s, ss = store(), st.session_state
    ss[keys.FILES] = {sha: FileEntry.from_meta(sha, meta) for sha, meta in s.files(found)}
    ss[keys.RESULTS] = s.results(found)
    ss[keys.EDITS] = s.texts(found, "edit")
    ss[keys.TRUTHS] = s.texts(found, "truth")
    ss[keys.TRACE] = {key: pd.read_json(io.StringIO(text), orient="table")
                      for key, text in s.texts(found, "trace").items()}
    ss[keys.HISTORY] = s.runs(found, Run)
    saved = s.state(found)
    ss[keys.SAVED] = dict(saved)
    if "settings" in saved:
        ss[keys.SETTINGS] = saved["settings"]
    if "options" in saved:
        ss[keys.OPTIONS] = saved["options"]
    if saved.get("current"):
        ss[keys.CURRENT] = saved["current"]


def save_state() -> None:
    """Write the settings, the options and the chosen page when they changed since last written (a new
    workspace's defaults are not written: a visit that changes nothing leaves nothing on disk)."""
    ss = st.session_state
    saved: dict[str, Any] = ss.setdefault(keys.SAVED, {})
    now = {"settings": ss.get(keys.SETTINGS), "options": ss.get(keys.OPTIONS), "current": ss.get(keys.CURRENT)}
    starting = {"settings": defaults.SETTINGS, "options": defaults.OPTIONS, "current": None}
    for name, value in now.items():
        if value is None or value == saved.get(name, starting[name]):
            continue
        store().put_state(ws(), name, value)
        saved[name] = value


def save_trace(key: str, trace: pd.DataFrame) -> None:
    """Keep a page's auto-tune trace."""
    store().put_page(ws(), key, "trace", trace.to_json(orient="table"))


def save_truth(key: str, text: str) -> None:
    """Keep a page's true text (an empty one is forgotten)."""
    if text.strip():
        store().put_page(ws(), key, "truth", text)
    else:
        store().drop_page(ws(), key, "truth")


def clear() -> None:
    """Delete this workspace (files, results, edits, history, settings) and start a new, empty one."""
    store().clear(ws())
    ss = st.session_state
    for key, make in keys.FRESH.items():
        ss[key] = make()
    ss[keys.SETTINGS], ss[keys.OPTIONS], ss[keys.CURRENT] = defaults.SETTINGS, defaults.OPTIONS, None
    ss[keys.WS], ss[keys.SAVED], ss[keys.PUSH] = new_id(), {}, True

"""This session's workspace: its id in the address bar, what it restores on a new session, and the writes
that keep the store (:mod:`workbench.store`) equal to what the session holds.

The session state stays the working copy (quick to read on every rerun); each change the person makes
is also written to the store as it happens: a file opened or closed, a page read, a text edited, a true
text pasted, an auto-tune trace, the settings, the chosen page. A new session whose link carries the id
of a workspace in the store gets all of it back. A link with an id the store does not hold gets a new,
empty workspace with a new id: never the id it asked for, so nobody can plant one.

Every write goes through :func:`write`. When the store cannot keep one (its folder is read-only or full),
the session's workspace turns read-only: the person is told once, in one sentence, and goes on in
memory (a file's bytes stay in the session); nothing more is tried for that session. When the store had
to replace a damaged database while the session ran, the session writes all it holds into the new one.
"""

from __future__ import annotations

import contextlib
import io
import time
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar

import pandas as pd
import streamlit as st

from . import defaults, keys
from .store import Held, Store, StoreUnavailable, data_folder, expire_days, new_id, valid_id

T = TypeVar("T")
SWEEP_EVERY_S = 3600.0  # expired workspaces are swept at start-up and at most this often after
NOT_KEPT = ("This server cannot keep your work right now ({why}): you can go on opening files and reading pages "
            "in this tab, but they are not saved and go when you close it.")
SET_ASIDE = ("Earlier work on this server could not be read (its store of workspaces was damaged and has been set "
             "aside), so this is a new, empty workspace.")
SAVED_AGAIN = ("This server's store of workspaces was damaged and has been started anew; what this tab holds "
               "has been saved into it again.")


@st.cache_resource(show_spinner=False, max_entries=4)
def _open(folder: str, days: float) -> Store:
    """The store in ``folder``: a shared resource (a handle; it holds no session's data)."""
    return Store(folder, days)


def store() -> Store:
    """The store the environment names (``OCR_WORKBENCH_DATA``, ``OCR_WORKBENCH_EXPIRE_DAYS``)."""
    return _open(str(data_folder()), expire_days())


def health() -> str:
    """The store's state in one line ("ok", "read-only: the disk is full", ...), for a health check."""
    return str(store().health())


def ws() -> str:
    """This session's workspace id."""
    found: str = st.session_state[keys.WS]
    return found


def read_only() -> str | None:
    """Why this session's work is not kept by the store, or None while it is."""
    found: str | None = st.session_state.get(keys.READ_ONLY)
    return found


def write(action: Callable[[Store], T]) -> T | None:
    """One write of this session's work: ``action(store)``, or nothing once the session is read-only.
    When the store cannot keep it, the session turns read-only (see :func:`not_kept`); None then."""
    if read_only():
        return None
    try:
        return action(store())
    except StoreUnavailable as e:
        not_kept(e.why)
        return None


def not_kept(why: str) -> None:
    """The store cannot keep this session's work: say so once; from now on the session writes nothing
    and keeps its files' bytes itself."""
    ss = st.session_state
    if ss.get(keys.READ_ONLY):
        return
    ss[keys.READ_ONLY] = why
    ss[keys.NOTICE].append((NOT_KEPT.format(why=why), ""))


def held() -> Held:
    """The bytes of this session's files that the store could not keep (lent to the store, so a
    download made outside the script's run finds them)."""
    ss = st.session_state
    found = ss.get(keys.HELD)
    if not isinstance(found, Held):
        found = ss[keys.HELD] = Held()
    store().lend(ws(), found)
    return found


class Kinds(NamedTuple):
    """How the records the store keeps as JSON come back: a file's entry from its facts, a history run
    (the app passes its own classes, so this module needs neither)."""

    file: Callable[[str, dict[str, Any]], Any]
    run: type


def start(kinds: Kinds) -> None:
    """On a session's first run: the workspace the link names, restored, or a new one (a read-only
    store says so now). Now and then, expired workspaces are swept. On later runs: when the store
    replaced a damaged database meanwhile, all this session holds is written to the new one."""
    ss = st.session_state
    s = store()
    if keys.WS in ss:
        if ss.get(keys.GENERATION, s.generation) != s.generation:
            ss[keys.GENERATION] = s.generation
            save_all()
        return
    ss[keys.GENERATION] = s.generation
    if not s.writable:
        not_kept(s.health().detail)
    elif time.time() - s.last_sweep > SWEEP_EVERY_S:
        with contextlib.suppress(StoreUnavailable):  # logged by the store; the person hears at their first write
            s.sweep()
    asked = st.query_params.get(keys.WS_PARAM)
    try:
        if asked and valid_id(asked) and s.exists(asked):
            ss[keys.WS] = asked
            write(lambda kept: kept.touch(asked))
            restore(asked, kinds)
            return
    except StoreUnavailable as e:  # the disk cannot be read: a new workspace, in memory
        not_kept(e.why)
    ss[keys.WS] = new_id()
    ss[keys.SAVED] = {}
    if asked and s.health().state == "replaced":
        ss[keys.NOTICE].append((SET_ASIDE, ""))
    elif asked:
        ss[keys.NOTICE].append(("That workspace is not here (cleared, expired after "
                                f"{expire_days():g} days unused, or the link is cut short): this is a new, empty one.",
                                ""))


def restore(found: str, kinds: Kinds) -> None:
    """Everything the store holds for workspace ``found``, into the session (all read before any is put
    in, so a read that fails leaves the session as it was)."""
    s, ss = store(), st.session_state
    kept = {
        keys.FILES: {sha: kinds.file(sha, meta) for sha, meta in s.files(found)},
        keys.RESULTS: s.results(found),
        keys.EDITS: s.texts(found, "edit"),
        keys.TRUTHS: s.texts(found, "truth"),
        keys.TRACE: {key: pd.read_json(io.StringIO(text), orient="table")
                     for key, text in s.texts(found, "trace").items()},
        keys.HISTORY: s.runs(found, kinds.run),
        keys.VERSIONS: s.versions(found),
    }
    saved = s.state(found)
    ss.update(kept)
    ss[keys.SAVED] = dict(saved)
    if "settings" in saved:
        ss[keys.SETTINGS] = saved["settings"]
    if "options" in saved:
        ss[keys.OPTIONS] = saved["options"]
    if saved.get("current"):
        ss[keys.CURRENT] = saved["current"]


def save_all() -> None:
    """Write everything the session holds into the store (a new database, after the old one was found
    damaged): its files (their bytes are still on disk, or in the session), results, edits, true texts,
    traces, history and settings. The person is told once."""
    ss, here = st.session_state, ws()
    bytes_held = ss.get(keys.HELD) or {}

    def everything(s: Store) -> None:
        for sha, entry in ss[keys.FILES].items():  # a file neither on disk nor held was lost with the disk
            s.add_file(here, sha, entry.meta(), bytes_held.get(sha))
        for key, result in ss[keys.RESULTS].items():
            s.put_result(here, key, result)
            if ss[keys.EDITS].get(key, result.text) != result.text:
                s.put_page(here, key, "edit", ss[keys.EDITS][key])
        for key, text in ss[keys.TRUTHS].items():
            if text.strip():
                s.put_page(here, key, "truth", text)
        for key, trace in ss[keys.TRACE].items():
            s.put_page(here, key, "trace", trace.to_json(orient="table"))
        for run in ss[keys.HISTORY]:
            s.put_run(here, run)

    if not ss[keys.FILES] and not ss[keys.HISTORY]:
        return
    write(everything)
    ss[keys.VERSIONS] = {}  # the new database's texts are at version 0
    ss[keys.SAVED] = {}  # the settings and the chosen page are written again at the end of this run
    if not read_only():
        ss[keys.NOTICE].append((SAVED_AGAIN, ""))


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
        write(_put_state(name, value))
        saved[name] = value


def _put_state(name: str, value: Any) -> Callable[[Store], None]:
    return lambda s: s.put_state(ws(), name, value)


def save_trace(key: str, trace: pd.DataFrame) -> None:
    """Keep a page's auto-tune trace."""
    write(lambda s: s.put_page(ws(), key, "trace", trace.to_json(orient="table")))


def save_truth(key: str, text: str) -> None:
    """Keep a page's true text (an empty one is forgotten)."""
    if text.strip():
        write(lambda s: s.put_page(ws(), key, "truth", text))
    else:
        write(lambda s: s.drop_page(ws(), key, "truth"))


def clear() -> None:
    """Delete this workspace (files, results, edits, history, settings) and start a new, empty one."""
    write(lambda s: s.clear(ws()))
    ss = st.session_state
    for key, make in keys.FRESH.items():
        ss[key] = make()
    ss.pop(keys.HELD, None)
    ss[keys.SETTINGS], ss[keys.OPTIONS], ss[keys.CURRENT] = defaults.SETTINGS, defaults.OPTIONS, None
    ss[keys.WS], ss[keys.SAVED], ss[keys.PUSH] = new_id(), {}, True

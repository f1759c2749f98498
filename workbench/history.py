"""What the session has read: each page's latest result, the text as the person edited it, and the run
history (a :class:`Run` per page read, at most ``MAX_HISTORY``). Each is written to the workspace's store
as it changes (:mod:`workbench.workspace`).

Two tabs may hold one workspace. Each save of a page's text names the version of it the tab last saw
(``keys.VERSIONS``); when the other tab saved an edit since, the store keeps that edit as a run of the
history (:func:`elsewhere`) before this save replaces it, and this tab says so once: no edit is lost,
whichever tab saves last. Runs are numbered by the store, after the workspace's last run.
"""

from __future__ import annotations

import difflib
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import streamlit as st

import ocr

from . import defaults, keys, workspace
from .store import Saved, Store
from .url import options, settings

MAX_HISTORY = 200


@dataclass(frozen=True)
class Run:
    """One page read: what was read, with which settings, how well, and the text."""

    number: int  # 1, 2, ... in the order of the session's runs
    time: str  # the clock time this page finished, HH:MM:SS (each page of a batch its own)
    page: str  # the page key ("sha256:index")
    file: str  # the page's name
    settings: ocr.Settings
    options: ocr.Options
    mean_conf: float
    words: int
    seconds: float
    text: str
    # "read"; "edited": the person's edits, kept when a new reading replaced them; "edited elsewhere":
    # edits made in another tab on the same workspace, kept when this tab's save replaced them
    kind: str = "read"

    def describe(self) -> str:
        """What the run was made with: the clean-up and every reading option that is not the default,
        e.g. "x1.5, otsu · deu · one column"; "your edits" for a kept edited text."""
        if self.kind == "edited":
            return "your edits"
        if self.kind == "edited elsewhere":
            return "your edits in another tab"
        return defaults.describe(self.settings, self.options)

    def label(self) -> str:
        """One line naming the run, e.g. "Run 2 · 10:41:07 · scan.png · x1.5, otsu · deu"."""
        return f"Run {self.number} · {self.time} · {self.file} · {self.describe()}"


def clock() -> float:
    """Now, in seconds since the epoch (a test may stand in its own clock)."""
    return time.time()


def runs() -> list[Run]:
    """Every run of the session, oldest first."""
    found: list[Run] = st.session_state[keys.HISTORY]
    return found


def results() -> dict[str, ocr.Result]:
    """Each page's latest result, by page key."""
    found: dict[str, ocr.Result] = st.session_state[keys.RESULTS]
    return found


def _add(run: Run) -> Run:
    """Keep a run: numbered by the store (after any other tab's runs), or here when it keeps nothing."""
    numbered: Run | None = workspace.write(lambda s: s.add_run(workspace.ws(), run, MAX_HISTORY))
    run = numbered or run
    history = runs()
    history.append(run)
    del history[:-MAX_HISTORY]
    return run


def _next_number() -> int:
    history = runs()
    return history[-1].number + 1 if history else 1


def record(key: str, result: ocr.Result) -> Run:
    """Keep a page's new result: it replaces the edited text (kept as a version in the history first,
    when the person had edited it), and joins the history."""
    keep_edits(key)
    theirs = elsewhere(key, result)
    saved(key, workspace.write(lambda s: s.save_result(workspace.ws(), key, result, based_on=version(key),
                                                       theirs=theirs, keep=MAX_HISTORY)))
    results()[key] = light(result)
    st.session_state[keys.EDITS][key] = result.text
    return _add(Run(
        number=_next_number(), time=time.strftime("%H:%M:%S", time.localtime(clock())), page=key,
        file=result.name, settings=result.settings or ocr.Settings(), options=result.asked,
        mean_conf=result.mean_conf, words=result.word_count, seconds=round(result.timings.get("total", 0.0), 2),
        text=result.text,
    ))


def light(result: ocr.Result) -> ocr.Result:
    """A result as the session keeps it: its origin without the file's bytes or the page's pixels (the
    workspace keeps the file; :func:`exportable` joins them again)."""
    origin = result.origin
    if origin is not None:
        origin = replace(origin, data=None, path=None, page=None)
    return replace(result, origin=origin)


def exportable(pairs: list[tuple[str, ocr.Result]], kept: Store, ws: str) -> list[ocr.Result]:
    """Results of these pages (page key, result) ready for every export: each origin with its file's bytes
    read from the workspace (once a file), so a searchable PDF can be laid over the page as it was. Made
    on a download's click, outside the script's run: it takes the store and the id, not the session."""
    files: dict[str, bytes | None] = {}
    out = []
    for key, r in pairs:
        sha = key.rsplit(":", 1)[0]
        if sha not in files:
            files[sha] = kept.file_data(ws, sha)
        data = files[sha]
        out.append(replace(r, origin=replace(r.origin, data=data)) if r.origin is not None and data else r)
    return out


def was_edited(key: str) -> bool:
    """Whether the person changed the page's text from what was read."""
    result = results().get(key)
    return result is not None and edited(key) != result.text


def keep_edits(key: str) -> Run | None:
    """Put the page's edited text into the history as a version of its own (before a new reading
    replaces it); nothing when it was not edited."""
    if not was_edited(key):
        return None
    old = results()[key]
    text = edited(key)
    return _add(Run(
        number=_next_number(), time=time.strftime("%H:%M:%S", time.localtime(clock())), page=key,
        file=old.name, settings=old.settings or ocr.Settings(), options=old.asked, mean_conf=0.0,
        words=len(text.split()), seconds=0.0, text=text, kind="edited",
    ))


def edited(key: str) -> str:
    """The page's text as the person left it (the text as read when they did not edit it)."""
    found: str = st.session_state[keys.EDITS].get(key, results()[key].text if key in results() else "")
    return found


def save_edit(key: str) -> None:
    """on_change of the text box: the edit goes under a plain key, so it outlives the widget, and into
    the store, so it outlives the session."""
    text = st.session_state[keys.TEXT]
    st.session_state[keys.EDITS][key] = text
    theirs = elsewhere(key, results().get(key))
    saved(key, workspace.write(lambda s: s.save_edit(workspace.ws(), key, text, based_on=version(key),
                                                     theirs=theirs, keep=MAX_HISTORY)))


def version(key: str) -> int:
    """The version of the page's text this session last saw in the store (0: never saved)."""
    found: int = st.session_state[keys.VERSIONS].get(key, 0)
    return found


def elsewhere(key: str, result: ocr.Result | None) -> Callable[[str], Run]:
    """What keeps another tab's edit of the page's text as a run (the store numbers it)."""
    def run(text: str) -> Run:
        settings = (result.settings if result else None) or ocr.Settings()
        return Run(number=0, time=time.strftime("%H:%M:%S", time.localtime(clock())), page=key,
                   file=result.name if result else "", settings=settings,
                   options=result.asked if result else ocr.Options(), mean_conf=0.0, words=len(text.split()),
                   seconds=0.0, text=text, kind="edited elsewhere")

    return run


def saved(key: str, done: Saved | None) -> None:
    """After a save of a page's text: its version noted; when another tab's edit had to be kept in the
    history, the history read again from the store and the person told."""
    if done is None:
        return
    st.session_state[keys.VERSIONS][key] = done.version
    if done.kept is None:
        return
    st.session_state[keys.HISTORY] = workspace.store().runs(workspace.ws(), Run)
    st.session_state[keys.NOTICE].append((
        f"This page's text was also edited in another tab: that text is kept in the History as run "
        f"{done.kept.number}, and the text here is the page's text now.", done.kept.file))


def up_to_date(key: str) -> bool:
    """True when the page was read with the settings the controls show now."""
    result = results().get(key)
    return result is not None and (result.settings or ocr.Settings()) == settings() and result.asked == options()


def aligned(texts: dict[str, str]) -> dict[str, list[str]]:
    """Several readings of one page, line by line in rows that line up: each other reading's lines are
    matched to the first's (difflib); a line that differs sits on the row of the line it replaces, and
    a line only one reading has gets a row of its own, left empty ("") in the others. Marks: '-' on a
    line of the first that some other reading lacks, '+' on another's line the first lacks, two spaces
    on a line they share. Every reading gets the same number of rows."""
    first, *others = texts
    own = texts[first].splitlines()
    # per other reading: its line on each row of the first (None: none), and its lines before row i
    paired: dict[str, list[str | None]] = {}
    before: dict[str, list[list[str]]] = {}
    differs = [False] * len(own)
    for name in others:
        theirs = texts[name].splitlines()
        on_row: list[str | None] = [None] * len(own)
        extra: list[list[str]] = [[] for _ in range(len(own) + 1)]
        matcher = difflib.SequenceMatcher(None, own, theirs, autojunk=False)
        for op, i0, i1, j0, j1 in matcher.get_opcodes():
            if op == "equal":
                for k in range(i1 - i0):
                    on_row[i0 + k] = f"  {theirs[j0 + k]}"
                continue
            pairs = min(i1 - i0, j1 - j0)
            for k in range(pairs):
                on_row[i0 + k] = f"+ {theirs[j0 + k]}"
            for i in range(i0, i1):
                differs[i] = True
            extra[i1] += [f"+ {line}" for line in theirs[j0 + pairs:j1]]
        paired[name], before[name] = on_row, extra
    rows: dict[str, list[str]] = {name: [] for name in texts}
    for i in range(len(own) + 1):
        height = max((len(before[name][i]) for name in others), default=0)
        for name in others:
            rows[name] += before[name][i] + [""] * (height - len(before[name][i]))
        rows[first] += [""] * height
        if i == len(own):
            break
        rows[first].append(f"{'-' if differs[i] else ' '} {own[i]}")
        for name in others:
            rows[name].append(paired[name][i] or "")
    return rows

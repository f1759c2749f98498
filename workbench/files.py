"""The files a session has open, and their pages: each session decodes its own.

A file is kept as a few facts (:class:`FileEntry`) in the session and its bytes in the workspace's store
(:mod:`workbench.workspace`); its pages are read from the stored file's path when needed (PDFium draws a
PDF's page from the path, so a session holds no copy of the file), into this session's state, and kept
for the few files used last (``MAX_DECODED``), so a slider move does not decode the page again, a long
session does not hold every file's pixels, and no page object is ever handed to two sessions (pages are
mutable: a PDF page is drawn on first use). When the store cannot keep a file, the session keeps its
bytes itself (:func:`workbench.workspace.held`).

Between runs a session holds the pixels of the page on screen only (:func:`let_go`), and none on the
pages that show no page; when the session ends (its tab closed, the connection lost), Streamlit releases
its session-scoped resource (:func:`_session`) and the session's pages go with it (:func:`_give_back`).

A page is named by its page key, ``"sha256:index"``.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import streamlit as st

import ocr
from ocr.batch import describe_error
from ocr.decode import release

from . import keys, memory, workspace

log = logging.getLogger(__name__)

MAX_DECODED = 3  # files whose decoded pages a session keeps
SAMPLES = Path(__file__).resolve().parent / "samples"


@dataclass(frozen=True)
class FileEntry:
    """One opened file: its name and facts (its bytes are in the workspace's store, under ``sha``)."""

    name: str
    sha: str
    size: int  # bytes
    kind: str  # the format found in the bytes, e.g. "JPEG", "PDF"
    count: int  # pages
    first_size: tuple[int, int]  # the first page's width and height in pixels
    notes: tuple[str, ...] = ()  # what the decoder did that a person should know (e.g. a PDF's resolution)
    truth: str | None = None  # the true text, for bundled samples

    def meta(self) -> dict[str, object]:
        """The facts as the store keeps them (JSON)."""
        return {"name": self.name, "size": self.size, "kind": self.kind, "count": self.count,
                "first_size": list(self.first_size), "notes": list(self.notes), "truth": self.truth}

    @classmethod
    def from_meta(cls, sha: str, meta: dict[str, object]) -> FileEntry:
        """The inverse of :meth:`meta`."""
        first = meta["first_size"]
        notes = meta.get("notes") or []
        assert isinstance(first, list) and isinstance(notes, list)
        return cls(name=str(meta["name"]), sha=sha, size=int(str(meta["size"])), kind=str(meta["kind"]),
                   count=int(str(meta["count"])), first_size=(int(first[0]), int(first[1])),
                   notes=tuple(str(n) for n in notes), truth=None if meta.get("truth") is None else str(meta["truth"]))


def files() -> dict[str, FileEntry]:
    """The open files by SHA-256, in the order they were opened."""
    found: dict[str, FileEntry] = st.session_state[keys.FILES]
    return found


def _notes(pages: list[ocr.Page]) -> tuple[str, ...]:
    """The pages' notes, each once: as it is when every page has it, else after the pages that have it."""
    where: dict[str, list[int]] = {}
    for page in pages:
        for note in page.notes:
            where.setdefault(note, []).append(page.index + 1)
    lines = []
    for note, numbers in where.items():
        if len(numbers) == len(pages):
            lines.append(note)
        else:
            listed = ", ".join(map(str, numbers[:8])) + (", …" if len(numbers) > 8 else "")
            lines.append(f"page{'s' if len(numbers) > 1 else ''} {listed}: {note}")
    return tuple(lines)


def file_bytes(entry: FileEntry) -> bytes:
    """A file's bytes, from the workspace on disk (or from the session, when the store could not keep them)."""
    data = workspace.held().get(entry.sha) or workspace.store().file_data(workspace.ws(), entry.sha)
    if data is None:
        raise ocr.InputError("the file is no longer in this workspace.")
    return data


def _source(entry: FileEntry) -> bytes | Path:
    """What a file's pages are read from: its path in the store, or the bytes the session keeps."""
    held = workspace.held().get(entry.sha)
    if held is not None:
        return held
    path = workspace.store().file_path(workspace.ws(), entry.sha)
    if path is None:
        raise ocr.InputError("the file is no longer in this workspace.")
    return path


class _Session:
    """What Streamlit gives back when a session ends: the session's decoded pages (the same dict as
    ``st.session_state[keys.DECODED]``)."""

    def __init__(self) -> None:
        self.decoded: dict[str, list[ocr.Page]] = {}


def _give_back(session: _Session) -> None:
    """on_release of a session's resource (its tab closed or its connection lost): its pages let go,
    and the memory handed back to the system (a reconnecting session decodes them again)."""
    decoded = session.decoded
    for sha in list(decoded):
        pages = decoded.pop(sha, None)
        if pages:
            release(pages)
    memory.give_back()


@st.cache_resource(scope="session", on_release=_give_back, show_spinner=False)
def _session() -> _Session:
    """This session's resource, released by Streamlit when the session disconnects."""
    return _Session()


def decoded() -> dict[str, list[ocr.Page]]:
    """This session's decoded pages by file, the last used last (given back when the session ends)."""
    found: dict[str, list[ocr.Page]] = st.session_state[keys.DECODED]
    _session().decoded = found
    return found


def pages_of(entry: FileEntry) -> list[ocr.Page]:
    """A file's pages, decoded in this session and kept for the ``MAX_DECODED`` files used last."""
    held = decoded()
    pages = held.pop(entry.sha, None)
    if pages is None:
        pages = ocr.load(_source(entry), entry.name)
    held[entry.sha] = pages  # last used goes last
    for sha in list(held)[:-MAX_DECODED]:
        release(held.pop(sha))
    return pages


def add_file(name: str, data: bytes, truth: str | None = None) -> str | None:
    """Open a file. Returns None when it was added, else one sentence saying why not. When the store
    cannot keep it, it is open in this session only (the person is told once)."""
    sha = hashlib.sha256(data).hexdigest()
    if sha in files():
        return f"it is already open as {files()[sha].name}."
    try:
        pages = ocr.load(data, name)
        _ = pages[0].image  # the thumbnail needs the first page's pixels: one that cannot be drawn is said now
    except Exception as e:  # one sentence for this file; every other file goes on
        return describe_error(e)
    entry = FileEntry(name=name, sha=sha, size=len(data), kind=pages[0].kind, count=len(pages),
                      first_size=pages[0].size, notes=_notes(pages), truth=truth)
    workspace.write(lambda s: s.add_file(workspace.ws(), sha, entry.meta(), data))
    if workspace.read_only():
        workspace.held()[sha] = data
    files()[sha] = entry
    decoded()[sha] = pages
    if page_ref(st.session_state.get(keys.CURRENT)) is None:
        st.session_state[keys.CURRENT] = f"{sha}:0"
    return None


def open_sample(path: Path) -> str | None:
    """Open a bundled sample with its true text (``NAME.gt.txt``) when it has one."""
    truth = path.with_suffix(".gt.txt")
    return add_file(path.name, path.read_bytes(), truth.read_text("utf-8") if truth.exists() else None)


def samples() -> list[Path]:
    """The bundled sample images, by name."""
    return sorted(SAMPLES.glob("*.[jp][pn]g"))


def remove_file(sha: str) -> None:
    """Close a file: its pages, results, edits and auto-tune traces go; another page becomes current."""
    files().pop(sha, None)
    workspace.write(lambda s: s.remove_file(workspace.ws(), sha))
    workspace.held().pop(sha, None)
    release(decoded().pop(sha, []))
    for key in (keys.RESULTS, keys.EDITS, keys.TRACE, keys.TRUTHS):
        for page_key in [k for k in st.session_state[key] if k.startswith(sha + ":")]:
            del st.session_state[key][page_key]
    chosen = st.session_state.get(keys.CURRENT)
    if chosen and chosen.startswith(sha + ":"):
        every = page_keys()
        st.session_state[keys.CURRENT] = every[0] if every else None


def page_keys() -> list[str]:
    """Every page of every open file, in order: "sha256:index"."""
    return [f"{sha}:{i}" for sha, entry in files().items() for i in range(entry.count)]


def locate(key: str | None) -> tuple[FileEntry, int] | None:
    """The file and page index a page key names, or None when it is gone (without decoding anything)."""
    if not key or ":" not in key:
        return None
    sha, index = key.rsplit(":", 1)
    entry = files().get(sha)
    if entry is None or not index.isdigit() or int(index) >= entry.count:
        return None
    return entry, int(index)


class PageRef(NamedTuple):
    """A page of an open file, with its file."""

    entry: FileEntry
    page: ocr.Page


def page_ref(key: str | None) -> PageRef | None:
    """The file and the page a page key names, or None when it is gone."""
    found = locate(key)
    if found is None:
        return None
    entry, index = found
    return PageRef(entry, pages_of(entry)[index])


def page_problem(key: str) -> str | None:
    """Why a page cannot be shown (a PDF page that cannot be drawn), or None when it can."""
    ref = page_ref(key)
    if ref is None:
        return "the page is no longer open."
    try:
        _ = ref.page.image  # the pixels are needed to show it: a page that cannot be drawn is said here
    except Exception as e:  # whatever the decoder raised, the page says it in a sentence; a bug is logged
        if not isinstance(e, ocr.OcrError):
            log.exception("page %s could not be drawn", page_label(key))
        return describe_error(e)
    return None


def page_label(key: str) -> str:
    """A page as a person names it: the file's name, and the page number in a file of many pages."""
    found = locate(key)
    if found is None:
        return "?"
    entry, index = found
    return entry.name if entry.count == 1 else f"{entry.name} (page {index + 1} of {entry.count})"


def current() -> str | None:
    """The chosen page's key (the first page when the chosen one was closed), None when nothing is open."""
    key = st.session_state.get(keys.CURRENT)
    if locate(key) is None:
        every = page_keys()
        key = st.session_state[keys.CURRENT] = every[0] if every else None
    return key


def let_go(keep: str | None) -> None:
    """Let go of every file's pages but the chosen page's file, and of the pixels of every page but the
    chosen one (``keep``, a page key; None on a page that shows none): between runs a session holds one
    file's pages and at most one page's pixels, whatever it opened or read (the rest is decoded again
    from the workspace when shown). Memory let go is handed back to the system."""
    found = decoded()
    chosen = (keep or "").rsplit(":", 1)[0]
    let = False
    for sha in [sha for sha in found if sha != chosen]:
        pages = found.pop(sha)
        let = let or any(page.held for page in pages)
        release(pages)
    for page in found.get(chosen, []):
        if page.held and f"{chosen}:{page.index}" != keep:
            page.release()
            let = True
    if let:
        memory.give_back()

"""The app's memory: every session-state key, what each holds, and the cached work behind the pages.

Results live under plain keys (a widget's key is dropped when its page is left); widget keys are named
here too, so that no page invents one. Caches key on a file's SHA-256 and the settings as JSON, never on
an array, and are bounded.

Plain keys                                     holds
``files``      FILES     dict sha256 -> :class:`FileEntry`, in the order they were opened
``refused``    REFUSED   list of (file name, sentence) from the last upload
``current``    CURRENT   the chosen page: "sha256:index"
``settings``   SETTINGS  the :class:`ocr.Settings` the sliders show
``options``    OPTIONS   the :class:`ocr.Options` (language, page segmentation)
``push``       PUSH      True when settings changed in code and the sliders must be moved to them
``results``    RESULTS   dict page key -> the page's latest :class:`ocr.Result`
``edits``      EDITS     dict page key -> the text as the person edited it
``history``    HISTORY   list of run records (every OCR run of the session)
``batch``      BATCH     per-page status rows of the last OCR run
``autorun``    AUTORUN   set by Upload's "Extract text" button: the Extract page reads every page
``trace``      TRACE     dict page key -> the last auto-tune trace (a DataFrame)
``url_read``   URL_READ  True once the link's settings were read (first run of a session)
``notice``     NOTICE    list of (message, detail) to show once at the top of the next page
``upload_round`` UPLOAD_ROUND  counts uploads: part of the drop zone's key, so it empties after each
``camera_seen``  CAMERA_SEEN   the id of the last camera photo taken in
``preset_seen``  PRESET_SEEN   the id of the last preset file applied
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st

import ocr
from ocr import overlay
from ocr.batch import describe_error

FILES, REFUSED, CURRENT, SETTINGS, OPTIONS, PUSH = "files", "refused", "current", "settings", "options", "push"
RESULTS, EDITS, HISTORY, BATCH, AUTORUN, TRACE = "results", "edits", "history", "batch", "autorun", "trace"
URL_READ, NOTICE, UPLOAD_ROUND, CAMERA_SEEN = "url_read", "notice", "upload_round", "camera_seen"
PRESET_SEEN = "preset_seen"

# Widget keys (gone when their page is left; what matters is copied to the plain keys above).
W_UPLOADER = "w_uploader"  # + the upload round, so the drop zone empties after each upload
W_CAMERA_ON, W_CAMERA = "w_camera_on", "w_camera"
W_PAGE = "w_page"  # + page name: the page chooser on Tune and Extract
W_TEXT, W_BOXES, W_TRUTH, W_TRUTH_FILE = "w_text", "w_boxes", "w_truth", "w_truth_file"
W_PRESET = "w_preset"
W_RUN_A, W_RUN_B, W_ALL_SETTINGS = "w_run_a", "w_run_b", "w_all_settings"


def w(field: str) -> str:
    """The widget key of a setting's slider, toggle or select on the Tune page."""
    return f"w_set_{field}"


MAX_HISTORY = 200
SAMPLES = Path(__file__).resolve().parent.parent / "samples"


@dataclass(frozen=True)
class FileEntry:
    """One opened file: its bytes (so its pages can be decoded again from the cache), name and facts."""

    name: str
    sha: str
    data: bytes
    kind: str
    count: int  # pages
    truth: str | None = None  # the true text, for bundled samples

    @property
    def size(self) -> int:
        return len(self.data)


def init() -> None:
    """Defaults for every plain key; on a session's first run, the settings from the link."""
    ss = st.session_state
    for key, make in ((FILES, dict), (REFUSED, list), (RESULTS, dict), (EDITS, dict), (HISTORY, list),
                      (BATCH, list), (TRACE, dict), (NOTICE, list)):
        if key not in ss:
            ss[key] = make()
    ss.setdefault(UPLOAD_ROUND, 0)
    if not ss.get(URL_READ):
        ss[URL_READ] = True
        settings, options, problems = from_params(st.query_params.to_dict())
        ss[SETTINGS], ss[OPTIONS], ss[PUSH] = settings, options, True
        if problems:
            ss[NOTICE].append(("Some settings in the link could not be used; the defaults stand in for them.",
                               "\n".join(problems)))
    ss.setdefault(SETTINGS, ocr.Settings())
    ss.setdefault(OPTIONS, ocr.Options())


# -- settings and the link -----------------------------------------------------------------------------


def from_params(params: dict[str, str]) -> tuple[ocr.Settings, ocr.Options, list[str]]:
    """Settings and options from URL query parameters; a parameter that does not make sense is left out
    and reported (one sentence each)."""
    problems: list[str] = []
    out = []
    for kind in (ocr.Settings, ocr.Options):
        try:
            out.append(kind.from_strings(params))
            continue
        except ocr.SettingsError:
            pass
        good = {}
        for key, value in params.items():
            try:
                kind.from_strings({**good, key: value})
                good[key] = value
            except ocr.SettingsError as e:
                problems.append(str(e))
        out.append(kind.from_strings(good))
    return out[0], out[1], problems


def settings() -> ocr.Settings:
    return st.session_state[SETTINGS]


def options() -> ocr.Options:
    return st.session_state[OPTIONS]


def set_settings(new_settings: ocr.Settings, new_options: ocr.Options | None = None, *, push: bool = True) -> None:
    """Change the settings from code (a preset, a reset, a restored run, auto-tune): the sliders follow."""
    st.session_state[SETTINGS] = new_settings
    if new_options is not None:
        st.session_state[OPTIONS] = new_options
    st.session_state[PUSH] = push
    write_url()


def write_url() -> None:
    """Keep the address bar's query string equal to the settings, so that a link reproduces them."""
    want = {**settings().to_strings(), **options().to_strings()}
    if st.query_params.to_dict() != want:
        st.query_params.from_dict(want)


def settings_key(s: ocr.Settings) -> str:
    """A settings object as the text a cache keys on."""
    return json.dumps(s.to_dict(), sort_keys=True)


# -- files and pages -----------------------------------------------------------------------------------


def files() -> dict[str, FileEntry]:
    return st.session_state[FILES]


@st.cache_resource(max_entries=8, show_spinner=False)
def _decode(sha: str, name: str, _data: bytes) -> list[ocr.Page]:
    """A file's pages, decoded once per file (keyed on its SHA-256 and name, never on its bytes)."""
    return ocr.load(_data, name)


def pages_of(entry: FileEntry) -> list[ocr.Page]:
    return _decode(entry.sha, entry.name, entry.data)


def add_file(name: str, data: bytes, truth: str | None = None) -> str | None:
    """Open a file. Returns None when it was added, else one sentence saying why not."""
    sha = hashlib.sha256(data).hexdigest()
    if sha in files():
        return f"it is already open as {files()[sha].name}."
    try:
        pages = _decode(sha, name, data)
        pages[0].image  # a PDF's first page is drawn now: a page that cannot be drawn is said here
    except Exception as e:  # one sentence for this file; every other file goes on
        return describe_error(e)
    files()[sha] = FileEntry(name=name, sha=sha, data=data, kind=pages[0].kind, count=len(pages), truth=truth)
    if not st.session_state.get(CURRENT) or page_ref(st.session_state[CURRENT]) is None:
        st.session_state[CURRENT] = f"{sha}:0"
    return None


def remove_file(sha: str) -> None:
    files().pop(sha, None)
    for key in (RESULTS, EDITS, TRACE):
        for page_key in [k for k in st.session_state[key] if k.startswith(sha + ":")]:
            del st.session_state[key][page_key]
    current = st.session_state.get(CURRENT)
    if current and current.startswith(sha + ":"):
        keys = page_keys()
        st.session_state[CURRENT] = keys[0] if keys else None


def page_keys() -> list[str]:
    """Every page of every open file, in order: "sha256:index"."""
    return [f"{sha}:{i}" for sha, entry in files().items() for i in range(entry.count)]


def page_ref(key: str | None) -> tuple[FileEntry, ocr.Page] | None:
    """The file and the page a page key names, or None when it is gone."""
    if not key or ":" not in key:
        return None
    sha, index = key.rsplit(":", 1)
    entry = files().get(sha)
    if entry is None or not index.isdigit() or int(index) >= entry.count:
        return None
    return entry, pages_of(entry)[int(index)]


def page_problem(key: str) -> str | None:
    """Why a page cannot be shown (a PDF page that cannot be drawn), or None when it can."""
    try:
        page_ref(key)[1].image
    except Exception as e:
        return describe_error(e)
    return None


def page_label(key: str) -> str:
    ref = page_ref(key)
    if ref is None:
        return "?"
    entry, page = ref
    return entry.name if entry.count == 1 else f"{entry.name} (page {page.index + 1} of {entry.count})"


def current() -> str | None:
    key = st.session_state.get(CURRENT)
    if page_ref(key) is None:
        keys = page_keys()
        key = st.session_state[CURRENT] = keys[0] if keys else None
    return key


# -- pictures (cached on the file's SHA-256, page index and settings) ----------------------------------


@st.cache_data(max_entries=64, show_spinner=False)
def thumbnail(sha: str, index: int, _entry: FileEntry) -> bytes:
    return overlay.encode(overlay.thumbnail(pages_of(_entry)[index].image, 220), "jpeg")


@st.cache_data(max_entries=16, show_spinner=False)
def _display(sha: str, index: int, _entry: FileEntry) -> tuple[np.ndarray, float]:
    return overlay.fit(pages_of(_entry)[index].image)


@st.cache_data(max_entries=32, show_spinner=False)
def original(sha: str, index: int, crop: tuple[int, int, int, int] | None, _entry: FileEntry) -> bytes:
    """The page as it was opened, display-sized, with the crop framed."""
    image, factor = _display(sha, index, _entry)
    return overlay.encode(overlay.draw_crop(image, crop, factor), "jpeg")


@dataclass
class Preview:
    image: np.ndarray | None  # the processed page, display-sized (at most about a megapixel)
    data: bytes = b""  # encoded for the browser
    fmt: str = "PNG"  # PNG for black and white (sharp), JPEG for greys (small)
    factor: float = 1.0  # size of ``image`` relative to the full-size processed page
    seconds: float = 0.0  # preprocessing of the preview
    steps: list | None = None  # (step, seconds, what it did)
    skew: float = 0.0
    warnings: list | None = None
    error: str | None = None


@st.cache_data(max_entries=64, show_spinner=False)
def preview(sha: str, index: int, settings_json: str, _entry: FileEntry) -> Preview:
    """The processed page at display size: the whole pipeline on a reduced copy of the page, reduced
    further when the settings enlarge it, so that the result is about a megapixel whatever the scale."""
    page = pages_of(_entry)[index]
    s = ocr.Settings.from_dict(json.loads(settings_json))
    enlarge = s.target_dpi / (page.dpi or 300) if s.target_dpi else s.scale
    try:
        processed = ocr.preprocess(page, s, max_pixels=int(overlay.DISPLAY_PIXELS / max(1.0, enlarge) ** 2),
                                   orient=engine().orientation)
    except Exception as e:
        return Preview(image=None, error=describe_error(e))
    image, shrink = overlay.fit(processed.image)
    fmt = "PNG" if s.threshold != "none" else "JPEG"
    return Preview(
        image=image, data=overlay.encode(image, fmt.lower()), fmt=fmt, factor=processed.factor * shrink,
        seconds=processed.seconds, steps=[(step.name, step.seconds, step.detail) for step in processed.steps],
        skew=processed.skew, warnings=list(processed.warnings),
    )


# -- the engine ----------------------------------------------------------------------------------------


@st.cache_resource(show_spinner=False)
def engine() -> ocr.Engine:
    """One Tesseract engine for the whole app, its workers started and English loaded in the background
    so that the first page is read as quickly as the later ones."""
    shared = ocr.default_engine()
    threading.Thread(target=shared.warm, daemon=True, name="ocr-warm").start()
    return shared


# -- OCR runs ------------------------------------------------------------------------------------------


def results() -> dict[str, ocr.Result]:
    return st.session_state[RESULTS]


def record(key: str, result: ocr.Result) -> None:
    """Keep a page's new result: it replaces the edited text, and joins the history."""
    results()[key] = result
    st.session_state[EDITS][key] = result.text
    history = st.session_state[HISTORY]
    history.append({
        "run": (history[-1]["run"] + 1) if history else 1,
        "time": time.strftime("%H:%M:%S"),
        "page": key,
        "file": result.name,
        "settings": result.settings or ocr.Settings(),
        "options": result.options,
        "mean_conf": result.mean_conf,
        "words": result.word_count,
        "seconds": round(result.timings.get("total", 0.0), 2),
        "text": result.text,
    })
    del history[:-MAX_HISTORY]


def edited(key: str) -> str:
    return st.session_state[EDITS].get(key, results()[key].text if key in results() else "")


def save_edit(key: str) -> None:
    """on_change of the text box: the edit goes under a plain key, so it outlives the widget."""
    st.session_state[EDITS][key] = st.session_state[W_TEXT]


def up_to_date(key: str) -> bool:
    result = results().get(key)
    return result is not None and (result.settings or ocr.Settings()) == settings() and result.options == options()


# -- small shared pieces of layout ---------------------------------------------------------------------


def show_notices() -> None:
    """Messages left for the next page (e.g. from the link); shown once."""
    for message, detail in st.session_state[NOTICE]:
        st.warning(message)
        if detail:
            st.text(detail)
    st.session_state[NOTICE] = []


def file_problem(message: str, name: str, sentence: str) -> None:
    """A refused file or failed page: the message as an alert, the name and sentence as plain text (a
    file name is never read as Markdown)."""
    with st.container(border=True):
        st.error(message, icon=":material/error:")
        st.text(f"{name}: {sentence}")


def page_picker(where: str) -> str | None:
    """The chooser of the current page (shared by Tune and Extract); None when nothing is open."""
    keys = page_keys()
    if not keys:
        return None
    key = current()
    widget = W_PAGE + where
    if len(keys) == 1:
        return key
    st.session_state[widget] = key

    def chosen() -> None:
        st.session_state[CURRENT] = st.session_state[widget]
        st.session_state[PUSH] = True  # the crop's percentages are of the new page

    labels = {k: page_label(k) for k in keys}
    st.selectbox("Page", keys, format_func=labels.get, key=widget, on_change=chosen, width=560)
    return st.session_state[CURRENT]


def width(size: tuple[int, int], max_height: int = 760) -> int | str:
    """The width at which a page of ``size`` fits ``max_height`` pixels of screen ("stretch" when the
    column's width is the tighter limit): a tall receipt should not push everything below the fold."""
    w, h = size
    return "stretch" if h <= 0 or w / h >= 0.75 else max(120, round(max_height * w / h))


def show_image(data: bytes, size: tuple[int, int], fmt: str = "PNG") -> None:
    """Encoded image bytes as they are (no second encoding), framed (a white page on a white screen has
    no edge otherwise), and not much taller than the screen."""
    with st.container(width=width(size), border=True):
        st.image(data, output_format=fmt, width="stretch")


def no_files(what: str) -> None:
    st.info(f"Open a photo, scan or PDF first; then come back here to {what}.", icon=":material/upload_file:")
    st.page_link("pages/upload.py", label="Go to Upload", icon=":material/arrow_forward:")

"""Every session-state key of the app, named once: the plain keys (what the session remembers) and the
widget and button keys (what each control is called). Pages and tests import these names; no page and
no test spells a key as a string.

Plain keys hold results, so they outlive the page that made them (Streamlit drops a widget's key when
its page is left):

======================  =========================================================================
``WS``                  the workspace's id (:mod:`workbench.workspace`), carried by the link as ``ws``
``SAVED``               dict name -> the settings, options and chosen page as last written to the store
``FILES``               dict sha256 -> :class:`workbench.files.FileEntry`, in the order they were opened
``DECODED``             dict sha256 -> the file's decoded pages, this session's own, the last few used
``REFUSED``             list of (file name, sentence) from the last upload
``CURRENT``             the chosen page: a page key "sha256:index"
``SETTINGS``            the :class:`ocr.Settings` the controls show
``OPTIONS``             the :class:`ocr.Options` (languages, page layout...)
``PUSH``                True when code changed the settings and the controls must be moved to them
``RESULTS``             dict page key -> the page's latest :class:`ocr.Result`
``EDITS``               dict page key -> the text as the person edited it
``TRUTHS``              dict page key -> the true text the person gave for it
``ASK_REPLACE``         the page keys whose edited texts a new reading would replace (the question is open)
``TUNING``              the running auto-tune job (:class:`workbench.tuning.Job`), or absent
``CONFIRMED``           the page keys the person agreed to read again, replacing their edits
``ASK_KEEP``            (page key, engine) of a compared reading that would replace edited text (asked)
``KEEP_CONFIRMED``      (page key, engine) of a compared reading the person agreed to keep over their edits
``STEP_SCALE``          how many spec steps a pixel slider moves by on the page shown (so each step shows)
``CROP_SEEN``           the last box drawn on the picture that was made the crop
``COMPARE``             dict page key -> {engine: Result or the sentence why it failed}, the engines compared
``FAILED``              dict page key -> the sentence of its last reading, when that reading failed
``HISTORY``             list of :class:`workbench.history.Run`, every OCR run of the session
``BATCH``               per-page status rows of the last OCR run
``AUTORUN``             set by Upload's "Extract text" button: the Extract page reads every page
``TRACE``               dict page key -> the last auto-tune trace (a DataFrame)
``URL_READ``            True once the link's settings were read (first run of a session)
``NOTICE``              list of (message, detail) to show once at the top of the next page
``UPLOAD_ROUND``        counts uploads: part of the drop zone's key, so it empties after each
``CAMERA_SEEN``         the id of the last camera photo taken in
``PRESET_SEEN``         the id of the last settings file applied
``VERSIONS``            dict page key -> the version of the page's text this session last saw in the store
``READ_ONLY``           why the store cannot keep this session's work (it goes on in memory), or absent
``HELD``                a :class:`workbench.store.Held`: the bytes of files the store could not keep
``GENERATION``          the store's generation this session's work was written to (a new one after damage)
``WORKING``             the Tune page's working copy of the page shown (:class:`workbench.preview.Working`)
``MOVED``               the control keys the person moved (their ``on_change``) since the settings took them
``SLIDING``             the clean-up slider or switch in hand (its field): moved last, or pointed at or focused since
``SHOWN``               dict control key -> the value the code last gave that control, or took from it
``BATCH_WATCH``         ids of the server's jobs (Extract all) this tab started or saw running, until they end
``LIVE``                the Tune page's quick reading (:class:`workbench.live.Live`): its worker and last text
======================  =========================================================================
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# -- plain keys ----------------------------------------------------------------------------------------

WS, SAVED = "ws", "saved"
WS_PARAM = "ws"  # the address bar's query parameter that carries the workspace's id
FILES, DECODED, REFUSED, CURRENT = "files", "decoded", "refused", "current"
SETTINGS, OPTIONS, PUSH = "settings", "options", "push"
RESULTS, EDITS, HISTORY, BATCH, AUTORUN, TRACE = "results", "edits", "history", "batch", "autorun", "trace"
TRUTHS, ASK_REPLACE, TUNING, CONFIRMED, FAILED = "truths", "ask_replace", "tuning", "confirmed", "failed"
STEP_SCALE, CROP_SEEN, COMPARE = "step_scale", "crop_seen", "compare"
ASK_KEEP, KEEP_CONFIRMED = "ask_keep", "keep_confirmed"
URL_READ, NOTICE, UPLOAD_ROUND, CAMERA_SEEN, PRESET_SEEN = (
    "url_read", "notice", "upload_round", "camera_seen", "preset_seen")
VERSIONS, READ_ONLY, HELD, GENERATION = "versions", "read_only", "held", "generation"
WORKING, MOVED, SHOWN, LIVE, SLIDING = "working", "moved", "shown", "live", "sliding"
BATCH_WATCH = "batch_watch"

# What each collection starts as in a new session.
FRESH: dict[str, Callable[[], Any]] = {
    FILES: dict, DECODED: dict, REFUSED: list, RESULTS: dict, EDITS: dict, TRUTHS: dict, HISTORY: list,
    BATCH: list, TRACE: dict, NOTICE: list, UPLOAD_ROUND: int, FAILED: dict, COMPARE: dict, VERSIONS: dict,
    BATCH_WATCH: list,
}


# -- widget and button keys ----------------------------------------------------------------------------
# Upload
CAMERA_ON, CAMERA = "w_camera_on", "w_camera"
CLEAR = "clear_workspace"
GO_EXTRACT = "go_extract"
# Tune
PRESET_UPLOAD, PRESET_DOWNLOAD = "w_preset", "preset_download"
AUTO_TUNE, RESET, CANCEL_TUNE = "auto_tune", "reset", "cancel_tune"
CROP_DRAW = "w_crop_draw"  # the original picture, on which a box is dragged to crop
TUNE_CONTROLS, TUNE_PICTURE = "tune_controls", "tune_picture"  # containers (their CSS classes size them)
TUNE_ORIGINAL, TUNE_TEXT = "tune_original", "tune_text"  # the original picture's and the live text's containers
TUNE_VIEWER = "w_tune_viewer"  # the processed picture's viewer (zoom, pan, 1:1)
TUNE_AHEAD = "w_tune_ahead"  # the picture of the slider's next step, handed to the viewer ahead of the move
# the crop's two range sliders stand in for the crop field: percentages across and down the page
CROP_X, CROP_Y = "crop_x", "crop_y"
# Extract
EXTRACT_ONE, EXTRACT_ALL = "extract_one", "extract_all"
# Extract all on the server: its progress panel and Cancel; the offer to finish a batch a restart cut off
BATCH_PANEL, BATCH_CANCEL = "batch_panel", "batch_cancel"
BATCH_CUT, BATCH_FINISH, BATCH_LEAVE = "batch_cut", "batch_finish", "batch_leave"
TEXT, BOXES = "w_text", "w_boxes"
EXTRACT_TEXT = "extract_text"  # the text column's container (its CSS class puts it first on a phone)
REPLACE_YES, REPLACE_NO = "replace_yes", "replace_no"  # the "replace your edits?" question
COMPARE_RUN = "compare_engines"
COMPARE_PANEL = "compare_panel"  # the comparison's expander: one identity, so it stays as the person left it


def keep_reading(engine: str) -> str:
    """The button under one engine's reading in the comparison: it becomes the page's result."""
    return f"keep_{engine}"
# History
RUN_A, RUN_B, ALL_SETTINGS = "w_run_a", "w_run_b", "w_all_settings"


def uploader(round_: int) -> str:
    """The drop zone's key: new after each upload, so the zone empties (the files are listed below it)."""
    return f"w_uploader{round_}"


def sample(stem: str) -> str:
    """The button that opens a bundled sample."""
    return f"sample_{stem}"


def remove(sha: str) -> str:
    """The button that closes an open file."""
    return f"remove_{sha}"


def page_picker(where: str) -> str:
    """The chooser of the current page on one page of the app ("tune", "extract")."""
    return f"w_page{where}"


def setting(field: str) -> str:
    """The control of a field of :class:`ocr.Settings` or :class:`ocr.Options` (or ``CROP_X``/``CROP_Y``)."""
    return f"w_set_{field}"


def download(fmt: str) -> str:
    """A download button on the Extract page: ``fmt`` is an export format (txt, json, csv, hocr, pdf, zip)."""
    return f"dl_{fmt}"


def truth(page_key: str) -> str:
    """The box for a page's true text."""
    return f"w_truth{page_key}"


def truth_open(page_key: str) -> str:
    """Whether the panel with a page's true text is open (kept here, so a rerun that draws the page anew
    does not close it under the person's hand)."""
    return f"w_truth_open{page_key}"


def truth_file(page_key: str) -> str:
    """The upload of a page's true text as a file."""
    return f"w_truth_file{page_key}"


def truth_seen(page_key: str) -> str:
    """The id of the last true-text file taken in for a page."""
    return f"truth_seen{page_key}"


def restore(side: str) -> str:
    """History's "use this run's settings" button under run ``side`` ("a" or "b")."""
    return f"restore_{side}"

"""Tune: a control for every setting beside the picture, which stays in view while any control moves.

The picture column (the processed page; the original, on which a box is dragged to crop) sits beside a
column of controls that scrolls on its own, so the picture does not scroll away; on a phone the picture
comes first and the controls below it, in a shorter scrolling box. Controls and pictures are one
fragment, so a slider reruns only them; the processed picture is the whole pipeline on a copy of about
a megapixel (cached on the file's SHA-256 and the settings). Auto-tune runs beside the page
(:mod:`workbench.tuning`): its progress in plain words, a Cancel button, and the page still on screen.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

import ocr
from ocr.batch import describe_error
from ocr.exports import MIME
from ocr.tuning import STAGE_WORDS
from workbench import controls, crop, defaults, keys, layout, live, nav, preview, tuning, url, viewer, workspace
from workbench.engine import engine
from workbench.files import PageRef, page_label, page_problem, page_ref

log = logging.getLogger(__name__)

ss = st.session_state
ICONS = {"page": ":material/crop_rotate:", "light": ":material/light_mode:", "ink": ":material/contrast:",
         "reading": ":material/menu_book:"}
HIGHLIGHT, MUTED = "#2563eb", "#9aa5b1"  # the theme's primary colour (.streamlit/config.toml), and grey
CONTROLS_HEIGHT = 560  # pixels: the controls' scrolling column at 1280x800 (the pictures and text beside it)
PICTURE_HEIGHT = 500  # pixels: the processed picture's box (the picture is fitted into it, then zoomed at will)
ORIGINAL_BOX = (270, PICTURE_HEIGHT)  # the largest the original (on which a crop is dragged) is drawn
TEXT_HEIGHT = 480  # pixels: the live text's scrolling box
READ_EVERY_S = 0.25  # seconds between looks at the quick reading's answer
# Wide: original | processed | controls, and the text beside them. On a phone the columns stack, the
# processed picture first (CSS order) and pinned under the menu (sticky) while the page scrolls the
# original, the controls and the text below it; the controls' own scrolling box is for wide screens only.
PHONE_CSS = f"""<style>
[data-testid="stMainBlockContainer"] {{ padding-top: 4.5rem; }}
.st-key-{keys.TUNE_AHEAD} {{ display: none; }}
.st-key-{keys.TUNE_TEXT} pre, .st-key-{keys.TUNE_TEXT} [data-testid="stText"] {{ white-space: pre-wrap; }}
@media (max-width: 640px) {{
  div[data-testid="stColumn"]:has(.st-key-{keys.TUNE_PICTURE}):not(:has(.st-key-{keys.TUNE_CONTROLS})) {{
    order: -1; position: sticky; top: 3.5rem; z-index: 3; background: #ffffff; padding-bottom: 0.25rem;
    box-shadow: 0 6px 6px -6px rgba(0, 0, 0, 0.25); }}
  .st-key-{keys.TUNE_PICTURE} .ocrv-view {{ height: 30vh !important; }}  /* a fixed box: the page stays put */
  .st-key-{keys.TUNE_CONTROLS} {{ height: auto !important; max-height: none !important; overflow: visible !important; }}
  div:has(> .st-key-{keys.TUNE_CONTROLS}) {{ height: auto !important; flex: 0 0 auto !important; }}
  .st-key-{keys.TUNE_TEXT} {{ height: auto !important; max-height: 40vh !important; }}
}}
</style>"""


def running() -> tuning.Job | None:
    """The auto-tune job running on any page of this session, if one is."""
    job: tuning.Job | None = ss.get(keys.TUNING)
    return job if job is not None and job.running else None


def crop_drawn(size: tuple[int, int]) -> None:
    """on_select of the original picture: a box dragged on it becomes the crop (once per box); a
    double-click, which empties the selection, clears the crop the box made."""
    event = ss.get(keys.CROP_DRAW)
    selection = event.get("selection") if event else None
    box = crop.box_from_selection(selection, size)
    if box is None:
        if crop.cleared(selection) and ss.get(keys.CROP_SEEN) is not None:
            ss[keys.CROP_SEEN] = None
            url.change(url.settings().replace(crop=None))
        return
    if box == ss.get(keys.CROP_SEEN):
        return
    ss[keys.CROP_SEEN] = box
    url.change(url.settings().replace(crop=box))


def draw_original(ref: PageRef, s: ocr.Settings, size: tuple[int, int]) -> None:
    """The original page with the crop framed, as a chart on which a box is dragged to crop."""
    st.caption("Original: drag a box to crop, double-click to clear it")
    with st.container(key=keys.TUNE_ORIGINAL):
        picture = preview.original(ref, s.crop)
        st.vega_lite_chart(crop.data(picture, size), crop.chart(size, ORIGINAL_BOX, s.crop),
                           on_select=lambda: crop_drawn(size), selection_mode=crop.SELECTION, key=keys.CROP_DRAW,
                           width="content")
    st.caption(f"{size[0]}×{size[1]} pixels" + (f", {ref.page.dpi:g} dpi" if ref.page.dpi else ""))


def draw_processed(ref: PageRef, s: ocr.Settings) -> preview.Preview:
    """The processed page in its viewer (zoom and pan on it), and what was done to make it."""
    st.caption("Processed: what the engine reads")
    shown = preview.processed(ref, s)
    if shown.error:
        st.error("These settings cannot be applied to this page:")
        st.text(shown.error)
        return shown
    with st.container(key=keys.TUNE_PICTURE):
        viewer.show(shown.data, shown.size, shown.fmt, height=PICTURE_HEIGHT, made_from=viewer.base(s),
                    grey=preview.grey_before_level(ref, s), level=s.threshold_value, invert=s.invert == "yes")
    facts = [f"preview {shown.size[0]}×{shown.size[1]}", f"made in {shown.seconds * 1000:.0f} ms"]
    if s.deskew:
        facts.append(f"straightened by {shown.skew:+.1f}°")
    steps = [plain_step(name, detail) for name, _, detail in shown.steps if name != "preview"]
    st.caption(" · ".join(facts), help="Steps: " + (" → ".join(steps) if steps else "none")
               + ". The preview is a reduced copy; the text is read from the full-size page.")
    for warning in shown.warnings:
        st.warning(warning)
    return shown


STEP_FIELDS = {"auto-orient": "auto_orient", "find page": "find_page", "rescale": "scale",  # step -> its setting
               "contrast": "clahe"}
TECHNICAL = re.compile(r"\b(otsu|sauvola|clahe|psm|oem|nlmeans)\b", re.IGNORECASE)  # names kept for the help


def plain_step(name: str, detail: str) -> str:
    """A clean-up step as the controls name it ("Black & white (level found for the page)"), not by the
    pipeline's technical name ("threshold (otsu)"); a detail in technical terms is left out."""
    try:
        spec = ocr.Settings.spec(STEP_FIELDS.get(name, name))
    except KeyError:
        return f"{name} ({detail})" if detail else name
    first, _, rest = detail.partition(" ")
    if first in [str(c) for c in spec.choices]:
        detail = " ".join([spec.name_of(spec.choices[[str(c) for c in spec.choices].index(first)]).lower(), rest])
    detail = "" if TECHNICAL.search(detail) else detail.strip()
    return f"{spec.label} ({detail})" if detail else spec.label


def live_reader() -> live.Live:
    """This session's quick reader (made on first use)."""
    reader: live.Live | None = ss.get(keys.LIVE)
    if reader is None:
        reader = ss[keys.LIVE] = live.Live(engine)
    return reader


def ask_reading(shown: preview.Preview, s: ocr.Settings, o: ocr.Options, dpi: float | None) -> None:
    """Ask the quick reader for the text of the preview shown (a newer ask replaces an older one)."""
    if shown.error or not shown.data:
        return
    live_reader().ask(url.settings_key(s) + json.dumps(o.to_dict(), sort_keys=True), shown.image,
                      (dpi or 300) * shown.factor, o, defaults.describe(s, o))


@st.fragment(run_every=READ_EVERY_S)
def show_reading() -> None:
    """The quick reading's text and score beside the pictures, redrawn every ``READ_EVERY_S`` seconds (a
    fragment of its own, on the page's top level: a timed fragment inside the controls' fragment made
    Streamlit lose the controls' values under quick key presses)."""
    reader = live_reader()
    latest = reader.latest
    st.caption("Text: a quick reading of the preview")
    with st.container(key=keys.TUNE_TEXT, height=TEXT_HEIGHT, border=True):
        if latest is None:
            st.caption("Reading…")
            return
        if reader.busy:
            st.caption("Reading these settings… (below: the text of the settings before)")
        elif latest.error:
            st.caption("The quick reading failed:")
        else:
            change = live.change_words(reader.before, latest)
            st.caption(f"Score {latest.score:.0f}" + (f" · {change}" if change else "")
                       + f" · {ocr.Options.spec('engine').name_of(latest.engine)}, {latest.seconds:.1f} s")
        st.caption(f"Read with: {latest.label}")
        st.text(latest.error or latest.text.strip() or "(no text found)")


@st.fragment
def side_by_side(key: str) -> None:
    """The original, the processed picture and the controls, side by side; on a phone one above the other,
    the processed picture first. A control's move reruns this fragment only; its new value is taken
    before anything is drawn, so every part shows the new settings, and the quick reading of the new
    preview is asked for (the text beside it is its own fragment)."""
    ref = page_ref(key)
    assert ref is not None
    size = ref.page.size
    problem = controls.pull(size)
    s = url.settings()
    controls.set_step_scale(preview.preview_factor(size, ref.page.dpi, s))
    controls.push(size)
    busy = running() is not None
    original, processed, column = st.columns([5, 5, 5], gap="small")
    with processed:
        shown = draw_processed(ref, s)
    with original:
        draw_original(ref, s, size)
    ask_reading(shown, s, url.options(), ref.page.dpi)
    with column, st.container(height=CONTROLS_HEIGHT, key=keys.TUNE_CONTROLS, border=True):
        notice = st.empty()  # one place, always there: a sentence appearing never moves the controls below it
        if problem:
            notice.error(problem)
        changes = controls.changed(list(controls.CONTROLS))
        st.caption("Changed from the defaults: " + ("; ".join(changes) if changes else "nothing"))
        for group, title, members in controls.groups():
            open_ = group != "reading" or bool(controls.changed(members))
            with st.expander(title, expanded=open_, icon=ICONS.get(group)):
                controls.render_group(members, disabled=busy)
        st.download_button("Download these settings (.json)", ocr.preset_json(s, url.options()),
                           file_name="ocr-settings.json", mime=MIME["json"], icon=":material/download:",
                           on_click="ignore", key=keys.PRESET_DOWNLOAD)
        st.caption("To share these settings, without your files:")
        st.code(url.settings_link(), language=None, wrap_lines=True)
    with processed:  # last: the page above is on its way while this is made
        ahead_of_the_hand(key)


@st.fragment
def ahead_of_the_hand(key: str) -> None:
    """:func:`hand_ahead` in a fragment of its own inside the controls' fragment: it runs with every run of
    that, and alone when the browser says the hand came to another control (the controls and the
    pictures are not drawn again for that)."""
    ref = page_ref(key)
    assert ref is not None
    hand_ahead(ref, url.settings())


def hand_ahead(ref: PageRef, s: ocr.Settings) -> None:
    """The pictures of the next move of the control in the person's hand (moved last, or come to with the
    pointer or the keyboard since: the browser says which), made now and handed to the viewer
    (invisible): a slider's next step either way, a switch's other side. The press that moves it shows
    its picture at once, the first press on a control as the later ones. Once a control moves, the move
    back is the picture just left (cached): one picture is made a move. The Level the viewer draws
    itself is left to it."""
    drawn_here = preview.drawn_in_browser(s)
    ahead_keys = [keys.setting(c.field) for c in controls.CONTROLS
                  if controls.ahead_field(c) and not (c.field == "threshold_value" and drawn_here)]
    field = controls.in_hand()
    steps = []
    if field is not None and keys.setting(field) in ahead_keys and controls.needed(controls.BY_FIELD[field], {}):
        for value in controls.steps_beside(s, field):
            try:
                shown = preview.processed(ref, s.replace(**{field: value}))
            except ocr.SettingsError:  # a value the settings refuse together with the others: nothing ahead
                continue
            if not shown.error:
                steps.append(viewer.Step(value, shown.data, shown.size, shown.fmt))
    viewer.ahead(s, field, steps, ahead_keys, on_near=hand_near)


def hand_near() -> None:
    """The browser says the pointer or the keyboard focus came to a control (``on_near_change`` of the
    component that hands the pictures ahead): that control is in hand from now on."""
    said = ss.get(keys.TUNE_AHEAD)
    controls.take_hand(said.get("near") if said else None)


def reset() -> None:
    url.change(defaults.SETTINGS, defaults.OPTIONS)


def load_preset(upload: Any) -> str | None:
    """Apply an uploaded settings file once; one sentence when it cannot be used."""
    if upload is None or upload.file_id == ss.get(keys.PRESET_SEEN):
        return None
    ss[keys.PRESET_SEEN] = upload.file_id
    try:
        new, new_options = ocr.parse_preset(upload.getvalue())
    except ocr.SettingsError as e:
        return str(e)
    url.change(new, new_options or url.options())
    return None


def start_tuning(key: str) -> None:
    """Start auto-tune on the page (the region the crop and the turn leave, when they are set)."""
    ref = page_ref(key)
    assert ref is not None
    chosen = url.settings()
    try:
        region = ref.page if chosen.crop is None and not chosen.rotate else ocr.preprocess(
            ref.page, ocr.Settings(crop=chosen.crop, rotate=chosen.rotate, grayscale=False, auto_orient=False))
    except Exception as e:  # any failure of the clean-up is said on the page; a bug is logged with its traceback
        if not isinstance(e, ocr.OcrError):
            log.exception("auto-tune could not start")
        st.error("Auto-tune could not start on this page:")
        st.text(describe_error(e))
        return
    ss[keys.TUNING] = tuning.start(key, region, url.options(), engine())


def finish_tuning() -> None:
    """When the auto-tune job has ended: its answer becomes the settings (moving the controls), its trace
    is kept with the page; one sentence when it failed."""
    job: tuning.Job | None = ss.get(keys.TUNING)
    if job is None or job.running:
        return
    del ss[keys.TUNING]
    if job.error or job.answer is None:
        st.error("Auto-tune could not finish on this page:")
        st.text(job.error or "it stopped without an answer.")
        return
    ss[keys.TRACE][job.page] = job.answer.trace
    workspace.save_trace(job.page, job.answer.trace)
    url.change(job.answer.settings, job.answer.options)
    if job.answer.cut_short:
        st.warning("Auto-tune was stopped before it had tried everything: the best settings it found so far "
                   "are applied.", icon=":material/timer_off:")
    elif job.fraction >= 1.0:  # its last words: what it chose, in plain words, or that nothing was better
        st.info(job.message, icon=":material/auto_awesome:")


def tuning_progress() -> None:
    """While auto-tune runs: its progress in plain words and a Cancel button (redrawn twice a second);
    when it ends, the whole page runs again to apply the answer."""
    job: tuning.Job | None = ss.get(keys.TUNING)
    if job is None:
        return
    if not job.running:
        st.rerun(scope="app")
    with st.container(horizontal=True, vertical_alignment="center"):
        st.progress(job.fraction, text=f"Auto-tune on {page_label(job.page)}: {job.message}", width=560)
        st.button("Cancel", icon=":material/cancel:", key=keys.CANCEL_TUNE, on_click=job.cancel,
                  disabled=job.stop.is_set(), help="Stops auto-tune; the best settings found so far are applied.")


def trace_table(trace: pd.DataFrame) -> pd.DataFrame:
    """The trace in plain words: what was tried, the page layout by name, the score, the time."""
    psm = ocr.Options.spec("psm")
    engines = trace["engine"] if "engine" in trace else [""] * len(trace)  # a trace kept before it had one
    return pd.DataFrame({
        "candidate": trace["candidate"],
        "step": [STAGE_WORDS.get(stage, stage) for stage in trace["stage"]],
        "engine": [ocr.registry.label(e) if e else "" for e in engines],
        "clean-up": trace["settings"],
        "page layout": [psm.name_of(int(p)) for p in trace["psm"]],
        "score": trace["score"], "seconds": trace["seconds"], "chosen": trace["chosen"],
    })


def trace_chart(trace: pd.DataFrame) -> alt.Chart:
    """Each candidate's score as a bar; the chosen one in the highlight colour, the others grey."""
    plot = trace.assign(pick=trace["chosen"].map({True: "chosen", False: "tried"}))
    colour = alt.Color("pick:N", title=None, scale=alt.Scale(domain=["chosen", "tried"], range=[HIGHLIGHT, MUTED]),
                       legend=alt.Legend(orient="top"))
    chart: alt.Chart = (alt.Chart(plot).mark_bar()
                        .encode(x=alt.X("candidate:O", title="candidate"), y=alt.Y("score:Q", title="score"),
                                color=colour, tooltip=["candidate", "settings", "score"])
                        .properties(height=200))
    return chart


def show_trace(trace: pd.DataFrame) -> None:
    chosen = trace[trace["chosen"]]
    with st.expander(f"Auto-tune tried {len(trace)} candidates", expanded=False, icon=":material/auto_awesome:"):
        if len(chosen):
            best = chosen.iloc[0]
            layout_name = ocr.Options.spec("psm").name_of(int(best["psm"])).lower()
            reader = f"read by {ocr.registry.label(best['engine'])}, " if best.get("engine") else ""
            if best["stage"] == "plain":
                st.caption(f"Nothing read this page better than the page as it is: candidate "
                           f"{int(best['candidate'])} ({reader}page layout {layout_name}) is kept.")
            else:
                st.caption(f"Chosen: candidate {int(best['candidate'])}: {best['settings']} ({reader}page "
                           f"layout {layout_name}), score {best['score']:.3f}.")
        st.altair_chart(trace_chart(trace))
        st.dataframe(trace_table(trace), hide_index=True, height=260,
                     column_config={"score": st.column_config.NumberColumn(format="%.3f"),
                                    "seconds": st.column_config.NumberColumn(format="%.2f"),
                                    "chosen": st.column_config.CheckboxColumn()})


st.html(PHONE_CSS)
st.title("Tune the clean-up")
key = layout.page_picker("tune")
if key is None:
    layout.no_files("tune the clean-up")
    st.stop()
if problem := page_problem(key):
    layout.file_problem("This page cannot be shown; choose another.", page_label(key), problem)
    st.stop()

finish_tuning()
with st.container(horizontal=True, vertical_alignment="center"):
    clicked = st.button("Auto-tune", icon=":material/auto_awesome:", key=keys.AUTO_TUNE, disabled=running() is not None,
                        help=f"Tries settings on this page for up to {tuning.LIMIT_S:g} seconds and keeps the best.")
    st.button("Reset to defaults", icon=":material/restart_alt:", on_click=reset, key=keys.RESET,
              disabled=running() is not None)
    with st.popover("Load settings (.json)", icon=":material/upload:"):
        problem = load_preset(st.file_uploader("A settings file saved from here", type=["json"],
                                               key=keys.PRESET_UPLOAD))
    nav.link(nav.EXTRACT, "Next: extract the text", ":material/arrow_forward:")
if problem:
    st.error("That settings file could not be loaded; the settings are unchanged.")
    st.text(problem)
if clicked and running() is None:
    start_tuning(key)
st.fragment(tuning_progress, run_every=0.5 if running() else None)()

work, text = st.columns([15, 4], gap="small")
with work:
    side_by_side(key)
with text:
    show_reading()
if key in ss[keys.TRACE]:
    show_trace(ss[keys.TRACE][key])
st.caption("The address bar holds these settings and this workspace (your files and texts): bookmark it to come "
           "back; the link beside the controls shares the settings alone.")

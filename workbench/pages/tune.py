"""Tune: a control for every setting beside the picture, which stays in view while any control moves.

The picture column (the processed page; the original, on which a box is dragged to crop) sits beside a
column of controls that scrolls on its own, so the picture does not scroll away; on a phone the picture
comes first and the controls below it, in a shorter scrolling box. Controls and pictures are one
fragment, so a slider reruns only them; the processed picture is the whole pipeline on a copy of about
a megapixel (cached on the file's SHA-256 and the settings). Auto-tune runs beside the page
(:mod:`workbench.tuning`): its progress in plain words, a Cancel button, and the page still on screen.
"""

from __future__ import annotations

import re
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

import ocr
from ocr.batch import describe_error
from ocr.exports import MIME
from ocr.tuning import STAGE_WORDS
from workbench import controls, crop, defaults, keys, layout, nav, preview, tuning, url, workspace
from workbench.engine import engine
from workbench.files import PageRef, page_label, page_problem, page_ref

ss = st.session_state
ICONS = {"page": ":material/crop_rotate:", "light": ":material/light_mode:", "ink": ":material/contrast:",
         "reading": ":material/menu_book:"}
HIGHLIGHT, MUTED = "#2563eb", "#9aa5b1"  # the theme's primary colour (.streamlit/config.toml), and grey
CONTROLS_HEIGHT = 470  # pixels: the controls' scrolling column at 1280x800 (the picture beside it)
PICTURE_HEIGHT = 440  # pixels: the tallest the processed picture is drawn
# On a phone the columns stack: the picture comes first and stays pinned under the menu (sticky) while the
# page scrolls the controls below it; the controls' own scrolling box is for wide screens only.
PHONE_CSS = f"""<style>
[data-testid="stMainBlockContainer"] {{ padding-top: 4.5rem; }}
@media (max-width: 640px) {{
  div[data-testid="stColumn"]:has(.st-key-{keys.TUNE_PICTURE}) {{
    position: sticky; top: 3.5rem; z-index: 3; background: #ffffff; padding-bottom: 0.25rem;
    box-shadow: 0 6px 6px -6px rgba(0, 0, 0, 0.25); }}
  .st-key-{keys.TUNE_PICTURE} {{ height: 30vh; }}  /* a fixed box: a new picture does not move the page */
  .st-key-{keys.TUNE_PICTURE} img {{ max-height: calc(30vh - 1.5rem); width: auto !important; max-width: 100%;
    object-fit: contain; display: block; margin: 0 auto; }}  /* the whole page, scaled down, never cut */
  .st-key-{keys.TUNE_CONTROLS} {{ height: auto !important; max-height: none !important; overflow: visible !important; }}
  div:has(> .st-key-{keys.TUNE_CONTROLS}) {{ height: auto !important; flex: 0 0 auto !important; }}
}}
</style>"""


def running() -> tuning.Job | None:
    """The auto-tune job running on any page of this session, if one is."""
    job: tuning.Job | None = ss.get(keys.TUNING)
    return job if job is not None and job.running else None


def crop_drawn(size: tuple[int, int]) -> None:
    """on_select of the original picture: a box dragged on it becomes the crop (once per box)."""
    event = ss.get(keys.CROP_DRAW)
    box = crop.box_from_selection(event.get("selection") if event else None, size)
    if box is None or box == ss.get(keys.CROP_SEEN):
        return
    ss[keys.CROP_SEEN] = box
    url.change(url.settings().replace(crop=box))


def draw_original(ref: PageRef, s: ocr.Settings, size: tuple[int, int]) -> None:
    """The original page with the crop framed, as a chart on which a box is dragged to crop."""
    picture = preview.original(ref, s.crop)
    st.altair_chart(crop.chart(picture, size), on_select=lambda: crop_drawn(size), selection_mode=crop.SELECTION,
                    key=keys.CROP_DRAW, width="content")
    st.caption(f"{size[0]}×{size[1]} pixels" + (f", {ref.page.dpi:g} dpi" if ref.page.dpi else "")
               + " · drag a box on the page to crop to it (double-click clears the box)")


def draw_processed(ref: PageRef, s: ocr.Settings) -> None:
    shown = preview.processed(ref, s)
    if shown.error:
        st.error("These settings cannot be applied to this page:")
        st.text(shown.error)
        return
    with st.container(key=keys.TUNE_PICTURE):
        layout.show_image(shown.data, shown.size, shown.fmt, max_height=PICTURE_HEIGHT)
    facts = [f"preview {shown.size[0]}×{shown.size[1]}", f"made in {shown.seconds * 1000:.0f} ms"]
    if s.deskew:
        facts.append(f"straightened by {shown.skew:+.1f}°")
    steps = [plain_step(name, detail) for name, _, detail in shown.steps if name != "preview"]
    st.caption(" · ".join(facts), help="Steps: " + (" → ".join(steps) if steps else "none")
               + ". The preview is a reduced copy; the text is read from the full-size page.")
    for warning in shown.warnings:
        st.warning(warning)


STEP_FIELDS = {"auto-orient": "auto_orient", "rescale": "scale", "contrast": "clahe"}  # step -> its setting
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


@st.fragment
def side_by_side(key: str) -> None:
    """The picture (processed, or the original to crop on) beside the controls' scrolling column."""
    ref = page_ref(key)
    assert ref is not None
    size = ref.page.size
    controls.set_step_scale(preview.preview_factor(size, ref.page.dpi, url.settings()))
    controls.push(size)
    busy = running() is not None
    picture, column = st.columns([3, 2], gap="medium")
    with column, st.container(height=CONTROLS_HEIGHT, key=keys.TUNE_CONTROLS, border=True):
        if changes := controls.changed(list(controls.CONTROLS)):
            st.caption("Changed from the defaults: " + "; ".join(changes))
        for group, title, members in controls.groups():
            open_ = group != "reading" or bool(controls.changed(members))
            with st.expander(title, expanded=open_, icon=ICONS.get(group)):
                controls.render_group(members, disabled=busy)
    controls.pull(size)
    s = url.settings()
    with picture:
        processed_tab, original_tab = st.tabs(["Processed: what the engine reads", "Original: drag to crop"])
        with processed_tab:
            draw_processed(ref, s)
        with original_tab:
            draw_original(ref, s, size)
    with column:
        st.download_button("Download these settings (.json)", ocr.preset_json(s, url.options()),
                           file_name="ocr-settings.json", mime=MIME["json"], icon=":material/download:",
                           on_click="ignore", key=keys.PRESET_DOWNLOAD)


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
    except Exception as e:
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
    return pd.DataFrame({
        "candidate": trace["candidate"],
        "step": [STAGE_WORDS.get(stage, stage) for stage in trace["stage"]],
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
            layout_name = ocr.Options.spec("psm").name_of(int(best["psm"]))
            st.caption(f"Chosen: candidate {int(best['candidate'])} ({best['settings']}; page layout "
                       f"{layout_name.lower()}), score {best['score']:.3f}.")
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

side_by_side(key)
if key in ss[keys.TRACE]:
    show_trace(ss[keys.TRACE][key])
st.caption("The address bar holds these settings and this workspace (your files and texts): bookmark it to come "
           "back. To share the settings alone, without your files, use this link:")
st.code(url.settings_link(), language=None, wrap_lines=True)

"""Tune: a control for every setting, the original and the processed page side by side.

The controls and the two pictures are one fragment, so a slider reruns only them; the processed picture
is the whole pipeline on a copy of about a megapixel (cached on the file's SHA-256 and the settings).
The controls are made from the settings' own specs (``workbench.controls``).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

import ocr
from ocr.batch import describe_error
from ocr.exports import MIME
from workbench import controls, keys, layout, nav, preview, url
from workbench.engine import engine
from workbench.files import page_label, page_problem, page_ref

ss = st.session_state
ICONS = {"page": ":material/crop_rotate:", "light": ":material/light_mode:", "ink": ":material/contrast:",
         "reading": ":material/menu_book:"}


@st.fragment
def side_by_side(key: str) -> None:
    """The controls, the original and the processed page."""
    ref = page_ref(key)
    assert ref is not None
    size = ref.page.size
    controls.push(size)
    left, middle, right = st.columns([1.15, 2, 2], gap="medium")
    with left:
        for group, title, members in controls.groups():
            with st.expander(title, expanded=group != "reading", icon=ICONS.get(group)):
                controls.render_group(members)
    controls.pull(size)
    s = url.settings()
    with middle:
        st.markdown("**Original**")
        layout.show_image(preview.original(ref, s.crop), size, "JPEG")
        st.caption(f"{size[0]}×{size[1]} pixels" + (f", {ref.page.dpi:g} dpi" if ref.page.dpi else ""))
    with right:
        st.markdown("**Processed** (what Tesseract will read)")
        shown = preview.processed(ref, s)
        if shown.error:
            st.error("These settings cannot be applied to this page:")
            st.text(shown.error)
        else:
            layout.show_image(shown.data, shown.size, shown.fmt)
            facts = [f"preview {shown.size[0]}×{shown.size[1]}", f"made in {shown.seconds * 1000:.0f} ms"]
            if s.deskew:
                facts.append(f"straightened by {shown.skew:+.1f}°")
            st.caption(" · ".join(facts) + " · text is read from the full-size page")
            for warning in shown.warnings:
                st.warning(warning)
            steps = [f"{name} ({detail})" if detail else name for name, _, detail in shown.steps if name != "preview"]
            st.caption("Steps: " + (" → ".join(steps) if steps else "none"))
    with left:
        st.download_button("Download these settings (.json)", ocr.preset_json(s, url.options()),
                           file_name="ocr-settings.json", mime=MIME["json"], icon=":material/download:",
                           on_click="ignore", key=keys.PRESET_DOWNLOAD)
        st.caption("The address bar holds these settings too: bookmark or share the link to reproduce them.")


def reset() -> None:
    url.change(ocr.Settings(), ocr.Options())


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


def auto_tune(key: str) -> None:
    ref = page_ref(key)
    assert ref is not None
    bar = st.progress(0.0, text="Auto-tune: trying settings on this page…")

    def progress(fraction: float, message: str) -> None:
        bar.progress(min(max(float(fraction), 0.0), 1.0), text=f"Auto-tune: {message}")

    chosen = url.settings()
    try:
        # the region and the turn chosen here stay; auto-tune looks at that part of the page only
        region = ref.page if chosen.crop is None and not chosen.rotate else ocr.preprocess(
            ref.page, ocr.Settings(crop=chosen.crop, rotate=chosen.rotate, grayscale=False))
        tuned = ocr.autotune(region, progress=progress, options=url.options(), engine=engine())
    except Exception as e:
        bar.empty()
        st.error("Auto-tune could not finish on this page:")
        st.text(describe_error(e))
        return
    ss[keys.TRACE][key] = tuned.trace
    url.change(tuned.settings, tuned.options)
    st.rerun()


def show_trace(trace: pd.DataFrame) -> None:
    chosen = trace[trace["chosen"]]
    with st.expander(f"Auto-tune tried {len(trace)} candidates", expanded=True, icon=":material/auto_awesome:"):
        if len(chosen):
            best = chosen.iloc[0]
            layout_name = ocr.Options.spec("psm").name_of(int(best["psm"]))
            st.caption(f"Chosen: candidate {int(best['candidate'])}, score {best['score']:.3f}, "
                       f"page layout {layout_name.lower()} ({int(best['psm'])}).")
        plot = trace.assign(pick=trace["chosen"].map({True: "chosen", False: "tried"}))
        plot["colour"] = plot["chosen"].map({True: "#1b9e4d", False: "#9aa5b1"})
        st.bar_chart(plot, x="candidate", y="score", color="colour", height=220, sort=False)
        st.dataframe(trace, hide_index=True, height=260,
                     column_config={"score": st.column_config.NumberColumn(format="%.3f"),
                                    "seconds": st.column_config.NumberColumn(format="%.2f"),
                                    "chosen": st.column_config.CheckboxColumn()})


st.title("Tune the clean-up")
key = layout.page_picker("tune")
if key is None:
    layout.no_files("tune the clean-up")
    st.stop()
if problem := page_problem(key):
    layout.file_problem("This page cannot be shown; choose another.", page_label(key), problem)
    st.stop()

with st.container(horizontal=True, vertical_alignment="center"):
    clicked = st.button("Auto-tune", icon=":material/auto_awesome:", key=keys.AUTO_TUNE,
                        help="Tries settings on this page for about 20 seconds and keeps the best.")
    st.button("Reset to defaults", icon=":material/restart_alt:", on_click=reset, key=keys.RESET)
    with st.popover("Load settings (.json)", icon=":material/upload:"):
        problem = load_preset(st.file_uploader("A settings file saved from here", type=["json"],
                                               key=keys.PRESET_UPLOAD))
    nav.link(nav.EXTRACT, "Next: extract the text", ":material/arrow_forward:")
if problem:
    st.error("That settings file could not be loaded; the settings are unchanged.")
    st.text(problem)

if clicked:
    auto_tune(key)
if key in ss[keys.TRACE]:
    show_trace(ss[keys.TRACE][key])

side_by_side(key)

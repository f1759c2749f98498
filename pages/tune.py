"""Tune: a control for every clean-up setting, the original and the processed page side by side.

The controls and the two pictures are one fragment, so a slider reruns only them; the processed picture
is the whole pipeline on a copy of about a megapixel (cached on the file's SHA-256 and the settings).
The settings themselves live under plain session-state keys and in the address bar; the widgets are
set from them whenever code changes them (preset, reset, auto-tune, a restored run).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

import ocr
from ocr import overlay
from ocr.batch import describe_error
from pages import state

ss = st.session_state

THRESHOLDS = {
    "none": "Keep the greys", "otsu": "Black & white (Otsu)", "fixed": "Black & white at a fixed level",
    "adaptive_gaussian": "Adaptive (uneven light)", "adaptive_mean": "Adaptive mean", "sauvola": "Sauvola (stains, faded)",
}
BACKGROUNDS = {"none": "Off", "blur": "On (median)", "close": "On (closing)"}
DENOISERS = {"none": "Off", "median": "Median (specks)", "nlmeans": "Non-local means (grain; slow)"}
INVERTS = {"no": "No", "yes": "Yes", "auto": "When the page is dark"}
MORPHOLOGIES = {"none": "Off", "open": "Remove specks", "close": "Fill gaps", "dilate": "Thicken", "erode": "Thin"}
PSMS = {3: "3 · Automatic", 4: "4 · One column", 6: "6 · One block of text", 11: "11 · Scattered text",
        1: "1 · Automatic with orientation", 7: "7 · One line", 12: "12 · Scattered, with orientation",
        13: "13 · One raw line"}

# Sliders: field -> (label, low, high, step, help). Values from presets or auto-tune beyond the range are
# kept as they are until the slider is moved.
SLIDERS = {
    "max_skew": ("Search up to (degrees)", 1.0, 45.0, 1.0, "How far either way to look for the text's slant."),
    "scale": ("Resize (×)", 0.25, 4.0, 0.05, "Tesseract reads letters about 20-40 pixels high best: enlarge small print."),
    "target_dpi": ("Or resize to a resolution (dpi; 0 = off)", 0, 600, 25, "When set, overrides Resize."),
    "background_size": ("Shadow size (pixels; 0 = automatic)", 0, 300, 5, "Larger than the letters, smaller than the shadows."),
    "denoise_strength": ("Strength", 1, 30, 1, "Median: the filter's size in pixels. Non-local means: its strength."),
    "clahe_clip": ("Contrast limit", 0.5, 10.0, 0.5, None),
    "clahe_tile": ("Tiles per side", 2, 32, 1, None),
    "threshold_value": ("Level (0-255)", 0, 255, 1, "Lighter than this becomes paper, darker becomes ink."),
    "block_size": ("Neighbourhood (pixels)", 3, 151, 2, "The area each pixel is compared with: about twice a letter's height."),
    "c": ("Offset", -30.0, 30.0, 1.0, "Subtracted from the local mean: higher keeps less ink."),
    "sauvola_k": ("k", 0.0, 1.0, 0.05, "Higher keeps less ink."),
    "morph_kernel": ("Size (pixels)", 1, 15, 1, None),
}
TOGGLES = {
    "auto_orient": ("Turn upright automatically", "Tesseract's orientation detection turns the page by 90, 180 or 270 degrees."),
    "deskew": ("Straighten a slanted page", "Finds the angle of the text lines and turns them level."),
    "grayscale": ("Grayscale", "Read the page in shades of grey (almost always best)."),
    "clahe": ("Boost local contrast (CLAHE)", "Helps faint print and uneven light."),
    "border": ("Remove dark borders", "Paints dark regions touching the edge (scanner lids, book gutters) white."),
}
SELECTS = {
    "background": ("Flatten shadows", BACKGROUNDS, "Divides the page by its estimated background: shadows and shading go."),
    "denoise": ("Remove noise", DENOISERS, None),
    "threshold": ("Black & white", THRESHOLDS, "Turns the page into pure ink and paper."),
    "invert": ("Light text on dark", INVERTS, None),
    "morphology": ("Shape the ink", MORPHOLOGIES, None),
}
ROTATIONS = [0, 90, 180, 270]
CROP_X, CROP_Y = "crop_x", "crop_y"


def to_widget(field: str, value, size):
    """The value a setting's widget shows (clamped and rounded to the widget's range and step)."""
    if field == "crop":
        return overlay.crop_percent(size, value)
    if field in SLIDERS:
        _, low, high, step, _ = SLIDERS[field]
        value = min(max(value, low), high)
        value = low + round((value - low) / step) * step
        return round(float(value), 4) if isinstance(step, float) else int(value)
    return value


def widget_values(s: ocr.Settings, o: ocr.Options, size) -> dict[str, object]:
    values = {f: to_widget(f, v, size) for f, v in s.to_dict().items() if f != "crop"}
    values[CROP_X], values[CROP_Y] = to_widget("crop", s.crop, size)
    values["psm"], values["lang"], values["preserve_spaces"] = o.psm, o.lang, o.preserve_spaces
    return values


def push_to_widgets(size) -> None:
    """Set every widget from the settings when code changed them, or when a widget is new on this visit."""
    force = ss.pop(state.PUSH, False)
    for field, value in widget_values(state.settings(), state.options(), size).items():
        if force or state.w(field) not in ss:
            ss[state.w(field)] = value


def pull_from_widgets(size) -> None:
    """Settings from the widgets the person moved; a setting whose widget was not moved keeps its exact
    value (a preset's scale of 6 stays 6 on a slider that ends at 4)."""
    s, o = state.settings(), state.options()
    shown = widget_values(s, o, size)
    changes = {}
    for field, value in shown.items():
        key = state.w(field)
        moved = tuple(ss[key]) if isinstance(ss.get(key), list) else ss.get(key)  # range sliders
        if key in ss and moved != value and to_widget(field, moved, size) != value:
            changes[field] = moved
    if not changes:
        return
    xs, ys = changes.pop(CROP_X, shown[CROP_X]), changes.pop(CROP_Y, shown[CROP_Y])
    if (xs, ys) != (shown[CROP_X], shown[CROP_Y]):
        changes["crop"] = overlay.crop_box(size, xs, ys)
    option_changes = {f: changes.pop(f) for f in ("psm", "lang", "preserve_spaces") if f in changes}
    try:
        new = s.replace(**changes)
        new_options = o.replace(**option_changes)
    except ocr.SettingsError as e:
        st.error(str(e))
        return
    ss[state.SETTINGS], ss[state.OPTIONS] = new, new_options
    state.write_url()


def slider(field: str) -> None:
    label, low, high, step, help_ = SLIDERS[field]
    st.slider(label, low, high, step=step, key=state.w(field), help=help_)


def select(field: str) -> str:
    label, choices, help_ = SELECTS[field]
    return st.selectbox(label, list(choices), format_func=choices.get, key=state.w(field), help=help_)


def toggle(field: str) -> bool:
    label, help_ = TOGGLES[field]
    return st.toggle(label, key=state.w(field), help=help_)


def controls() -> None:
    with st.expander("Page: crop, turn, straighten, size", expanded=True, icon=":material/crop_rotate:"):
        st.slider("Crop: left to right (%)", 0.0, 100.0, step=0.5, key=state.w(CROP_X))
        st.slider("Crop: top to bottom (%)", 0.0, 100.0, step=0.5, key=state.w(CROP_Y))
        st.segmented_control("Turn clockwise", ROTATIONS, format_func=lambda d: f"{d}°", key=state.w("rotate"),
                             required=True)
        toggle("auto_orient")
        if toggle("deskew"):
            slider("max_skew")
        slider("scale")
        slider("target_dpi")
    with st.expander("Light and noise", expanded=True, icon=":material/light_mode:"):
        toggle("grayscale")
        if select("background") != "none":
            slider("background_size")
        if select("denoise") != "none":
            slider("denoise_strength")
        if toggle("clahe"):
            slider("clahe_clip")
            slider("clahe_tile")
    with st.expander("Black and white", expanded=True, icon=":material/contrast:"):
        method = select("threshold")
        if method == "fixed":
            slider("threshold_value")
        if method.startswith("adaptive") or method == "sauvola":
            slider("block_size")
        if method.startswith("adaptive"):
            slider("c")
        if method == "sauvola":
            slider("sauvola_k")
        select("invert")
        if select("morphology") != "none":
            slider("morph_kernel")
        toggle("border")
    with st.expander("Reading", icon=":material/menu_book:"):
        installed = [lang for lang in ocr.languages() if lang != "osd"] or ["eng"]
        if state.options().lang not in installed:
            installed.append(state.options().lang)
        st.selectbox("Language", installed, key=state.w("lang"), help="Tesseract's language data installed here.")
        psms = dict(PSMS)
        psms.setdefault(state.options().psm, f"{state.options().psm}")
        st.selectbox("Page layout (page segmentation mode)", list(psms), format_func=psms.get, key=state.w("psm"),
                     help="How Tesseract splits the page into blocks and lines.")
        st.toggle("Keep runs of spaces", key=state.w("preserve_spaces"), help="For tables and columns of figures.")


@st.fragment
def workbench(key: str) -> None:
    entry, page = state.page_ref(key)
    size = page.size
    push_to_widgets(size)
    left, middle, right = st.columns([1.15, 2, 2], gap="medium")
    with left:
        controls()
    pull_from_widgets(size)
    s = state.settings()
    index = page.index
    with middle:
        st.markdown("**Original**")
        state.show_image(state.original(entry.sha, index, s.crop, entry), size, "JPEG")
        st.caption(f"{size[0]}×{size[1]} pixels" + (f", {page.dpi:g} dpi" if page.dpi else ""))
    with right:
        st.markdown("**Processed** (what Tesseract will read)")
        shown = state.preview(entry.sha, index, state.settings_key(s), entry)
        if shown.error:
            st.error("These settings cannot be applied to this page:")
            st.text(shown.error)
        else:
            state.show_image(shown.data, shown.image.shape[1::-1], shown.fmt)
            facts = [f"preview {shown.image.shape[1]}×{shown.image.shape[0]}", f"made in {shown.seconds * 1000:.0f} ms"]
            if s.deskew:
                facts.append(f"straightened by {shown.skew:+.1f}°")
            st.caption(" · ".join(facts) + " · text is read from the full-size page")
            for warning in shown.warnings or []:
                st.warning(warning)
            steps = [f"{name} ({detail})" if detail else name for name, _, detail in shown.steps if name != "preview"]
            st.caption("Steps: " + (" → ".join(steps) if steps else "none"))
    with left:
        st.download_button("Download these settings (.json)", ocr.preset_json(s, state.options()),
                           file_name="ocr-settings.json", mime="application/json", icon=":material/download:",
                           on_click="ignore", key="preset_download")
        st.caption("The address bar holds these settings too: bookmark or share the link to reproduce them.")


def reset() -> None:
    state.set_settings(ocr.Settings(), ocr.Options())


def load_preset(upload) -> str | None:
    """Apply an uploaded preset once; one sentence when it cannot be used."""
    if upload is None or upload.file_id == ss.get(state.PRESET_SEEN):
        return None
    ss[state.PRESET_SEEN] = upload.file_id
    try:
        new, new_options = ocr.parse_preset(upload.getvalue())
    except ocr.SettingsError as e:
        return str(e)
    state.set_settings(new, new_options or state.options())
    return None


def auto_tune(key: str) -> None:
    entry, page = state.page_ref(key)
    bar = st.progress(0.0, text="Auto-tune: trying settings on this page…")

    def progress(fraction: float, message: str) -> None:
        bar.progress(min(max(float(fraction), 0.0), 1.0), text=f"Auto-tune: {message}")

    current = state.settings()
    try:
        # the region and the turn chosen here stay; auto-tune looks at that part of the page only
        region = page if current.crop is None and not current.rotate else ocr.preprocess(
            page, ocr.Settings(crop=current.crop, rotate=current.rotate, grayscale=False))
        found, found_options, trace = ocr.autotune(region, progress=progress, options=state.options(),
                                                   engine=state.engine())[:3]
    except Exception as e:
        bar.empty()
        st.error("Auto-tune could not finish on this page:")
        st.text(describe_error(e))
        return
    ss[state.TRACE][key] = trace
    state.set_settings(found, found_options or state.options())
    st.rerun()


def show_trace(trace: pd.DataFrame) -> None:
    chosen = trace[trace["chosen"]]
    with st.expander(f"Auto-tune tried {len(trace)} candidates", expanded=True, icon=":material/auto_awesome:"):
        if len(chosen):
            best = chosen.iloc[0]
            st.caption(f"Chosen: candidate {int(best['candidate'])}, score {best['score']:.3f}, page layout {int(best['psm'])}.")
        plot = trace.assign(pick=trace["chosen"].map({True: "chosen", False: "tried"}))
        plot["colour"] = plot["chosen"].map({True: "#1b9e4d", False: "#9aa5b1"})
        st.bar_chart(plot, x="candidate", y="score", color="colour", height=220, sort=False)
        st.dataframe(trace, hide_index=True, height=260,
                     column_config={"score": st.column_config.NumberColumn(format="%.3f"),
                                    "seconds": st.column_config.NumberColumn(format="%.2f"),
                                    "chosen": st.column_config.CheckboxColumn()})


st.title("Tune the clean-up")
key = state.page_picker("tune")
if key is None:
    state.no_files("tune the clean-up")
    st.stop()
if problem := state.page_problem(key):
    state.file_problem("This page cannot be shown; choose another.", state.page_label(key), problem)
    st.stop()

with st.container(horizontal=True, vertical_alignment="center"):
    clicked = st.button("Auto-tune", icon=":material/auto_awesome:",
                        help="Tries settings on this page for about 20 seconds and keeps the best.")
    st.button("Reset to defaults", icon=":material/restart_alt:", on_click=reset)
    with st.popover("Load settings (.json)", icon=":material/upload:"):
        problem = load_preset(st.file_uploader("A settings file saved from here", type=["json"], key=state.W_PRESET))
    st.page_link("pages/extract.py", label="Next: extract the text", icon=":material/arrow_forward:")
if problem:
    st.error("That settings file could not be loaded; the settings are unchanged.")
    st.text(problem)

if clicked:
    auto_tune(key)
if key in ss[state.TRACE]:
    show_trace(ss[state.TRACE][key])

workbench(key)

"""Extract: read the current page or every page; original | processed | text; downloads; accuracy."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pandas as pd
import streamlit as st

import ocr
from ocr import overlay
from ocr.exports import MIME, safe_name
from ocr.metrics import cer, wer
from workbench import history, keys, layout, nav, preview, url
from workbench.engine import engine
from workbench.files import page_keys, page_label, page_problem, page_ref

ss = st.session_state
LEGEND = "Word confidence: " + " ".join(
    f':color[&nbsp;{label}&nbsp;]{{background="#{r:02x}{g:02x}{b:02x}" foreground="white"}}'
    for _, (r, g, b), label in overlay.BANDS)


def read(todo: list[str]) -> None:
    """OCR these pages at full size with the current settings: a progress bar and a line per page."""
    pages = [ref.page for ref in map(page_ref, todo) if ref is not None]
    total = len(pages)
    bar = st.progress(0.0, text=f"Reading {total} page{'s' if total > 1 else ''}…")
    rows = []
    with st.status(f"Reading {total} page{'s' if total > 1 else ''}…", expanded=True) as status:

        def progress(done: int, total: int, outcome: ocr.Outcome) -> None:
            bar.progress(done / total, text=f"{done} of {total} read")
            if outcome.ok:
                r = outcome.result
                st.text(f"✓ {outcome.name}: {r.word_count} words, mean confidence {r.mean_conf:.0f}, "
                        f"{r.timings.get('total', 0):.1f} s")
            else:
                st.text(f"✗ {outcome.name}: {outcome.error}")

        outcomes = ocr.read_files(pages, url.settings(), url.options(), engine=engine(), progress=progress)
        for key, outcome in zip(todo, outcomes):
            if outcome.ok:
                history.record(key, outcome.result)
            r = outcome.result
            rows.append({"page": page_label(key), "status": "read" if outcome.ok else "failed",
                         "words": r.word_count if r else None, "mean confidence": r.mean_conf if r else None,
                         "seconds": round(r.timings.get("total", 0), 2) if r else None,
                         "problem": outcome.error or ""})
        failed = sum(1 for row in rows if row["status"] == "failed")
        status.update(label=f"Read {total - failed} of {total} page{'s' if total > 1 else ''}"
                      + (f"; {failed} could not be read" if failed else ""),
                      state="error" if failed else "complete", expanded=bool(failed))
    bar.empty()
    ss[keys.BATCH] = rows


def last_run() -> None:
    rows = ss[keys.BATCH]
    if not rows:
        return
    others = " The other pages were read." if any(row["status"] == "read" for row in rows) else ""
    for row in rows:
        if row["status"] == "failed":
            layout.file_problem("This page could not be read." + others, row["page"], row["problem"])
    if len(rows) > 1:
        with st.expander(f"Last run: {len(rows)} pages", icon=":material/checklist:"):
            st.dataframe(pd.DataFrame(rows), hide_index=True)


def pictures(key: str, result: ocr.Result | None) -> None:
    if problem := page_problem(key):
        layout.file_problem("This page cannot be shown.", page_label(key), problem)
        return
    ref = page_ref(key)
    assert ref is not None
    s = (result.settings or ocr.Settings()) if result else url.settings()
    original, processed, text_column = st.columns(3, gap="medium")
    with original:
        st.markdown("**Original**")
        layout.show_image(preview.original(ref, s.crop), ref.page.size, "JPEG")
        layout.notes(ref.page.notes)
    with processed:
        st.markdown("**Processed**")
        shown = preview.processed(ref, s)
        if shown.error:
            st.error("These settings cannot be applied to this page:")
            st.text(shown.error)
        elif result is not None and shown.image is not None and st.toggle("Show word boxes", value=True,
                                                                          key=keys.BOXES):
            w, h = result.size
            scale = (shown.size[0] / max(1, w), shown.size[1] / max(1, h))
            layout.show_image(overlay.encode(overlay.draw_words(shown.image, result.words, scale), "png"), shown.size)
            st.markdown(LEGEND)
        else:
            layout.show_image(shown.data, shown.size, shown.fmt)
    with text_column:
        st.markdown("**Text**")
        if result is None:
            st.info("Not read yet: press **Extract text**.", icon=":material/text_snippet:")
            return
        text = ss[keys.TEXT] = history.edited(key)  # a new run shows its own text, never the last run's
        lines = sum(1 + len(line) // 60 for line in text.splitlines())
        st.text_area("The text (edit it before downloading if you like)", key=keys.TEXT,
                     height=min(640, max(200, 24 * lines + 40)),
                     on_change=history.save_edit, args=(key,), label_visibility="collapsed")
        st.caption("Edit freely; your edits go into the .txt, .json and .zip downloads.")


def downloads(key: str, result: ocr.Result) -> None:
    ref = page_ref(key)
    assert ref is not None
    name = ref.page.name
    stem = safe_name(name).rsplit(".", 1)[0] if "." in name else safe_name(name)
    text = history.edited(key)
    final = replace(result, text=text)

    def button(label: str, fmt: str, data: Any, **more: Any) -> None:
        st.download_button(label, data, file_name=f"{stem}.{fmt}", mime=MIME[fmt], on_click="ignore",
                           key=keys.download(fmt), **more)

    with st.container(horizontal=True):
        button("Download text (.txt)", "txt", text.encode("utf-8"), type="primary", icon=":material/download:")
        button(".json", "json", ocr.export(final, "json"),
               help="Text, every word with its box and confidence, settings, timings.")
        button(".csv (words)", "csv", ocr.export(result, "csv"), help="One row per word: its box and confidence.")
        button(".hocr", "hocr", ocr.export(result, "hocr"), help="hOCR: words, lines and boxes as HTML.")
        if result.origin is not None:
            button("Searchable .pdf", "pdf", ocr.export(result, "pdf"),
                   help="The page as it was, with its text invisible on top: select and search it.")
        read = history.results()
        done = [replace(read[k], text=history.edited(k)) for k in page_keys() if k in read]
        st.download_button(f"Everything (.zip, {len(done)} page{'s' if len(done) > 1 else ''})",
                           lambda: ocr.export_zip(done),  # made on the click, from this run's results
                           file_name="ocr-results.zip", mime=MIME["zip"], on_click="ignore", key=keys.download("zip"),
                           icon=":material/folder_zip:", help="Every page read so far, in every format.")


def details(key: str, result: ocr.Result) -> None:
    ref = page_ref(key)
    assert ref is not None
    a, b, c, d = st.columns(4)
    a.metric("Mean confidence", f"{result.mean_conf:.0f}", help="Tesseract's confidence in each word, 0-100, averaged.")
    b.metric("Words", result.word_count)
    c.metric("Time", f"{result.timings.get('total', 0):.1f} s", help="Preprocessing and recognition, full size.")
    d.metric("Read at", f"{result.size[0]}×{result.size[1]}", help="The size of the processed page Tesseract read.")
    for warning in result.warnings:
        st.warning(warning)
    words = result.words.sort_values("conf").reset_index(drop=True)
    with st.expander(f"Words ({len(words)}), least sure first; click a column to sort", icon=":material/table:"):
        confidence = st.column_config.ProgressColumn("confidence", min_value=0, max_value=100, format="%.0f")
        st.dataframe(words, hide_index=True, height=320, column_config={"conf": confidence},
                     column_order=["text", "conf", "line", "block", "left", "top", "width", "height"])
    with st.expander("Timings", icon=":material/timer:"):
        timings = pd.DataFrame({"part": list(result.timings),
                                "seconds": [round(v, 3) for v in result.timings.values()]})
        st.dataframe(timings, hide_index=True)
        st.bar_chart(timings[timings["part"] != "total"], x="part", y="seconds", horizontal=True, height=200)
    with st.expander("Check the accuracy against the true text", icon=":material/fact_check:"):
        truth = ref.entry.truth if ref.page.index == 0 else None
        upload = st.file_uploader("The true text as a .txt file", type=["txt"], key=keys.truth_file(key))
        if upload is not None:
            truth = upload.getvalue().decode("utf-8", errors="replace")
        typed = st.text_area("…or paste it here", value=truth or "", key=keys.truth(key), height=150)
        if typed.strip():
            x, y = st.columns(2)
            x.metric("Character error rate (CER)", f"{cer(typed, result.text):.1%}", help="0% is perfect.")
            y.metric("Word error rate (WER)", f"{wer(typed, result.text):.1%}", help="0% is perfect.")
            st.caption("Of the text as read (before your edits), after normalising spaces, quotes and dashes.")


st.title("Extract the text")
key = layout.page_picker("extract")
if key is None:
    layout.no_files("extract the text")
    st.stop()

every = page_keys()
todo: list[str] = []
if ss.pop(keys.AUTORUN, False):
    todo = [k for k in every if not history.up_to_date(k)]
with st.container(horizontal=True, vertical_alignment="center"):
    if st.button("Extract text" if len(every) == 1 else "Extract text from this page", type="primary",
                 icon=":material/text_snippet:", key=keys.EXTRACT_ONE):
        todo = [key]
    if len(every) > 1 and st.button(f"Extract all {len(every)} pages", icon=":material/library_books:",
                                    key=keys.EXTRACT_ALL):
        todo = every
    options = url.options()
    layout_name = ocr.Options.spec("psm").name_of(options.psm).lower()
    st.caption(f"Settings: {url.settings().describe()} · page layout: {layout_name} · language {options.lang}")
    nav.link(nav.TUNE, "Change them", ":material/tune:")

if todo:
    read(todo)
last_run()

result = history.results().get(key)
if result is not None and not history.up_to_date(key):
    st.info("The settings have changed since this page was read: extract again to use them.", icon=":material/info:")
if result is not None:
    downloads(key, result)
pictures(key, result)
if result is not None:
    details(key, result)

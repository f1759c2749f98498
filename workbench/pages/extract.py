"""Extract: read the current page or every page; original | processed | text; downloads; accuracy."""

from __future__ import annotations

import io
import logging
import zipfile
from dataclasses import replace
from typing import Any

import pandas as pd
import streamlit as st

import ocr
from ocr import exports, language, overlay
from ocr.batch import configured_scheduler, describe_error
from ocr.exports import MIME, stem_of
from ocr.judge import judge
from ocr.metrics import cer, wer
from ocr.result import Origin
from workbench import batches, defaults, history, keys, layout, nav, preview, url, workspace
from workbench.engine import engine
from workbench.files import FileEntry, PageRef, file_bytes, page_keys, page_label, page_problem, page_ref, pages_of
from workbench.store import Store, StoreUnavailable

log = logging.getLogger(__name__)
ss = st.session_state
LEGEND = "Word confidence: " + " ".join(
    f':color[&nbsp;{label}&nbsp;]{{background="#{r:02x}{g:02x}{b:02x}" foreground="white"}}'
    for _, (r, g, b), label in overlay.BANDS)


def read(todo: list[str]) -> None:
    """OCR these pages at full size with the current settings: a progress bar, one line naming the page
    being finished (not a line per page: a batch of hundreds would push the text off the screen), and
    each page kept as it finishes (so each has its own time)."""
    refs = [(k, ref) for k, ref in ((k, page_ref(k)) for k in todo) if ref is not None]
    by_page = {id(ref.page): k for k, ref in refs}
    scheduler = configured_scheduler()
    chosen, by_place = on_cluster(refs) if scheduler else ([], {})
    total = len(refs)
    pages_word = f"page{'s' if total > 1 else ''}"
    rows: list[dict[str, Any]] = []
    with st.status(f"Reading {total} {pages_word}…", expanded=True) as status:
        bar = st.progress(0.0, text=f"0 of {total} read")
        line = st.empty()

        def progress(done: int, total: int, outcome: ocr.Outcome) -> None:
            bar.progress(done / total, text=f"{done} of {total} read")
            key = by_place.get((outcome.file, outcome.index)) if scheduler else by_page.get(id(outcome.page))
            r = outcome.result
            if key is not None and outcome.ok and r is not None:
                history.record(key, r)
                ss[keys.FAILED].pop(key, None)
                line.text(f"✓ {outcome.name}: {r.word_count} words, mean confidence {r.mean_conf:.0f}")
            elif key is not None:
                ss[keys.FAILED][key] = outcome.error or "it could not be read."
            rows.append({"page": page_label(key) if key else outcome.name, "status": "read" if outcome.ok else "failed",
                         "words": r.word_count if r else None, "mean confidence": r.mean_conf if r else None,
                         "seconds": round(r.timings.get("total", 0), 2) if r else None,
                         "problem": outcome.error or ""})

        if scheduler:  # the pages travel as their files' bytes and page numbers (docs/cluster.md)
            st.caption(f"Reading on the cluster at {scheduler}.")
            ocr.read_chosen(chosen, url.settings(), url.options(), engine=engine(), progress=progress,
                            scheduler=scheduler)
        else:
            ocr.read_files([ref.page for _, ref in refs], url.settings(), url.options(), engine=engine(),
                           progress=progress)
        failed = sum(1 for row in rows if row["status"] == "failed")
        line.empty()
        bar.empty()
        status.update(label=f"Read {total - failed} of {total} {pages_word}"
                      + (f"; {failed} could not be read" if failed else ""),
                      state="error" if failed else "complete", expanded=False)
    order = {page_label(k): n for n, k in enumerate(todo)}
    ss[keys.BATCH] = [row for _, _, row in sorted((order.get(row["page"], 0), n, row) for n, row in enumerate(rows))]


def on_cluster(refs: list[tuple[str, PageRef]]) -> tuple[list[tuple[str, bytes, int]], dict[tuple[int, int], str]]:
    """The pages as ``ocr.read_chosen`` takes them (file name, the file's bytes, page index: one bytes object
    per run of pages of one file, so each file travels once), and each page's key by its place in that
    batch (the file's place, the page's index), which is how its outcome comes back."""
    chosen: list[tuple[str, bytes, int]] = []
    by_place: dict[tuple[int, int], str] = {}
    place, last, data = -1, "", b""
    for key, ref in refs:
        if ref.entry.sha != last:
            place, last, data = place + 1, ref.entry.sha, file_bytes(ref.entry)
        chosen.append((ref.entry.name, data, ref.page.index))
        by_place[(place, ref.page.index)] = key
    return chosen, by_place


def last_run() -> None:
    """The last run's failures, once each, as a compact list; the whole run as a table when it had many
    pages."""
    rows = ss[keys.BATCH]
    if not rows:
        return
    failed = [(row["page"], row["problem"]) for row in rows if row["status"] == "failed"]
    if failed:
        layout.problems(failed, "page", "read", len(failed) < len(rows))
    if len(rows) > 1:
        with st.expander(f"Last run: {len(rows)} pages", icon=":material/checklist:"):
            st.dataframe(pd.DataFrame(rows), hide_index=True)


def needs_asking(todo: list[str]) -> list[str]:
    """The pages among ``todo`` whose text the person edited (a new reading would replace it)."""
    return [k for k in todo if history.was_edited(k)]


@st.dialog("Replace your edits?", icon=":material/edit_note:")
def ask_replace(edited: list[str], keeping: str = "") -> None:
    """Asks before a reading (a new one, or ``keeping``: the engine whose compared reading the person
    chose) replaces edited text; the edited text is kept in the History either way."""
    names = ", ".join(page_label(k) for k in edited[:5]) + (f" and {len(edited) - 5} more" if len(edited) > 5 else "")
    what = f"Keeping {ocr.registry.label(keeping)}'s reading" if keeping else "Reading again"
    st.write(f"You edited the text of {len(edited)} page{'s' if len(edited) > 1 else ''}. "
             f"{what} replaces the text you see with the new reading; your edited text is kept "
             "in the History as a version of its own, so you can copy it back.")
    st.text(names)
    with st.container(horizontal=True):
        yes = f"Keep {ocr.registry.label(keeping)}'s reading" if keeping else "Read again"
        if st.button(yes, type="primary", key=keys.REPLACE_YES, icon=":material/refresh:"):
            if keeping:
                ss[keys.KEEP_CONFIRMED] = ss.pop(keys.ASK_KEEP, None)
            else:
                ss[keys.CONFIRMED] = ss.pop(keys.ASK_REPLACE, [])
            st.rerun()
        if st.button("Keep my edits", key=keys.REPLACE_NO):
            ss.pop(keys.ASK_REPLACE, None)
            ss.pop(keys.ASK_KEEP, None)
            st.rerun()


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
        if shown.error and key in ss[keys.FAILED]:
            st.caption("Not shown: these settings cannot be applied to this page (the reason is above).")
        elif shown.error:
            st.error("These settings cannot be applied to this page:")
            st.text(shown.error)
        elif result is not None and shown.data and st.toggle("Show word boxes", value=True,
                                                                          key=keys.BOXES):
            w, h = result.size
            scale = (shown.size[0] / max(1, w), shown.size[1] / max(1, h))
            layout.show_image(overlay.encode(overlay.draw_words(shown.image(), result.words, scale), "png"), shown.size)
            st.markdown(LEGEND)
        else:
            layout.show_image(shown.data, shown.size, shown.fmt)
    with text_column, st.container(key=keys.EXTRACT_TEXT):
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
    text = history.edited(key)
    final = exports.with_text(result, text)  # the person's edits, in the words' boxes too
    edited = text != result.text
    stem = stem_of(result)

    def button(label: str, fmt: str, data: Any, **more: Any) -> None:
        st.download_button(label, data, file_name=exports.download_name(stem, fmt), mime=MIME[fmt], on_click="ignore",
                           key=keys.download(fmt), **more)

    with st.container(horizontal=True):
        button("Download text (.txt)", "txt", text.encode("utf-8"), type="primary", icon=":material/download:")
        button(".json", "json", ocr.export(final, "json"),
               help="Text, every word with its box and confidence, settings, timings.")
        button(".csv (words)", "csv", ocr.export(result, "csv"), help="One row per word: its box and confidence.")
        button(".hocr", "hocr", ocr.export(result, "hocr"), help="hOCR: words, lines and boxes as HTML.")
        kept, ws = workspace.store(), workspace.ws()  # the download is made on the click, outside this run
        if result.origin is not None:
            pdf = lambda: ocr.export(history.exportable([(key, final)], kept, ws), "pdf")
            carries = " Its hidden text is your edited text." if edited else " Its hidden text is the text as read."
            button("Searchable .pdf", "pdf", pdf, help=PDF_HELP + carries)
        done, left_out = zip_pages()
        edits = {k: history.edited(k) for k in zip_keys()}
        pairs = list(zip(edits, done))
        mixed = len({describe(r) for r in done}) > 1
        if done:
            st.download_button(f"Everything (.zip, {len(done)} page{'s' if len(done) > 1 else ''})",
                               lambda: everything_zip(pairs, edits, kept, ws),  # made on the click
                               file_name="ocr-results.zip", mime=MIME["zip"], on_click="ignore",
                               key=keys.download("zip"), icon=":material/folder_zip:",
                               help="Every page's latest reading, in every format, named as the downloads "
                                    "above, in page order.")
    notes = []
    if result.origin is not None:
        notes.append("The searchable .pdf carries your edits." if edited else
                     "The searchable .pdf carries the text as read (you have not edited it).")
    if left_out:
        many = len(left_out) > 1
        notes.append(f"The .zip leaves out {len(left_out)} page{'s' if many else ''} whose last reading failed "
                     f"(its older text is not mixed in): extract {'them' if many else 'it'} again to include "
                     f"{'them' if many else 'it'}.")
    if mixed:
        notes.append("The pages in the .zip were read with different settings: its settings.txt names each "
                     "page's.")
    if notes:
        st.caption(" ".join(notes))
    if ref.entry.count > 1:
        whole_file(ref.entry, kept, ws)


PDF_HELP = "The page as it was, with its text invisible on top: select and search it."


def whole_file(entry: FileEntry, kept: Store, ws: str) -> None:
    """Downloads of the whole file the page is in: one searchable PDF (every page in order, as it was;
    each page read carries its text, with the person's edits) and one .txt of every page, a form feed
    between pages. A page not read yet keeps its place: no hidden text in the PDF, an empty page in the
    .txt."""
    pages = file_pages(entry)
    read = sum(1 for _, r, _ in pages if r is not None)
    if not read:
        return
    stem = exports.file_stem(entry.name)
    texts = [text for _, _, text in pages]
    st.markdown(f"**The whole file** ({entry.name}, {read} of {entry.count} pages read)")
    with st.container(horizontal=True):
        st.download_button(f"Searchable .pdf of all {entry.count} pages", lambda: document_pdf(entry, pages, kept, ws),
                           file_name=exports.download_name(stem, "pdf"), mime=MIME["pdf"], on_click="ignore",
                           key=keys.download("file_pdf"), icon=":material/picture_as_pdf:",
                           help=PDF_HELP + " Every page of the file in order; each page read carries its "
                                           "text, with your edits.")
        st.download_button(f"Text of all {entry.count} pages (.txt)", exports.document_text(texts),
                           file_name=f"{stem}.txt", mime=MIME["txt"], on_click="ignore",
                           key=keys.download("file_txt"), icon=":material/article:",
                           help="Every page's text with your edits; a page break (form feed) between pages.")
    if read < entry.count:
        st.caption(f"{entry.count - read} page{'s are' if entry.count - read > 1 else ' is'} not read yet: in "
                   "the .pdf without hidden text, empty in the .txt. Extract all pages to fill them.")


FilePage = tuple[Origin, ocr.Result | None, str]


def file_pages(entry: FileEntry) -> list[FilePage]:
    """Every page of a file in order: its origin (without the file's bytes), its latest reading (None
    when it was not read or its last reading failed) and its text with the person's edits ("" unread)."""
    read = history.results()
    out: list[FilePage] = []
    for n, page in enumerate(pages_of(entry)):
        k = f"{entry.sha}:{n}"
        r = read.get(k) if k not in ss[keys.FAILED] else None
        origin = Origin(kind=page.kind, index=n, count=entry.count, dpi=page.dpi)
        out.append((origin, r, history.edited(k) if r is not None else ""))
    return out


def document_pdf(entry: FileEntry, pages: list[FilePage], kept: Store, ws: str) -> bytes:
    """The whole file as one searchable PDF with the person's edits, made on the click: the file's bytes
    read from the workspace now, each page's edits laid into its words now."""
    data = kept.file_data(ws, entry.sha)
    if data is None:
        raise ocr.OcrError(f"{entry.name} is no longer in the workspace.")
    return exports.document_pdf([(replace(o, data=data), None if r is None else exports.with_text(r, text))
                                 for o, r, text in pages])


def describe(r: ocr.Result) -> str:
    """The settings and options a result was read with, in plain words (the options as asked: a language
    found by itself is said where the reading is shown)."""
    return defaults.describe(r.settings or ocr.Settings(), r.asked)


def zip_keys() -> list[str]:
    """The page keys of :func:`zip_pages`'s results, in the same order."""
    read = history.results()
    return [k for k in page_keys() if k not in ss[keys.FAILED] and k in read]


def zip_pages() -> tuple[list[ocr.Result], list[str]]:
    """The results the .zip carries (each page's latest reading; :func:`everything_zip` lays the person's
    edits in) and the page keys left out because their last reading failed (their older text would pass
    for the new)."""
    read = history.results()
    done, left_out = [], []
    for k in page_keys():
        if k in ss[keys.FAILED]:
            left_out.append(k)
        elif k in read:
            done.append(read[k])  # its PDF is read, and its edits laid in, when the .zip is made
    return done, left_out


def everything_zip(pairs: list[tuple[str, ocr.Result]], edits: dict[str, str], kept: Store, ws: str) -> bytes:
    """Every page in every format with the person's edits (each page's PDF read from the workspace now);
    with ``settings.txt`` naming each page's settings when they differ."""
    done = history.exportable([(k, exports.with_text(r, edits[k])) for k, r in pairs], kept, ws)
    data = ocr.export_zip(done)
    if len({describe(r) for r in done}) > 1:
        buffer = io.BytesIO(data)
        with zipfile.ZipFile(buffer, "a", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("settings.txt", "".join(f"{r.name}: {describe(r)}\n" for r in done))
        data = buffer.getvalue()
    return data


def details(key: str, result: ocr.Result) -> None:
    reader = ocr.registry.label(result.engine)
    st.caption(which_engine(result))
    if said := language_found(result):
        st.caption(said)
    a, b, c, d = st.columns(4)
    a.metric("Mean confidence", f"{result.mean_conf:.0f}", help=f"{reader}'s confidence in each word, 0-100, averaged.")
    b.metric("Words", result.word_count)
    c.metric("Time", f"{result.timings.get('total', 0):.1f} s", help="Preprocessing and recognition, full size.")
    d.metric("Read at", f"{result.size[0]}×{result.size[1]}", help=f"The size of the processed page {reader} read.")
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
    truth_panel(key, result)


def which_engine(result: ocr.Result) -> str:
    """Which engine read the page, and how it was chosen (``Result.note``, from ocr.recognition), as
    one plain statement: a fact, not a warning."""
    said = f"Read by {ocr.registry.label(result.engine)}."
    note = result.note.strip()
    return f"{said} {note[0].upper()}{note[1:]}" if note else said


def language_found(result: ocr.Result) -> str | None:
    """The language found by itself (``lang="auto"``) and where to overrule it; None when it was given."""
    if not result.language:
        return None
    found = "not told (too little text)" if result.language == language.UNSURE else language.name(result.language)
    return (f":material/translate: Language found by itself: {found}; read with {result.options.lang}. "
            "To choose another, set Languages on the Tune page.")


def truth_panel(key: str, result: ocr.Result) -> None:
    """CER and WER against a true text the person gives; the panel stays open once it has one, and the
    text stays with the page (and in the workspace)."""
    ref = page_ref(key)
    assert ref is not None
    truths: dict[str, str] = ss[keys.TRUTHS]
    widget = keys.truth(key)
    if widget not in ss:  # a new visit: the box shows the page's own true text
        ss[widget] = truths.get(key, (ref.entry.truth or "") if ref.page.index == 0 else "")

    def keep() -> None:
        truths[key] = ss[widget]
        workspace.save_truth(key, ss[widget])

    typed = str(ss[widget])
    with st.expander("Check the accuracy against the true text", icon=":material/fact_check:",
                     expanded=bool(typed.strip()), key=keys.truth_open(key), on_change="rerun"):
        upload = st.file_uploader("The true text as a .txt file", type=["txt"], key=keys.truth_file(key))
        if upload is not None and upload.file_id != ss.get(keys.truth_seen(key)):
            ss[keys.truth_seen(key)] = upload.file_id
            ss[widget] = upload.getvalue().decode("utf-8", errors="replace")
            keep()
        st.text_area("…or paste it here", key=widget, height=150, on_change=keep)
        typed = str(ss[widget])
        if typed.strip():
            x, y = st.columns(2)
            rate = cer(typed, result.text)
            x.metric("Character error rate (CER)", f"{rate:.1%}", help="0% is perfect.")
            y.metric("Word error rate (WER)", f"{wer(typed, result.text):.1%}", help="0% is perfect.")
            st.caption("Of the text as read (before your edits), after normalising spaces, quotes and dashes.")
            if rate > 1:
                st.caption(f"Over 100%: the reading has {len(result.text)} characters and the true text "
                           f"{len(typed)}. The rate counts every character the reading has too many as an "
                           "error, against the true text's length; check that the true text is the whole "
                           "page's text.")


def compare_read(key: str) -> None:
    """Read the page with each engine (the settings shown now); each reading, judged, or the sentence why
    it failed, is kept for the comparison."""
    ref = page_ref(key)
    assert ref is not None
    found: dict[str, ocr.Result | str] = {}
    labels = ", ".join(info.label for info in ocr.registry.engines())
    with st.spinner(f"Reading the page with each engine ({labels})…"):
        for info in ocr.registry.engines():
            try:
                reading = ocr.read_page(ref.page, url.settings(), url.options().replace(engine=info.name),
                                        engine=engine())
                judge(reading)
                found[info.name] = history.light(reading)
            except ocr.OcrError as e:  # one sentence; the other engines' readings still show
                found[info.name] = describe_error(e)
    ss[keys.COMPARE][key] = found


def keep_reading(key: str, name: str, asked: bool = False) -> None:
    """on_click of "keep this reading": it becomes the page's result (the edits, if any, kept in the
    history), after asking when the person edited the text. It was read with the settings shown now, so
    it counts as read with them: its options name the engine choice shown now (``result.engine`` and its
    note say which engine read it)."""
    reading = ss[keys.COMPARE].get(key, {}).get(name)
    if not isinstance(reading, ocr.Result):
        return
    if history.was_edited(key) and not asked:  # ``asked``: the person said yes to the question
        ss[keys.ASK_KEEP] = (key, name)
        return
    shown = url.options()
    if reading.asked.replace(engine=shown.engine) == shown:
        note = "you kept its reading in the comparison of the engines."
        reading = replace(reading, options=shown, note=note)
    history.record(key, reading)
    ss[keys.FAILED].pop(key, None)


def compare_engines(key: str) -> None:
    """The page read by every engine side by side: each reading marked where it differs from the first
    engine's, its judge score, and a button to keep it."""
    names = ocr.registry.names()
    labels = [ocr.registry.label(name) for name in names]
    with st.expander("Compare the engines on this page", icon=":material/compare:", expanded=key in ss[keys.COMPARE],
                     key=keys.COMPARE_PANEL):
        st.caption(f"Reads this page with {', '.join(labels[:-1])} and with {labels[-1]} (the settings shown now), "
                   "marks where the texts differ, and scores each without the true text (higher looks more like "
                   "real words).")
        if st.button("Read with every engine", key=keys.COMPARE_RUN, icon=":material/compare_arrows:"):
            compare_read(key)
        found = ss[keys.COMPARE].get(key)
        if not found:
            return
        texts = {name: r.text if isinstance(r, ocr.Result) else "" for name, r in found.items()}
        rows = history.aligned(texts)  # the same number of rows each, so the columns line up
        for column, name in zip(st.columns(len(found)), found):
            reading = found[name]
            with column:
                if not isinstance(reading, ocr.Result):
                    st.error(f"{ocr.registry.label(name)} could not read this page:")
                    st.text(reading)
                    continue
                judged = reading.score if reading.score is not None else judge(reading).score
                st.text(f"{ocr.registry.label(name)}: score {judged:.1f}, {reading.word_count} words, "
                        f"mean confidence {reading.mean_conf:.0f}, {reading.timings.get('total', 0):.1f} s")
                st.code("\n".join(rows[name]), language="diff", wrap_lines=False, height=320)
                st.button(f"Keep {ocr.registry.label(name)}'s reading", key=keys.keep_reading(name),
                          icon=":material/check:", on_click=keep_reading, args=(key, name))
        first = ocr.registry.label(next(iter(found)))
        st.caption(f"Each row holds the engines' readings of the same line. Lines marked - are in {first}'s "
                   f"reading and not in every other; lines marked + are not in {first}'s.")


def looks_like_nonsense(result: ocr.Result) -> bool:
    """Whether a reading is mostly not words: few of its characters are in dictionary words or numbers,
    or Tesseract itself was unsure of most of it."""
    if result.word_count < 3:
        return False
    judged = judge(result)
    sensible = judged.dictionary + judged.numbers
    return (judged.chars > 0 and sensible < 0.3 * judged.chars) or result.mean_conf < 45


def nonsense_advice(result: ocr.Result) -> None:
    """What to try when a page reads as nonsense."""
    if not looks_like_nonsense(result):
        return
    turned = "" if url.settings().auto_orient else " Switch on \"Turn upright automatically\", or"
    st.warning("This reading looks like nonsense: most of it is not words. Things to try:" + turned
               + " turn the page with \"Turn clockwise\"; check the languages (now "
               + result.options.lang + "); crop to the text; or press Auto-tune on the Tune page.",
               icon=":material/help:")


# On a narrow screen the three columns stack: the text comes first, the pictures after it.
PHONE_CSS = f"""<style>
@media (max-width: 640px) {{
  div[data-testid="stColumn"]:has(.st-key-{keys.EXTRACT_TEXT}) {{ order: -1; }}
}}
</style>"""

st.html(PHONE_CSS)
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
                                    key=keys.EXTRACT_ALL, disabled=bool(batches.active())):
        todo = every
    options = url.options()
    described = defaults.describe(url.settings(), options)
    st.caption(f"Settings: {described}")
    nav.link(nav.TUNE, "Change them", ":material/tune:")

if todo and (edited := needs_asking(todo)):
    ss[keys.ASK_REPLACE] = todo
    todo = []
if keys.ASK_REPLACE in ss:
    ask_replace(needs_asking(ss[keys.ASK_REPLACE]))
elif keys.ASK_KEEP in ss:
    ask_replace([ss[keys.ASK_KEEP][0]], keeping=ss[keys.ASK_KEEP][1])
if (confirmed := ss.pop(keys.KEEP_CONFIRMED, None)) is not None:
    kept_page, kept_engine = confirmed
    keep_reading(kept_page, kept_engine, asked=True)
todo = todo or ss.pop(keys.CONFIRMED, [])
if len(todo) > 1:  # on the server, as a job: it goes on through a reload or a closed tab
    try:
        batches.start(todo)
        todo = []
    except StoreUnavailable as e:  # a store that cannot keep the job: read here, in this run, as before
        log.warning("Extract all reads in the session: %s", e)
if todo:
    read(todo)
batches.panel()
last_run()

result = history.results().get(key)
if result is not None and key in ss[keys.FAILED]:
    st.warning("The last reading of this page failed (above); the text below is from an earlier reading "
               "with other settings.", icon=":material/history:")
elif result is not None and not history.up_to_date(key):
    st.info("The settings have changed since this page was read: extract again to use them.", icon=":material/info:")
if result is not None:
    downloads(key, result)
pictures(key, result)
if result is not None:
    nonsense_advice(result)
    details(key, result)
if page_problem(key) is None:
    compare_engines(key)

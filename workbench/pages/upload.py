"""Upload: drop in photos, scans or PDFs, take a photo, or open a sample; see what is open; go on."""

from __future__ import annotations

import time

import streamlit as st

import ocr
from ocr.limits import megapixels
from workbench import keys, layout, nav, preview, workspace
from workbench.files import add_file, files, open_sample, remove_file, samples
from workbench.store import expire_days

ss = st.session_state


def size_text(size: int) -> str:
    return f"{size / 1024:,.0f} KB" if size < 1 << 20 else f"{size / (1 << 20):.1f} MB"


st.title("Get the text out of a photo or scan")
st.caption("Step 1 of 3: open your files. Step 2: adjust the clean-up (optional). Step 3: extract and download.")

def limit_sentences() -> list[str]:
    """What a file may be, one plain sentence each: the upload's size (Streamlit's ``server.maxUploadSize``,
    set in .streamlit/config.toml), the pages and pixels ``ocr.Limits`` allows, and a page's time limit."""
    size = st.get_option("server.maxUploadSize")
    return [f"Size: at most {size} MB a file (a larger file is refused by the drop zone before it is sent).",
            *ocr.Limits().sentences(),
            f"Time: a page taking longer than {ocr.Options().timeout:g} seconds to read is stopped and reported "
            "(the time limit is on the Tune page); the other pages go on."]


uploads = st.file_uploader(
    "Drop photos, scans or PDFs here (JPEG, PNG, TIFF, WebP, BMP, GIF, PDF)",
    accept_multiple_files=True,
    key=keys.uploader(ss[keys.UPLOAD_ROUND]),
)
limits = ocr.Limits()
st.caption(f"Up to {st.get_option('server.maxUploadSize')} MB and {limits.max_pages:,} pages a file, "
           f"{megapixels(limits.max_pixels_per_page)} megapixels a page.")
with st.expander("What a file may be", icon=":material/rule:"):
    st.text("\n".join(limit_sentences()))
if uploads:
    refused, before = [], set(files())
    bar = st.progress(0.0, text="Opening the files…") if len(uploads) > 1 else None
    for n, upload in enumerate(uploads):
        problem = add_file(upload.name, upload.getvalue())
        if problem:
            refused.append((upload.name, problem))
        if bar:
            bar.progress((n + 1) / len(uploads), text=f"Opened {n + 1} of {len(uploads)} files")
    ss[keys.REFUSED] = refused
    ss[keys.UPLOAD_ROUND] += 1  # a fresh, empty drop zone: the files are listed below
    for sha in set(files()) - before:  # made now, while their first pages are decoded (the rerun lets them go)
        preview.thumbnail(files()[sha])
    st.rerun()

with st.container(horizontal=True, vertical_alignment="center"):
    st.toggle("Take a photo with the camera", key=keys.CAMERA_ON)
    st.text("or try a sample:")
    for path in samples():
        if st.button(path.stem.replace("-", " ").capitalize(), key=keys.sample(path.stem), icon=":material/image:"):
            problem = open_sample(path)
            ss[keys.REFUSED] = [(path.name, problem)] if problem else []

if ss.get(keys.CAMERA_ON):
    photo = st.camera_input("Take a photo of the page", key=keys.CAMERA)
    if photo is not None and photo.file_id != ss.get(keys.CAMERA_SEEN):
        ss[keys.CAMERA_SEEN] = photo.file_id
        name = f"camera-{time.strftime('%H%M%S')}.jpg"
        problem = add_file(name, photo.getvalue())
        ss[keys.REFUSED] = [(name, problem)] if problem else []

if ss[keys.REFUSED]:
    layout.problems(ss[keys.REFUSED], "file", "opened", bool(files()))

entries = list(files().values())
if not entries:
    st.info("Nothing is open yet. Drop a file above, take a photo, or try a sample.", icon=":material/arrow_upward:")
    st.stop()


def clear() -> None:
    workspace.clear()



pages = sum(e.count for e in entries)
with st.container(horizontal=True, vertical_alignment="center"):
    if st.button(f"Extract text from {pages} page{'s' if pages > 1 else ''}", type="primary",
                 icon=":material/text_snippet:", key=keys.GO_EXTRACT):
        ss[keys.AUTORUN] = True
        nav.go(nav.EXTRACT)
    nav.link(nav.TUNE, "Adjust the clean-up first", ":material/tune:")

st.subheader(f"Open files ({len(entries)})")
columns = st.columns(5)
for n, entry in enumerate(entries):
    with columns[n % 5].container(border=True):
        st.image(preview.thumbnail(entry))
        st.text(entry.name)
        w, h = entry.first_size
        facts = [entry.kind, size_text(entry.size), f"{entry.count} page{'s' if entry.count > 1 else ''}", f"{w}×{h}"]
        st.caption(" · ".join(facts))
        layout.notes(entry.notes)
        if st.button("Remove", key=keys.remove(entry.sha), icon=":material/delete:"):
            remove_file(entry.sha)
            st.rerun()

st.divider()
with st.container(horizontal=True, vertical_alignment="center"):
    if why := workspace.read_only():
        st.caption(f"Your files, texts and edits are not kept on this server right now ({why}): they stay in "
                   "this tab only.")
    else:
        st.caption(f"Your files, texts, edits, settings and history are kept on this server under this page's "
                   f"link (keep it to come back; anyone with the link sees them) for {expire_days():g} days after "
                   "its last use.")
    with st.popover("Clear this workspace", icon=":material/delete_forever:"):
        st.write("Delete every file, text, edit and run of this workspace from the server. This cannot be undone.")
        st.button("Delete everything", type="primary", on_click=clear, key=keys.CLEAR)

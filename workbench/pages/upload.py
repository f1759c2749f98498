"""Upload: drop in photos, scans or PDFs, take a photo, or open a sample; see what is open; go on."""

from __future__ import annotations

import time

import streamlit as st

from workbench import keys, layout, nav, preview
from workbench.files import add_file, files, open_sample, remove_file, samples

ss = st.session_state


def size_text(size: int) -> str:
    return f"{size / 1024:,.0f} KB" if size < 1 << 20 else f"{size / (1 << 20):.1f} MB"


st.title("Get the text out of a photo or scan")
st.caption("Step 1 of 3: open your files. Step 2: adjust the clean-up (optional). Step 3: extract and download.")

uploads = st.file_uploader(
    "Drop photos, scans or PDFs here (JPEG, PNG, TIFF, WebP, BMP, GIF, PDF)",
    accept_multiple_files=True,
    key=keys.uploader(ss[keys.UPLOAD_ROUND]),
)
if uploads:
    refused = []
    bar = st.progress(0.0, text="Opening the files…") if len(uploads) > 1 else None
    for n, upload in enumerate(uploads):
        problem = add_file(upload.name, upload.getvalue())
        if problem:
            refused.append((upload.name, problem))
        if bar:
            bar.progress((n + 1) / len(uploads), text=f"Opened {n + 1} of {len(uploads)} files")
    ss[keys.REFUSED] = refused
    ss[keys.UPLOAD_ROUND] += 1  # a fresh, empty drop zone: the files are listed below
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

for name, sentence in ss[keys.REFUSED]:
    layout.file_problem("This file could not be opened; the others are fine.", name, sentence)

entries = list(files().values())
if not entries:
    st.info("Nothing is open yet. Drop a file above, take a photo, or try a sample.", icon=":material/arrow_upward:")
    st.stop()

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

"""Upload: drop in photos, scans or PDFs, take a photo, or open a sample; see what is open; go on."""

import time

import streamlit as st

from pages import state

ss = st.session_state

st.title("Get the text out of a photo or scan")
st.caption("Step 1 of 3: open your files. Step 2: adjust the clean-up (optional). Step 3: extract and download.")

uploads = st.file_uploader(
    "Drop photos, scans or PDFs here (JPEG, PNG, TIFF, WebP, BMP, GIF, PDF)",
    accept_multiple_files=True,
    key=f"{state.W_UPLOADER}{ss[state.UPLOAD_ROUND]}",
)
if uploads:
    refused = []
    bar = st.progress(0.0, text="Opening the files…") if len(uploads) > 1 else None
    for n, upload in enumerate(uploads):
        problem = state.add_file(upload.name, upload.getvalue())
        if problem:
            refused.append((upload.name, problem))
        if bar:
            bar.progress((n + 1) / len(uploads), text=f"Opened {n + 1} of {len(uploads)} files")
    ss[state.REFUSED] = refused
    ss[state.UPLOAD_ROUND] += 1  # a fresh, empty drop zone: the files are listed below
    st.rerun()

with st.container(horizontal=True, vertical_alignment="center"):
    st.toggle("Take a photo with the camera", key=state.W_CAMERA_ON)
    st.text("or try a sample:")
    for path in sorted(state.SAMPLES.glob("*.[jp][pn]g")):
        if st.button(path.stem.replace("-", " ").capitalize(), key=f"sample_{path.stem}", icon=":material/image:"):
            truth = path.with_suffix(".gt.txt")
            problem = state.add_file(path.name, path.read_bytes(), truth.read_text("utf-8") if truth.exists() else None)
            ss[state.REFUSED] = [(path.name, problem)] if problem else []

if ss.get(state.W_CAMERA_ON):
    photo = st.camera_input("Take a photo of the page", key=state.W_CAMERA)
    if photo is not None and photo.file_id != ss.get(state.CAMERA_SEEN):
        ss[state.CAMERA_SEEN] = photo.file_id
        name = f"camera-{time.strftime('%H%M%S')}.jpg"
        problem = state.add_file(name, photo.getvalue())
        ss[state.REFUSED] = [(name, problem)] if problem else []

for name, sentence in ss[state.REFUSED]:
    state.file_problem("This file could not be opened; the others are fine.", name, sentence)

entries = list(state.files().values())
if not entries:
    st.info("Nothing is open yet. Drop a file above, take a photo, or try a sample.", icon=":material/arrow_upward:")
    st.stop()

pages = sum(e.count for e in entries)
with st.container(horizontal=True, vertical_alignment="center"):
    if st.button(f"Extract text from {pages} page{'s' if pages > 1 else ''}", type="primary",
                 icon=":material/text_snippet:", key="go_extract"):
        ss[state.AUTORUN] = True
        st.switch_page("pages/extract.py")
    st.page_link("pages/tune.py", label="Adjust the clean-up first", icon=":material/tune:")

st.subheader(f"Open files ({len(entries)})")
columns = st.columns(5)
for n, entry in enumerate(entries):
    with columns[n % 5].container(border=True):
        st.image(state.thumbnail(entry.sha, 0, entry))
        st.text(entry.name)
        w, h = state.pages_of(entry)[0].size
        facts = [entry.kind, f"{entry.size / 1024:,.0f} KB" if entry.size < 1 << 20 else f"{entry.size / (1 << 20):.1f} MB",
                 f"{entry.count} page{'s' if entry.count > 1 else ''}", f"{w}×{h}"]
        st.caption(" · ".join(facts))
        if st.button("Remove", key=f"remove_{entry.sha}", icon=":material/delete:"):
            state.remove_file(entry.sha)
            st.rerun()

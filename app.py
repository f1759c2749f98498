"""OCR Workbench: placeholder page until the full app lands (upload an image, see its text)."""

import streamlit as st

import ocr

st.set_page_config(page_title="OCR Workbench", layout="wide")
st.title("OCR Workbench")
upload = st.file_uploader("Image or PDF")
if upload is not None:
    outcomes = ocr.read_files([(upload.name, upload.getvalue())])
    for outcome in outcomes:
        if outcome.error:
            st.error(f"{outcome.name}: {outcome.error}")
        else:
            st.text_area(outcome.name, outcome.result.text, height=300)
            st.download_button("Download .txt", ocr.export(outcome.result, "txt"), file_name="text.txt")

"""OCR Workbench: the frame and router. Each page in ``pages/`` lays out widgets and calls ``ocr``;
``pages/state.py`` names every session-state key."""

import streamlit as st

from pages import state

st.set_page_config(page_title="OCR Workbench", page_icon=":material/document_scanner:", layout="wide")
state.init()
state.engine()  # start Tesseract now, so the first page is read quickly

navigation = st.navigation(
    [
        st.Page("pages/upload.py", title="1 · Upload", icon=":material/upload_file:", default=True),
        st.Page("pages/tune.py", title="2 · Tune", icon=":material/tune:"),
        st.Page("pages/extract.py", title="3 · Extract", icon=":material/text_snippet:"),
        st.Page("pages/history.py", title="History", icon=":material/history:"),
    ],
    position="top",
)
state.show_notices()
state.write_url()
navigation.run()
state.write_url()  # the page may have changed the settings

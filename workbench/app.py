"""The app's frame and router: page set-up, the session's defaults, the menu, and the page chosen.

Run by the repository's ``app.py`` (``streamlit run app.py``, as Streamlit Community Cloud does) and, as
the entry file itself, by the ``ocr-workbench`` command.
"""

from __future__ import annotations

import streamlit as st

from workbench import keys, layout, nav, url
from workbench.engine import engine


def main() -> None:
    """One run of the app."""
    st.set_page_config(page_title="OCR Workbench", page_icon=":material/document_scanner:", layout="wide")
    for key, make in keys.FRESH.items():  # a new session's empty collections
        if key not in st.session_state:
            st.session_state[key] = make()
    url.start()
    engine()  # start Tesseract now, so the first page is read quickly
    page = nav.navigation()
    layout.show_notices()
    url.write()
    page.run()
    url.write()  # the page may have changed the settings


if __name__ == "__main__":
    main()

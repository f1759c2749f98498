"""OCR Workbench's entry file for `streamlit run app.py` (Streamlit Community Cloud runs it); the app
itself is the package ``workbench`` (``ocr-workbench`` starts the same app once installed)."""

import streamlit as st

from workbench.app import main

if __name__ == "__main__":  # Streamlit runs this file as __main__ for each visit; a spawned process does not
    main()
elif __name__ == "app":  # `streamlit run` imports it to serve the app and its HTTP API in one process
    from workbench.api import ROUTES, lifespan

    app = st.App(__file__, routes=ROUTES, lifespan=lifespan)

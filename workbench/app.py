"""The app's frame and router: page set-up, the session's defaults, the menu, and the page chosen.

Run by the repository's ``app.py`` (``streamlit run app.py``, as Streamlit Community Cloud does) and, as
the entry file itself, by the ``ocr-workbench`` command.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

import ocr
import ocr.logs
from workbench import files, history, keys, layout, memory, nav, url, workspace
from workbench.engine import engine

ICON = Path(__file__).resolve().parent / "static" / "icon.svg"  # shipped: nothing is fetched from outside


def main() -> None:
    """One run of the app."""
    logging_once()
    st.set_page_config(page_title="OCR Workbench", page_icon=str(ICON), layout="wide")
    memory.configure()  # the allocator gives large blocks back when freed (once is enough; it is cheap)
    for key, make in keys.FRESH.items():  # a new session's empty collections
        if key not in st.session_state:
            st.session_state[key] = make()
    # the workspace the link names, restored (before the link's settings are read)
    workspace.start(workspace.Kinds(file=files.FileEntry.from_meta, run=history.Run))
    url.start()
    engine()  # start Tesseract now, so the first page is read quickly
    page = nav.navigation()
    layout.browser_fixes()
    layout.show_notices()
    url.write()
    try:
        page.run()
    finally:  # also when the page stops early or reruns: what changed is written to the store
        workspace.save_state()
        shown = page.title in (nav.TUNE.title, nav.EXTRACT.title)  # the pages that show a page's pixels
        files.let_go(st.session_state.get(keys.CURRENT) if shown else None)
    url.write()  # the page may have changed the settings


@st.cache_resource(show_spinner=False)
def logging_once() -> bool:
    """The package's and the app's log records on the server's stderr (level: ``$OCR_LOG_LEVEL``, else
    INFO: each page read), set once per server."""
    ocr.logs.setup(names=("ocr", "workbench"))
    return True


if __name__ == "__main__":
    main()
elif __name__ == "app":  # `ocr-workbench` runs this file: `streamlit run` imports it to serve the app and its API
    from workbench.api import ROUTES, lifespan

    app = st.App(__file__, routes=ROUTES, lifespan=lifespan)

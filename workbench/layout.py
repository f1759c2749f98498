"""Small pieces of layout the pages share: notices, a file's problem, its notes, the page chooser, a
framed picture, and the hint shown when nothing is open."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import streamlit as st

from . import keys, nav
from .files import current, page_keys, page_label

# In a narrow window the page menu (the sidebar the top menu folds into) closes once a page is chosen, as
# Streamlit closes it on a phone (it tells a phone by the device, not the width), so the page chosen is
# not left under it. Added once per tab (the flag keeps a rerun from adding it again); the element itself
# takes no room.
BROWSER_JS = """<style>[data-testid="stElementContainer"]:has(.ocr-browser-fixes) { display: none; }</style>
<span class="ocr-browser-fixes"></span><script>
(() => {
  const top = window.parent && window.parent.document ? window.parent : window;
  const doc = top.document;
  if (top.__ocrWorkbenchMenu) return;
  top.__ocrWorkbenchMenu = true;
  doc.addEventListener('click', (event) => {
    const link = event.target.closest && event.target.closest('[data-testid="stSidebarNav"] a');
    if (!link || top.innerWidth > 768) return;
    const close = doc.querySelector('[data-testid="stSidebarCollapseButton"] button');
    if (close) setTimeout(() => close.click(), 0);
  }, true);
})();
</script>"""


def browser_fixes() -> None:
    """What the pages need in the browser beyond Streamlit's own (:data:`BROWSER_JS`)."""
    st.html(BROWSER_JS, unsafe_allow_javascript=True)


def show_notices() -> None:
    """Messages left for the next page (e.g. from the link); shown once."""
    for message, detail in st.session_state[keys.NOTICE]:
        st.warning(message)
        if detail:
            st.text(detail)
    st.session_state[keys.NOTICE] = []


def file_problem(message: str, name: str, sentence: str) -> None:
    """A refused file or failed page: the message as an alert, the name and sentence as plain text (a
    file name is never read as Markdown)."""
    with st.container(border=True):
        st.error(message, icon=":material/error:")
        st.text(f"{name}: {sentence}")


def problems(failed: Sequence[tuple[str, str]], what: str, done: str, others: bool) -> None:
    """Refused files or failed pages as one alert and one compact list ("name: sentence" a line, as plain
    text: a name is never read as Markdown), not a box each; a long list folds into an expander."""
    many = len(failed) > 1
    also = f" The other {what}s were {done}." if others else ""
    st.error(f"{len(failed)} {what}{'s' if many else ''} could not be {done}.{also}", icon=":material/error:")
    listing = "\n".join(f"{name}: {sentence}" for name, sentence in failed)
    if len(failed) > 8:
        with st.expander(f"The {len(failed)} {what}s and why", icon=":material/list:"):
            st.text(listing)
    else:
        st.text(listing)


def notes(lines: Sequence[str], most: int = 3) -> None:
    """What the decoder did that a person should know (a PDF drawn at a lower resolution, an animation
    read frame by frame), as plain text; at most ``most`` lines (the Extract page shows each page's own)."""
    for line in lines[:most]:
        st.text(f"Note: {line}")
    if len(lines) > most:
        st.caption(f"…and {len(lines) - most} more notes: the Extract page shows each page's.")


def page_picker(where: str) -> str | None:
    """The chooser of the current page (shared by Tune and Extract); None when nothing is open."""
    every = page_keys()
    if not every:
        return None
    key = current()
    if len(every) == 1:
        return key
    widget = keys.page_picker(where)
    st.session_state[widget] = key

    def chosen() -> None:
        st.session_state[keys.CURRENT] = st.session_state[widget]
        st.session_state[keys.PUSH] = True  # the crop's percentages are of the new page

    labels = {k: page_label(k) for k in every}
    st.selectbox("Page", every, format_func=labels.__getitem__, key=widget, on_change=chosen, width=560)
    found: str = st.session_state[keys.CURRENT]
    return found


def fit_width(size: tuple[int, int], max_height: int = 760) -> int | Literal["stretch"]:
    """The width at which a page of ``size`` fits ``max_height`` pixels of screen ("stretch" when the
    column's width is the tighter limit): a tall receipt should not push everything below the fold."""
    w, h = size
    return "stretch" if h <= 0 or w / h >= 0.75 else max(120, round(max_height * w / h))


def show_image(data: bytes, size: tuple[int, int], fmt: Literal["PNG", "JPEG"] = "PNG", max_height: int = 760) -> None:
    """Encoded image bytes as they are (no second encoding), framed (a white page on a white screen has
    no edge otherwise), and not taller than ``max_height`` pixels of screen."""
    with st.container(width=fit_width(size, max_height), border=True):
        st.image(data, output_format=fmt, width="stretch")


def no_files(what: str) -> None:
    """The hint on Tune and Extract when nothing is open."""
    st.info(f"Open a photo, scan or PDF first; then come back here to {what}.", icon=":material/upload_file:")
    nav.link(nav.UPLOAD, "Go to Upload", ":material/arrow_forward:")

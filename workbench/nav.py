"""The app's four pages, defined once: the menu (``st.navigation``), the buttons that move to a page
(``st.switch_page``) and the links (``st.page_link``) all use these.

A page file is named by its absolute path, so the app runs the same whether it is started as the
repository's ``app.py`` or as the installed package's ``workbench/app.py`` (Streamlit resolves a
relative path against the entry file's folder). The ``st.Page`` objects are made in each run from these
definitions: ``st.Page`` needs the running script's context, and ``st.navigation`` marks the page it
returns, so one object shared by every session would be shared mutable state.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st
from streamlit.navigation.page import StreamlitPage

PAGES = Path(__file__).resolve().parent / "pages"


@dataclass(frozen=True)
class Destination:
    """One page of the app: its file in ``workbench/pages``, its title and icon in the menu."""

    file: str
    title: str
    icon: str
    default: bool = False

    @property
    def path(self) -> Path:
        """The page file's absolute path."""
        return PAGES / self.file


UPLOAD = Destination("upload.py", "1 · Upload", ":material/upload_file:", default=True)
TUNE = Destination("tune.py", "2 · Tune", ":material/tune:")
EXTRACT = Destination("extract.py", "3 · Extract", ":material/text_snippet:")
HISTORY = Destination("history.py", "History", ":material/history:")
ALL = (UPLOAD, TUNE, EXTRACT, HISTORY)


def page(destination: Destination) -> StreamlitPage:
    """The ``st.Page`` of a destination."""
    return st.Page(destination.path, title=destination.title, icon=destination.icon, default=destination.default)


def navigation() -> StreamlitPage:
    """The menu across the top; returns the page to run."""
    return st.navigation([page(d) for d in ALL], position="top")


def go(destination: Destination) -> None:
    """Move to another page now (stops this run)."""
    st.switch_page(page(destination))


def link(destination: Destination, label: str, icon: str) -> None:
    """A link to another page."""
    st.page_link(page(destination), label=label, icon=icon)

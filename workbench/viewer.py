"""The processed picture's viewer: a small custom component (Streamlit's components v2, no iframe) that
fits the picture to its box and lets a person zoom (wheel, pinch, buttons, keys) and pan (drag, arrows)
on the picture itself, with a 1:1 view. Its JavaScript and CSS are files of this package
(``workbench/static/viewer.*``), shipped with it; nothing is fetched from elsewhere. The picture goes to
the browser in the component's data as a ``data:`` address, and a new picture keeps the zoom.
"""

from __future__ import annotations

import base64
from functools import cache
from pathlib import Path
from typing import Any, Literal

import streamlit as st

from . import keys

STATIC = Path(__file__).resolve().parent / "static"


@cache
def _component() -> Any:
    return st.components.v2.component(
        "ocr_workbench_viewer", js=(STATIC / "viewer.js").read_text(), css=(STATIC / "viewer.css").read_text(),
        isolate_styles=False)


def show(data: bytes, size: tuple[int, int], fmt: Literal["PNG", "JPEG"], *, height: int) -> None:
    """The encoded picture ``data`` (``size`` pixels) in a box ``height`` pixels high, fitted."""
    src = f"data:image/{fmt.lower()};base64," + base64.b64encode(data).decode("ascii")
    _component()(key=keys.TUNE_VIEWER, data={"src": src, "width_px": size[0], "height_px": size[1], "height": height})

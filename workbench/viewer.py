"""The processed picture's viewer: a small custom component (Streamlit's components v2, no iframe) that
fits the picture to its box and lets a person zoom (wheel, pinch, buttons, keys) and pan (drag, arrows)
on the picture itself, with a 1:1 view. Its JavaScript and CSS are files of this package
(``workbench/static/viewer.*``), shipped with it; nothing is fetched from elsewhere. The picture goes to
the browser in the component's data as a ``data:`` address, and a new picture keeps the zoom.

While the hand rests on a slider, the picture of its next step the same way is made and handed to the
viewer by a second, invisible component (:func:`ahead`): the next press shows it at once.
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


@cache
def _ahead() -> Any:
    return st.components.v2.component("ocr_workbench_ahead", js=(STATIC / "ahead.js").read_text())


def ahead(field_key: str | None, value: float = 0.0, data: bytes = b"", size: tuple[int, int] = (0, 0),
          fmt: Literal["PNG", "JPEG"] = "PNG") -> None:
    """Give the viewer the picture (``data``, ``size`` pixels) of the control ``field_key`` at ``value``,
    before the person moves it there: the viewer shows it as soon as that slider shows that value, and
    the server's picture of the move, the same bytes, replaces it. With no ``field_key``, nothing ahead."""
    payload: dict[str, object] = {}
    if field_key is not None and data:
        payload = {"watch": f".st-key-{field_key}", "value": value, "src": address(data, fmt),
                   "width_px": size[0], "height_px": size[1]}
    _ahead()(key=keys.TUNE_AHEAD, data=payload)


def address(data: bytes, fmt: str) -> str:
    return f"data:image/{fmt.lower()};base64," + base64.b64encode(data).decode("ascii")


def show(data: bytes, size: tuple[int, int], fmt: Literal["PNG", "JPEG"], *, height: int,
         grey: bytes | None = None, level: int = 128, invert: bool = False) -> None:
    """The encoded picture ``data`` (``size`` pixels) in a box ``height`` pixels high, fitted.

    With ``grey`` (the page just before a black & white ``level``, PNG), the browser draws the picture of
    a new level itself as soon as the Level slider moves (``255 if grey > level else 0``, inverted with
    ``invert``), and shows the server's picture when one of the level on the slider arrives; the two are
    the same pixels."""
    payload: dict[str, object] = {"src": address(data, fmt), "width_px": size[0], "height_px": size[1],
                                  "height": height, "level": level}
    if grey is not None:
        payload["live"] = {"grey": address(grey, "png"), "invert": invert,
                           "watch": f".st-key-{keys.setting('threshold_value')}"}
    _component()(key=keys.TUNE_VIEWER, data=payload)

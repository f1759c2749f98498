"""The processed picture's viewer: a small custom component (Streamlit's components v2, no iframe) that
fits the picture to its box and lets a person zoom (wheel, pinch, buttons, keys) and pan (drag, arrows)
on the picture itself, with a 1:1 view. Its JavaScript and CSS are files of this package
(``workbench/static/viewer.*``), shipped with it; nothing is fetched from elsewhere. The picture goes to
the browser in the component's data as a ``data:`` address, and a new picture keeps the zoom.

The pictures of the next move of the control in the person's hand (a slider's next step either way, a
switch's other side; moved last, or the one the pointer or the keyboard focus came to: the browser says
which) are made while the hand rests and handed to the viewer by a second, invisible component
(:func:`ahead`): the next press shows its picture at once, the first press on a control too.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

import streamlit as st

import ocr

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


@dataclass(frozen=True)
class Step:
    """The picture of a control at one value, made before the person moves the control there."""

    value: float | bool
    data: bytes
    size: tuple[int, int]  # (width, height) pixels
    fmt: Literal["PNG", "JPEG"] = "PNG"


def base(s: ocr.Settings) -> str:
    """A short name of the settings a picture is of: the viewer takes the pictures made ahead from the
    settings of the picture it shows, never older ones."""
    return hashlib.sha256(json.dumps(s.to_dict(), sort_keys=True).encode()).hexdigest()[:16]


def ahead(s: ocr.Settings, field: str | None, steps: list[Step], watched: list[str],
          on_near: Callable[[], None]) -> None:
    """Give the viewer the pictures ``steps`` of the control of ``field`` (the one in hand: a slider or a
    switch), made from the settings ``s`` before the person moves it: the viewer shows one as soon as
    that control shows its value (and its own picture again when the control comes back to the value of
    ``s``), and the server's picture of the move, the same bytes, replaces it. ``watched``: the keys of
    the controls whose pictures can be made ahead; when the pointer or the keyboard focus comes to one of
    them other than ``field``'s, the browser says so (``on_near`` is called, the key in
    ``st.session_state[keys.TUNE_AHEAD]["near"]``) and the fragment this is in runs again."""
    key = keys.setting(field) if field is not None else None
    payload: dict[str, object] = {"hand": key, "controls": watched, "base": base(s), "steps": [
        {"value": p.value, "src": address(p.data, p.fmt), "width_px": p.size[0], "height_px": p.size[1]}
        for p in steps]}
    if field is not None:
        payload.update(watch=f".st-key-{key}", value=getattr(s, field))
    _ahead()(key=keys.TUNE_AHEAD, data=payload, on_near_change=on_near)


def address(data: bytes, fmt: str) -> str:
    return f"data:image/{fmt.lower()};base64," + base64.b64encode(data).decode("ascii")


def show(data: bytes, size: tuple[int, int], fmt: Literal["PNG", "JPEG"], *, height: int, made_from: str = "",
         grey: bytes | None = None, level: int = 128, invert: bool = False) -> None:
    """The encoded picture ``data`` (``size`` pixels) in a box ``height`` pixels high, fitted.

    With ``grey`` (the page just before a black & white ``level``, PNG), the browser draws the picture of
    a new level itself as soon as the Level slider moves (``255 if grey > level else 0``, inverted with
    ``invert``), and shows the server's picture when one of the level on the slider arrives; the two are
    the same pixels. ``made_from``: the :func:`base` of the picture's settings (the pictures made ahead
    are taken only from the same)."""
    payload: dict[str, object] = {"src": address(data, fmt), "width_px": size[0], "height_px": size[1],
                                  "height": height, "level": level, "base": made_from}
    if grey is not None:
        payload["live"] = {"grey": address(grey, "png"), "invert": invert,
                           "watch": f".st-key-{keys.setting('threshold_value')}"}
    _component()(key=keys.TUNE_VIEWER, data=payload)

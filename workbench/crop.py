"""Drawing the crop on the picture: the original page as a Vega-Lite chart with a box selection; dragging
a box on it sets the crop. No custom component: ``st.vega_lite_chart(on_select=...)`` reports the box in
the chart's axes, which are the page's own pixels (x across, y down from the top).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

import pandas as pd

SELECTION = "crop"  # the selection's name in the chart, and in the event Streamlit reports
BOX = (560, 480)  # the largest the chart is drawn, in screen pixels (width, height)


def chart_size(size: tuple[int, int], box: tuple[int, int] = BOX) -> tuple[int, int]:
    """The chart's (width, height) on screen: the page's shape, as large as fits ``box``."""
    w, h = max(1, size[0]), max(1, size[1])
    scale = min(box[0] / w, box[1] / h)
    return max(40, round(w * scale)), max(40, round(h * scale))


def chart(size: tuple[int, int], box: tuple[int, int] = BOX,
          crop: tuple[int, int, int, int] | None = None) -> dict[str, Any]:
    """The Vega-Lite spec of the page picture (the data's ``url`` field, any size) stretched over axes of
    the page's pixels ``size``, as large as fits ``box``, with a box selection named :data:`SELECTION` on
    both axes that starts on the ``crop`` and is cleared by a double-click (so the crop can be cleared
    where it was drawn). No tooltip: the picture's only field is its ``data:`` address.
    A plain spec, not an Altair chart: Altair validates a chart against its schema on every run of the
    page (the slowest part of a slider move), and this spec never changes shape."""
    w, h = size
    width, height = chart_size(size, box)
    axis = {"labels": False, "ticks": False, "grid": False, "domain": False, "title": None}

    def scale(top: int, reverse: bool = False) -> dict[str, Any]:
        return {"domain": [0, top], "nice": False, "zero": False, **({"reverse": True} if reverse else {})}

    select: dict[str, Any] = {
        "type": "interval", "encodings": ["x", "y"], "clear": "dblclick",
        "mark": {"fill": "#2563eb", "fillOpacity": 0.15, "stroke": "#2563eb"}}
    params: dict[str, Any] = {"name": SELECTION, "select": select}
    if crop is not None:
        x, y, cw, ch = crop
        params["value"] = {"x": [x, min(x + cw, w)], "y": [y, min(y + ch, h)]}
    return {
        "width": width, "height": height,
        "mark": {"type": "image", "aspect": False, "align": "left", "baseline": "top", "tooltip": None},
        "encoding": {
            "x": {"field": "x", "type": "quantitative", "scale": scale(w), "axis": axis},
            "x2": {"field": "x2"},
            "y": {"field": "y", "type": "quantitative", "scale": scale(h, reverse=True), "axis": axis},
            "y2": {"field": "y2"},
            "url": {"field": "url", "type": "nominal"},
        },
        "params": [params],
        "config": {"view": {"stroke": None}},
    }


def data(jpeg: bytes, size: tuple[int, int]) -> pd.DataFrame:
    """The chart's one row: the picture as a ``data:`` address, spread over the page's pixels."""
    url = "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")
    return pd.DataFrame({"x": [0], "x2": [size[0]], "y": [0], "y2": [size[1]], "url": [url]})


def cleared(selection: Mapping[str, Any] | None) -> bool:
    """Whether an event says the box was cleared (a double-click): the selection is there, and empty."""
    if selection is None or SELECTION not in selection:
        return False
    drawn = selection[SELECTION]
    return isinstance(drawn, Mapping) and not drawn


def box_from_selection(selection: Mapping[str, Any] | None, size: tuple[int, int]) -> tuple[int, int, int, int] | None:
    """The crop (x, y, width, height in the page's pixels) of a box drawn on the chart, kept within the
    page; None when no box is drawn, or it is too small to be meant (under 8 pixels either way)."""
    if not selection:
        return None
    drawn = selection.get(SELECTION) if SELECTION in selection else selection
    if not isinstance(drawn, Mapping) or "x" not in drawn or "y" not in drawn:
        return None
    try:
        xs = sorted(float(v) for v in drawn["x"])
        ys = sorted(float(v) for v in drawn["y"])
    except (TypeError, ValueError):
        return None
    w, h = size
    x0, x1 = (min(max(round(v), 0), w) for v in (xs[0], xs[-1]))
    y0, y1 = (min(max(round(v), 0), h) for v in (ys[0], ys[-1]))
    if x1 - x0 < 8 or y1 - y0 < 8:
        return None
    return x0, y0, x1 - x0, y1 - y0

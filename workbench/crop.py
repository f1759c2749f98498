"""Drawing the crop on the picture: the original page as an Altair (Vega-Lite) chart with a box selection;
dragging a box on it sets the crop. No custom component: ``st.altair_chart(on_select=...)`` reports the
box in the chart's axes, which are the page's own pixels (x across, y down from the top).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

import altair as alt
import pandas as pd

SELECTION = "crop"  # the selection's name in the chart, and in the event Streamlit reports
BOX = (560, 480)  # the largest the chart is drawn, in screen pixels (width, height)


def chart_size(size: tuple[int, int], box: tuple[int, int] = BOX) -> tuple[int, int]:
    """The chart's (width, height) on screen: the page's shape, as large as fits ``box``."""
    w, h = max(1, size[0]), max(1, size[1])
    scale = min(box[0] / w, box[1] / h)
    return max(40, round(w * scale)), max(40, round(h * scale))


def chart(jpeg: bytes, size: tuple[int, int], box: tuple[int, int] = BOX) -> alt.Chart:
    """The page picture (``jpeg``, any size) stretched over axes of the page's pixels ``size``, as large as
    fits ``box``, with a box selection named :data:`SELECTION` on both axes (no tooltip: the picture's
    only field is its ``data:`` address)."""
    w, h = size
    url = "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")
    data = pd.DataFrame({"x": [0], "x2": [w], "y": [0], "y2": [h], "url": [url]})
    width, height = chart_size(size, box)
    brush = alt.selection_interval(name=SELECTION, encodings=["x", "y"], clear="dblclick",
                                 mark=alt.BrushConfig(fill="#2563eb", fillOpacity=0.15, stroke="#2563eb"))
    axis = alt.Axis(labels=False, ticks=False, grid=False, domain=False, title=None)
    chart: alt.Chart = (
        alt.Chart(data)
        .mark_image(aspect=False, align="left", baseline="top")
        .encode(
            x=alt.X("x:Q", scale=alt.Scale(domain=[0, w], nice=False, zero=False), axis=axis),
            x2="x2:Q",
            y=alt.Y("y:Q", scale=alt.Scale(domain=[0, h], nice=False, zero=False, reverse=True), axis=axis),
            y2="y2:Q",
            url="url:N",
            tooltip=alt.value(None),
        )
        .add_params(brush)
        .properties(width=width, height=height)
        .configure_view(stroke=None)
    )
    return chart


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

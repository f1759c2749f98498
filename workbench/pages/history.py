"""History: every OCR run of this session; two runs side by side (settings and text); restore a run."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

import ocr
from ocr.metrics import cer
from workbench import keys, nav, url
from workbench.files import page_ref
from workbench.history import Run, aligned, runs

ss = st.session_state


def settings_table(a: Run, b: Run, everything: bool) -> pd.DataFrame:
    """The settings of two runs side by side (those that differ, or all), by the names and in the words
    the controls use ("Black & white: Otsu", not "threshold: otsu")."""
    rows = []
    columns = ["setting", f"run {a.number}", f"run {b.number}"]
    for kind, left, right in ((ocr.Settings, a.settings.to_dict(), b.settings.to_dict()),
                              (ocr.Options, a.options.to_dict(), b.options.to_dict())):
        for field in left:
            if everything or left[field] != right[field]:
                spec = kind.spec(field)
                rows.append(dict(zip(columns, (spec.label, plain(spec, left[field]), plain(spec, right[field])))))
    return pd.DataFrame(rows, columns=columns)


def plain(spec: Any, value: object) -> str:
    """A setting's value as its control shows it: a choice by its name, a switch as on or off, a number
    with its unit; nothing set as "none"."""
    if value is None or value == "":
        return "none"
    if isinstance(value, bool):
        return "on" if value else "off"
    if spec.choices:
        return str(spec.name_of(value))
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    number = f"{value:g}" if isinstance(value, float) else str(value)
    if spec.unit == "×":
        return f"×{number}"
    return f"{number} {spec.unit}" if spec.unit else number


def restore(run: Run) -> None:
    """Make a run's settings and page the current ones."""
    url.change(run.settings, run.options)
    if page_ref(run.page) is not None:
        ss[keys.CURRENT] = run.page


st.title("History")
done = runs()
if not done:
    st.info("No text has been extracted in this session yet. Every run will be listed here.", icon=":material/history:")
    nav.link(nav.EXTRACT, "Go to Extract", ":material/arrow_forward:")
    st.stop()

psm = ocr.Options.spec("psm")
table = pd.DataFrame([{
    "run": r.number, "time": r.time, "file": r.file, "settings": r.describe(),
    "page layout": psm.name_of(r.options.psm), "language": r.options.lang, "mean confidence": r.mean_conf,
    "words": r.words, "seconds": r.seconds,
} for r in done])
st.dataframe(table, hide_index=True, height=min(400, 38 + 35 * len(table)),
             column_config={"mean confidence": st.column_config.ProgressColumn(min_value=0, max_value=100,
                                                                               format="%.1f")})
if len(table) > 1:
    st.bar_chart(table, x="run", y="mean confidence", height=180, sort=False)

st.subheader("Compare two runs")
if len(done) == 1:  # one run has nothing to be compared with
    st.info("There is one run so far. Read a page again, with other settings or another engine, and its two "
            "runs can be compared here.", icon=":material/compare_arrows:")
    st.stop()
by_number = {r.number: r for r in done}
numbers = list(reversed(by_number))
# By default: the latest run against the run before it on the same page (else the run before it).
same_page = [n for n in numbers[1:] if by_number[n].page == by_number[numbers[0]].page]
default_a = numbers.index(same_page[0]) if same_page else min(1, len(numbers) - 1)
pick_a, pick_b = st.columns(2)
with pick_a:
    a = by_number[st.selectbox("Run A", numbers, index=default_a, key=keys.RUN_A,
                               format_func=lambda n: by_number[n].label())]
with pick_b:
    b = by_number[st.selectbox("Run B", numbers, index=0, key=keys.RUN_B, format_func=lambda n: by_number[n].label())]

everything = st.toggle("Show every setting, not only those that differ", key=keys.ALL_SETTINGS)
differences = settings_table(a, b, everything)
if differences.empty:
    st.caption("Both runs used the same settings.")
else:
    st.dataframe(differences, hide_index=True)

rows = aligned({"a": a.text, "b": b.text}) if a.number != b.number else {"a": [], "b": []}
left_text, right_text = "\n".join(rows["a"]), "\n".join(rows["b"])  # rows that line up
height = min(480, 40 + 21 * max(left_text.count("\n"), right_text.count("\n"), 1))
for column, run, text, side in zip(st.columns(2), (a, b), (left_text, right_text), "ab"):
    with column:
        st.text(f"Run {run.number}: {run.words} words, mean confidence {run.mean_conf:.0f}")
        st.code(text or run.text, language="diff", wrap_lines=False, height=height)
        if st.button(f"Use run {run.number}'s settings", icon=":material/settings_backup_restore:",
                     key=keys.restore(side)):
            restore(run)
            nav.go(nav.TUNE)
if a.text.strip() or b.text.strip():
    st.caption(f"The texts differ by {cer(a.text, b.text):.1%} of their characters "
               "(character error rate of run B against run A).")

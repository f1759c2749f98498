"""History: every OCR run of this session; two runs side by side (settings and text); restore a run."""

from __future__ import annotations

import difflib

import pandas as pd
import streamlit as st

from ocr.metrics import cer
from pages import state

ss = st.session_state


def label(run: dict) -> str:
    return f"Run {run['run']} · {run['time']} · {run['file']} · {run['settings'].describe()}"


def settings_table(a: dict, b: dict, everything: bool) -> pd.DataFrame:
    rows = []
    for kind in ("settings", "options"):
        left, right = a[kind].to_dict(), b[kind].to_dict()
        for field in left:
            if everything or left[field] != right[field]:
                rows.append({"setting": field, f"run {a['run']}": str(left[field]), f"run {b['run']}": str(right[field])})
    return pd.DataFrame(rows, columns=["setting", f"run {a['run']}", f"run {b['run']}"])


def side_by_side(a: str, b: str) -> tuple[str, str]:
    """Each text's lines marked for a diff view: '-' only in the first, '+' only in the second."""
    left, right = [], []
    matcher = difflib.SequenceMatcher(None, a.splitlines(), b.splitlines(), autojunk=False)
    la, lb = a.splitlines(), b.splitlines()
    for op, i0, i1, j0, j1 in matcher.get_opcodes():
        if op == "equal":
            left += [f"  {line}" for line in la[i0:i1]]
            right += [f"  {line}" for line in lb[j0:j1]]
        else:
            left += [f"- {line}" for line in la[i0:i1]]
            right += [f"+ {line}" for line in lb[j0:j1]]
            pad = (i1 - i0) - (j1 - j0)
            (right if pad > 0 else left).extend(["  "] * abs(pad))
    return "\n".join(left), "\n".join(right)


def restore(run: dict) -> None:
    state.set_settings(run["settings"], run["options"])
    if state.page_ref(run["page"]) is not None:
        ss[state.CURRENT] = run["page"]


st.title("History")
runs = ss[state.HISTORY]
if not runs:
    st.info("No text has been extracted in this session yet. Every run will be listed here.", icon=":material/history:")
    st.page_link("pages/extract.py", label="Go to Extract", icon=":material/arrow_forward:")
    st.stop()

table = pd.DataFrame([{
    "run": r["run"], "time": r["time"], "file": r["file"], "settings": r["settings"].describe(),
    "layout": r["options"].psm, "language": r["options"].lang, "mean confidence": r["mean_conf"],
    "words": r["words"], "seconds": r["seconds"],
} for r in runs])
st.dataframe(table, hide_index=True, height=min(400, 38 + 35 * len(table)),
             column_config={"mean confidence": st.column_config.ProgressColumn(min_value=0, max_value=100, format="%.1f")})
if len(table) > 1:
    st.bar_chart(table, x="run", y="mean confidence", height=180, sort=False)

st.subheader("Compare two runs")
by_number = {r["run"]: r for r in runs}
numbers = list(reversed(by_number))
# By default: the latest run against the run before it on the same page (else the run before it).
same_page = [n for n in numbers[1:] if by_number[n]["page"] == by_number[numbers[0]]["page"]]
default_a = numbers.index(same_page[0]) if same_page else min(1, len(numbers) - 1)
pick_a, pick_b = st.columns(2)
with pick_a:
    a = by_number[st.selectbox("Run A", numbers, index=default_a, key=state.W_RUN_A,
                               format_func=lambda n: label(by_number[n]))]
with pick_b:
    b = by_number[st.selectbox("Run B", numbers, index=0, key=state.W_RUN_B, format_func=lambda n: label(by_number[n]))]

everything = st.toggle("Show every setting, not only those that differ", key=state.W_ALL_SETTINGS)
differences = settings_table(a, b, everything)
if differences.empty:
    st.caption("Both runs used the same settings.")
else:
    st.dataframe(differences, hide_index=True)

left_text, right_text = side_by_side(a["text"], b["text"])
height = min(480, 40 + 21 * max(left_text.count("\n"), right_text.count("\n"), 1))
for column, run, text, side in zip(st.columns(2), (a, b), (left_text, right_text), "ab"):
    with column:
        st.text(f"Run {run['run']}: {run['words']} words, mean confidence {run['mean_conf']:.0f}")
        st.code(text, language="diff", wrap_lines=True, height=height)
        if st.button(f"Use run {run['run']}'s settings", icon=":material/settings_backup_restore:",
                     key=f"restore_{side}"):
            restore(run)
            st.switch_page("pages/tune.py")
if a["text"].strip() or b["text"].strip():
    st.caption(f"The texts differ by {cer(a['text'], b['text']):.1%} of their characters "
               "(character error rate of run B against run A).")

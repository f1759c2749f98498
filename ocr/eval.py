"""``python -m ocr.eval DIR``: accuracy and time on every image in DIR that has a ``NAME.gt.txt``.

For each image, by each method of :data:`METHODS` (interleaved per image, so the machine's load hits all
alike): CER and WER with jiwer after normalisation (:mod:`ocr.metrics`), and seconds. Prints the table
and the means, and writes it as CSV.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from .batch import read_page
from .decode import load
from .engines import registry
from .engines.pool import Engine
from .engines.tesseract import plain_tesseract
from .metrics import cer, ground_truth, wer
from .settings import DEFAULT_EFFORT, Options
from .tuning import autotune


def _methods() -> dict[str, tuple[str, bool, str]]:
    """method -> (engine, auto-tuned?, what it is): "plain" is the tesseract command itself, "defaults"
    the first registered engine through this package, then each other engine by its name."""
    first, *others = registry.engines()
    return {
        "plain": (first.name, False, "`OMP_THREAD_LIMIT=1 tesseract IMAGE stdout`, the command as a person types it"),
        "defaults": (first.name, False, f"{first.label} through this package, default settings"),
        **{info.name: (info.name, False, f"{info.label} through this package, default settings") for info in others},
        "both": (registry.AUTO, False, "every engine, default settings, the reading the judge scores best"),
        "auto": (first.name, True, f"auto-tune with {first.label} alone"),
        "tuned": (registry.AUTO, True, "auto-tune over every engine (the engine is searched like the rest)"),
    }


METHODS = _methods()
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp", ".gif", ".pdf"}


def images_with_truth(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES
                  and (p.parent / f"{p.stem}.gt.txt").exists())


def read_with(method: str, path: Path, engine: Engine, effort: float) -> tuple[str, str]:
    """The text ``method`` reads from the file, and a note (for auto-tune: what it chose)."""
    if method == "plain":
        return plain_tesseract(path), ""
    which, tune, _ = METHODS[method]
    options = Options(engine=which)
    texts, notes = [], []
    for page in load(path):
        if not tune:
            result = read_page(page, options=options, engine=engine)
            texts.append(result.text)
            if which == "auto":
                notes.append(result.engine)
            continue
        found = autotune(page, effort, options=options, engine=engine)
        texts.append(read_page(page, found.settings, found.options, engine=engine).text)
        notes.append(f"{found.options.engine}: {found.settings.describe()}; psm {found.options.psm}; "
                     f"{len(found.trace)} tried")
    return "\n".join(texts), " | ".join(notes)


def evaluate(folder: Path, methods: Sequence[str] = tuple(METHODS), effort: float = DEFAULT_EFFORT,
             engine: Engine | None = None, progress: Callable[[int, int, dict[str, Any]], None] | None = None,
             ) -> pd.DataFrame:
    engine = engine or Engine("api")
    rows = []
    images = images_with_truth(folder)
    for i, path in enumerate(images):
        truth = ground_truth((path.parent / f"{path.stem}.gt.txt").read_text(encoding="utf-8"))
        row: dict[str, Any] = {"image": path.name}
        for method in methods:  # interleaved per image, so load on the machine hits all alike
            start = time.perf_counter()
            text, note = read_with(method, path, engine, effort)
            row[f"{method}_seconds"] = round(time.perf_counter() - start, 3)
            if note:
                row[f"{method}_choice"] = note
            row[f"{method}_cer"] = round(cer(truth, text), 4)
            row[f"{method}_wer"] = round(wer(truth, text), 4)
        rows.append(row)
        if progress:
            progress(i + 1, len(images), row)
    table = pd.DataFrame(rows)
    return table


def markdown(table: pd.DataFrame) -> str:
    """The table as Markdown (numbers right-aligned, the mean row in bold)."""
    columns = list(table.columns)
    lines = ["| " + " | ".join(columns) + " |",
             "| " + " | ".join("---:" if pd.api.types.is_numeric_dtype(table[c]) else "---" for c in columns) + " |"]
    for _, row in table.iterrows():
        cells = []
        for c in columns:
            value = row[c]
            digits = 1 if c.endswith("_seconds") else 3
            text = "" if pd.isna(value) else f"{value:.{digits}f}" if isinstance(value, float) else str(value)
            cells.append(f"**{text}**" if row["image"] == "mean" and text else text)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def worse_than_plain(table: pd.DataFrame, methods: Sequence[str], by: float = 0.02) -> list[str]:
    """One line per method that reads some image more than ``by`` worse (CER) than plain Tesseract."""
    if "plain" not in methods:
        return []
    pages = table[table["image"] != "mean"]
    lines = []
    for m in methods:
        worse = pages[pages[f"{m}_cer"] > pages["plain_cer"] + by] if m != "plain" else pages.iloc[:0]
        if len(worse):
            lines.append(f"{m}: worse than plain by more than {by} on " + ", ".join(
                f"{r.image} ({r.plain_cer:.3f} -> {getattr(r, f'{m}_cer'):.3f})" for r in worse.itertuples()))
    return lines


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m ocr.eval", description=__doc__.splitlines()[0])
    p.add_argument("folder", type=Path)
    p.add_argument("--methods", default=",".join(METHODS),
                   help="comma-separated, of: " + "; ".join(f"{k} ({v[2]})" for k, v in METHODS.items()))
    p.add_argument("--effort", type=float, default=DEFAULT_EFFORT,
                   help="auto-tune work per page, megapixels read (default %(default)g)")
    p.add_argument("--csv", type=Path, default=Path("eval-out/eval.csv"), help="where to write the table")
    p.add_argument("--markdown", type=Path, help="also write the table as Markdown here")
    args = p.parse_args(argv)
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    if not set(methods) <= set(METHODS) or not methods:
        p.error(f"--methods takes some of: {', '.join(METHODS)}")
    if not args.folder.is_dir() or not images_with_truth(args.folder):
        p.error(f"{args.folder} holds no image with a NAME.gt.txt beside it")
    engine = Engine("api")
    try:
        table = evaluate(args.folder, methods, args.effort, engine,
                         progress=lambda i, n, row: print(f"[{i}/{n}] {row['image']}", file=sys.stderr))
    finally:
        engine.close()
    columns = ["image"] + [f"{m}_{k}" for k in ("cer", "wer", "seconds") for m in methods]
    notes = [c for c in table.columns if c.endswith("_choice")]
    means = table[columns[1:]].mean().round(4)
    table = pd.concat([table, pd.DataFrame([{"image": "mean", **means.to_dict()}])], ignore_index=True)
    table = table[columns + notes]
    with pd.option_context("display.width", 250, "display.max_columns", 30, "display.max_colwidth", 60):
        print(table.to_string(index=False))
    for line in worse_than_plain(table, methods):
        print(line)
    args.csv.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.csv, index=False)
    print(f"written: {args.csv}", file=sys.stderr)
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(markdown(table), encoding="utf-8")
        print(f"written: {args.markdown}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

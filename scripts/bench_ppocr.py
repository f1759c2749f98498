"""PP-OCR's reader as this package sets it up, against PP-OCR as rapidocr ships it, in one process.

    .venv/bin/python scripts/bench_ppocr.py [FOLDER ...] [--rounds 3]

Both are :class:`ocr.engines.ppocr.PPOCRReader` on one onnxruntime thread, reading each page's pixels
(decoded once), interleaved per page and round so a busy moment hits both alike:

- ``ours``: the detector converted to 8 bits at install time, lines found on the page as it is (never
  enlarged), each line recognised on its own at its own width;
- ``shipped``: rapidocr 3.10's own settings (pages enlarged to 736 pixels on their short side, lines in
  batches of 6 padded to at least 320 pixels) and the wheel's float detector: the reader as it was before.

Prints, per page and in all: seconds (median of the rounds), detection and recognition seconds, the
character error rate of each against the page's NAME.gt.txt, and the ratio ours/shipped. Loading each
reader (the process's first) is timed too.

Then, with ``--pool``, a page read alone through the engine workers as the app reads it (both engines
loaded in every worker): PP-OCR on the pixels and ``auto`` reading the page as ``ocr.read_page`` does,
on a pool of one worker against a pool of two, where the idle worker reads half of the page's lines
(``EngineInfo.shares``), interleaved the same way.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

from ocr.decode import load  # noqa: E402
from ocr.engines.ppocr import PPOCRReader  # noqa: E402
from ocr.metrics import cer, ground_truth  # noqa: E402

SHIPPED = {"Rec.rec_batch_num": 6, "Det.limit_type": "min", "Det.limit_side_len": 736}
SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff"}


class Stopwatch:
    """Wraps one of rapidocr's steps (its detector or recogniser) and adds up the seconds it takes."""

    def __init__(self, step: Any) -> None:
        self.step, self.seconds = step, 0.0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.step, name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return self.step(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - start


def readers() -> dict[str, tuple[PPOCRReader, float]]:
    """Each reader and the seconds it took to load (the first one pays for importing rapidocr)."""
    out = {}
    for name in ("ours", "shipped"):
        start = time.perf_counter()
        reader = PPOCRReader() if name == "ours" else PPOCRReader(params=SHIPPED, quantized=False, optimized=False)
        if name == "shipped":
            reader._engine.text_rec.rec_image_shape = [3, 48, 320]
        out[name] = (reader, time.perf_counter() - start)
    return out


def pages(folders: list[Path]) -> list[tuple[str, Any, str]]:
    found = []
    for folder in folders:
        for truth in sorted(folder.glob("*.gt.txt")):
            stem = truth.name[: -len(".gt.txt")]
            image = next((p for p in sorted(folder.glob(stem + ".*")) if p.suffix.lower() in SUFFIXES), None)
            if image is not None:
                found.append((image.name, load(image)[0], ground_truth(truth.read_text(encoding="utf-8"))))
    return found


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("folders", nargs="*", type=Path, default=[ROOT.parent / "shared" / "eval" / "dev"])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--pool", action="store_true", help="also time one page on a pool of one and of two workers")
    args = p.parse_args()
    loaded = readers()
    for name, (_, seconds) in loaded.items():
        print(f"{name}: loaded in {seconds:.2f} s")
    rows = []
    for page, decoded, truth in pages(args.folders):
        image = decoded.image
        row: dict[str, Any] = {"image": page}
        for name, (reader, _) in loaded.items():
            row[f"{name}_cer"] = cer(truth, reader.text(image)[0])  # untimed: a first read warms the sessions
        spent: dict[str, dict[str, list[float]]] = {n: {"s": [], "det": [], "rec": []} for n in loaded}
        for _ in range(args.rounds):
            for name, (reader, _) in loaded.items():
                engine = reader._engine
                det, rec = Stopwatch(engine.text_det), Stopwatch(engine.text_rec)
                engine.text_det, engine.text_rec = det, rec
                start = time.perf_counter()
                reader.text(image)
                spent[name]["s"].append(time.perf_counter() - start)
                engine.text_det, engine.text_rec = det.step, rec.step
                spent[name]["det"].append(det.seconds)
                spent[name]["rec"].append(rec.seconds)
        for name, parts in spent.items():
            row.update({f"{name}_{k}": statistics.median(v) for k, v in parts.items()})
        rows.append(row)
    table = pd.DataFrame(rows)
    numbers = [c for c in table.columns if c != "image"]
    total = {"image": "total", **table[numbers].sum().to_dict()}
    mean = {"image": "mean CER", **{c: table[c].mean() for c in numbers if c.endswith("_cer")}}
    table = pd.concat([table, pd.DataFrame([total, mean])], ignore_index=True)
    table.loc[table["image"] == "total", [c for c in numbers if c.endswith("_cer")]] = float("nan")
    table["ours/shipped"] = table["ours_s"] / table["shipped_s"]
    with pd.option_context("display.width", 250, "display.max_columns", 30):
        print(table.round(3).to_string(index=False))
        if args.pool:
            print("\none page read alone, workers with both engines loaded (seconds, median of the rounds):")
            print(pool_table(pages(args.folders), args.rounds).round(3).to_string(index=False))
    return 0


def pool_table(found: list[tuple[str, Any, str]], rounds: int) -> pd.DataFrame:
    """PP-OCR and ``auto`` on a pool of one worker and of two (the second lends a hand), per page."""
    from ocr import Options, read_page
    from ocr.engines import Engine, Request

    pools = {n: Engine("api", workers=n) for n in (1, 2)}
    for engine in pools.values():
        engine.warm(engines=("tesseract", "ppocr"))
    rows = []
    for page, decoded, _ in found:
        times: dict[str, list[float]] = {}
        for _ in range(rounds):
            for way in ("ppocr", "auto"):
                for n, engine in pools.items():
                    start = time.perf_counter()
                    if way == "ppocr":
                        engine.run(Request(image=decoded.image, dpi=300, options=Options(engine="ppocr")))
                    else:
                        read_page(decoded, options=Options(engine="auto"), engine=engine)
                    times.setdefault(f"{way}_{n}", []).append(time.perf_counter() - start)
        rows.append({"image": page, **{k: statistics.median(v) for k, v in times.items()}})
    for engine in pools.values():
        engine.close()
    table = pd.DataFrame(rows)
    numbers = [c for c in table.columns if c != "image"]
    table = pd.concat([table, pd.DataFrame([{"image": "total", **table[numbers].sum().to_dict()},
                                            {"image": "median", **table[numbers].median().to_dict()}])],
                      ignore_index=True)
    table["ppocr 2/1"] = table["ppocr_2"] / table["ppocr_1"]
    table["auto 2/1"] = table["auto_2"] / table["auto_1"]
    return table


if __name__ == "__main__":
    raise SystemExit(main())

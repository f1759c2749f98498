"""Speed, each figure against a reference run interleaved in this process (a busy moment hits all alike).

For each image in the folder (default ../shared/eval/dev), in rounds:

1. Tesseract: the reference command `OMP_THREAD_LIMIT=1 tesseract IMG stdout` on the file, then this
   package reading the same file (decode + default settings + recognition) through the in-process API
   backend and through the command-line backend;
2. ``ocr.recognize`` with Tesseract on the page as the defaults prepare it, against Tesseract's bare API
   on the same pixels in a worker (set image, recognise, get text: what the library itself costs);
3. PP-OCR through this package (decode + default settings + recognition) beside Tesseract's;
4. once per image: auto-tune over both engines (the default effort) and the final reading.

Then a batch: every image read with 1 and with 2 workers. Medians of the rounds.

    .venv/bin/python scripts/bench.py [FOLDER] [--rounds 3] [--skip-tuning]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

import ocr  # noqa: E402
from ocr.engines import Engine, plain_tesseract  # noqa: E402

SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp", ".gif", ".pdf"}
TESSERACT, PPOCR, AUTO = (ocr.Options(engine=e) for e in ("tesseract", "ppocr", "auto"))


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def read_all(engine: Engine, path: Path, options: ocr.Options) -> Callable[[], Any]:
    return lambda: [ocr.read_page(page, options=options, engine=engine) for page in ocr.load(path)]


def engines_table(images: list[Path], rounds: int, api: Engine, cli: Engine) -> pd.DataFrame:
    rows = []
    for path in images:
        times: dict[str, list[float]] = {k: [] for k in ("command", "api", "cli", "recognize", "raw", "ppocr")}
        prepared = ocr.preprocess(ocr.load(path)[0])
        dpi = round(prepared.dpi)
        for _ in range(rounds):
            times["command"].append(timed(partial(plain_tesseract, path)))
            times["api"].append(timed(read_all(api, path, TESSERACT)))
            times["cli"].append(timed(read_all(cli, path, TESSERACT)))
            times["recognize"].append(timed(partial(ocr.recognize, prepared, TESSERACT, engine=api)))
            times["raw"].append(api.raw_seconds(prepared.image, dpi))
            times["ppocr"].append(timed(read_all(api, path, PPOCR)))
        m = {k: statistics.median(v) for k, v in times.items()}
        rows.append({"image": path.name, "command_s": m["command"], "api_s": m["api"], "cli_s": m["cli"],
                     "api/command": m["api"] / m["command"], "cli/command": m["cli"] / m["command"],
                     "recognize_s": m["recognize"], "raw_api_s": m["raw"], "recognize/raw": m["recognize"] / m["raw"],
                     "ppocr_s": m["ppocr"], "ppocr/api": m["ppocr"] / m["api"]})
    table = pd.DataFrame(rows)
    sums = table[["command_s", "api_s", "cli_s", "recognize_s", "raw_api_s", "ppocr_s"]].sum()
    total = {"image": "total", **sums.to_dict(), "api/command": sums["api_s"] / sums["command_s"],
             "cli/command": sums["cli_s"] / sums["command_s"], "recognize/raw": sums["recognize_s"] / sums["raw_api_s"],
             "ppocr/api": sums["ppocr_s"] / sums["api_s"]}
    return pd.concat([table, pd.DataFrame([total])], ignore_index=True)


def tuning_table(images: list[Path], engine: Engine) -> pd.DataFrame:
    rows = []
    for path in images:
        for page in ocr.load(path)[:1]:
            start = time.perf_counter()
            found = ocr.autotune(page, options=AUTO, engine=engine)
            ocr.read_page(page, found.settings, found.options, engine=engine)
            rows.append({"image": path.name, "auto_tuned_s": time.perf_counter() - start,
                         "engine": found.options.engine, "candidates": len(found.trace)})
    table = pd.DataFrame(rows)
    median = {"image": "median", "auto_tuned_s": table["auto_tuned_s"].median()}
    return pd.concat([table, pd.DataFrame([median])], ignore_index=True)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("folder", nargs="?", type=Path, default=ROOT.parent / "shared" / "eval" / "dev")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--skip-tuning", action="store_true", help="leave out the auto-tune timings")
    args = p.parse_args()
    images = sorted(x for x in args.folder.iterdir() if x.suffix.lower() in SUFFIXES)
    api, cli = Engine("api", workers=1), Engine("cli", workers=1)
    api.warm(engines=("tesseract", "ppocr"))
    print(engines_table(images, args.rounds, api, cli).round(3).to_string(index=False))
    cli.close()
    api.close()

    if not args.skip_tuning:
        print("\nauto-tune over both engines (default effort) and the final reading, 2 workers:")
        both = Engine("api", workers=2)
        both.warm(engines=("tesseract", "ppocr"))
        print(tuning_table(images, both).round(2).to_string(index=False))
        both.close()

    print("\nbatch of every image, api backend, Tesseract (seconds of wall time):")
    reference = timed(lambda: [plain_tesseract(x) for x in images])
    for workers in (1, 2):
        engine = Engine("api", workers=workers)
        engine.warm()
        seconds = timed(partial(ocr.read_files, images, options=TESSERACT, engine=engine))
        engine.close()
        print(f"  {workers} worker(s): {seconds:.2f} s, {seconds / reference:.2f}x the reference run one by one "
              f"({reference:.2f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

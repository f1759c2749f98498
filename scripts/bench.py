"""Speed against the reference: `OMP_THREAD_LIMIT=1 tesseract IMG stdout`, run interleaved in this process.

For each image in the folder (default ../shared/eval/dev), in rounds: the reference command on the
file, then this package reading the same file (decode + default settings + recognition) through the
in-process API backend and through the command-line backend. Prints seconds and the ratio to the
reference per image (median of the rounds), then a batch: every image read with 1 and with 2 workers.

    .venv/bin/python scripts/bench.py [FOLDER] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

import ocr  # noqa: E402
from ocr.engines import Engine, plain_tesseract  # noqa: E402

SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp", ".gif", ".pdf"}


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("folder", nargs="?", type=Path, default=ROOT.parent / "shared" / "eval" / "dev")
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args()
    images = sorted(x for x in args.folder.iterdir() if x.suffix.lower() in SUFFIXES)
    api, cli = Engine("api", workers=1), Engine("cli", workers=1)
    api.warm()

    def ours(engine: Engine, path: Path):
        return lambda: [ocr.read_page(page, engine=engine, outputs=()) for page in ocr.load(path)]

    rows = []
    for path in images:
        times = {"tesseract": [], "api": [], "cli": []}
        for _ in range(args.rounds):  # interleaved: a busy moment hits all three alike
            times["tesseract"].append(timed(lambda: plain_tesseract(path)))
            times["api"].append(timed(ours(api, path)))
            times["cli"].append(timed(ours(cli, path)))
        med = {k: statistics.median(v) for k, v in times.items()}
        rows.append({"image": path.name, "tesseract_s": med["tesseract"], "api_s": med["api"], "cli_s": med["cli"],
                     "api_ratio": med["api"] / med["tesseract"], "cli_ratio": med["cli"] / med["tesseract"]})
    table = pd.DataFrame(rows)
    total = {"image": "total", **table[["tesseract_s", "api_s", "cli_s"]].sum().to_dict()}
    total["api_ratio"] = total["api_s"] / total["tesseract_s"]
    total["cli_ratio"] = total["cli_s"] / total["tesseract_s"]
    table = pd.concat([table, pd.DataFrame([total])], ignore_index=True)
    print(table.round(3).to_string(index=False))
    api.close()
    cli.close()

    print("\nbatch of every image, api backend (seconds of wall time):")
    reference = timed(lambda: [plain_tesseract(x) for x in images])
    for workers in (1, 2):
        engine = Engine("api", workers=workers)
        engine.warm()
        seconds = timed(lambda: ocr.read_files(images, engine=engine, outputs=()))
        engine.close()
        print(f"  {workers} worker(s): {seconds:.2f} s, {seconds / reference:.2f}x the reference run one by one ({reference:.2f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Speed, each figure against a reference run interleaved in this process (a busy moment hits all alike).

For each image in the folder (default ../shared/eval/dev), in rounds:

1. Tesseract: the reference command `OMP_THREAD_LIMIT=1 tesseract IMG stdout` on the file, then this
   package reading the same file (decode + default settings + recognition) through the in-process API
   backend and through the command-line backend;
2. ``ocr.recognize`` with Tesseract on the page as the defaults prepare it, against Tesseract's bare API
   on the same pixels in a worker (set image, recognise, get text: what the library itself costs);
3. PP-OCR through this package (decode + default settings + recognition) beside Tesseract's, and PP-OCR
   with the float detector it shipped with (a worker without the model converted at install time);
4. ``auto`` as it reads now (the second engine only where the first is unsure) beside every engine
   reading the page and the judge keeping the best (what ``auto`` did before), and ``auto`` with the
   language found by itself (``lang="auto"``, the app's default) beside it in English;
5. once per image: auto-tune over both engines (the default effort) and the final reading.

Then a batch: every image read with 1 and with 2 workers. Then cold commands, each a fresh process, on
the receipts (``sroie_*``): ``python -m ocr IMG`` and ``--engine auto`` against
``OMP_THREAD_LIMIT=1 tesseract IMG stdout``, with the command's peak memory (its process and workers,
shared pages counted once).
Medians of the rounds.

    .venv/bin/python scripts/bench.py [FOLDER] [--rounds 3] [--skip-tuning]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
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
from ocr.recognition import best, read_each  # noqa: E402

SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp", ".gif", ".pdf"}
TESSERACT, PPOCR, AUTO = (ocr.Options(engine=e) for e in ("tesseract", "ppocr", "auto"))
AUTO_LANG = ocr.Options(engine="auto", lang="auto")  # the app's default: the language found by itself


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def read_all(engine: Engine, path: Path, options: ocr.Options) -> Callable[[], Any]:
    return lambda: [ocr.read_page(page, options=options, engine=engine) for page in ocr.load(path)]


def engines_table(images: list[Path], rounds: int, api: Engine, cli: Engine, floating: Engine) -> pd.DataFrame:
    rows = []
    for path in images:
        times: dict[str, list[float]] = {
            k: [] for k in ("command", "api", "cli", "recognize", "raw", "ppocr", "ppocr_float", "auto", "auto_lang",
                            "both")}
        prepared = ocr.preprocess(ocr.load(path)[0])
        dpi = round(prepared.dpi)
        for _ in range(rounds):
            times["command"].append(timed(partial(plain_tesseract, path)))
            times["api"].append(timed(read_all(api, path, TESSERACT)))
            times["cli"].append(timed(read_all(cli, path, TESSERACT)))
            times["recognize"].append(timed(partial(ocr.recognize, prepared, TESSERACT, engine=api)))
            times["raw"].append(api.raw_seconds(prepared.image, dpi))
            times["ppocr"].append(timed(read_all(api, path, PPOCR)))
            times["ppocr_float"].append(timed(read_all(floating, path, PPOCR)))
            times["auto"].append(timed(read_all(api, path, AUTO)))
            times["auto_lang"].append(timed(read_all(api, path, AUTO_LANG)))
            times["both"].append(timed(partial(read_both, api, path)))
        m = {k: statistics.median(v) for k, v in times.items()}
        rows.append({"image": path.name, **{f"{k}_s": v for k, v in m.items()}})
    table = pd.DataFrame(rows)
    seconds = [c for c in table.columns if c.endswith("_s")]
    table = pd.concat([table, pd.DataFrame([{"image": "total", **table[seconds].sum().to_dict()},
                                            {"image": "median", **table[seconds].median().to_dict()}])],
                      ignore_index=True)
    for label, a, b in RATIOS:
        table[label] = table[f"{a}_s"] / table[f"{b}_s"]
    return table


RATIOS = (("api/command", "api", "command"), ("cli/command", "cli", "command"), ("recognize/raw", "recognize", "raw"),
          ("ppocr/float", "ppocr", "ppocr_float"), ("auto/both", "auto", "both"), ("auto/command", "auto", "command"),
          ("lang/eng", "auto_lang", "auto"))


def read_both(engine: Engine, path: Path) -> None:
    """Every page read by every engine and the judge's best kept: ``auto`` before it skipped engines."""
    for page in ocr.load(path):
        best(read_each(ocr.preprocess(page), AUTO, dpi=page.dpi, engine=engine))


def cold_table(images: list[Path], rounds: int) -> pd.DataFrame:
    """Fresh commands on each image, interleaved: the tesseract command, ``python -m ocr`` with
    Tesseract and with ``--engine auto``; then each command's peak memory, in a run of its own. Python
    keeps its compiled modules as an installed package has them (a first run, untimed, writes them when
    the environment said not to: PYTHONDONTWRITEBYTECODE)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_THREAD_LIMIT": "1"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    commands = {"tesseract": lambda p: ["tesseract", str(p), "stdout"],
                "ocr": lambda p: [sys.executable, "-m", "ocr", str(p)],
                "ocr_auto": lambda p: [sys.executable, "-m", "ocr", str(p), "--engine", "auto"]}
    rows = []
    for argv in commands.values():
        subprocess.run(argv(images[0]), env=env, capture_output=True, check=True)
    for path in images:
        times: dict[str, list[float]] = {k: [] for k in commands}
        for _ in range(rounds):
            for name, argv in commands.items():
                times[name].append(timed(partial(subprocess.run, argv(path), env=env, capture_output=True, check=True)))
        row: dict[str, Any] = {"image": path.name, **{f"{k}_s": statistics.median(v) for k, v in times.items()}}
        row.update({f"{k}_MiB": peak_rss(argv(path), env) / 2**20 for k, argv in commands.items()})
        rows.append(row)
    table = pd.DataFrame(rows)
    table = pd.concat([table, pd.DataFrame([{"image": "median", **table.drop(columns="image").median().to_dict()}])],
                      ignore_index=True)
    table["ocr/tesseract"] = table["ocr_s"] / table["tesseract_s"]
    table["auto/tesseract"] = table["ocr_auto_s"] / table["tesseract_s"]
    return table


def peak_rss(argv: list[str], env: dict[str, str]) -> int:
    """The most memory the command and its child processes held at once (sampled every 10 ms), each
    page counted once: the sum of their proportional set sizes (a page two processes share counts half
    in each: a worker's forked copy shares its models with it, and every process the same libraries)."""
    import psutil

    proc = psutil.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    most = 0
    while proc.poll() is None:
        with contextlib.suppress(psutil.Error):
            tree = [proc, *proc.children(recursive=True)]
            most = max(most, sum(p.memory_full_info().pss for p in tree))
        time.sleep(0.01)
    return most


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
    with tempfile.TemporaryDirectory() as nothing:  # a worker that finds no converted model: the float one
        os.environ["OCR_MODELS_DIR"] = nothing
        floating = Engine("api", workers=1)
        floating.warm(engines=("ppocr",))
        del os.environ["OCR_MODELS_DIR"]
    api, cli = Engine("api", workers=1), Engine("cli", workers=1)
    api.warm(engines=("tesseract", "ppocr"))
    with pd.option_context("display.width", 250, "display.max_columns", 30):
        print(engines_table(images, args.rounds, api, cli, floating).round(3).to_string(index=False))
    for engine in (cli, api, floating):
        engine.close()

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

    receipts = [x for x in images if x.name.startswith("sroie_")] or images[:3]
    print("\none page, cold: fresh commands (seconds, peak MiB of the command and its workers):")
    with pd.option_context("display.width", 250, "display.max_columns", 30):
        print(cold_table(receipts, args.rounds).round(3).to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())

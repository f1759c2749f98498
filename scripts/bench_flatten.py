"""How much the flattening steps help, hurt and cost: photographed pages drawn from seeds, read today
(the steps off) and with them on, by each engine; and the steps' cost per megapixel.

    .venv/bin/python scripts/bench_flatten.py --seeds 11,12 --count 6        # accuracy, curl + slant
    .venv/bin/python scripts/bench_flatten.py --seeds 11 --flat 20           # flat pages: never worse?
    .venv/bin/python scripts/bench_flatten.py --cost --seeds 11 --count 4    # ms per megapixel
    .venv/bin/python scripts/bench_flatten.py --folder ../shared/eval/dev     # the dev set, steps on/off

Pages come from ``scripts/draw_photos.py`` (curled book pages, pages slanted on a table) and, with
``--flat``, from ``scripts/draw_pages.py`` (scans and photos of flat pages, every kind it draws), or
with ``--folder``, every image of a folder with its ``NAME.gt.txt`` (read at its own resolution). CER
is ``ocr.metrics.cer``. ``--cost`` times :func:`ocr.flatten.needs`, ``find page`` and ``uncurl`` on
each photo at full size and on the Tune page's one-megapixel preview copy, interleaved with the
preview's shadow-flattening step on the same image as a reference, and prints the load.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import draw_pages  # noqa: E402
import draw_photos  # noqa: E402

import ocr  # noqa: E402
from ocr import flatten, preprocessing as pp  # noqa: E402
from ocr.metrics import cer  # noqa: E402

ON = {"today": ocr.Settings(), "page": ocr.Settings(find_page=True), "uncurl": ocr.Settings(uncurl=True),
      "both": ocr.Settings(find_page=True, uncurl=True)}
PREVIEW = 1_000_000


def pages(seeds: list[int], count: int, flat: int, text: str) -> list[tuple[str, str, np.ndarray, str]]:
    """(name, kind, gray image, true text) for every page drawn."""
    out = []
    for seed in seeds:
        rng = random.Random(seed)
        sources = draw_pages.license_text() if text == "licenses" else draw_pages.doc_text()
        for i in range(count):
            kind = draw_photos.KINDS[i % len(draw_photos.KINDS)]
            photo, lines = draw_photos.make(rng, sources, kind)
            out.append((f"photo{seed}_{i:02d}", kind, photo, "\n".join(lines)))
        rng = random.Random(seed)
        for i in range(flat):
            kind, u8, _dpi, truth = draw_pages.make(rng, sources)
            out.append((f"syn{seed}_{i:02d}", f"flat:{kind}", pp.to_gray(u8), "\n".join(truth)))
    return out


def read(image: np.ndarray | ocr.Page, settings: ocr.Settings, options: ocr.Options) -> str:
    """The text read, trying once more when the engine's worker failed (another process on the machine
    may have cleaned its temporary folder away)."""
    for attempt in range(2):
        try:
            return ocr.recognize(ocr.preprocess(image, settings), options).text
        except ocr.EngineError as e:
            print(f"  (engine failed: {e}; {'again' if attempt == 0 else 'counted as unread'})", flush=True)
    return ""


def folder(path: Path) -> list[tuple[str, str, ocr.Page, str]]:
    """(name, "folder", page, true text) for every image in ``path`` with a ``NAME.gt.txt``."""
    out = []
    for image in sorted(p for p in path.iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg")):
        truth = image.with_suffix(".gt.txt")
        if truth.exists():
            out.append((image.name, "folder", ocr.load(image)[0], truth.read_text(encoding="utf-8")))
    return out


def accuracy(drawn: list[tuple[str, str, Any, str]], engines: list[str], variants: list[str]) -> None:
    rows: dict[tuple[str, str, str], list[float]] = {}
    print("page kind engine " + " ".join(variants), flush=True)
    for name, kind, image, truth in drawn:
        for engine in engines:
            options = ocr.Options(engine=engine)
            scores = []
            for v in variants:
                scores.append(cer(truth, read(image, ON[v], options)))
                group = "flat" if kind.startswith("flat") else kind
                rows.setdefault((group, engine, v), []).append(scores[-1])
            print(name, kind, engine, " ".join(f"{s:.3f}" for s in scores), flush=True)
    print("\nmean CER per kind and engine")
    print("| kind | engine | pages | " + " | ".join(variants) + " | today / best |")
    print("| --- | --- | ---: | " + " | ".join("---:" for _ in variants) + " | ---: |")
    for (group, engine) in sorted({(g, e) for g, e, _ in rows}):
        means = [statistics.mean(rows[(group, engine, v)]) for v in variants]
        n = len(rows[(group, engine, variants[0])])
        ratio = means[0] / max(min(means[1:]) if len(means) > 1 else means[0], 1e-3)
        print(f"| {group} | {engine} | {n} | " + " | ".join(f"{m:.3f}" for m in means) + f" | {ratio:.1f}x |")


def cost(drawn: list[tuple[str, str, np.ndarray, str]], rounds: int) -> None:
    """ms per megapixel of each step, full size and on the preview copy, against the shadow step."""
    timings: dict[str, list[float]] = {}

    def timed(label: str, mp: float, fn, *args) -> object:  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        value = fn(*args)
        timings.setdefault(label, []).append((time.perf_counter() - start) * 1000 / mp)
        return value

    for _ in range(rounds):
        for _name, _kind, image, _truth in drawn:
            for label, img in (("full", image), ("preview", pp.reduce(image, min(1.0, (PREVIEW / image.size) ** 0.5)))):
                mp = img.size / 1e6
                timed(f"{label}: shadows (reference)", mp, pp.normalize_background, img, "blur", 0)
                timed(f"{label}: needs", mp, flatten.needs, img)
                corners = timed(f"{label}: find page", mp, flatten.find_page, img)
                page = flatten.straighten(img, corners)[0] if corners is not None else img
                if corners is not None:
                    timed(f"{label}: straighten", mp, flatten.straighten, img, corners)
                curl = timed(f"{label}: find curl", mp, flatten.find_curl, page)
                if curl is not None:
                    timed(f"{label}: uncurl", mp, flatten.uncurl, page, curl)
    print(f"load before: {LOAD}; after: {os.getloadavg()}")
    mps = [d[2].size / 1e6 for d in drawn]
    print(f"{len(drawn)} photos of {min(mps):.1f}-{max(mps):.1f} MP, {rounds} rounds; median ms per megapixel:")
    for label, values in timings.items():
        ref = statistics.median(timings[label.split(":")[0] + ": shadows (reference)"])
        ms = statistics.median(values)
        print(f"  {label:32s} {ms:7.1f}   x{ms / ref:.2f} of the shadow step")


LOAD = os.getloadavg()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seeds", default="11")
    p.add_argument("--count", type=int, default=6, help="photographed pages per seed (curl, slant in turn)")
    p.add_argument("--flat", type=int, default=0, help="flat pages per seed from draw_pages.py")
    p.add_argument("--text", choices=("docstrings", "licenses"), default="docstrings")
    p.add_argument("--engines", default="tesseract,ppocr")
    p.add_argument("--variants", default="today,both", help=f"of {', '.join(ON)}")
    p.add_argument("--folder", type=Path, help="read this folder's images (with NAME.gt.txt) instead")
    p.add_argument("--cost", action="store_true")
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args(argv)
    if args.folder:
        accuracy(folder(args.folder), args.engines.split(","), args.variants.split(","))
        return 0
    drawn = pages([int(s) for s in args.seeds.split(",")], args.count, args.flat, args.text)
    if args.cost:
        cost(drawn, args.rounds)
    else:
        accuracy(drawn, args.engines.split(","), args.variants.split(","))
    return 0


if __name__ == "__main__":
    sys.exit(main())

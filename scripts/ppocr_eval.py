"""Measure the PP-OCR reader: rapidocr's own line order against ocr.layout.arrange, and reading settings.

    .venv/bin/python scripts/ppocr_eval.py                                 # the dev set, every variant
    .venv/bin/python scripts/ppocr_eval.py --variants own,arrange --pages /tmp/drawn   # more folders
    .venv/bin/python scripts/ppocr_eval.py --draw-layout /tmp/layout --seed 5          # draw layout pages
    .venv/bin/python scripts/ppocr_eval.py --boxes /tmp/layout                         # word boxes

A folder holds NAME.png|jpg with NAME.gt.txt (as /work/shared/eval/dev and scripts/draw_pages.py's output).
Prints CER and WER per image and variant, the means, and seconds per page (one onnxruntime thread, reading
and ordering; a shared machine's seconds are rough). ``--draw-layout`` draws pages that need a reading order
(two columns, a receipt of labels and prices, a heading over two columns) with Pillow and DejaVu, their text
in reading order and each word's box (NAME.boxes.json); ``--boxes`` compares word boxes from the recogniser's
character positions with boxes cut in proportion to character counts (mean IoU with the drawn boxes).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ocr.decode import load
from ocr.engines.ppocr import PPOCRReader
from ocr.layout import TextLine, arrange, fit_to_ink
from ocr.metrics import cer, ground_truth, wer

DEV = Path("/work/shared/eval/dev")
FONTS = Path("/usr/share/fonts/truetype/dejavu")

# name: (rapidocr settings, gray input, order)
VARIANTS: dict[str, tuple[dict[str, Any], bool, str]] = {
    "own": ({}, False, "own"),
    "arrange": ({}, False, "arrange"),
    "gray": ({}, True, "arrange"),
    "side4000": ({"Global.max_side_len": 4000}, False, "arrange"),
    "det960max": ({"Det.limit_type": "max", "Det.limit_side_len": 960}, False, "arrange"),
    "det1280max": ({"Det.limit_type": "max", "Det.limit_side_len": 1280}, False, "arrange"),
    "score0.3": ({"Global.text_score": 0.3}, False, "arrange"),
    "nocls": ({"Global.use_cls": False}, False, "arrange"),
}


def pages(folder: Path) -> list[tuple[str, Path, str]]:
    """(name, image path, normalised truth) of every image with a .gt.txt in a folder."""
    out = []
    for gt in sorted(folder.glob("*.gt.txt")):
        stem = gt.name[: -len(".gt.txt")]
        images = [p for p in folder.glob(stem + ".*") if p.suffix.lower() in (".png", ".jpg", ".jpeg", ".tif")]
        if images:
            out.append((stem, images[0], ground_truth(gt.read_text(encoding="utf-8"))))
    return out


def gray(image: np.ndarray) -> np.ndarray:
    """An RGB page as luminance (ITU-R 601), a gray page as it is."""
    if image.ndim == 2:
        return image
    weights = np.array([0.299, 0.587, 0.114], dtype=np.float32)
    return np.round(image[..., :3].astype(np.float32) @ weights).astype(np.uint8)


def evaluate(folders: list[Path], names: list[str]) -> None:
    """Print CER and WER tables (images x variants), the means and the seconds per page of each reading.

    Variants that differ only in the order share one reading of each page (and its seconds).
    """
    items = [item for folder in folders for item in pages(folder)]
    images = {name: load(str(path))[0].image for name, path, _ in items}
    scores: dict[str, dict[str, tuple[float, float]]] = {name: {} for name, _, _ in items}
    seconds: dict[str, list[float]] = {}
    readers: dict[str, PPOCRReader] = {}
    readings: dict[tuple[str, bool, str], tuple[list[TextLine], float]] = {}
    for variant in names:
        params, grey, order = VARIANTS[variant]
        key = json.dumps(params, sort_keys=True)
        if key not in readers:
            readers[key] = PPOCRReader(params=params)
            print(f"# loaded {params or 'defaults'} in {readers[key].load_seconds:.2f} s", file=sys.stderr)
        for name, _, truth in items:
            image = gray(images[name]) if grey else images[name]
            if (key, grey, name) not in readings:
                started = time.perf_counter()
                lines = readers[key].lines(image)
                readings[key, grey, name] = lines, time.perf_counter() - started
            lines, took = readings[key, grey, name]
            started = time.perf_counter()
            text = "\n".join(line.text for line in lines) if order == "own" else \
                arrange(lines, (image.shape[1], image.shape[0]))[0]
            seconds.setdefault(variant, []).append(took + time.perf_counter() - started)
            scores[name][variant] = cer(truth, text), wer(truth, text)
    width = max(len(name) for name in scores) + 2
    for k, metric in enumerate(("CER", "WER")):
        print(metric.ljust(width) + "".join(f"{v:>11}" for v in names))
        for name, row in scores.items():
            print(name.ljust(width) + "".join(f"{row[v][k]:11.3f}" for v in names))
        print(f"mean ({len(scores)})".ljust(width) + "".join(
            f"{statistics.mean(row[v][k] for row in scores.values()):11.3f}" for v in names))
        print()
    print("s/page".ljust(width) + "".join(f"{statistics.mean(seconds[v]):11.2f}" for v in names))


# ------------------------------------------------------------------------------------------ drawn pages


def _paragraphs(rng: random.Random, count: int) -> list[str]:
    """Paragraphs of licence text (not the dev set's), chosen by the seed."""
    texts = [p for p in Path("/usr/share/common-licenses").iterdir() if p.is_file()]
    words = " ".join(t.read_text(errors="ignore") for t in sorted(texts)).split()
    words = [w for w in words if w.isascii() and w.isprintable() and len(w) < 16]
    out = []
    for _ in range(count):
        start = rng.randrange(0, len(words) - 80)
        out.append(" ".join(words[start:start + rng.randrange(30, 70)]))
    return out


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """Greedy wrap of text to lines no wider than ``width`` pixels in ``font``."""
    lines, line = [], ""
    for word in text.split():
        trial = f"{line} {word}".strip()
        if line and font.getlength(trial) > width:
            lines.append(line)
            line = word
        else:
            line = trial
    return lines + ([line] if line else [])


class _Page:
    """A white page on which text is drawn, remembering every word's box and the text in reading order."""

    def __init__(self, width: int, height: int) -> None:
        self.image = Image.new("L", (width, height), 255)
        self.draw = ImageDraw.Draw(self.image)
        self.words: list[dict[str, Any]] = []
        self.text: list[str] = []

    def line(self, x: float, y: float, text: str, font: ImageFont.FreeTypeFont) -> None:
        """Draw one line word by word (so each word's box is known) and add it to the reading order."""
        space = font.getlength(" ")
        for word in text.split():
            self.draw.text((x, y), word, font=font, fill=0)
            self.words.append({"text": word, "box": list(self.draw.textbbox((x, y), word, font=font))})
            x += font.getlength(word) + space
        self.text.append(text)

    def column(self, x: int, y: int, width: int, paragraphs: list[str], font: ImageFont.FreeTypeFont) -> int:
        pitch = int(font.size * 1.35)
        for paragraph in paragraphs:
            for text in _wrap(paragraph, font, width):
                self.line(x, y, text, font)
                y += pitch
            y += pitch // 2
        return y


def draw_layout(outdir: Path, seed: int) -> None:
    """Draw a two-column page, a receipt and a heading over two columns, with truth and word boxes."""
    rng = random.Random(seed)
    outdir.mkdir(parents=True, exist_ok=True)
    serif = ImageFont.truetype(str(FONTS / "DejaVuSerif.ttf"), rng.choice([24, 26, 28]))
    sans = ImageFont.truetype(str(FONTS / "DejaVuSans.ttf"), 26)
    mono = ImageFont.truetype(str(FONTS / "DejaVuSansMono.ttf"), rng.choice([24, 26]))
    bold = ImageFont.truetype(str(FONTS / "DejaVuSans-Bold.ttf"), 56)

    def save(name: str, page: _Page) -> None:
        page.image.save(outdir / f"{name}.png")
        (outdir / f"{name}.gt.txt").write_text("\n".join(page.text) + "\n", encoding="utf-8")
        (outdir / f"{name}.boxes.json").write_text(json.dumps(page.words), encoding="utf-8")

    page = _Page(1500, 1900)
    paragraphs = _paragraphs(rng, 8)
    page.column(70, 80, 640, paragraphs[:4], serif)
    page.column(790, 80, 640, paragraphs[4:], serif)
    save(f"layout{seed}_columns", page)

    page = _Page(1500, 1900)
    title = " ".join(_paragraphs(rng, 1)[0].split()[:4]).upper()
    page.line((1500 - bold.getlength(title)) / 2, 70, title, bold)
    paragraphs = _paragraphs(rng, 6)
    page.column(70, 200, 640, paragraphs[:3], sans)
    page.column(790, 200, 640, paragraphs[3:], sans)
    save(f"layout{seed}_heading", page)

    page = _Page(700, 1300)
    shop = rng.choice(["CORNER STORE", "GREEN GROCER LTD", "CAFE ROMA"])
    page.line((700 - mono.getlength(shop)) / 2, 50, shop, mono)
    date = f"Date: 2026-0{rng.randrange(1, 9)}-1{rng.randrange(0, 9)}  No: {rng.randrange(1000, 9999)}"
    page.line(60, 110, date, mono)
    goods = ["Bread", "Milk 1L", "Eggs x12", "Coffee beans", "Apples", "Tea", "Butter", "Rice 2kg", "Soap",
             "Chocolate bar", "Orange juice", "Cheese"]
    y, total = 190, 0.0
    for item in rng.sample(goods, 8):
        price = rng.randrange(50, 2000) / 100
        total += price
        label, value = item, f"{price:.2f}"
        page.draw.text((60, y), label, font=mono, fill=0)
        page.draw.text((640 - mono.getlength(value), y), value, font=mono, fill=0)
        for word, x in ((w, 60 + mono.getlength(label[: label.index(w)])) for w in label.split()):
            page.words.append({"text": word, "box": list(page.draw.textbbox((x, y), word, font=mono))})
        page.words.append({"text": value, "box": list(page.draw.textbbox((640 - mono.getlength(value), y), value,
                                                                          font=mono))})
        page.text.append(f"{label} {value}")
        y += 48
    y += 30
    for label, value in (("TOTAL", f"{total:.2f}"), ("CASH", f"{total + 10:.2f}"), ("CHANGE", "10.00")):
        page.draw.text((60, y), label, font=mono, fill=0)
        page.draw.text((640 - mono.getlength(value), y), value, font=mono, fill=0)
        page.words.append({"text": label, "box": list(page.draw.textbbox((60, y), label, font=mono))})
        page.words.append({"text": value, "box": list(page.draw.textbbox((640 - mono.getlength(value), y), value,
                                                                          font=mono))})
        page.text.append(f"{label} {value}")
        y += 48
    page.line(150, y + 40, "Thank you, come again", mono)
    save(f"layout{seed}_receipt", page)
    print(f"drew 3 pages into {outdir}")


# --------------------------------------------------------------------------------------------- boxes


def _iou(a: list[float], b: list[float], axis: int | None = None) -> float:
    """Intersection over union of two (left, top, right, bottom) boxes, or of their extents on one axis."""
    spans = [0, 1] if axis is None else [axis]
    inter = union = 1.0
    for k in spans:
        lo, hi = max(a[k], b[k]), min(a[k + 2], b[k + 2])
        inter *= max(hi - lo, 0.0)
        union *= max(a[k + 2], b[k + 2]) - min(a[k], b[k])
    if axis is None:
        area = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1])
        return inter / max(area - inter, 1e-9)
    return inter / max(union, 1e-9)


def boxes(folder: Path) -> None:
    """Mean IoU (and IoU across the line only) of word boxes: character positions vs character shares."""
    reader = PPOCRReader()
    ways: dict[str, Callable[[list[TextLine]], list[TextLine]]] = {
        "characters": lambda lines: lines,
        "shares": lambda lines: [replace(line, pieces=()) for line in lines],
        "ink": lambda lines: lines,
    }
    print(f"{'page':28}" + "".join(f"{w + ' IoU':>16}{w + ' x-IoU':>18}" for w in ways))
    for truth_file in sorted(folder.glob("*.boxes.json")):
        name = truth_file.name[: -len(".boxes.json")]
        truth = json.loads(truth_file.read_text(encoding="utf-8"))
        image = load(str(folder / f"{name}.png"))[0].image
        lines = reader.lines(image)
        row = f"{name:28}"
        for label, way in ways.items():
            _, words = arrange(way(lines), (image.shape[1], image.shape[0]))
            if label == "ink":
                words = fit_to_ink(words, image)
            found: dict[str, list[list[float]]] = {}
            for w in words:
                found.setdefault(w.text, []).append([w.left, w.top, w.left + w.width, w.top + w.height])
            best = [max((_iou(t["box"], f) for f in found.get(t["text"], [])), default=0.0) for t in truth]
            best_x = [max((_iou(t["box"], f, 0) for f in found.get(t["text"], [])), default=0.0) for t in truth]
            row += f"{statistics.mean(best):16.3f}{statistics.mean(best_x):18.3f}"
        print(row)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=Path, action="append", default=[], help="more folders of pages")
    parser.add_argument("--no-dev", action="store_true", help="leave out the dev set")
    parser.add_argument("--variants", default=",".join(VARIANTS), help=f"from {', '.join(VARIANTS)}")
    parser.add_argument("--draw-layout", type=Path, metavar="DIR", help="draw layout pages into DIR and stop")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--boxes", type=Path, metavar="DIR", help="compare word boxes on drawn layout pages")
    args = parser.parse_args()
    if args.draw_layout:
        draw_layout(args.draw_layout, args.seed)
    elif args.boxes:
        boxes(args.boxes)
    else:
        folders = ([] if args.no_dev else [DEV]) + args.pages
        evaluate(folders, [v for v in args.variants.split(",") if v])


if __name__ == "__main__":
    main()

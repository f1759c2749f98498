"""Draw the accuracy figure: CER per image, one bar per method, from the CSV ``python -m ocr.eval`` writes.

    .venv/bin/python scripts/plot_accuracy.py eval-out/eval.csv docs/accuracy.png

Pillow only (no plotting library): bars, a value axis with grid lines, the image names, a legend.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
from PIL import Image, ImageDraw, ImageFont

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
COLOURS = {"plain": (150, 150, 150), "defaults": (90, 140, 200), "auto": (220, 110, 40), "ppocr": (120, 60, 170),
           "tuned": (30, 150, 80)}
LABELS = {"plain": "plain tesseract", "defaults": "our defaults (Tesseract)", "auto": "auto-tune, Tesseract",
          "ppocr": "PP-OCR", "tuned": "auto-tune, both engines"}


def font(size: int) -> ImageFont.FreeTypeFont:
    try:
        return ImageFont.truetype(FONT, size)
    except OSError:
        return ImageFont.load_default()


def draw(table: pd.DataFrame, title: str, means: dict[str, float] | None = None) -> Image.Image:
    methods = [m for m in COLOURS if f"{m}_cer" in table.columns]
    names = table["image"].tolist()
    bar, gap, left, top, bottom, right = 14, 20, 70, 86, 170, 30
    group = bar * len(methods) + gap
    width = max(860, left + right + group * len(names))
    height = 520
    plot_h = height - top - bottom
    top_value = max(0.2, float(table[[f"{m}_cer" for m in methods]].max().max()))
    top_value = min(1.0, (int(top_value * 10) + 1) / 10)
    image = Image.new("RGB", (width, height), "white")
    d = ImageDraw.Draw(image)
    small, normal = font(12), font(15)
    d.text((left, 18), title, fill="black", font=font(17))

    def y_of(v: float) -> float:
        return top + plot_h * (1 - min(v, top_value) / top_value)

    step = 0.1 if top_value <= 0.6 else 0.2
    v = 0.0
    while v <= top_value + 1e-9:
        y = y_of(v)
        d.line([(left, y), (width - right, y)], fill=(225, 225, 225))
        d.text((left - 8, y), f"{v:.1f}", fill="black", font=small, anchor="rm")
        v += step
    d.line([(left, top), (left, top + plot_h)], fill="black")
    d.line([(left, top + plot_h), (width - right, top + plot_h)], fill="black")
    d.text((18, top + plot_h / 2), "CER", fill="black", font=normal, anchor="mm")
    for i, name in enumerate(names):
        x0 = left + gap / 2 + i * group
        for j, m in enumerate(methods):
            value = float(table[f"{m}_cer"].iloc[i])
            x = x0 + j * bar
            d.rectangle([x, min(y_of(value), top + plot_h - 2), x + bar - 2, top + plot_h], fill=COLOURS[m])
        label = Image.new("RGBA", (160, 16), (255, 255, 255, 0))
        shown = name if len(name) <= 24 else name[:23] + "…"
        ImageDraw.Draw(label).text((160, 8), shown, fill="black", font=small, anchor="rm")
        label = label.rotate(60, expand=True)
        cx = x0 + bar * len(methods) / 2
        image.paste(label, (int(cx - label.width + 6), int(top + plot_h + 4)), label)
    x, y = left, 48
    for m in methods:
        text = LABELS[m] + (f" (mean {means[m]:.3f})" if means and m in means else "")
        if x > left and x + 19 + d.textlength(text, font=normal) > width - right:  # the legend goes on a new row
            x, y = left, y + 20
        d.rectangle([x, y, x + 14, y + 14], fill=COLOURS[m])
        d.text((x + 19, y + 7), text, fill="black", font=normal, anchor="lm")
        x += d.textlength(text, font=normal) + 40
    return image


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    table = pd.read_csv(argv[0])
    rows = table[table["image"] != "mean"].reset_index(drop=True)
    means = table[table["image"] == "mean"]
    mean = {m: float(means[f"{m}_cer"].iloc[0]) for m in COLOURS if f"{m}_cer" in table.columns and len(means)}
    title = "Character error rate per image (lower is better)"
    Path(argv[1]).parent.mkdir(parents=True, exist_ok=True)
    draw(rows, title, mean).save(argv[1])
    print(f"written: {argv[1]}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Draw the app's bundled sample images (``workbench/samples/``) with Pillow and the DejaVu fonts.

Each sample is a page of text we wrote, degraded the way phone photos and scans are degraded, so that
the clean-up sliders have something to fix. Each comes with its true text (``NAME.gt.txt``) for the
accuracy check on the Extract page. Deterministic: running it again makes the same files.

    .venv/bin/python scripts/make_samples.py
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

OUT = Path(__file__).resolve().parent.parent / "workbench" / "samples"
FONTS = Path("/usr/share/fonts/truetype/dejavu")
LIMIT = 200_000  # bytes per image

RECEIPT = [
    "CORNER GROCER & CAFE",
    "12 Harbour Street",
    "Tel 0123 456 789",
    "",
    "Date 14/03/2024   Time 09:41",
    "Receipt 004417    Till 2",
    "",
    "Sourdough loaf          3.80",
    "Oat milk 1L             1.95",
    "Free range eggs x6      2.60",
    "Cheddar 250g            3.25",
    "Flat white              2.90",
    "Almond croissant        2.40",
    "",
    "Subtotal               16.90",
    "Discount               -1.00",
    "TOTAL                  15.90",
    "",
    "Card                   15.90",
    "",
    "Thank you, see you soon!",
]

LETTER = [
    "Dear Ms Patel,",
    "",
    "Thank you for your letter of the second of May about",
    "the repairs to the garden wall. Our surveyor visited on",
    "Tuesday and found that the old bricks near the gate",
    "have cracked after the hard winter.",
    "",
    "We will replace the damaged section and repoint the",
    "rest of the wall before the end of June. The work",
    "should take three days and the path will stay open.",
    "",
    "Yours sincerely,",
    "Daniel Okafor",
]

NOTICE = [
    "NOTICE TO RESIDENTS",
    "",
    "The water supply to Elm Court will be",
    "switched off on Monday 9 September",
    "from 8 am until 4 pm while new pipes",
    "are fitted in the basement.",
    "",
    "Please keep a few bottles of water at",
    "hand and close all taps before leaving.",
    "We are sorry for any inconvenience.",
]


def _draw(lines: list[str], *, size: tuple[int, int], font: str, font_size: int, origin: tuple[int, int],
          ink: int, paper: int, spacing: float = 1.45, bold_first: str | None = None) -> Image.Image:
    image = Image.new("L", size, paper)
    draw = ImageDraw.Draw(image)
    face = ImageFont.truetype(str(FONTS / font), font_size)
    heading = ImageFont.truetype(str(FONTS / bold_first), font_size) if bold_first else face
    x, y = origin
    for n, line in enumerate(lines):
        draw.text((x, y), line, fill=ink, font=heading if n == 0 else face)
        y += int(font_size * spacing)
    return image


def _noise(rng: np.random.Generator, array: np.ndarray, sigma: float) -> np.ndarray:
    return np.clip(array + rng.normal(0, sigma, array.shape), 0, 255)


def _save(image: Image.Image, name: str, **options) -> Path:
    path = OUT / name
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG" if name.endswith(".jpg") else "PNG", **options)
    data = buffer.getvalue()
    if len(data) > LIMIT:
        raise SystemExit(f"{name} is {len(data)} bytes, over the {LIMIT} byte limit")
    path.write_bytes(data)
    return path


def receipt(rng: np.random.Generator) -> Path:
    """A thermal receipt photographed on a desk: faded print, a crease, turned a little, shaded."""
    page = _draw(RECEIPT, size=(560, 1000), font="DejaVuSansMono.ttf", font_size=22, origin=(40, 50),
                 ink=95, paper=238, bold_first="DejaVuSansMono-Bold.ttf")
    a = np.asarray(page, dtype=np.float64)
    h, _ = a.shape
    # uneven fading of thermal print along the roll
    fade = 0.55 + 0.45 * np.abs(np.sin(np.linspace(0, 2.2, h)))[:, None]
    a = 238 - (238 - a) * fade
    # a crease across the receipt
    y = np.arange(h)[:, None]
    a -= 18 * np.exp(-((y - 0.62 * h) ** 2) / (2 * 6.0 ** 2))
    paper = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8)).rotate(-2.5, resample=Image.BICUBIC, expand=True,
                                                                     fillcolor=70)
    # the desk around it, and light falling from the top left
    desk = Image.new("L", (paper.width + 80, paper.height + 60), 70)
    desk.paste(paper, (40, 30))
    d = np.asarray(desk, dtype=np.float64)
    yy, xx = np.mgrid[0:d.shape[0], 0:d.shape[1]]
    d *= 1.05 - 0.35 * (xx / d.shape[1] + yy / d.shape[0]) / 2
    d = _noise(rng, d, 5)
    out = Image.fromarray(d.astype(np.uint8)).filter(ImageFilter.GaussianBlur(0.7)).convert("RGB")
    # a warm cast, as under a desk lamp
    r, g, b = (np.asarray(c, dtype=np.float64) for c in out.split())
    out = Image.merge("RGB", [Image.fromarray(np.clip(c, 0, 255).astype(np.uint8)) for c in (r * 1.03, g, b * 0.9)])
    return _save(out, "receipt.jpg", quality=80)


def letter(rng: np.random.Generator) -> Path:
    """A letter photographed with a phone: a shadow of the hand across one side, soft focus."""
    page = _draw(LETTER, size=(1100, 820), font="DejaVuSerif.ttf", font_size=28, origin=(70, 60),
                 ink=30, paper=235)
    a = np.asarray(page, dtype=np.float64)
    h, w = a.shape
    yy, xx = np.mgrid[0:h, 0:w]
    # a soft-edged shadow over the right third, darker towards the bottom
    edge = 1 / (1 + np.exp(-(xx - 0.62 * w - 0.15 * (yy - h / 2)) / 40))
    a *= 1 - edge * (0.45 + 0.2 * yy / h)
    # vignetting
    a *= 1 - 0.18 * (((xx - w / 2) / w) ** 2 + ((yy - h / 2) / h) ** 2)
    a = _noise(rng, a, 6)
    out = Image.fromarray(a.astype(np.uint8)).filter(ImageFilter.GaussianBlur(1.0))
    return _save(out, "letter-shadow.jpg", quality=75)


def notice(rng: np.random.Generator) -> Path:
    """A notice scanned crooked on a dusty scanner: turned 4 degrees, specks, a dark scanner edge."""
    page = _draw(NOTICE, size=(900, 640), font="DejaVuSans.ttf", font_size=30, origin=(60, 50),
                 ink=20, paper=250, bold_first="DejaVuSans-Bold.ttf")
    turned = page.rotate(4, resample=Image.BICUBIC, expand=True, fillcolor=250)
    a = np.asarray(turned, dtype=np.float64)
    # dust: isolated dark specks and a few light ones
    specks = rng.random(a.shape)
    a[specks < 0.004] = 40
    a[specks > 0.998] = 255
    # the scanner lid's dark edge along the left side
    a[:, :18] = 25
    out = Image.fromarray(a.astype(np.uint8))
    return _save(out, "notice-skewed.png", optimize=True)


def main() -> None:
    OUT.mkdir(exist_ok=True)
    rng = np.random.default_rng(7)
    for make, lines in ((receipt, RECEIPT), (letter, LETTER), (notice, NOTICE)):
        path = make(rng)
        path.with_suffix(".gt.txt").write_text("\n".join(line for line in lines if line) + "\n", encoding="utf-8")
        print(f"{path.relative_to(OUT.parent.parent)}: {path.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()

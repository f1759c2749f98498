"""Shared test helpers: the dev evaluation set, drawn test pages, the shared engine."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
DEV = Path(os.environ.get("OCR_DEV_SET", ROOT.parent / "shared" / "eval" / "dev"))
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
SERIF = "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf"

SAMPLE_TEXT = ["The quick brown fox jumps", "over the lazy dog while", "seven zebras watch quietly"]


def dev_images() -> list[Path]:
    """Every image in the dev set that has a ground truth."""
    return sorted(p for p in DEV.iterdir() if p.suffix in (".png", ".jpg") and p.with_suffix(".gt.txt").exists())


def draw_page(lines=SAMPLE_TEXT, *, size=(1000, 400), font_size=40, font=FONT, ink=0, paper=255,
              mode="L", origin=(40, 40)) -> Image.Image:
    """A clean page of text drawn with DejaVu."""
    image = Image.new(mode, size, paper)
    draw = ImageDraw.Draw(image)
    face = ImageFont.truetype(font, font_size)
    y = origin[1]
    for line in lines:
        draw.text((origin[0], y), line, fill=ink, font=face)
        y += int(font_size * 1.5)
    return image


def words_of(text: str) -> list[str]:
    return [w.strip(".,;:!?").lower() for w in text.split() if w.strip(".,;:!?")]


@pytest.fixture(scope="session")
def page_array() -> np.ndarray:
    return np.asarray(draw_page())


@pytest.fixture(scope="session")
def dev_dir() -> Path:
    if not DEV.is_dir():
        pytest.fail(f"the dev evaluation set is missing: {DEV} (expected ../shared/eval/dev beside the repo)")
    return DEV

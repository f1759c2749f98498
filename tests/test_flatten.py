"""Flattening photographed pages (ocr/flatten.py and its two pipeline steps): the page is found on a
table and straightened, curled lines come out straight, word boxes map back onto the photo where the
words are, flat scans are left alone, and drawn photos read better."""

from __future__ import annotations

import random
import sys

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

import ocr
from ocr import flatten
from ocr.metrics import cer

from .conftest import ROOT, SERIF

sys.path.insert(0, str(ROOT / "scripts"))
import draw_photos

LINES = [
    "Plain words on a page that bends towards",
    "the spine of a book, photographed by someone",
    "standing over the table with a telephone in",
    "hand, so the lines curve and the far edge of",
    "the page looks shorter than the near edge; the",
    "reader wants every word back in straight rows",
    "with nothing lost between the lines or margins",
    "and the boxes of the words on the photograph.",
]


def text_page() -> tuple[np.ndarray, dict[str, tuple[int, int, int, int]]]:
    """A page of :data:`LINES` (1200 x 1000) and the box (left, top, right, bottom) of every word that
    occurs once."""
    image = Image.new("L", (1200, 1000), 255)
    draw = ImageDraw.Draw(image)
    face = ImageFont.truetype(SERIF, 38)
    boxes: dict[str, list[tuple[int, int, int, int]]] = {}
    y = 150
    for line in LINES:
        x = 70
        for word in line.split():
            box = draw.textbbox((x, y), word, font=face)
            draw.text((x, y), word, fill=0, font=face)
            boxes.setdefault(word.strip(".,;"), []).append(tuple(int(v) for v in box))  # type: ignore[arg-type]
            x = box[2] + int(face.getlength(" "))
        y += 95
    return np.asarray(image), {w: b[0] for w, b in boxes.items() if len(b) == 1 and len(w) >= 5}


def table(shape: tuple[int, int], seed: int = 1) -> np.ndarray:
    """A darker, grained table top."""
    rng = np.random.default_rng(seed)
    h, w = shape
    grain = 25 * np.sin(np.arange(w) / 4.0)[None, :] + rng.normal(0, 6, (h, w))
    return np.clip(95 + grain, 0, 255).astype(np.uint8)


def lift(x: np.ndarray) -> np.ndarray:
    """How far (pixels) the curled page's lines rise at column ``x``: a bow, steeper near the spine on the
    left."""
    x = np.asarray(x, dtype=np.float64)
    return 150 * (((x - 600) / 600) ** 2 - 0.3) + 40 * np.exp(-x / 150) - 10


def curled(page: np.ndarray) -> np.ndarray:
    """The page with its lines bent: the page's point (x, y) shows at (x, y - lift(x))."""
    h, w = page.shape
    xx, yy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return cv2.remap(page, xx, (yy + lift(xx)).astype(np.float32), cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_CONSTANT, borderValue=255)


CORNERS = np.array([[260, 140], [1420, 230], [1340, 1210], [190, 1120]], dtype=np.float64)


def on_table(page: np.ndarray, corners: np.ndarray = CORNERS) -> tuple[np.ndarray, np.ndarray]:
    """The page laid in perspective on a table (its corners at ``corners`` of a 1600 x 1350 photo), and
    the homography from the page to the photo."""
    h, w = page.shape
    m = cv2.getPerspectiveTransform(np.float32([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]]),
                                    corners.astype(np.float32))
    photo = table((1350, 1600))
    warped = cv2.warpPerspective(page, m, (1600, 1350), flags=cv2.INTER_LINEAR)
    inside = cv2.warpPerspective(np.full_like(page, 255), m, (1600, 1350), flags=cv2.INTER_NEAREST) > 0
    photo[inside] = (warped[inside] * 0.92).astype(np.uint8)
    return photo, m


def test_the_new_steps_are_off_by_default_and_travel_as_settings():
    assert not ocr.Settings().find_page and not ocr.Settings().uncurl
    s = ocr.Settings(find_page=True, uncurl=True)
    assert ocr.Settings.from_strings(s.to_strings()) == s
    assert s.describe() == "find the page in a photo, flatten a curled page"
    assert ocr.Settings.spec("uncurl").group == ocr.Settings.spec("find_page").group == "page"


def test_the_page_is_found_on_a_table_and_straightened():
    page, _ = text_page()
    photo, _ = on_table(page)
    corners = flatten.find_page(photo)
    assert corners is not None
    assert np.abs(corners - CORNERS).max() < 0.012 * 1600  # within a few pixels of the quarter-megapixel copy
    flat, m = flatten.straighten(photo, corners)
    w, h = flat.shape[1] - 1, flat.shape[0] - 1
    assert np.allclose(cv2.perspectiveTransform(corners[None].astype(np.float32), m)[0],
                       [[0, 0], [w, 0], [w, h], [0, h]], atol=0.01)
    # the straightened page is the page again, the text where it was
    back = cv2.resize(flat, page.shape[::-1], interpolation=cv2.INTER_AREA).astype(float)
    ink, paper = page < 128, page > 200
    assert back[ink].mean() < back[paper].mean() - 60


@pytest.mark.parametrize("what", ["scan", "blank", "dark"])
def test_no_page_is_found_where_none_stands_out(what):
    page, _ = text_page()
    image = {"scan": page, "blank": np.full((800, 600), 230, np.uint8), "dark": table((900, 1200))}[what]
    assert flatten.find_page(image) is None
    assert flatten.needs(image).settings() == []


def test_curled_lines_come_out_straight():
    page, _ = text_page()
    bent = curled(page)
    curl = flatten.find_curl(bent)
    assert curl is not None and curl.bend > 2 * flatten.CURVED and curl.lines >= 8
    # the sheet found is the bend drawn, up to a height that does not change along a line
    xs = np.linspace(120, 940, 11)  # where the lines are
    found = curl.shift(xs, np.full_like(xs, 500))
    drawn = -lift(xs)
    assert np.abs((found - found.mean()) - (drawn - drawn.mean())).max() < 5  # a sixth of a line
    flat, _ = flatten.uncurl(bent, curl)
    again = flatten.find_curl(flat)
    assert again is not None and again.bend < flatten.STRAIGHT
    assert flatten.needs(bent).curved and not flatten.needs(flat).curved


def test_a_straight_page_is_not_resampled():
    page, _ = text_page()
    out = ocr.preprocess(page, ocr.Settings(find_page=True, uncurl=True))
    assert np.array_equal(out.image, page)
    assert out.bend is None and np.allclose(out.transform, np.eye(3))
    assert [s.name for s in out.steps if s.name in ("find page", "uncurl")] == ["find page", "uncurl"]
    assert "left as it is" in out.steps[0].detail


def test_a_page_without_lines_has_no_curl():
    assert flatten.find_curl(np.full((600, 800), 240, np.uint8)) is None


def test_word_boxes_land_on_the_photo_where_the_words_are():
    page, words = text_page()
    photo, m = on_table(curled(page))
    out = ocr.preprocess(photo, ocr.Settings(find_page=True, uncurl=True, auto_orient=False))
    assert out.bend is not None
    result = ocr.recognize(out, ocr.Options(engine="tesseract"))
    result.bend = out.bend  # what recognize carries over once it knows the field (ocr.recognition)
    placed = result.page_words()
    checked = []
    for (_, row), (_, back) in zip(result.words.iterrows(), placed.iterrows()):
        word = str(row["text"]).strip(".,;")
        if word not in words:
            continue
        left, top, right, bottom = words[word]
        # where the word truly is on the photo: its box on the page, bent, then laid on the table
        xs = np.linspace(left, right, 9)
        edge = np.concatenate([np.stack([xs, top - lift(xs)], 1), np.stack([xs, bottom - lift(xs)], 1)])
        truth = cv2.perspectiveTransform(edge[None].astype(np.float32), m)[0]
        t0, t1 = truth.min(axis=0), truth.max(axis=0)
        b0 = np.array([back["left"], back["top"]])
        b1 = b0 + np.array([back["width"], back["height"]])
        overlap = np.prod(np.clip(np.minimum(t1, b1) - np.maximum(t0, b0), 0, None))
        union = np.prod(t1 - t0) + np.prod(b1 - b0) - overlap
        checked.append(overlap / union)
        assert np.allclose(out.to_original(row[["left", "top", "width", "height"]].to_numpy(float)[None]),
                           back[["left", "top", "width", "height"]].to_numpy(float)[None])
    assert len(checked) >= 10, "too few words read to check"
    assert np.median(checked) > 0.6 and min(checked) > 0.3, checked


def test_the_preview_copy_is_flattened_too():
    page, _ = text_page()
    photo, _ = on_table(curled(page))
    out = ocr.preprocess(photo, ocr.Settings(find_page=True, uncurl=True, auto_orient=False), max_pixels=400_000)
    assert out.image.size <= 450_000
    assert [s.name for s in out.steps] == ["preview", "find page", "uncurl", "grayscale"]
    assert "straightened" in out.steps[1].detail and "straightened" in out.steps[2].detail
    again = flatten.find_curl(out.image)
    assert again is not None and again.bend < flatten.STRAIGHT


@pytest.mark.parametrize("kind", ["curl", "slant"])
def test_a_drawn_photo_reads_better_flattened(kind):
    """A photo drawn by scripts/draw_photos.py (seed 5: not one the steps were designed on)."""
    rng = random.Random(5)
    sources = [" ".join(LINES) * 4, " ".join(reversed(LINES)) * 4]
    photo, lines = draw_photos.make(rng, sources, kind)
    truth = "\n".join(lines)
    options = ocr.Options(engine="tesseract")
    today = cer(truth, ocr.recognize(ocr.preprocess(photo, ocr.Settings()), options).text)
    flat = cer(truth, ocr.recognize(ocr.preprocess(photo, ocr.Settings(find_page=True, uncurl=True)), options).text)
    assert flat < today / 2, (today, flat)


def test_needs_says_what_a_photo_shows():
    page, _ = text_page()
    slanted = flatten.needs(on_table(page)[0])
    assert slanted.page_edge and not slanted.curved
    assert slanted.settings() == [{"find_page": True}]
    both = flatten.needs(on_table(curled(page))[0])
    assert both.page_edge and both.curved
    assert {"find_page": True, "uncurl": True} in both.settings()
    assert all(ocr.Settings(**change) for change in both.settings())


def test_a_remap_grid_and_its_full_size_maps_agree():
    """The coarse grid kept for boxes and the full-size maps the image was resampled with say the same."""
    page, _ = text_page()
    curl = flatten.find_curl(curled(page))
    assert curl is not None
    _, remap = flatten.uncurl(curled(page), curl)
    map_x, map_y = remap.maps((page.shape[1], page.shape[0]))
    rng = np.random.default_rng(3)
    pts = np.stack([rng.uniform(0, page.shape[1] - 1, 200), rng.uniform(0, page.shape[0] - 1, 200)], axis=1)
    cols, rows = pts[:, 0].round().astype(int), pts[:, 1].round().astype(int)
    got = remap.source(np.stack([cols, rows], axis=1))
    assert np.abs(got[:, 0] - map_x[rows, cols]).max() < 0.5
    assert np.abs(got[:, 1] - map_y[rows, cols]).max() < 0.5

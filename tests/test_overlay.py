"""Pictures for the app: display copies, crop frames, word boxes coloured by confidence."""

from __future__ import annotations

import cv2
import numpy as np
import pandas as pd
import pytest

from ocr import overlay


def test_fit_reduces_large_images_only():
    big = np.zeros((4000, 3000, 3), np.uint8)
    small, factor = overlay.fit(big, 1_000_000)
    assert small.shape[0] * small.shape[1] <= 1_000_000 * 1.01 and small.shape[2] == 3
    assert factor == pytest.approx(small.shape[1] / 3000)
    same, one = overlay.fit(np.zeros((100, 200), np.uint8))
    assert same.shape == (100, 200) and one == 1.0
    assert max(overlay.thumbnail(big, 220).shape[:2]) <= 220


def test_encode_round_trips():
    gray = (np.arange(100 * 60) % 256).astype(np.uint8).reshape(100, 60)
    decoded = cv2.imdecode(np.frombuffer(overlay.encode(gray, "png"), np.uint8), cv2.IMREAD_UNCHANGED)
    assert np.array_equal(decoded, gray)
    colour = np.zeros((20, 30, 3), np.uint8)
    colour[..., 0] = 200  # red, in RGB
    decoded = cv2.imdecode(np.frombuffer(overlay.encode(colour, "jpeg"), np.uint8), cv2.IMREAD_COLOR)
    assert decoded[10, 15, 2] > 150 and decoded[10, 15, 0] < 50  # BGR: red stays red


def test_crop_frame_dims_the_outside():
    page = np.full((100, 200), 200, np.uint8)
    framed = overlay.draw_crop(page, (50, 20, 100, 40))
    assert framed.shape == (100, 200, 3)
    assert framed[90, 10].max() < 100 and framed[40, 100].min() == 200
    assert np.array_equal(overlay.draw_crop(page, None)[..., 0], page)


def test_word_boxes_take_their_confidence_colour():
    page = np.full((100, 300), 255, np.uint8)
    words = pd.DataFrame({"left": [10, 150], "top": [10, 10], "width": [100, 100], "height": [50, 50],
                          "conf": [95.0, 20.0], "text": ["sure", "unsure"]})
    drawn = overlay.draw_words(page, words, scale=(1.0, 1.0))
    assert tuple(drawn[10, 50]) == overlay.BANDS[0][1]  # the sure word's top edge: green
    assert tuple(drawn[10, 200]) == overlay.BANDS[-1][1]  # the unsure one's: red
    only_unsure = overlay.draw_words(page, words, min_conf=50)
    assert tuple(only_unsure[10, 50]) == (255, 255, 255)
    half = overlay.draw_words(np.full((50, 150), 255, np.uint8), words, scale=(0.5, 0.5))
    assert tuple(half[5, 25]) == overlay.BANDS[0][1]


def test_crop_percentages_round_trip():
    size = (1000, 400)
    assert overlay.crop_box(size, (0, 100), (0, 100)) is None
    box = overlay.crop_box(size, (10, 60), (25, 75))
    assert box == (100, 100, 500, 200)
    assert overlay.crop_percent(size, box) == ((10.0, 60.0), (25.0, 75.0))
    assert overlay.crop_percent(size, None) == ((0.0, 100.0), (0.0, 100.0))
    assert overlay.crop_box(size, (50, 50), (0, 100))[2] >= 1  # never an empty crop


@pytest.mark.parametrize("shape", [(10, 100_000), (100_000, 10), (3, 70_000)])
def test_a_page_far_longer_than_an_encoder_takes_is_shown_shrunk(shape):
    strip = np.full(shape, 255, np.uint8)
    strip[:, ::50] = 0
    small, factor = overlay.fit(strip)
    assert max(small.shape) <= overlay.MAX_SIDE and factor < 1
    for fmt in ("jpeg", "png"):
        assert len(overlay.encode(small, fmt)) > 0
    assert max(overlay.thumbnail(strip, 220).shape) <= 220

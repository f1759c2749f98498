"""Each preprocessing step does what it says, on pages drawn for the purpose."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import ocr
from ocr import preprocessing as pp
from ocr.errors import SettingsError

from .conftest import draw_page


@pytest.fixture(scope="module")
def gray() -> np.ndarray:
    return np.asarray(draw_page(size=(900, 360), font_size=36))


def ink(image: np.ndarray) -> int:
    return int(np.count_nonzero(image < 128))


def test_default_settings_change_nothing_but_colour(gray):
    rgb = np.dstack([gray] * 3)
    out = ocr.preprocess(rgb, ocr.Settings())
    assert np.array_equal(out.image, gray)
    assert out.dpi == 300 and out.factor == 1.0


def test_grayscale_off_keeps_colour(gray):
    rgb = np.dstack([gray] * 3)
    assert ocr.preprocess(rgb, ocr.Settings(grayscale=False)).image.shape == rgb.shape


def test_crop_takes_the_region_in_original_pixels(gray):
    out = ocr.preprocess(gray, ocr.Settings(crop=(10, 20, 300, 100), scale=2.0))
    assert out.image.shape == (200, 600)
    assert np.array_equal(pp.crop(gray, (10, 20, 300, 100)), gray[20:120, 10:310])


def test_crop_outside_the_image_is_a_settings_error(gray):
    with pytest.raises(SettingsError):
        ocr.preprocess(gray, ocr.Settings(crop=(5000, 5000, 10, 10)))


def test_rotate_turns_clockwise(gray):
    out = ocr.preprocess(gray, ocr.Settings(rotate=90)).image
    assert np.array_equal(out, np.rot90(gray, k=-1))


def test_rescale_multiplies_size_and_dpi(gray):
    out = ocr.preprocess(gray, ocr.Settings(scale=2.0), dpi=150)
    assert out.image.shape == (720, 1800) and out.dpi == 300


def test_target_dpi_rescales_from_the_pages_own_dpi(gray):
    out = ocr.preprocess(gray, ocr.Settings(target_dpi=300), dpi=100)
    assert out.image.shape == (1080, 2700) and out.dpi == 300


@pytest.mark.parametrize("angle", [-6.0, 3.5])
def test_deskew_finds_the_angle_and_straightens(gray, angle):
    turned = np.asarray(Image.fromarray(gray).rotate(angle, expand=True, fillcolor=255, resample=Image.BICUBIC))
    assert abs(pp.find_skew(turned) + angle) <= 0.3
    out = ocr.preprocess(turned, ocr.Settings(deskew=True))
    assert abs(out.skew + angle) <= 0.3
    assert abs(pp.find_skew(out.image)) <= 0.3
    assert "degrees" in out.steps[-1].detail


def test_deskew_is_not_fooled_by_a_dark_scanner_border(gray):
    turned = np.asarray(Image.fromarray(gray).rotate(4.0, expand=True, fillcolor=255, resample=Image.BICUBIC)).copy()
    turned[-40:, :] = 20  # a dark band along the bottom edge
    assert abs(pp.find_skew(turned) + 4.0) <= 0.3


def test_deskew_leaves_a_straight_page_alone(gray):
    out = ocr.preprocess(gray, ocr.Settings(deskew=True))
    assert out.skew == 0.0 and out.image.shape == gray.shape


def shaded(gray: np.ndarray) -> np.ndarray:
    """The page under a shadow: darker towards the right."""
    _h, w = gray.shape
    light = np.linspace(1.0, 0.35, w)[None, :]
    return (gray.astype(float) * light).astype(np.uint8)


@pytest.mark.parametrize("method", ["blur", "close"])
def test_background_normalisation_flattens_a_shadow(gray, method):
    dark = shaded(gray)
    paper = gray > 200
    out = pp.normalize_background(dark, method)
    assert dark[paper].std() > 30
    assert out[paper].std() < 12  # the paper is even again
    # a single global threshold now finds the text it lost in the shadow
    otsu_before = pp.threshold(dark, "otsu")
    otsu_after = pp.threshold(out, "otsu")
    assert abs(ink(otsu_after) - ink(gray)) < 0.3 * abs(ink(otsu_before) - ink(gray))


def test_median_denoise_removes_salt_and_pepper(gray):
    rng = np.random.default_rng(1)
    noisy = gray.copy()
    spots = rng.random(gray.shape) < 0.03
    noisy[spots] = rng.choice([0, 255], size=int(spots.sum()))
    out = ocr.preprocess(noisy, ocr.Settings(denoise="median", denoise_strength=3)).image
    paper = gray == 255
    assert ink(noisy[paper]) > 1000
    assert ink(out[paper]) < ink(noisy[paper]) / 20


def test_nlmeans_denoise_smooths_grain(gray):
    rng = np.random.default_rng(2)
    noisy = np.clip(gray + rng.normal(0, 25, gray.shape), 0, 255).astype(np.uint8)
    out = pp.denoise(noisy, "nlmeans", 15)
    paper = gray == 255
    assert out[paper].std() < noisy[paper].std() / 2


def test_clahe_raises_contrast_of_faint_print(gray):
    faint = (160 + gray.astype(float) * 0.3).astype(np.uint8)  # grey text on light grey paper
    out = pp.equalize(faint, clip=3.0)
    assert int(out.max()) - int(out.min()) > int(faint.max()) - int(faint.min())


@pytest.mark.parametrize("method", ["fixed", "otsu", "adaptive_mean", "adaptive_gaussian", "sauvola"])
def test_every_threshold_gives_black_and_white_text(gray, method):
    out = pp.threshold((60 + gray.astype(float) * 0.6).astype(np.uint8), method, value=140)
    assert set(np.unique(out)) <= {0, 255}
    assert 0.5 * ink(gray) < ink(out) < 1.6 * ink(gray)


def test_fixed_threshold_uses_its_value():
    ramp = np.tile(np.arange(256, dtype=np.uint8), (4, 1))
    out = pp.threshold(ramp, "fixed", value=100)
    assert out[0, 100] == 0 and out[0, 101] == 255


def test_adaptive_threshold_survives_a_shadow_that_beats_a_global_one(gray):
    dark = shaded(gray)
    for method in ("adaptive_gaussian", "sauvola"):
        out = pp.threshold(dark, method, block_size=31, c=10)
        assert abs(ink(out) - ink(gray)) < 0.35 * ink(gray), method


def test_invert_and_auto_invert(gray):
    negative = 255 - gray
    assert np.array_equal(ocr.preprocess(gray, ocr.Settings(invert="yes")).image, negative)
    assert np.array_equal(ocr.preprocess(negative, ocr.Settings(invert="auto")).image, gray)
    assert np.array_equal(ocr.preprocess(gray, ocr.Settings(invert="auto")).image, gray)


def test_morphology_speaks_of_the_ink(gray):
    binary = pp.threshold(gray, "otsu")
    assert ink(pp.morphology(binary, "dilate", 3)) > ink(binary) * 1.2
    assert ink(pp.morphology(binary, "erode", 3)) < ink(binary) * 0.8
    specks = binary.copy()
    specks[5:7, 5:7] = 0  # a 2-pixel speck in the margin
    assert ink(pp.morphology(specks, "open", 3)[:20, :20]) == 0
    gap = binary.copy()
    gap[:, 450] = 255  # a one-pixel cut through every letter on that column
    assert ink(pp.morphology(gap, "close", 3)) > ink(gap)


def test_border_removal_clears_a_scanner_frame_and_keeps_the_text(gray):
    framed = gray.copy()
    framed[:25, :] = 0
    framed[:, -30:] = 0
    out = pp.remove_border(framed)
    assert ink(out[:25, :]) == 0 and ink(out[:, -30:]) == 0
    assert abs(ink(out) - ink(gray)) < 0.02 * ink(gray)


def test_each_step_is_timed_and_the_pipeline_order_is_reported(gray):
    settings = ocr.Settings(scale=1.5, background="blur", denoise="median", clahe=True, threshold="otsu",
                            morphology="open", border=True, deskew=True)
    out = ocr.preprocess(gray, settings)
    names = [s.name for s in out.steps]
    assert names == ["auto-orient", "grayscale", "rescale", "deskew", "background", "denoise", "contrast",
                     "threshold", "morphology", "border"]
    assert all(s.seconds >= 0 for s in out.steps) and out.seconds > 0


def test_preview_is_small_and_looks_like_the_full_result(gray):
    big = np.asarray(Image.fromarray(gray).resize((3600, 1440)))
    settings = ocr.Settings(threshold="adaptive_gaussian", block_size=61)
    full = ocr.preprocess(big, settings)
    preview = ocr.preprocess(big, settings, max_pixels=400_000)
    assert preview.image.size <= 400_000 * 1.01
    assert abs(preview.factor - 400_000 ** 0.5 / (3600 * 1440) ** 0.5) < 0.01
    shrunk = np.asarray(Image.fromarray(full.image).resize(preview.image.shape[::-1]))
    assert abs(ink(preview.image) / preview.image.size - ink(shrunk) / shrunk.size) < 0.02


def test_preprocess_takes_a_page_and_carries_its_dpi(gray):
    page = ocr.Page(name="p.png", dpi=200, _image=gray)
    out = ocr.preprocess(page, ocr.Settings(scale=0.5))
    assert out.dpi == 100


@pytest.mark.parametrize("failure", [
    ocr.EngineTimeoutError("Tesseract gave up after its time-out of 1 s."),
    ocr.MissingDependencyError("Tesseract's orientation data (osd) is not installed."),
])
def test_orientation_detection_that_fails_leaves_the_page_as_it_is_with_a_warning(page_array, failure):
    def orient(image, dpi):
        raise failure

    out = ocr.preprocess(page_array, ocr.Settings(auto_orient=True, threshold="otsu"), orient=orient)
    assert out.orientation == 0 and out.image.shape == page_array.shape
    assert any("Orientation detection failed" in w and str(failure) in w for w in out.warnings)
    assert [s.name for s in out.steps] == ["auto-orient", "grayscale", "threshold"]


def test_orientation_without_osd_data_reads_the_page_as_it_is(page_array, tmp_path, monkeypatch):
    from ocr.engines import Engine, install

    (tmp_path / "eng.traineddata").symlink_to(Path(install.tessdata_dir()) / "eng.traineddata")
    monkeypatch.setenv("TESSDATA_PREFIX", str(tmp_path))
    install.tessdata_dir.cache_clear()
    engine = Engine("api", workers=1)
    try:
        out = ocr.preprocess(page_array, ocr.Settings(auto_orient=True), orient=engine.orientation)
        assert out.orientation == 0 and any("osd" in w for w in out.warnings)
        assert ocr.recognize(out, engine=engine).word_count == 14
    finally:
        engine.close()
        monkeypatch.delenv("TESSDATA_PREFIX")
        install.tessdata_dir.cache_clear()


def test_the_transform_takes_points_of_the_page_to_the_processed_image_and_boxes_back():
    page = np.full((900, 1200), 255, np.uint8)
    page[300:340, 700:760] = 0  # a mark: 60 x 40 pixels at (700, 300)
    box = np.array([[700, 300, 60, 40]])
    for settings in (ocr.Settings(crop=(100, 50, 1000, 800), rotate=90, scale=1.5),
                     ocr.Settings(rotate=270, scale=0.5), ocr.Settings(rotate=180, crop=(600, 200, 400, 400)),
                     ocr.Settings(scale=2.0, deskew=True, max_skew=10)):
        tilted = Image.fromarray(page).rotate(6, resample=Image.BICUBIC, fillcolor=255) if settings.deskew else None
        source = np.asarray(tilted) if tilted is not None else page
        out = ocr.preprocess(source, settings)
        ink = np.argwhere(out.image < 128)
        found = np.array([[ink[:, 1].min(), ink[:, 0].min(), np.ptp(ink[:, 1]) + 1, np.ptp(ink[:, 0]) + 1]])
        back = out.to_original(found)
        if tilted is None:
            assert np.allclose(back, box, atol=3), (settings, back)
        else:  # the mark, turned 6 degrees, and then straightened: its box covers the original's centre
            centre = np.asarray(Image.fromarray(page).rotate(6, fillcolor=255)) < 128
            cy, cx = np.argwhere(centre).mean(axis=0)
            x, y, w, h = back[0]
            assert x <= cx <= x + w and y <= cy <= y + h and abs(out.skew) > 4
        assert out.source_size == (source.shape[1], source.shape[0])

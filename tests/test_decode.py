"""Reading every input format, detected from the bytes, with the page's DPI, and refusing bad files
with one plain sentence."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

import ocr
from ocr.errors import DamagedFileError, EmptyFileError, NotAnImageError, TooLargeError

from .conftest import draw_page


def encode(image: Image.Image, fmt: str, **kwargs) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **kwargs)
    return out.getvalue()


@pytest.fixture(scope="module")
def page() -> Image.Image:
    return draw_page(size=(600, 200), font_size=30)


def ink_fraction(array: np.ndarray) -> float:
    gray = array if array.ndim == 2 else array.mean(axis=2)
    return float((gray < 128).mean())


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "TIFF", "BMP", "WEBP", "GIF", "PPM"])
def test_each_image_format_reads_one_page_with_the_drawing(page, fmt):
    pages = ocr.load(encode(page, fmt), name=f"x.{fmt.lower()}")
    assert len(pages) == 1
    p = pages[0]
    assert p.kind == fmt
    assert p.image.dtype == np.uint8 and p.image.shape[:2] == (200, 600)
    assert 0.01 < ink_fraction(p.image) < 0.3  # the text is there, dark on light


def test_format_is_detected_from_bytes_not_name(page):
    pages = ocr.load(encode(page, "PNG"), name="really-a-png.jpg")
    assert pages[0].kind == "PNG"


def test_multipage_tiff_gives_every_page_named_by_number(page):
    frames = [page, page.rotate(180), Image.new("L", (600, 200), 255)]
    data = encode(frames[0], "TIFF", save_all=True, append_images=frames[1:])
    pages = ocr.load(data, name="scan.tif")
    assert [p.name for p in pages] == ["scan.tif#1", "scan.tif#2", "scan.tif#3"]
    assert ink_fraction(pages[2].image) == 0
    assert ink_fraction(pages[1].image) > 0.01


def test_gif_frames_are_pages_and_say_so(page):
    other = draw_page(["Second frame here"], size=(600, 200), font_size=30)
    data = encode(page.convert("P"), "GIF", save_all=True, append_images=[other.convert("P")])
    pages = ocr.load(data, name="anim.gif")
    assert len(pages) == 2
    assert all("frame" in " ".join(p.notes) for p in pages)
    assert not np.array_equal(pages[0].image, pages[1].image)


def test_pdf_pages_are_rasterised_at_300_dpi(page):
    data = encode(page.convert("RGB"), "PDF", resolution=100, save_all=True, append_images=[page.convert("RGB")])
    pages = ocr.load(data, name="doc.pdf")
    assert [p.name for p in pages] == ["doc.pdf#1", "doc.pdf#2"]
    assert pages[0].dpi == 300
    # a 600-pixel page at 100 dpi is 6 inches: 1800 pixels at 300 dpi
    assert abs(pages[0].image.shape[1] - 1800) <= 2
    assert ink_fraction(pages[0].image) > 0.01


def test_pdf_over_the_pixel_limit_is_rasterised_smaller_with_a_note(page):
    data = encode(page.convert("RGB"), "PDF", resolution=30)  # 20 x 6.7 inches
    pages = ocr.load(data, name="poster.pdf", max_pixels=2_000_000)
    assert pages[0].dpi < 300
    assert pages[0].image.shape[0] * pages[0].image.shape[1] <= 2_000_000
    assert "pixel limit" in pages[0].notes[0]


def test_dpi_is_kept_when_the_file_states_it(page):
    assert ocr.load(encode(page, "PNG", dpi=(150, 150)))[0].dpi == 150
    assert ocr.load(encode(page, "JPEG", dpi=(600, 600)))[0].dpi == 600
    assert ocr.load(encode(page, "TIFF", dpi=(200, 200)))[0].dpi == 200
    assert ocr.load(encode(page, "PNG"))[0].dpi is None


def test_exif_orientation_is_applied(page):
    exif = Image.Exif()
    exif[0x0112] = 6  # stored turned: display rotated 90 degrees clockwise
    stored = page.rotate(90, expand=True)  # what a camera would store
    p = ocr.load(encode(stored.convert("RGB"), "JPEG", exif=exif))[0]
    assert p.image.shape[:2] == (200, 600)


@pytest.mark.parametrize("mode", ["1", "L", "P", "RGB", "CMYK", "I;16", "LA", "RGBA"])
def test_every_pixel_mode_becomes_gray_or_rgb_uint8(page, mode):
    if mode == "I;16":
        image = Image.fromarray((np.asarray(page).astype(np.uint16) * 257))
    elif mode == "CMYK":
        image = page.convert("RGB").convert("CMYK")
    else:
        image = page.convert(mode)
    fmt = "TIFF" if mode in ("CMYK", "I;16") else "PNG"
    p = ocr.load(encode(image, fmt))[0]
    assert p.image.dtype == np.uint8
    assert p.image.ndim == 2 or p.image.shape[2] == 3
    assert 0.01 < ink_fraction(p.image) < 0.3


def test_black_text_on_transparent_background_reads_as_black_on_white(page):
    ink = np.asarray(page) < 128
    rgba = np.zeros((*ink.shape, 4), np.uint8)  # black everywhere, opaque only where there is text
    rgba[..., 3] = np.where(ink, 255, 0)
    p = ocr.load(encode(Image.fromarray(rgba, "RGBA"), "PNG"))[0]
    gray = p.image if p.image.ndim == 2 else p.image.mean(axis=2)
    assert gray[~ink].min() == 255  # the background is white
    assert gray[ink].max() == 0  # the text is black


def test_palette_transparency_is_flattened_onto_white(page):
    image = page.convert("P")
    image.info["transparency"] = 255  # white index is transparent
    p = ocr.load(encode(image, "PNG", transparency=255))[0]
    assert ink_fraction(p.image) > 0.01 and p.image.max() == 255


def test_empty_file_says_so():
    with pytest.raises(EmptyFileError, match="empty"):
        ocr.load(b"", name="nothing.png")


def test_text_file_is_not_an_image():
    with pytest.raises(NotAnImageError, match="not an image"):
        ocr.load(b"hello, this is text\n" * 10, name="notes.png")


def test_truncated_image_is_damaged(page):
    data = encode(page, "PNG")
    with pytest.raises(DamagedFileError, match="damaged"):
        ocr.load(data[: len(data) // 2], name="cut.png")


def test_damaged_pdf_is_refused():
    with pytest.raises(DamagedFileError, match="PDF"):
        ocr.load(b"%PDF-1.7\n1 0 obj garbage", name="bad.pdf")


def _png_header_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims a huge size; its pixels are never there."""
    ihdr = struct.pack("!IIBBBBB", width, height, 8, 0, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return (b"\x89PNG\r\n\x1a\n" + struct.pack("!I", len(ihdr)) + chunk
            + struct.pack("!I", zlib.crc32(chunk)) + b"\x00\x00\x00\x00IEND\xaeB`\x82")


def test_oversized_image_is_refused_from_its_header_before_decoding():
    with pytest.raises(TooLargeError, match="megapixels"):
        ocr.load(_png_header_claiming(20000, 20000), name="bomb.png")


def test_pixel_limit_is_configurable(page):
    with pytest.raises(TooLargeError):
        ocr.load(encode(page, "PNG"), max_pixels=100_000)
    assert ocr.load(encode(page, "PNG"), max_pixels=200_000)


def test_missing_path_says_so(tmp_path):
    with pytest.raises(NotAnImageError, match="no such file"):
        ocr.load(tmp_path / "absent.png")


def test_loading_a_path_uses_its_name(tmp_path, page):
    path = tmp_path / "scan.png"
    page.save(path)
    assert ocr.load(path)[0].name == "scan.png"

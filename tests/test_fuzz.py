"""Fuzzing ``ocr.load`` with hypothesis: random bytes, and valid files of every supported format made
here, then mutated and cut. Whatever the bytes, only our own errors come out (one sentence each), and
nothing decoded is larger than the limits decided from the headers.

The functions take no fixtures, so ``tests/test_memory.py`` can also run them in a child process
under a memory ceiling.
"""

from __future__ import annotations

import io
from functools import cache

import pypdfium2 as pdfium
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from PIL import Image

import ocr
from ocr.errors import InputError
from ocr.limits import Limits

from .badfiles import encode, encrypted_pdf, gif_frames, pdf_of_images, pdf_pages
from .conftest import draw_page

#: A modest budget, so that no mutated header can ask for much: 2 megapixels a page, 20 pages.
LIMITS = Limits(max_pixels_per_page=2_000_000, max_pixels_per_file=8_000_000, max_pages=20)
FUZZ = settings(max_examples=1500, deadline=None, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@cache
def seeds() -> dict[str, bytes]:
    """One small valid file of each format and shape this tool reads."""
    page = draw_page(["Fuzz me"], size=(160, 60), font_size=20)
    frames = [page, page.rotate(180), Image.new("L", page.size, 255)]
    rgb = [f.convert("RGB") for f in frames]
    doc = pdfium.PdfDocument.new()
    doc.new_page(200, 100).close()
    doc.new_page(100, 200).close()
    pdfium_pdf = io.BytesIO()
    doc.save(pdfium_pdf)
    return {
        "png": encode(page, "PNG"),
        "png-rgba": encode(page.convert("RGBA"), "PNG"),
        "apng": encode(frames[0], "PNG", save_all=True, append_images=frames[1:]),
        "jpeg": encode(rgb[0], "JPEG", quality=70),
        "jpeg-cmyk": encode(rgb[0].convert("CMYK"), "JPEG"),
        "tiff": encode(frames[0], "TIFF", save_all=True, append_images=frames[1:]),
        "tiff-lzw": encode(rgb[0], "TIFF", compression="tiff_lzw"),
        "gif": encode(frames[0].convert("P"), "GIF", save_all=True, append_images=[f.convert("P") for f in frames[1:]]),
        "gif-drawn": gif_frames(40, 30, [(0, 0, 5, 5), (30, 20, 20, 20), (2, 2, 3, 3)]),
        "webp": encode(rgb[0], "WEBP", save_all=True, append_images=rgb[1:], quality=50),
        "bmp": encode(page, "BMP"),
        "ppm": encode(page, "PPM"),
        "pdf-pillow": pdf_of_images(frames[:2], resolution=72),
        "pdf-pdfium": pdfium_pdf.getvalue(),
        "pdf-no-pages": pdf_pages([]),
        "pdf-encrypted": encrypted_pdf(),
    }


def read_all(data: bytes) -> None:
    """Load ``data`` and decode every page, letting each go; any error must be ours, and each page
    must be within the limits decided from the headers."""
    try:
        pages = ocr.load(data, "fuzzed", limits=LIMITS)
    except InputError as e:
        assert str(e).endswith(".") and "\n" not in str(e), repr(e)
        return
    assert 1 <= len(pages) <= LIMITS.max_pages
    total = 0
    for page in pages:
        try:
            with page.pixels() as image:
                h, w = image.shape[:2]
                assert image.dtype.name == "uint8" and image.ndim in (2, 3)
                assert w * h <= LIMITS.max_pixels_per_page and max(w, h) <= LIMITS.max_side
                total += w * h
        except InputError as e:
            assert str(e).endswith(".") and "\n" not in str(e), repr(e)
    assert total <= LIMITS.max_pixels_per_file


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A seed file with a few bytes flipped, runs overwritten or inserted, or its tail cut."""
    data = bytearray(seeds()[draw(st.sampled_from(sorted(seeds())))])
    for _ in range(draw(st.integers(1, 4))):
        if not data:
            break
        where = draw(st.integers(0, len(data) - 1))
        how = draw(st.sampled_from(["flip", "overwrite", "insert", "cut", "header"]))
        if how == "flip":
            data[where] ^= 1 << draw(st.integers(0, 7))
        elif how == "overwrite":
            chunk = draw(st.binary(min_size=1, max_size=8))
            data[where:where + len(chunk)] = chunk
        elif how == "insert":
            data[where:where] = draw(st.binary(min_size=1, max_size=16))
        elif how == "cut":
            del data[where:]
        else:  # the first 64 bytes hold the sizes and counts that headers claim
            spot = draw(st.integers(0, min(63, len(data) - 1)))
            data[spot] = draw(st.sampled_from([0x00, 0x01, 0x7F, 0x80, 0xFF]))
    return bytes(data)


@FUZZ
@given(st.binary(max_size=2048))
def test_random_bytes_give_only_our_errors(data: bytes) -> None:
    read_all(data)


@FUZZ
@given(st.sampled_from(sorted(seeds())).map(lambda name: seeds()[name]),
       st.binary(min_size=1, max_size=64))
def test_random_bytes_after_a_valid_signature_give_only_our_errors(seed: bytes, tail: bytes) -> None:
    read_all(seed[:16] + tail)


@pytest.mark.slow
@settings(FUZZ, max_examples=5000)
@given(mutated())
def test_mutated_files_give_only_our_errors(data: bytes) -> None:
    read_all(data)


def test_every_seed_reads() -> None:
    """The seeds themselves are good files (else the mutations would test nothing)."""
    for name, data in seeds().items():
        if name in ("pdf-no-pages", "pdf-encrypted"):
            continue
        pages = ocr.load(data, name, limits=LIMITS)
        assert all(p.image.size for p in pages), name

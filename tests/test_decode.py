"""Reading every input format, detected from the bytes, with the page's DPI, and refusing bad files
with one plain sentence."""

from __future__ import annotations

import contextlib
import io
import struct
import warnings
import zlib
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from PIL import Image

import ocr
from ocr.errors import (
    DamagedFileError,
    EmptyFileError,
    InputError,
    NotAnImageError,
    OverLimitError,
    PasswordError,
    SettingsError,
    TooLargeError,
)
from ocr.limits import Limits

from .badfiles import (
    encrypted_pdf,
    gif_bomb,
    gif_frames,
    pdf_pages,
    png_header,
    png_white,
    with_png_text,
)
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
        image = Image.fromarray(np.asarray(page).astype(np.uint16) * 257)
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
    pages = ocr.load(data[: len(data) // 2], name="cut.png")  # the header is whole: the pixels are not
    with pytest.raises(DamagedFileError, match="damaged"):
        _ = pages[0].image


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


# -- issue 15: headers only, limits per file, signatures at offset 0, PDFium's errors, no warnings ------


def test_load_decodes_nothing_and_knows_every_size_from_headers(page):
    frames = [page, page.rotate(180), Image.new("L", (300, 500), 255)]
    tiff = encode(frames[0], "TIFF", save_all=True, append_images=frames[1:])
    gif = gif_frames(100, 100, [(0, 0, 1, 1), (150, 0, 50, 50), (0, 0, 1, 1)])  # frame 2 grows the canvas
    exif = Image.Exif()
    exif[0x0112] = 6
    turned = encode(page.rotate(90, expand=True).convert("RGB"), "JPEG", exif=exif)
    pdf = pdf_pages([(612, 792), (100.3, 50.7), (792, 612)])
    for data, sizes in [(tiff, [(600, 200), (600, 200), (300, 500)]), (gif, [(100, 100), (200, 100), (200, 100)]),
                        (turned, [(600, 200)]), (pdf, [(2550, 3301), (418, 212), (3301, 2550)])]:
        pages = ocr.load(data)
        assert [p.size for p in pages] == sizes
        assert not any(p.held for p in pages)  # nothing decoded yet
        assert [p.image.shape[1::-1] for p in pages] == sizes  # and the header told the truth


def test_pages_are_let_go_and_decoded_again(page):
    p = ocr.load(encode(page, "PNG"))[0]
    first = p.image
    assert p.held and not first.flags.writeable
    p.release()
    assert not p.held and np.array_equal(p.image, first)
    p.release()
    with p.pixels() as image:
        assert p.held and image.shape == (200, 600)
    assert not p.held


def test_frames_in_order_are_decoded_from_one_open_file(page, monkeypatch):
    """Frame N of a GIF is drawn over frames 0..N-1: reading them in order must not start over each time."""
    frames = [page.rotate(a).convert("P") for a in (0, 90, 180, 270, 45)]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:])
    pages = ocr.load(data)
    opened = []
    real_open = Image.open
    monkeypatch.setattr(Image, "open", lambda *a, **k: opened.append(1) or real_open(*a, **k))
    images = [p.image for p in pages]
    assert len(opened) == 1
    reference = [np.asarray(real_open(io.BytesIO(data)).convert("RGB")).shape for _ in frames]
    assert [i.shape[:2] for i in images] == [r[:2] for r in reference]
    pages[1].release()
    assert np.array_equal(pages[1].image, images[1])  # going back opens the file again, same pixels


def test_a_many_frame_gif_bomb_is_refused_from_its_header():
    """Issue 15, item 1: an 11 KB GIF whose 500 frames would decode to 110 GB of RGB."""
    data = gif_bomb(8944, 8944, 500)
    assert len(data) < 12_000
    with pytest.raises(OverLimitError, match=r"500 frames hold 39,998 megapixels in all, over the limit of 5,000 "
                                             r"megapixels per file\.") as refused:
        ocr.load(data, name="bomb.gif")
    assert refused.value.limit == "max_pixels_per_file"


def test_the_pixel_budget_counts_every_frame_and_page(page):
    gif = gif_bomb(1000, 1000, 30)  # 30 megapixels in all, 1 a frame
    assert len(ocr.load(gif, limits=Limits(max_pixels_per_file=30_000_000))) == 30
    with pytest.raises(TooLargeError, match="30 frames hold 30 megapixels in all, over the limit of 29 megapixels"):
        ocr.load(gif, limits=Limits(max_pixels_per_file=29_000_000))
    tiff = encode(page, "TIFF", save_all=True, append_images=[page] * 9)  # 10 pages of 0.12 megapixels
    with pytest.raises(TooLargeError, match=r"10 pages hold 1\.2 megapixels in all"):
        ocr.load(tiff, limits=Limits(max_pixels_per_file=1_000_000))
    pdf = pdf_pages([(612, 792)] * 3)  # 8.4 megapixels a page at 300 dpi
    with pytest.raises(TooLargeError, match="3 pages hold 25 megapixels in all at 300 dpi"):
        ocr.load(pdf, limits=Limits(max_pixels_per_file=20_000_000))
    with pytest.raises(TooLargeError, match="more than 5 frames, over the limit of 5 frames per file"):
        ocr.load(gif, limits=Limits(max_pages=5))


def test_a_page_longer_than_65500_pixels_is_refused_with_the_limit():
    """Issue 15, item 3: a 1 KB 100000x10 PNG that OpenCV and JPEG cannot encode."""
    data = png_white(100000, 10)
    assert len(data) < 1500
    with pytest.raises(OverLimitError, match=r"100000x10 pixels, longer than the limit of 65,500 pixels on a side"):
        ocr.load(data, name="strip.png")


def test_a_pdf_page_too_long_for_the_side_limit_is_drawn_smaller():
    pages = ocr.load(pdf_pages([(72 * 300, 72)]))  # 300 x 1 inches: 90,000 pixels long at 300 dpi
    assert max(pages[0].size) <= 65_500 and pages[0].dpi < 300 and "pixel limit" in pages[0].notes[0]
    assert pages[0].image.shape[1] == pages[0].size[0]


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_pdf_marker_in_an_images_metadata_does_not_make_it_a_pdf(page, fmt):
    """Issue 15, item 5: detection by the signature at offset 0, not by "%PDF-" anywhere in the first KB."""
    data = encode(page.convert("RGB"), fmt)
    if fmt == "PNG":
        data = with_png_text(data, b"Comment", b"%PDF-1.7 scanned from a PDF")
    else:
        data = data[:2] + b"\xff\xfe\x00\x14%PDF-1.4 was a PDF" + data[2:]  # a JPEG comment segment
    assert b"%PDF-" in data[:1024]
    p = ocr.load(data, name=f"scan.{fmt.lower()}")[0]
    assert p.kind == fmt and p.image.shape[:2] == (200, 600)


def test_a_pdf_after_a_few_bytes_of_junk_still_opens(page):
    pdf = encode(page.convert("RGB"), "PDF")
    assert ocr.load(b"\xef\xbb\xbf\r\n" + pdf)[0].kind == "PDF"
    with pytest.raises(NotAnImageError):  # but text that mentions the marker is not a damaged PDF
        ocr.load(b"A note about the %PDF-1.7 header.\n" * 3)


@pytest.mark.parametrize("before", [None, "encrypted", "garbage"])
def test_a_pdf_with_no_pages_says_so_whatever_failed_before(before):
    """Issue 15, item 7: PDFium's last error is one per process; it must not name another file's fault."""
    if before:
        with pytest.raises(InputError):
            ocr.load(encrypted_pdf() if before == "encrypted" else b"%PDF-1.7\n1 0 obj garbage")
    with pytest.raises(EmptyFileError, match=r"^the PDF has no pages\.$"):
        ocr.load(pdf_pages([]), name="none.pdf")


def test_an_encrypted_pdf_says_password_and_a_damaged_one_does_not():
    with pytest.raises(PasswordError, match="password-protected"):
        ocr.load(encrypted_pdf())
    with pytest.raises(DamagedFileError, match=r"^the PDF is damaged and cannot be opened\.$"):
        ocr.load(b"%PDF-1.7\n1 0 obj garbage")


def test_pillows_decompression_bomb_warning_never_escapes():
    """Issue 15, item 7: a header past Pillow's 89.5-megapixel mark is refused in our words, without its warning."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(TooLargeError, match=r"9,?500x9,?500 pixels .*over the limit of 80 megapixels"):
            ocr.load(png_header(9500, 9500))
    assert [str(w.message) for w in caught] == []
    with warnings.catch_warnings(record=True) as caught:  # within our limit, past Pillow's mark
        warnings.simplefilter("always")
        assert ocr.load(png_header(9500, 9500), max_pixels=100_000_000)[0].size == (9500, 9500)
    assert [str(w.message) for w in caught] == []


def test_no_warning_escapes_from_awkward_files(page):
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x8769] = {0x9003: "not a date" * 100}  # a malformed EXIF sub-directory
    files = [encode(page.convert("P"), "PNG", transparency=b"\x00" * 256),
             encode(page.convert("RGB"), "JPEG", exif=exif.tobytes()[:40]),  # EXIF cut short
             encode(page.convert("RGB"), "TIFF", dpi=(1e-9, 1e-9))]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for data in files:
            with contextlib.suppress(InputError):
                for p in ocr.load(data):
                    _ = p.image
    assert [str(w.message) for w in caught] == []


def test_warning_filters_are_as_before_after_threads_decode_at_once(page):
    data = encode(page, "PNG")
    before = list(warnings.filters)

    def work(_: int) -> None:
        for _ in range(20):
            _ = ocr.load(data)[0].image
            with contextlib.suppress(TooLargeError):
                ocr.load(png_header(9500, 9500))

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(work, range(8)))
    assert warnings.filters == before


def test_a_path_is_read_again_when_its_page_is_decoded(page, tmp_path):
    path = tmp_path / "scan.png"
    page.save(path)
    pages = ocr.load(path)
    assert pages[0].image.shape == (200, 600)
    pages[0].release()
    Image.new("L", (10, 10)).save(path)
    with pytest.raises(DamagedFileError, match="changed"):
        _ = pages[0].image


def test_limits_are_one_sentence_each_and_refuse_nonsense():
    sentences = Limits().sentences()
    assert len(sentences) == 4 and all(s.endswith(".") and any(c.isdigit() for c in s) for s in sentences)
    assert "5,000 megapixels" in " ".join(sentences) and "500" in " ".join(sentences)
    with pytest.raises(SettingsError):
        Limits(max_pages=0)


def test_a_pdf_on_disk_is_read_by_its_path_and_its_pages_hold_no_copy_of_it(page, tmp_path):
    import tracemalloc

    noise = np.random.default_rng(3).integers(0, 256, (900, 900, 3), dtype=np.uint8)
    pictures = [Image.fromarray(noise)] * 5 + [page.convert("RGB")]
    path = tmp_path / "scan.pdf"
    pictures[0].save(path, save_all=True, append_images=pictures[1:], resolution=150, quality=95)
    size = path.stat().st_size
    assert size > 1_000_000
    tracemalloc.start()
    try:
        pages = ocr.load(path)
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert len(pages) == 6 and held < size / 10
    assert pages[5].image.shape[:2] == (400, 1200)  # 600x200 at 150 dpi, drawn at 300
    assert 0.0 < pages[5].image.mean() < 255.0
    path.write_bytes(path.read_bytes() + b"\n% changed\n")
    with pytest.raises(DamagedFileError, match="changed"):
        _ = pages[4].image

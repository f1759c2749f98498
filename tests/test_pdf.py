"""Searchable PDFs: the page as it was (a PDF's own page, a JPEG's own bytes, other pictures losslessly),
the words read as invisible text that pdftotext finds page by page and a viewer selects word by word."""

from __future__ import annotations

import io
import shutil
import subprocess

import numpy as np
import pikepdf
import pypdfium2 as pdfium
import pytest
from PIL import Image

import ocr
from ocr.cli import main
from ocr.pdf import SearchablePdf, origin_of

from .conftest import SAMPLE_TEXT, draw_page, words_of

needs_poppler = pytest.mark.skipif(not shutil.which("pdftotext"), reason="pdftotext (poppler-utils) is not installed")


@pytest.fixture(scope="module")
def engine():
    engine = ocr.Engine("api", workers=2)
    yield engine
    engine.close()


def encoded(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def searchable(data: bytes, name: str, engine) -> tuple[bytes, list[ocr.Result]]:
    """Every page of a file read, and the one searchable PDF of them."""
    pages = ocr.load(data, name)
    results = [ocr.read_page(p, engine=engine, origin=origin_of(p, data=data)) for p in pages]
    return ocr.export(results, "pdf"), results


def pdftotext_pages(data: bytes) -> list[str]:
    out = subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True).stdout
    return out.decode("utf-8").split("\f")[:-1]


def test_a_jpeg_is_embedded_as_its_own_bytes(engine):
    jpeg = encoded(draw_page().convert("RGB"), "JPEG", quality=70, dpi=(150, 150))
    out, _ = searchable(jpeg, "scan.jpg", engine)
    with pikepdf.open(io.BytesIO(out)) as pdf:
        page = pdf.pages[0]
        [image] = page.get_images().values()
        assert image.Filter == pikepdf.Name.DCTDecode and image.read_raw_bytes() == jpeg
        assert [float(v) for v in page.MediaBox] == [0, 0, 1000 * 72 / 150, 400 * 72 / 150]  # pixels at 150 dpi
    assert len(out) < len(jpeg) + 8000  # the picture, a text layer and a font of under a kilobyte


def test_a_turned_jpeg_is_placed_upright(engine):
    """EXIF orientation 6 (stored turned): the bytes are kept, the placement turns them back."""
    upright = draw_page(size=(800, 300))
    stored = upright.rotate(90, expand=True).convert("RGB")  # what a camera held sideways stores
    exif = Image.Exif()
    exif[0x0112] = 6
    jpeg = encoded(stored, "JPEG", quality=90, exif=exif.tobytes())
    out, results = searchable(jpeg, "turned.jpg", engine)
    assert words_of(results[0].text) == words_of(" ".join(SAMPLE_TEXT))
    doc = pdfium.PdfDocument(out)
    dpi = results[0].origin.dpi or 300
    drawn = np.asarray(doc[0].render(scale=dpi / 72).to_pil().convert("L"), dtype=float)
    doc.close()
    assert drawn.shape == (300, 800)
    original = np.asarray(upright, dtype=float)
    assert np.corrcoef(drawn.ravel(), original.ravel())[0, 1] > 0.95


@pytest.mark.parametrize("mode, fmt", [("L", "PNG"), ("RGB", "PNG"), ("1", "PNG"), ("P", "PNG"), ("RGB", "TIFF"),
                                       ("1", "TIFF")])
def test_other_pictures_are_embedded_losslessly(engine, mode, fmt):
    page = draw_page(size=(700, 200)).convert("RGB" if mode == "P" else mode)
    if mode == "P":
        page = page.quantize(16)
    data = encoded(page, fmt, **({"compression": "group4"} if fmt == "TIFF" and mode == "1" else {}))
    out, _ = searchable(data, f"page-{mode}.{fmt.lower()}", engine)
    with pikepdf.open(io.BytesIO(out)) as pdf:
        [image] = pdf.pages[0].get_images().values()
        kept = np.asarray(pikepdf.PdfImage(image).as_pil_image().convert("L" if mode == "1" else "RGB"
                                                                          if mode != "L" else "L"))
        assert int(image.BitsPerComponent) == (1 if mode == "1" else 8)
    expected = np.asarray(page.convert("L") if mode == "1" else page.convert("RGB") if mode != "L" else page)
    assert np.array_equal(kept, expected)
    assert len(out) < 2 * len(data) + 8000, (len(out), len(data))


def test_a_plain_png_is_embedded_as_its_own_compressed_pixels(engine):
    png = encoded(draw_page(size=(700, 200)), "PNG")
    out, _ = searchable(png, "plain.png", engine)
    with pikepdf.open(io.BytesIO(out)) as pdf:
        [image] = pdf.pages[0].get_images().values()
        assert image.read_raw_bytes() in png  # the PNG's own IDAT data, not compressed again


@needs_poppler
def test_a_pdf_keeps_its_pages_and_gains_text_page_by_page(engine):
    texts = [["Page number one", "alpha beta gamma"], ["Page number two", "delta epsilon"],
             ["Page number three", "zeta eta theta"]]
    pages = [draw_page(t, size=(850, 300)) for t in texts]
    data = encoded(pages[0], "PDF", save_all=True, append_images=pages[1:], resolution=100)
    out, results = searchable(data, "three.pdf", engine)
    with pikepdf.open(io.BytesIO(data)) as before, pikepdf.open(io.BytesIO(out)) as after:
        assert len(after.pages) == 3
        for old, new in zip(before.pages, after.pages):
            assert [float(v) for v in new.MediaBox] == [float(v) for v in old.MediaBox]
            [old_image], [new_image] = old.get_images().values(), new.get_images().values()
            assert new_image.read_raw_bytes() == old_image.read_raw_bytes()  # the picture as it was
            old_streams = [old.Contents.read_raw_bytes()]
            new_streams = [s.read_raw_bytes() for s in new.Contents]
            assert old_streams[0] in new_streams  # its own content stream untouched, ours added
    found = pdftotext_pages(out)
    assert len(found) == 3
    for text, result, page_text in zip(texts, results, found):
        assert words_of(page_text) == words_of(result.text)  # the page's own reading, on its own page
        assert words_of(page_text)[:3] == words_of(text[0])
    assert len(out) < len(data) + 10000


@needs_poppler
def test_a_rotated_pdf_page_gets_its_text_where_it_is_shown(engine):
    shown = draw_page(size=(1000, 400))
    stored = encoded(shown.rotate(90, expand=True), "PDF", resolution=100)
    with pikepdf.open(io.BytesIO(stored)) as pdf:
        pdf.pages[0].Rotate = 90  # shown turned clockwise: upright again
        buffer = io.BytesIO()
        pdf.save(buffer)
    out, results = searchable(buffer.getvalue(), "rotated.pdf", engine)
    boxes = subprocess.run(["pdftotext", "-bbox", "-", "-"], input=out, capture_output=True, check=True).stdout
    scale = 72 / 300
    expected = results[0].page_words()
    for _, word in expected.iterrows():
        marker = f'xMin="{word["left"] * scale:.6f}"'
        line = next((x for x in boxes.decode().splitlines() if f">{word['text']}<" in x), "")
        found = float(line.split('xMin="')[1].split('"')[0]) if line else -1
        assert abs(found - word["left"] * scale) < 1.0, (word["text"], marker, line)


def test_selecting_a_word_selects_that_word(engine):
    """Each character's box (PDFium's, as a viewer selects) lies inside its word's box on the page."""
    data = encoded(draw_page(), "PNG", dpi=(200, 200))
    out, results = searchable(data, "select.png", engine)
    words = results[0].page_words()
    scale, height = 72 / 200, 400 * 72 / 200
    doc = pdfium.PdfDocument(out)
    textpage = doc[0].get_textpage()
    chars = [(textpage.get_text_range(i, 1), textpage.get_charbox(i)) for i in range(textpage.count_chars())]
    for _, word in words.iterrows():
        x0, x1 = word["left"] * scale, (word["left"] + word["width"]) * scale
        y1, y0 = height - word["top"] * scale, height - (word["top"] + word["height"]) * scale
        inside = "".join(c for c, (left, bottom, right, top) in chars
                         if x0 - 1 <= (left + right) / 2 <= x1 + 1 and y0 - 6 <= (bottom + top) / 2 <= y1 + 6)
        assert inside.strip() == word["text"]
    textpage.close()
    doc.close()


def test_a_failed_or_kept_page_is_the_page_alone():
    data = encoded(draw_page(), "PNG")
    page = ocr.load(data, "alone.png")[0]
    with SearchablePdf() as document:
        document.add(origin_of(page, data=data), None)
        out = document.to_bytes()
    with pikepdf.open(io.BytesIO(out)) as pdf:
        assert len(pdf.pages) == 1 and "/Font" not in pdf.pages[0].Resources


@pytest.fixture
def run(capsysbinary):
    def call(*args):
        code = main([str(a) for a in args])
        out, err = capsysbinary.readouterr()
        return code, out, err.decode()

    return call


@needs_poppler
def test_cli_writes_one_pdf_per_file_and_keeps_text_it_finds(tmp_path, run):
    pages = [draw_page([f"Sheet {n} of the set"], size=(800, 150)) for n in ("one", "two")]
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(encoded(pages[0], "PDF", save_all=True, append_images=pages[1:], resolution=100))
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(encoded(draw_page().convert("RGB"), "JPEG"))
    code, _, err = run(scan, photo, "--format", "pdf", "-o", tmp_path / "out")
    assert code == 0 and err == ""
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["photo.pdf", "scan.pdf"]
    found = pdftotext_pages((tmp_path / "out" / "scan.pdf").read_bytes())
    assert [words_of(t) for t in found] == [["sheet", "one", "of", "the", "set"], ["sheet", "two", "of", "the", "set"]]

    # read again, it already has text: kept as it is and said once; --skip-text is quiet; --redo reads it
    again = tmp_path / "out" / "scan.pdf"
    code, out, err = run(again)
    assert code == 0 and err.count("note:") == 1 and "pages 1-2 already have text" in err
    assert words_of(out.decode()) == words_of("==> scan.pdf#1 <== Sheet one of the set ==> scan.pdf#2 <== "
                                               "Sheet two of the set")
    code, out, err = run(again, "--skip-text", "--format", "json")
    assert code == 0 and err == "" and b'"word_count": 0' in out
    code, out, err = run(again, "--redo", "--format", "json")
    assert code == 0 and err == "" and b'"word_count": 5' in out


def test_cli_pdf_to_stdout_holds_every_file(tmp_path, run):
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    draw_page(["First file"], size=(600, 150)).save(a)
    draw_page(["Second file"], size=(600, 150)).save(b)
    code, out, err = run(a, b, "--format", "pdf")
    assert code == 0 and err == ""
    doc = pdfium.PdfDocument(out)
    assert [words_of(doc[i].get_textpage().get_text_range()) for i in range(len(doc))] == [["first", "file"],
                                                                                              ["second", "file"]]
    doc.close()


@needs_poppler
def test_redo_replaces_an_earlier_ocr_layer_and_keeps_the_rest(tmp_path, run):
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(encoded(draw_page(["Sheet one of the set"], size=(800, 150)), "PDF", resolution=100))
    assert run(scan, "--format", "pdf", "-o", tmp_path / "first")[0] == 0
    once = (tmp_path / "first" / "scan.pdf").read_bytes()
    assert run(tmp_path / "first" / "scan.pdf", "--redo", "--format", "pdf", "-o", tmp_path / "again")[0] == 0
    twice = (tmp_path / "again" / "scan.pdf").read_bytes()
    [text] = pdftotext_pages(twice)
    assert words_of(text) == ["sheet", "one", "of", "the", "set"]  # once, not twice
    with pikepdf.open(io.BytesIO(once)) as a, pikepdf.open(io.BytesIO(twice)) as b:
        [image_a], [image_b] = a.pages[0].get_images().values(), b.pages[0].get_images().values()
        assert image_a.read_raw_bytes() == image_b.read_raw_bytes()

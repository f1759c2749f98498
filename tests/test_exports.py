"""Every export is made from a Result (whichever engine read it) and parses back."""

from __future__ import annotations

import dataclasses
import io
import json
import xml.etree.ElementTree as ET
import zipfile

import numpy as np
import pandas as pd
import pypdfium2 as pdfium
import pytest

import ocr
from ocr.errors import OcrError
from ocr.exports import stream
from ocr.pdf import origin_of

from .conftest import SAMPLE_TEXT, draw_page, words_of


def two_page_pdf() -> bytes:
    pages = [draw_page(), draw_page(["Second page here", "with two lines"])]
    buffer = io.BytesIO()
    pages[0].save(buffer, "PDF", save_all=True, append_images=pages[1:], resolution=150)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def results():
    engine = ocr.Engine("api", workers=2)
    data = two_page_pdf()
    pages = ocr.load(data, "doc.pdf")
    out = [ocr.read_page(p, engine=engine, origin=origin_of(p, data=data)) for p in pages]
    engine.close()
    return out


def pdf_text(data: bytes) -> list[str]:
    doc = pdfium.PdfDocument(data)
    try:
        return [doc[i].get_textpage().get_text_range() for i in range(len(doc))]
    finally:
        doc.close()


def test_txt_is_the_text(results):
    assert ocr.export(results[0], "txt").decode() == results[0].text
    both = ocr.export(results, "txt").decode()
    assert "==> doc.pdf#2 <==" in both and "Second page here" in both


def test_json_carries_text_words_settings_and_timings(results):
    data = json.loads(ocr.export(results[0], "json"))
    assert data["text"] == results[0].text
    assert [w["text"] for w in data["words"]] == list(results[0].words["text"])
    assert set(data["words"][0]) >= {"text", "conf", "left", "top", "width", "height", "line"}
    assert data["options"]["lang"] == "eng" and "recognize" in data["timings"]
    many = json.loads(ocr.export(results, "json"))
    assert [p["name"] for p in many["pages"]] == ["doc.pdf#1", "doc.pdf#2"]


def test_json_records_the_settings_that_made_it(results):
    processed = ocr.preprocess(np.asarray(draw_page()), ocr.Settings(threshold="otsu", scale=1.5))
    result = ocr.recognize(processed)
    data = json.loads(ocr.export(result, "json"))
    assert ocr.Settings.from_dict(data["settings"]) == ocr.Settings(threshold="otsu", scale=1.5)
    assert "preprocess: threshold" in data["timings"]


def test_csv_reads_back_with_pandas(results):
    table = pd.read_csv(io.BytesIO(ocr.export(results, "csv")), keep_default_na=False)
    assert list(table.columns[:3]) == ["page", "text", "conf"]
    assert len(table) == results[0].word_count + results[1].word_count
    assert list(table[table["page"] == "doc.pdf#1"]["text"]) == list(results[0].words["text"])


def test_hocr_parses_as_xml_with_every_word(results):
    for data, expected in ((ocr.export(results[0], "hocr"), results[0]), (ocr.export(results, "hocr"), None)):
        root = ET.fromstring(data)
        spans = [e for e in root.iter() if e.get("class") == "ocrx_word"]
        words = ["".join(e.itertext()) for e in spans]
        if expected is not None:
            assert words == list(expected.words["text"])
        else:
            pages = [e for e in root.iter() if e.get("class") == "ocr_page"]
            assert len(pages) == 2 and len({e.get("id") for e in spans}) == len(spans)  # ids stay unique


def test_hocr_words_lie_on_the_original_page(results):
    root = ET.fromstring(ocr.export(results[0], "hocr"))
    [page] = [e for e in root.iter() if e.get("class") == "ocr_page"]
    width, height = (int(v) for v in page.get("title").split("bbox ")[1].split(";")[0].split()[2:])
    assert (width, height) == results[0].source_size
    expected = results[0].page_words()
    for span, (_, word) in zip((e for e in root.iter() if e.get("class") == "ocrx_word"), expected.iterrows()):
        x0, y0, x1, y1 = (int(v) for v in span.get("title").split(";")[0].split()[1:])
        assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height
        assert abs(x0 - word["left"]) <= 1 and abs(y1 - (word["top"] + word["height"])) <= 1


def test_pdf_has_a_text_layer(results):
    [layer] = pdf_text(ocr.export(results[0], "pdf"))
    assert words_of(layer) == words_of(" ".join(SAMPLE_TEXT))
    merged = pdf_text(ocr.export(results, "pdf"))
    assert len(merged) == 2 and "Second" in merged[1]


@pytest.mark.parametrize("fmt", ["txt", "json", "csv", "hocr"])
def test_streamed_pieces_make_the_same_document(results, fmt):
    for pages in (results[:1], results):
        assert b"".join(stream(fmt, pages, many=len(pages) > 1)) == ocr.export(pages, fmt)


def test_every_export_works_for_words_of_another_engine(results):
    """A Result as PP-OCR makes it (its own words and boxes, no renderer output) exports like Tesseract's."""
    words = ocr.result.words_frame([("Hello", 91.0, 40, 40, 160, 50, 1, 1, 1, 1),
                                    ("world", 88.0, 230, 40, 170, 50, 1, 1, 1, 2),
                                    ("again", 80.0, 40, 120, 170, 50, 2, 1, 1, 1)])
    other = ocr.Result(text="Hello world\nagain", words=words, name="other.png", engine="ppocr",
                       size=(1000, 400), source_size=(1000, 400), dpi=300, origin=results[0].origin)
    assert words_of(ocr.export(other, "txt").decode()) == ["hello", "world", "again"]
    spans = [e for e in ET.fromstring(ocr.export(other, "hocr")).iter() if e.get("class") == "ocrx_word"]
    assert ["".join(e.itertext()) for e in spans] == ["Hello", "world", "again"]
    [layer] = pdf_text(ocr.export(other, "pdf"))
    assert words_of(layer) == ["hello", "world", "again"]


def test_zip_holds_every_format_for_every_page(results):
    archive = zipfile.ZipFile(io.BytesIO(ocr.export(results, "zip")))
    names = set(archive.namelist())
    for stem in ("doc-p1", "doc-p2"):
        assert {f"{stem}.{fmt}" for fmt in ocr.FORMATS if fmt != "pdf"} | {f"{stem}.ocr.pdf"} <= names
    assert "all.txt" in names
    assert archive.read("doc-p1.txt").decode() == results[0].text


def test_page_names_sort_in_page_order_and_drop_the_extension(results):
    """A page's downloads are named from its file without the extension, its number padded to the file's
    page count: p01 ... p10 sort as the pages go, in a zip and in a folder."""
    def named(name: str, count: int) -> str:
        origin = dataclasses.replace(results[0].origin, count=count)
        return ocr.exports.stem_of(dataclasses.replace(results[0], name=name, origin=origin))

    assert named("scan.png", 1) == "scan" and ocr.exports.page_stem("a/ten pages.pdf", 9, 10) == "ten_pages-p10"
    assert named("ten_pages.pdf#3", 10) == "ten_pages-p03"
    assert [named(f"ten_pages.pdf#{n}", 10) for n in range(1, 11)] == sorted(
        named(f"ten_pages.pdf#{n}", 10) for n in range(1, 11))
    ten = [dataclasses.replace(results[n % 2], name=f"ten.pdf#{n + 1}",
                               origin=dataclasses.replace(results[n % 2].origin, count=10)) for n in range(10)]
    listed = zipfile.ZipFile(io.BytesIO(ocr.export_zip(ten, formats=["txt"]))).namelist()
    assert listed == [f"ten-p{n:02d}.txt" for n in range(1, 11)] + ["all.txt"]


def test_a_document_text_puts_a_form_feed_between_pages(results):
    text = ocr.exports.document_text([r.text for r in results]).decode()
    pages = text.split("\f")
    assert len(pages) == 2 and words_of(pages[1]) == words_of(results[1].text)


def test_edits_go_into_the_text_layer_word_by_word(results):
    """The person's edits replace the words read in their boxes, so the PDF's text is the edited text."""
    first = results[0]
    read = first.text.split()
    edited = " ".join(["Thee", *read[1:4], "leaps", "high", *read[5:-1]])  # one changed, one split, last gone
    changed = ocr.exports.with_text(first, edited)
    assert changed.text == edited and changed.words[["left", "top"]].equals(first.words[["left", "top"]])
    assert " ".join(t for t in changed.words["text"] if t) == edited
    [layer] = pdf_text(ocr.export(changed, "pdf"))
    assert words_of(layer) == words_of(edited)
    assert ocr.exports.with_text(first, first.text) is first


def test_a_document_pdf_keeps_unread_pages_in_their_place(results):
    whole = ocr.exports.document_pdf([(results[0].origin, None), (results[1].origin, results[1])])
    layers = pdf_text(whole)
    assert len(layers) == 2 and layers[0].strip() == "" and "second" in words_of(layers[1])


def test_zip_names_are_safe(results):
    hostile = ocr.Result(text="x", words=results[0].words.iloc[:0], name="../../etc/passwd")
    names = zipfile.ZipFile(io.BytesIO(ocr.export_zip([hostile]))).namelist()
    assert all(".." not in n and not n.startswith("/") for n in names)


def test_a_pdf_needs_the_page_it_was_read_from(results):
    plain = ocr.recognize(np.asarray(draw_page()))
    with pytest.raises(OcrError, match="no original page"):
        ocr.export(plain, "pdf")
    with pytest.raises(OcrError, match="unknown export format"):
        ocr.export(plain, "docx")


@pytest.mark.parametrize("engine_name", ["tesseract", "ppocr"])
def test_every_export_works_for_both_engines(engine_name):
    data = two_page_pdf()
    page = ocr.load(data, "doc.pdf")[0]
    result = ocr.read_page(page, options=ocr.Options(engine=engine_name), origin=origin_of(page, data=data))
    assert result.engine == engine_name and result.word_count >= 10
    assert words_of(ocr.export(result, "txt").decode()) == words_of(result.text)
    assert len(json.loads(ocr.export(result, "json"))["words"]) == result.word_count
    assert len(pd.read_csv(io.BytesIO(ocr.export(result, "csv")), keep_default_na=False)) == result.word_count
    spans = [e for e in ET.fromstring(ocr.export(result, "hocr")).iter() if e.get("class") == "ocrx_word"]
    assert ["".join(e.itertext()) for e in spans] == list(result.words["text"])
    [layer] = pdf_text(ocr.export(result, "pdf"))
    assert words_of(layer) == [w for t in result.words["text"] for w in words_of(t)]

"""Whole documents and the rough edges a new user meets (issue 26), through Streamlit's AppTest: one
searchable PDF and one text of a whole file, the zip's names and order, the compare panel, the engine's
message, auto-tune's words, History's table, the accuracy's sentence."""

from __future__ import annotations

import io
import subprocess
import zipfile

from workbench import keys, nav

from .conftest import draw_page, words_of
from .test_app import download, downloads, first_key, go, media, ok, start, upload, workspaces

__all__ = ["media", "workspaces"]  # the fixtures, shared with tests/test_app.py

PAGE_LINES = [["Alpha page opens the file", "with a first short line"],
              ["Bravo page sits in the middle", "between two other pages"],
              ["Charlie page closes the file", "after all the others"]]


def three_pages() -> bytes:
    pages = [draw_page(lines, size=(900, 300)).convert("RGB") for lines in PAGE_LINES]
    buffer = io.BytesIO()
    pages[0].save(buffer, "PDF", save_all=True, append_images=pages[1:], resolution=150)
    return buffer.getvalue()


def pdftotext_pages(data: bytes) -> list[str]:
    out = subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True, check=True).stdout.decode()
    return out.split("\f")[:-1]  # pdftotext ends every page with a form feed


def file_name(media, at, key: str) -> str:
    return media.stored(at.download_button(key=key)).filename


def test_a_whole_file_downloads_as_one_searchable_pdf_and_one_text(media):
    at = upload(start(), ("three pages.pdf", three_pages()))
    go(at, nav.EXTRACT)
    ok(at.button(key=keys.EXTRACT_ALL).click().run())
    second = first_key(at).rsplit(":", 1)[0] + ":1"
    at.session_state[keys.CURRENT] = second
    ok(at.run())
    read = at.session_state[keys.RESULTS][second].text
    edited = read.replace("Bravo", "Delta")
    assert edited != read
    ok(at.text_area(key=keys.TEXT).input(edited).run())

    # one page's downloads are named for the page, without the file's extension
    assert file_name(media, at, keys.download("txt")) == "three_pages-p2.txt"
    assert file_name(media, at, keys.download("pdf")) == "three_pages-p2.pdf"
    assert any("searchable .pdf carries your edits" in c.value for c in at.caption)
    assert "delta" in words_of(pdftotext_pages(download(at, media, "Searchable .pdf"))[0])

    # the whole file: every page in order, each with its own text, the edits in the text layer
    assert file_name(media, at, keys.download("file_pdf")) == "three_pages.ocr.pdf"
    assert file_name(media, at, keys.download("file_txt")) == "three_pages.txt"
    pages = pdftotext_pages(media(at.download_button(key=keys.download("file_pdf"))))
    assert [words_of(p)[0] for p in pages] == ["alpha", "delta", "charlie"]
    text = media(at.download_button(key=keys.download("file_txt"))).decode()
    assert [words_of(p)[0] for p in text.split("\f")] == ["alpha", "delta", "charlie"]

    # the zip: in page order, named as the single downloads
    names = zipfile.ZipFile(io.BytesIO(download(at, media, "Everything"))).namelist()
    assert [n for n in names if n.endswith(".txt")][:3] == ["three_pages-p1.txt", "three_pages-p2.txt",
                                                           "three_pages-p3.txt"]


def test_a_whole_file_with_pages_not_read_keeps_them_in_place(media):
    at = upload(start(), ("three.pdf", three_pages()))
    go(at, nav.EXTRACT)
    ok(at.button(key=keys.EXTRACT_ONE).click().run())
    assert any("2 pages are not read yet" in c.value for c in at.caption)
    pages = pdftotext_pages(media(at.download_button(key=keys.download("file_pdf"))))
    assert len(pages) == 3 and words_of(pages[0])[0] == "alpha" and not pages[1].strip()
    assert "Searchable .pdf of all 3 pages" in downloads(at)

"""Extract all on the server, in a real browser (Debian's chromium through Playwright): a reload during the
batch finds it going on and the whole file downloads as one searchable PDF and one text; a server killed
mid-batch and started again offers to finish the pages it did not read."""

from __future__ import annotations

import io
import re
import signal
import subprocess
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from .conftest import FONT, free_port, streamlit, words_of

pytestmark = pytest.mark.browser

PAGES = 16
WORDS = ["Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf", "Hotel", "India", "Juliet", "Kilo",
         "Lima", "Mike", "November", "Oscar", "Papa"]
PROGRESS = re.compile(r"Extract all, (reading|waiting for the server): (\d+) of 16 pages read")


def document() -> bytes:
    """Sixteen A4 pages at 200 dpi, each opening with its own word, full of lines (so the batch takes a
    while: a reload lands in the middle of it)."""
    face = ImageFont.truetype(FONT, 30)
    pages = []
    for n, word in enumerate(WORDS):
        page = Image.new("L", (1654, 2339), 255)
        draw = ImageDraw.Draw(page)
        draw.text((120, 140), f"{word} page of the long document", fill=0, font=face)
        for i in range(1, 30):
            draw.text((120, 140 + i * 66), f"line {i} of page {n + 1} with some ordinary words to read", fill=0,
                      font=face)
        pages.append(page)
    buffer = io.BytesIO()
    pages[0].save(buffer, "PDF", save_all=True, append_images=pages[1:], resolution=200)
    return buffer.getvalue()


def start_batch(chromium, url: str):
    context = chromium.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(120_000)
    page.goto(url)
    page.get_by_role("heading", name="Get the text out of a photo or scan").wait_for()
    page.locator('input[type="file"]').first.set_input_files(
        files=[{"name": "long.pdf", "mimeType": "application/pdf", "buffer": document()}])
    page.get_by_role("button", name=f"Extract text from {PAGES} pages").click()
    page.wait_for_url("**ws=**")
    return context, page


def pages_read(page) -> int:
    """The pages the progress bar says are read (waits for the bar)."""
    bar = page.get_by_text(PROGRESS)
    bar.wait_for()
    found = PROGRESS.search(bar.inner_text())
    assert found is not None
    return int(found.group(2))


def wait_until_read(page, at_least: int) -> int:
    page.wait_for_function(
        """([pattern, least]) => { const m = document.body.innerText.match(new RegExp(pattern));
                                   return m && Number(m[2]) >= least; }""", arg=[PROGRESS.pattern, at_least])
    return pages_read(page)


def whole_file_read(page) -> None:
    """Until the whole file's downloads are those of the run that took the last page: the line above them
    says every page is read (Streamlit redraws a page top down, so the buttons under a new line of status
    can still be the last run's for a moment)."""
    page.get_by_text(f"long.pdf, {PAGES} of {PAGES} pages read").wait_for()


def pdftotext_pages(data: bytes) -> list[str]:
    out = subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True, check=True).stdout.decode()
    return out.split("\f")[:-1]


def test_a_reload_finds_the_batch_going_on_and_the_file_downloads_whole(chromium, tmp_path):
    with streamlit(tmp_path) as url:
        context, page = start_batch(chromium, url)
        try:
            before = wait_until_read(page, 3)
            page.reload()
            after = pages_read(page)  # the batch is still there, going on, after the reload
            assert before <= after < PAGES
            page.get_by_text(f"Read {PAGES} of {PAGES} pages").wait_for()
            whole_file_read(page)
            with page.expect_download() as got:
                page.get_by_role("button", name=f"Searchable .pdf of all {PAGES} pages").click()
            assert got.value.suggested_filename == "long.ocr.pdf"
            texts = pdftotext_pages(Path(got.value.path()).read_bytes())
            assert [words_of(t)[0] for t in texts] == [w.lower() for w in WORDS]
            with page.expect_download() as got:
                page.get_by_role("button", name=f"Text of all {PAGES} pages (.txt)").click()
            pages = Path(got.value.path()).read_text().split("\f")
            assert [words_of(t)[0] for t in pages] == [w.lower() for w in WORDS]
        finally:
            context.close()


def test_a_batch_cut_off_by_a_restart_is_finished_from_the_offer(chromium, tmp_path):
    port = free_port()
    with streamlit(tmp_path, port=port) as url:
        context, page = start_batch(chromium, url)
        wait_until_read(page, 2)
        url.proc.send_signal(signal.SIGKILL)  # the server dies mid-batch
        url.proc.wait(timeout=30)
    try:
        with streamlit(tmp_path, port=port) as url:
            page.reload()
            offer = page.get_by_role("button", name=re.compile(r"Finish the \d+ pages"))
            offer.wait_for()
            page.get_by_text("A batch was cut off by a restart of the server").wait_for()
            missing = int(re.search(r"\d+", offer.inner_text()).group())
            assert 0 < missing < PAGES
            offer.click()
            page.get_by_text(f"Read {missing} of {missing} pages").wait_for()
            whole_file_read(page)
            with page.expect_download() as got:
                page.get_by_role("button", name=f"Text of all {PAGES} pages (.txt)").click()
            pages = Path(got.value.path()).read_text().split("\f")
            assert [words_of(t)[0] if t.strip() else "" for t in pages] == [w.lower() for w in WORDS]
    finally:
        context.close()

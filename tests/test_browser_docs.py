"""Issue 26 in a real browser (Debian's chromium through Playwright), against one `streamlit run` shared
by the module's tests: a whole file's downloads, the page on a phone (400 px wide), dark mode following
the browser, icons kept out of buttons' names, and what 404s a page load makes.

Screenshots at 1280x800 and 400 px wide, light and dark, go to test-artifacts/ (git-ignored).
"""

from __future__ import annotations

import io
import re
import subprocess
import urllib.parse
import zipfile
from pathlib import Path

import pytest

from .browser_flow import shot
from .conftest import draw_page, streamlit, words_of

pytestmark = pytest.mark.browser

PAGE_WORDS = ["Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf", "Hotel", "India", "Juliet"]
PHONE = {"width": 400, "height": 800}
DESKTOP = {"width": 1280, "height": 800}
TEXT_BOX = '[data-testid="stTextArea"] textarea'


def ten_pages() -> bytes:
    """A PDF of ten pages, each opening with its own word."""
    pages = [draw_page([f"{word} page of the document", "with a few short lines", "to read on a phone"],
                       size=(900, 700)).convert("RGB") for word in PAGE_WORDS]
    buffer = io.BytesIO()
    pages[0].save(buffer, "PDF", save_all=True, append_images=pages[1:], resolution=300)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """`streamlit run app.py` for the module's tests; its URL."""
    with streamlit(tmp_path_factory.mktemp("docs-server")) as url:
        yield url


def open_tab(chromium, viewport=DESKTOP, scheme="light"):
    context = chromium.new_context(viewport=viewport, color_scheme=scheme, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(90_000)
    return context, page


def wait_for_text(page, text: str) -> None:
    page.wait_for_function(
        """([box, want]) => { const t = document.querySelector(box); return t && t.value.includes(want); }""",
        arg=[TEXT_BOX, text])


@pytest.fixture(scope="module")
def workspace(served, chromium) -> str:
    """A workspace with a ten-page PDF open and every page read: its Extract page's address."""
    context, page = open_tab(chromium)
    try:
        page.goto(served)
        page.get_by_role("heading", name="Get the text out of a photo or scan").wait_for()
        page.locator('input[type="file"]').first.set_input_files(
            files=[{"name": "ten pages.pdf", "mimeType": "application/pdf", "buffer": ten_pages()}])
        page.get_by_role("button", name="Extract text from 10 pages").click()
        wait_for_text(page, PAGE_WORDS[0])
        page.get_by_text("Read 10 of 10 pages").wait_for()
        page.wait_for_url("**ws=**")
        return page.url
    finally:
        context.close()


def pictures_drawn(page) -> None:
    """Until the page's pictures are loaded (so a screenshot shows them)."""
    page.wait_for_function("""() => { const all = [...document.querySelectorAll('[data-testid="stImage"] img')];
                                      return all.length > 0 && all.every(i => i.complete && i.naturalWidth > 0); }""")


def on(url: str, path: str) -> str:
    """The same address (its workspace and settings) on another page of the app."""
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


def pdftotext_pages(data: bytes) -> list[str]:
    out = subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True, check=True).stdout.decode()
    return out.split("\f")[:-1]


def test_a_whole_file_downloads_as_one_searchable_pdf_and_one_text(workspace, chromium):
    context, page = open_tab(chromium)
    words = [w.lower() for w in PAGE_WORDS]
    try:
        page.goto(workspace)
        wait_for_text(page, PAGE_WORDS[0])
        with page.expect_download() as got:
            page.get_by_role("button", name="Searchable .pdf of all 10 pages").click()
        assert got.value.suggested_filename == "ten_pages.ocr.pdf"
        pages = pdftotext_pages(Path(got.value.path()).read_bytes())
        assert [words_of(p)[0] for p in pages] == words  # each page's text on its own page, in order
        with page.expect_download() as got:
            page.get_by_role("button", name="Text of all 10 pages (.txt)").click()
        assert got.value.suggested_filename == "ten_pages.txt"
        texts = Path(got.value.path()).read_text().split("\f")
        assert [words_of(t)[0] for t in texts] == words
        with page.expect_download() as got:
            page.get_by_role("button", name="Everything (.zip, 10 pages)").click()
        names = zipfile.ZipFile(got.value.path()).namelist()
        listed = [n for n in names if n.endswith(".txt") and n.startswith("ten_pages-p")]
        assert listed == sorted(listed) == [f"ten_pages-p{n:02d}.txt" for n in range(1, 11)]
        with page.expect_download() as got:
            page.get_by_role("button", name="Download text (.txt)").click()
        assert got.value.suggested_filename == "ten_pages-p01.txt"  # the zip's name for the same page
        pictures_drawn(page)
        shot(page, "docs-extract-1280-light")
    finally:
        context.close()


def test_on_a_phone_the_text_comes_first_and_the_menu_closes(workspace, chromium):
    context, page = open_tab(chromium, PHONE)
    try:
        page.goto(workspace)
        wait_for_text(page, PAGE_WORDS[0])
        top = page.evaluate(f"""() => document.querySelector('{TEXT_BOX}').getBoundingClientRect().top""")
        pictures = page.evaluate("""() => Math.min(...[...document.querySelectorAll('[data-testid="stImage"]')]
                                     .map(e => e.getBoundingClientRect().top))""")
        assert top < 2 * PHONE["height"] and top < pictures  # within two screens, before the pictures
        pictures_drawn(page)
        shot(page, "docs-extract-400-light")
        # the page menu: the top menu folds into a sidebar on a narrow screen; choosing a page closes it
        page.get_by_role("button", name="Expand sidebar").click()
        sidebar = page.locator('[data-testid="stSidebar"]')
        from playwright.sync_api import expect

        expect(sidebar).to_have_attribute("data-collapsed", "false")
        page.get_by_role("link", name="2 · Tune").click()
        page.get_by_role("heading", name="Tune the clean-up").wait_for()
        expect(sidebar).to_have_attribute("data-collapsed", "true")
        shot(page, "docs-tune-400-after-menu")
    finally:
        context.close()


def background(page) -> tuple[int, ...]:
    colour = page.evaluate(
        """() => getComputedStyle(document.querySelector('[data-testid="stApp"]')).backgroundColor""")
    return tuple(int(v) for v in re.findall(r"\d+", colour)[:3])


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_theme_follows_the_browser(workspace, chromium, scheme):
    for viewport, size in ((DESKTOP, "1280"), (PHONE, "400")):
        context, page = open_tab(chromium, viewport, scheme)
        try:
            page.goto(workspace)
            wait_for_text(page, PAGE_WORDS[0])
            shade = sum(background(page)) / 3
            assert (shade < 80) if scheme == "dark" else (shade > 240), background(page)
            pictures_drawn(page)
            shot(page, f"docs-extract-{size}-{scheme}")
        finally:
            context.close()


ICON_WORDS = re.compile(r"^(upload|delete|download|text_snippet|library_books|folder_zip|picture_as_pdf|article|"
                        r"image|tune|check|refresh|compare_arrows|auto_awesome|restart_alt|arrow_forward)\b")


def test_icon_names_stay_out_of_button_names(workspace, chromium):
    context, page = open_tab(chromium)
    try:
        for path, ready in (("/", "Remove"), ("/extract", "Download text (.txt)")):
            page.goto(on(workspace, path))
            page.get_by_role("button", name=ready, exact=True).first.wait_for()
            names = re.findall(r'(?:button|link) "([^"]*)"', page.locator("body").aria_snapshot())
            assert names and not [n for n in names if ICON_WORDS.match(n)], names
        assert page.get_by_role("button", name="Extract all 10 pages", exact=True).count() == 1
    finally:
        context.close()


def test_a_page_load_makes_no_404_but_streamlits_own_probe(workspace, chromium):
    """Loading a page by its address: Streamlit's frontend first asks for /<page>/_stcore/health and
    /<page>/_stcore/host-config (it cannot tell a page's path from a base path; streamlit/streamlit#7074,
    open upstream), then the right ones. Nothing else is missing."""
    context, page = open_tab(chromium)
    missing: list[str] = []
    page.on("response", lambda r: missing.append(urllib.parse.urlsplit(r.url).path) if r.status == 404 else None)
    try:
        for path, heading in (("/tune", "Tune the clean-up"), ("/extract", "Extract the text"),
                              ("/history", "History")):
            page.goto(on(workspace, path))
            page.get_by_role("heading", name=heading).wait_for()
        probes = {f"{p}/_stcore/{what}" for p in ("/tune", "/extract", "/history")
                  for what in ("health", "host-config")}
        assert set(missing) <= probes, missing
    finally:
        context.close()

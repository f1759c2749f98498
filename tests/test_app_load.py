"""Ten people at once on one server (issue 15): ten browser contexts on loopback upload a page each and
read it at the same time; each sees only its own text, and once they have gone the server's memory comes
back near where it started. Bounded: ten small pages, one visit each, at most a minute of waiting."""

from __future__ import annotations

import time

import psutil
import pytest

from .conftest import draw_page

pytestmark = pytest.mark.browser

WORDS = ["Apple", "Banana", "Cherry", "Dolphin", "Eagle", "Falcon", "Giraffe", "Harbour", "Island", "Jungle"]
RSS_MARGIN = 150 * 2**20  # bytes above the baseline that still count as "back near it"


@pytest.fixture
def server_args():
    """Disconnected sessions are dropped after 2 s (Streamlit keeps them 120 s for a reconnection)."""
    return ["--server.disconnectedSessionTTL", "2"]


def rss(pid: int) -> int:
    """The server process's resident memory (its OCR workers are processes of their own, not counted)."""
    return psutil.Process(pid).memory_info().rss


def visit(browser_, url: str, path) -> tuple:
    context = browser_.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(url)
    page.get_by_role("heading", name="Get the text out of a photo or scan").wait_for()
    page.locator('input[type="file"]').first.set_input_files(str(path))
    return context, page


def test_ten_sessions_at_once_each_see_their_own_text(server, browser, tmp_path):
    url, pid = str(server), server.pid
    pages = []
    for word in WORDS:
        path = tmp_path / f"{word.lower()}.png"
        draw_page([f"{word} is the word", f"of this {word} page only"], size=(900, 260)).save(path)
        pages.append(path)
    warm, page = visit(browser, url, pages[0])  # one visit first: the engine and the libraries are loaded
    page.get_by_role("button", name="Extract text from 1 page").click()
    page.get_by_label("The text (edit it before downloading if you like)").wait_for()
    warm.close()
    time.sleep(3)
    baseline = rss(pid)


    visits = [visit(browser, url, path) for path in pages]
    for _, page in visits:
        page.get_by_role("button", name="Extract text from 1 page").wait_for()
    for _, page in visits:  # ten reads asked for at once
        page.get_by_role("button", name="Extract text from 1 page").click()
    peak = baseline
    for word, (_, page) in zip(WORDS, visits):
        page.wait_for_function(
            """want => { const t = document.querySelector('[data-testid="stTextArea"] textarea');
                         return t && t.value.includes(want); }""", arg=word)
        text = page.get_by_label("The text (edit it before downloading if you like)").input_value()
        others = [w for w in WORDS if w != word and w.lower() in text.lower()]
        assert not others, f"{word}'s session shows {others}"
        peak = max(peak, rss(pid))
    for context, _ in visits:
        context.close()

    deadline = time.monotonic() + 30
    after = rss(pid)
    while after > baseline + RSS_MARGIN and time.monotonic() < deadline:
        time.sleep(1)
        after = rss(pid)
    print(f"\nserver RSS: baseline {baseline / 2**20:.0f} MB, peak {peak / 2**20:.0f} MB, "
          f"after {after / 2**20:.0f} MB")
    assert after <= baseline + RSS_MARGIN

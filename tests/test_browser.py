"""The app in a real browser: `streamlit run app.py` on a free port, Debian's chromium through Playwright.

Upload a dev photo, move a slider, extract, download the .txt and check its text. Screenshots and the
timings seen go to test-artifacts/ (git-ignored).
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
import urllib.parse
import urllib.request

import pytest

from .browser_flow import ARTIFACTS, nudge, processed_src, shot, upload_tune_extract  # noqa: F401
from .conftest import CHROMIUM, DEV, ROOT, Served, free_port, settled, until  # noqa: F401 (the fixtures: conftest's)

pytestmark = pytest.mark.browser


def outside_requests(page) -> list[str]:
    """Every request the page makes to a host other than the app's own (filled in as the page runs)."""
    seen: list[str] = []

    def check(request) -> None:
        host = urllib.parse.urlsplit(request.url).hostname
        if request.url.startswith(("http:", "https:", "ws:", "wss:")) and host not in ("127.0.0.1", "localhost"):
            seen.append(request.url)

    page.on("request", check)
    return seen


def test_upload_tune_extract_download(server, browser_page):
    timings = upload_tune_extract(browser_page, server)

    report = "\n".join(f"{name}: {seconds:.2f} s" for name, seconds in timings.items())
    (ARTIFACTS / "browser-timings.txt").write_text(report + "\n")
    print("\n" + report)


def wait_for_text(page, text: str) -> None:
    """Until the text box on Extract holds ``text``."""
    page.wait_for_function(
        """want => { const t = document.querySelector('[data-testid="stTextArea"] textarea');
                     return t && t.value.includes(want); }""", arg=text)


def type_into(page, locator, text: str) -> None:
    """Replace a text box's text and leave it, as a person does (Streamlit takes the value on blur)."""
    locator.click()
    locator.fill(text)
    page.keyboard.press("Tab")


def extract_a_photo(page, url: str) -> None:
    """Open the app, upload a dev photo and extract its text, until the text box shows it."""
    page.goto(url)
    page.get_by_role("heading", name="Get the text out of a photo or scan").wait_for()
    page.locator('input[type="file"]').first.set_input_files(str(DEV / "lept_lucasta_frag.jpg"))
    page.get_by_role("button", name="Extract text from 1 page").click()
    wait_for_text(page, "Parliament")


def open_panel(page, title: str, inside) -> None:
    """Open the expander called ``title`` until ``inside`` shows (a rerun may redraw it under the click)."""
    for _ in range(3):
        if inside.is_visible():
            return
        # while a rerun draws, the expander can show twice (the stale one fading): click once it settled
        until(lambda: settled(page), "the page's script run ended", seconds=60)
        try:
            page.locator("summary", has_text=title).last.click(timeout=10_000)
            inside.wait_for(state="visible", timeout=10_000)
        except Exception:  # redrawn under the click: try again
            continue


def stored(folder, *texts: str) -> bool:
    """Whether the server's workspace database holds each of ``texts`` in a page's record."""
    path = folder / "workspaces.sqlite3"
    if not path.exists():
        return False
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        values = [str(v) for (v,) in db.execute("SELECT value FROM page")]
    return all(any(t in v for v in values) for t in texts)


def test_a_reload_restores_files_results_edits_truth_and_history(server, browser_page, tmp_path):
    page = browser_page
    outside = outside_requests(page)
    extract_a_photo(page, server)
    page.wait_for_url("**ws=**")
    # an edit, and a true text in the accuracy panel, which stays open once it has one
    type_into(page, page.get_by_label("The text (edit it before downloading if you like)"), "My corrected text")
    truth = page.get_by_label("…or paste it here")
    open_panel(page, "Check the accuracy against the true text", truth)
    type_into(page, truth, "Tell me not, Sweet, I am unkind")
    page.get_by_text("Character error rate (CER)").wait_for()
    assert truth.is_visible()
    deadline = time.monotonic() + 60  # the edit and the true text written before the tab is reloaded
    while not stored(tmp_path / "workspaces", "My corrected text", "Tell me not") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert stored(tmp_path / "workspaces", "My corrected text", "Tell me not")
    link = page.url

    page.reload()  # F5
    wait_for_text(page, "My corrected text")
    assert page.url == link
    from playwright.sync_api import expect

    expect(page.get_by_label("…or paste it here")).to_have_value("Tell me not, Sweet, I am unkind", timeout=30_000)
    page.get_by_role("link", name="History").click()
    page.get_by_role("heading", name="History").wait_for()
    page.get_by_text("lept_lucasta_frag.jpg").first.wait_for(state="attached")  # a cell of the runs table
    assert page.get_by_text("No text has been extracted").count() == 0
    shot(page, "browser-4-history-after-reload")
    assert outside == []  # the tab icon and everything else come from the app itself


def test_the_engine_comparison_stays_open_with_both_readings(server, browser_page):
    page = browser_page
    extract_a_photo(page, server)
    read = page.get_by_role("button", name="Read with every engine")
    open_panel(page, "Compare the engines on this page", read)
    read.click()
    # the panel the person opened stays open with the two readings and their buttons (it once closed
    # as the readings came: its identity changed with them)
    page.get_by_role("button", name="Keep PP-OCR's reading").wait_for(timeout=120_000)
    assert page.get_by_role("button", name="Keep Tesseract's reading").is_visible()
    assert page.get_by_text("Tesseract: score").is_visible() and page.get_by_text("PP-OCR: score").is_visible()


SCROLL_CONTROLS = """el => {
    const box = el.closest('.st-key-tune_controls');
    if (!box || box.scrollHeight <= box.clientHeight + 1) {  // a phone: the page scrolls under the picture
        el.scrollIntoView({block: "end"});
        document.querySelector('[data-testid="stMain"]').scrollBy(0, 40);  // the value label above it too
        return;
    }
    const at = el.getBoundingClientRect(), frame = box.getBoundingClientRect();
    box.scrollTop += (at.top - frame.top) - frame.height / 2;
}"""


def step_right(page, name: str) -> str:
    """As a person does it: the page scrolled to the picture, the controls' own column scrolled to the
    slider called ``name``, and the slider moved one step right with the keyboard (pressed again if a
    rerun drew the slider anew under the focus). Returns the new value as the slider shows it."""
    from playwright.sync_api import expect

    slider = page.get_by_role("slider", name=name)
    before = slider.get_attribute("aria-valuetext")
    for _ in range(4):
        try:
            until(lambda: settled(page), "the page's script run ended", seconds=60)
            page.locator(".st-key-tune_picture").evaluate("el => el.scrollIntoView({block: 'center'})")
            slider.evaluate(SCROLL_CONTROLS)
            slider.focus()
            page.keyboard.press("ArrowRight")
            expect(slider).not_to_have_attribute("aria-valuetext", before, timeout=5_000)
            return slider.get_attribute("aria-valuetext") or ""
        except Exception:
            continue
    pytest.fail(f"the slider {name!r} did not move")


def show_tune(page, url: str, width: int) -> None:
    """The Tune page of the workspace at ``url`` in a viewport ``width`` wide, with a local threshold
    chosen by the link; a slider deep in the controls is scrolled into view and moved: the processed
    picture must stay in view."""
    page.set_viewport_size({"width": width, "height": 800})
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qs(parts.query)
    query.update({"threshold": ["adaptive_gaussian"], "deskew": ["1"]})
    page.goto(urllib.parse.urlunsplit(parts._replace(path="/tune", query=urllib.parse.urlencode(query, doseq=True))))
    page.get_by_role("heading", name="Tune the clean-up").wait_for()
    picture = page.locator(".st-key-tune_picture img")
    picture.wait_for()
    before = picture.get_attribute("src")
    shown = step_right(page, "Neighbourhood (pixels)")
    page.wait_for_function(
        """old => { const im = document.querySelector('.st-key-tune_picture img');
                    return im && im.src !== old && im.complete && im.naturalWidth > 0; }""", arg=before)
    until(lambda: settled(page), "the page's script run ended", seconds=60)
    slider = page.get_by_role("slider", name="Neighbourhood (pixels)")
    assert slider.get_attribute("aria-valuetext") == shown
    shot(page, f"browser-tune-{width}x800")
    box = picture.bounding_box()
    control = slider.bounding_box()
    assert box is not None and control is not None
    seen_height = min(box["y"] + box["height"], 800) - max(box["y"], 0)
    assert seen_height >= 0.9 * box["height"], f"the picture scrolled away at {width} px: {box}"
    assert 0 <= control["y"] <= 800 - control["height"], f"the control is not in view at {width} px: {control}"
    covered = slider.evaluate("""el => { const r = el.getBoundingClientRect();
        const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
        return !(hit && (el.contains(hit) || hit.contains(el))); }""")
    assert not covered, f"the control is hidden under something at {width} px"


def test_the_picture_stays_in_view_while_tuning_and_a_crop_is_drawn_on_it(server, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(60_000)
    outside = outside_requests(page)
    try:
        page.goto(server)
        page.get_by_role("button", name="Receipt").click()
        page.get_by_text("receipt.jpg", exact=True).wait_for()
        page.wait_for_url("**ws=**")
        link = page.url
        show_tune(page, link, 1280)
        # draw the crop: a box dragged on the original picture (beside the processed one)
        canvas = page.locator(".st-key-tune_original .marks").first
        canvas.wait_for()
        area = canvas.bounding_box()
        assert area is not None
        page.mouse.move(area["x"] + area["width"] * 0.2, area["y"] + area["height"] * 0.2)
        page.mouse.down()
        page.mouse.move(area["x"] + area["width"] * 0.7, area["y"] + area["height"] * 0.6, steps=8)
        page.mouse.up()
        page.wait_for_url("**crop=**")
        crop = urllib.parse.parse_qs(urllib.parse.urlsplit(page.url).query)["crop"][0].split(",")
        x, y, w, h = map(int, crop)
        assert w > 0 and h > 0 and x > 0 and y > 0
        shot(page, "browser-tune-crop-drawn")
        # the same workspace on a phone: the picture first, the controls below it
        phone = browser.new_context(viewport={"width": 400, "height": 800}, is_mobile=True, has_touch=True)
        small = phone.new_page()
        small.set_default_timeout(60_000)
        outside += outside_requests(small)
        show_tune(small, page.url, 400)
        small.evaluate("() => { for (const el of document.querySelectorAll('*')) el.scrollTop = 0; }")
        picture = small.locator(".st-key-tune_picture").bounding_box()
        controls = small.locator(".st-key-tune_controls").bounding_box()
        assert picture and controls and picture["y"] + picture["height"] <= controls["y"]  # the picture first
        shot(small, "browser-tune-400x800-top")
        phone.close()
    finally:
        context.close()
    assert outside == []

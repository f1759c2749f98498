"""The app in a real browser: `streamlit run app.py` on a free port, Debian's chromium through Playwright.

Upload a dev photo, move a slider, extract, download the .txt and check its text. Screenshots and the
timings seen go to test-artifacts/ (git-ignored).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from ocr.metrics import cer

from .conftest import DEV, ROOT

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = pytest.mark.browser


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    """`streamlit run app.py` on 127.0.0.1; its URL once /_stcore/health answers; stopped afterwards."""
    port = free_port()
    log = open(tmp_path / "streamlit.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                pytest.fail(f"streamlit exited with {proc.returncode}: {(tmp_path / 'streamlit.log').read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                    if answer.read().strip() == b"ok":
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("streamlit did not answer /_stcore/health within 90 s")
            time.sleep(0.3)
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        log.close()


@pytest.fixture
def browser_page(tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (make test does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=CHROMIUM, headless=True, args=ARGS, accept_downloads=True,
            viewport={"width": 1440, "height": 1100},
        )
        try:
            page = context.pages[0] if context.pages else context.new_page()
            page.set_default_timeout(60_000)
            yield page
        finally:
            context.close()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"browser-{name}.png"))


def processed_src(page) -> str:
    return page.locator('[data-testid="stImage"] img').nth(1).get_attribute("src")


def nudge(page, slider, expected: str) -> None:
    """One step right with the keyboard; pressed again if the key was lost (a rerun can re-render the
    slider under the focus)."""
    from playwright.sync_api import expect

    for _ in range(3):
        slider.focus()
        page.keyboard.press("ArrowRight")
        try:
            expect(slider).to_have_attribute("aria-valuetext", expected, timeout=5_000)
            return
        except AssertionError:
            continue
    pytest.fail(f"the slider did not move to {expected}")


def test_upload_tune_extract_download(server, browser_page):
    page = browser_page
    photo = DEV / "lept_lucasta_frag.jpg"
    truth = photo.with_suffix(".gt.txt").read_text()
    timings = {}

    page.goto(server)
    page.get_by_role("heading", name="Get the text out of a photo or scan").wait_for()
    start = time.perf_counter()
    page.locator('input[type="file"]').first.set_input_files(str(photo))
    page.get_by_text(photo.name, exact=True).wait_for()
    page.get_by_role("button", name="Extract text from 1 page").wait_for()
    timings["upload to listed"] = time.perf_counter() - start
    shot(page, "1-upload")

    # Tune: move the resize slider two steps with the keyboard; the processed preview changes
    page.get_by_role("link", name="2 · Tune").click()
    page.get_by_text("Processed", exact=False).first.wait_for()
    page.locator('[data-testid="stImage"] img').nth(1).wait_for()
    before = processed_src(page)
    slider = page.get_by_role("slider", name="Resize (×)")
    moved = time.perf_counter()
    nudge(page, slider, "1.05")
    nudge(page, slider, "1.10")
    page.wait_for_function(
        """old => { const im = document.querySelectorAll('[data-testid="stImage"] img')[1];
                    return im && im.src !== old && im.complete && im.naturalWidth > 0; }""", arg=before)
    timings["slider to new preview"] = time.perf_counter() - moved
    page.wait_for_url("**scale=1.1**")
    shot(page, "2-tune")

    # Extract at full size, then download the text
    page.get_by_role("link", name="Next: extract the text").click()
    clicked = time.perf_counter()
    page.get_by_role("button", name="Extract text", exact=True).click()
    text_box = page.get_by_label("The text (edit it before downloading if you like)")
    page.wait_for_function(
        """() => { const t = document.querySelector('[data-testid="stTextArea"] textarea');
                   return t && t.value.includes('Parliament'); }""")
    timings["extract click to text"] = time.perf_counter() - clicked
    timings["upload to text, whole visit"] = time.perf_counter() - start
    assert "scale=1.1" in page.url  # the settings travel in the link on every page
    shown = text_box.input_value()
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download text (.txt)").click()
    download = download_info.value
    assert download.suggested_filename == "lept_lucasta_frag.txt"
    saved = Path(download.path()).read_text(encoding="utf-8")
    assert saved == shown
    assert cer(truth, saved) < 0.05
    shot(page, "3-extract")

    report = "\n".join(f"{name}: {seconds:.2f} s" for name, seconds in timings.items())
    (ARTIFACTS / "browser-timings.txt").write_text(report + "\n")
    print("\n" + report)

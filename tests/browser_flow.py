"""The app's main visit in a browser, against any running server: upload a dev photo, move a slider,
extract, download the .txt and check its text. tests/test_browser.py runs it against `streamlit run`,
tests/test_container.py against the container's published port.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from ocr.metrics import cer

from .conftest import DEV, ROOT

ARTIFACTS = ROOT / "test-artifacts"
PHOTO = "lept_lucasta_frag.jpg"


def shot(page: Any, name: str) -> None:
    """A screenshot into test-artifacts/ (git-ignored), for a person to look at after a run."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def processed_src(page: Any) -> str:
    """The address of the processed preview (the second picture on the Tune page)."""
    return page.locator('[data-testid="stImage"] img').nth(1).get_attribute("src")


def nudge(page: Any, slider: Any, expected: str) -> None:
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


def upload_tune_extract(page: Any, base_url: str, *, shots: str = "browser") -> dict[str, float]:
    """Upload a dev photo at ``base_url``, move the resize slider two steps, extract, download the text
    and check it against the truth (CER < 0.05). Returns the seconds each stage took, as seen in the
    browser; screenshots go to test-artifacts/ named ``{shots}-1-upload.png`` and so on."""
    photo = DEV / PHOTO
    truth = photo.with_suffix(".gt.txt").read_text()
    timings: dict[str, float] = {}

    page.goto(base_url)
    page.get_by_role("heading", name="Get the text out of a photo or scan").wait_for()
    start = time.perf_counter()
    page.locator('input[type="file"]').first.set_input_files(str(photo))
    page.get_by_text(photo.name, exact=True).wait_for()
    page.get_by_role("button", name="Extract text from 1 page").wait_for()
    timings["upload to listed"] = time.perf_counter() - start
    shot(page, f"{shots}-1-upload")

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
    shot(page, f"{shots}-2-tune")

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
    assert download.suggested_filename == Path(PHOTO).with_suffix(".txt").name
    saved = Path(download.path()).read_text(encoding="utf-8")
    assert saved == shown
    assert cer(truth, saved) < 0.05
    shot(page, f"{shots}-3-extract")
    return timings

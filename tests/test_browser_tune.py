"""The Tune page in a real browser, tried as a new person would, with the keyboard and the mouse: a control
moves by as many steps as keys were pressed and keeps the focus, nothing that was not touched changes by
itself, the share link follows the controls, the picture can be zoomed and the crop cleared, and the
live text follows the settings (its last reading is always of the last setting).

One server and one browser serve the whole module (`streamlit run app.py`, Debian's chromium). The pages
are drawn by the tests: grey ink (110) on grey paper (200), so a black & white level under the ink's
breaks the page and the level decides, to the step, what the engine reads.
"""

from __future__ import annotations

import re
import time
import urllib.parse
from pathlib import Path

import pytest

from workbench import keys

from .browser_flow import shot
from .conftest import draw_page, settled, streamlit

pytestmark = pytest.mark.browser

INK, PAPER = 110, 200
LINES = ["Seven quiet zebras", "watch the lazy dog", "jump over a fence"]
SETTLED = "Read with:"  # the live text's line that names the settings a finished reading is of


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """`streamlit run app.py` for the module's tests; its URL."""
    with streamlit(tmp_path_factory.mktemp("tune-server")) as url:
        yield url


@pytest.fixture
def page(chromium):
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    try:
        made = context.new_page()
        made.set_default_timeout(60_000)
        yield made
    finally:
        context.close()


@pytest.fixture(scope="module")
def drawn(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("pages") / "zebras.png"
    draw_page(LINES, size=(900, 320), font_size=44, ink=INK, paper=PAPER).save(path)
    return path


@pytest.fixture(scope="module")
def big(tmp_path_factory) -> Path:
    """A page the preview shows reduced (12 megapixels): its pixel sliders step by several pixels, and
    their step changes with the resize and the crop."""
    path = tmp_path_factory.mktemp("pages") / "big.png"
    draw_page(LINES * 6, size=(4000, 3000), font_size=120, ink=INK, paper=PAPER).save(path)
    return path


def open_tune(page, url: str, path: Path, query: str = "") -> None:
    """Upload ``path`` in a new workspace and open the Tune page with the settings of ``query`` (a link
    to the workspace with them, opened once the workspace holds the file)."""
    page.goto(url)
    page.get_by_role("heading", name="Get the text out of a photo or scan").wait_for()
    page.locator('input[type="file"]').first.set_input_files(str(path))
    page.get_by_role("button", name="Extract text from 1 page").wait_for()  # the file is open
    page.get_by_role("link", name="2 · Tune").click()
    page.locator(".st-key-tune_picture img").wait_for()
    if query:
        ws = urllib.parse.parse_qs(urllib.parse.urlsplit(page.url).query)["ws"][0]
        page.goto(f"{url}/tune?ws={ws}&{query}")
        page.get_by_role("heading", name="Tune the clean-up").wait_for()
        page.locator(".st-key-tune_picture img").wait_for()


def address(page) -> dict[str, str]:
    """The settings in the address bar (without the workspace)."""
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(page.evaluate("() => location.href")).query)
    return {k: v[0] for k, v in query.items() if k != "ws"}


def until(condition, what, seconds: float = 60, page=None) -> None:
    """Poll ``condition()`` until it holds; fail saying ``what`` (or what ``what()`` says then) after
    ``seconds``, with a screenshot of ``page`` in test-artifacts/."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            if page is not None:
                shot(page, "browser-tune-failed")
            pytest.fail(f"{what() if callable(what) else what} within {seconds:.0f} s")
        time.sleep(0.1)


def press(page, slider, key: str, times: int) -> None:
    """``times`` presses of ``key`` on ``slider``, quickly, as a hand does (no wait for the page between)."""
    slider.focus()
    for _ in range(times):
        page.keyboard.press(key, delay=20)


def test_arrow_presses_each_move_a_step_and_keep_the_focus(page, served, drawn):
    open_tune(page, served, drawn)
    slider = page.get_by_role("slider", name="Resize (×)")
    press(page, slider, "ArrowRight", 8)
    until(lambda: address(page).get("scale") == "1.4",
          lambda: f"8 presses did not make the resize 1.40 (the address: {address(page)}; the slider: "
                  f"{slider.get_attribute('aria-valuetext')})", page=page)
    assert slider.get_attribute("aria-valuetext") == "1.40"
    assert page.evaluate("() => document.activeElement?.getAttribute('aria-valuetext')") == "1.40"
    # the line of changes is of the settings shown, not one move behind
    page.get_by_text("Changed from the defaults: Resize: 1.4 ×").wait_for()
    press(page, slider, "ArrowLeft", 8)
    until(lambda: "scale" not in address(page),
          lambda: f"8 presses back did not bring the resize back (the address: {address(page)}; the slider: "
                  f"{slider.get_attribute('aria-valuetext')})", page=page)
    page.get_by_text("Changed from the defaults: nothing").wait_for()
    assert page.evaluate("() => document.activeElement?.getAttribute('aria-valuetext')") == "1.00"


def test_a_burst_of_moves_changes_only_what_was_moved(page, served, big):
    open_tune(page, served, big, "morphology=open")  # the ink shaping size is on the page, at 2
    for name, presses in (("Crop: left to right (%)", 6), ("Resize (×)", 6), ("Crop: top to bottom (%)", 6)):
        sliders = page.get_by_role("slider", name=name)
        press(page, sliders.first, "ArrowRight", presses)
    until(lambda: address(page).get("scale") == "1.3" and "crop" in address(page),
          "the moves did not reach the address")
    settings = address(page)
    assert set(settings) == {"morphology", "scale", "crop"}, settings  # nothing that was not touched
    assert settings["morphology"] == "open"
    assert page.get_by_role("slider", name="Ink shaping size (pixels)").get_attribute("aria-valuetext") == "2"
    assert page.get_by_text("Choose at least one language").count() == 0


def test_the_share_link_follows_every_move_and_keeps_the_engine(page, served, drawn, chromium):
    open_tune(page, served, drawn)
    link = page.locator('[data-testid="stCode"]').filter(has_text="/tune")

    def shared() -> dict[str, str]:
        query = urllib.parse.urlsplit(link.inner_text().strip()).query
        return {k: v[0] for k, v in urllib.parse.parse_qs(query).items()}

    assert shared() == {}
    slider = page.get_by_role("slider", name="Resize (×)")
    for step in (1, 2):
        press(page, slider, "ArrowRight", 1)
        until(lambda step=step: shared() == {"scale": f"{1 + step * 0.05:g}"}, f"the link did not follow move {step}")
        assert "ws" not in shared() and address(page)["scale"] == shared()["scale"]
    # Tesseract chosen: the link says so (a session starts on the best of both)
    page.locator("summary", has_text="Reading").click()
    page.get_by_label("Engine", exact=True).click()
    page.get_by_role("option", name="Tesseract").click()
    until(lambda: shared().get("engine") == "tesseract", "the link dropped the engine")
    opened = chromium.new_context(viewport={"width": 1280, "height": 800}).new_page()
    try:
        opened.goto(link.inner_text().strip())
        opened.get_by_role("heading", name="Tune the clean-up").wait_for(timeout=60_000)
        until(lambda: address(opened).get("engine") == "tesseract", "the link did not open with Tesseract")
    finally:
        opened.context.close()


def reading(page) -> tuple[str, float, str]:
    """The live text's settled reading: (the settings it is of, in words; its score; its text)."""
    panel = page.locator(".st-key-tune_text")
    said = panel.inner_text()
    score = re.search(r"Score (-?\d+)", said)
    of = re.search(r"Read with: (.*)", said)
    assert score and of, said
    text = said.split(of.group(0), 1)[1].strip()
    return of.group(1), float(score.group(1)), text


def settled_on(page, level: int, seconds: float = 90) -> tuple[float, str]:
    """Wait until the live text is a finished reading of the level ``level``; its (score, text)."""
    words = f"level {level}"

    def done() -> bool:
        said = page.locator(".st-key-tune_text").inner_text()
        if "Reading these settings" in said or SETTLED not in said:
            return False
        of = re.search(r"Read with: (.*)", said)
        return bool(of) and re.search(rf"\b{words}\b", of.group(1)) is not None

    until(done, lambda: f"no reading of {words} was shown (it shows: "
                        f"{page.locator('.st-key-tune_text').inner_text()!r})", seconds, page=page)
    _, score, text = reading(page)
    return score, text


def test_the_live_text_follows_the_threshold_and_ends_on_the_last_setting(page, served, drawn):
    open_tune(page, served, drawn, "engine=tesseract&threshold=fixed&threshold_value=115")
    score, text = settled_on(page, 115)
    assert "zebras" in text.lower() and score > 20
    shot(page, "browser-tune-live-text")
    level = page.get_by_role("slider", name="Level")
    # ten quick moves down past the ink's grey: the page breaks; the text shown is of the last setting,
    # not of one of the readable ones on the way
    press(page, level, "ArrowLeft", 10)
    until(lambda: address(page).get("threshold_value") == "105", "ten presses did not reach level 105")
    broken_score, broken = settled_on(page, 105)
    assert "zebras" not in broken.lower() and broken_score < score
    change = re.compile(r"reads (better: \+|worse: -)\d+ characters look right|reads as well as before")
    page.locator(".st-key-tune_text").get_by_text(change).wait_for()  # the change since the last reading shown
    # and back: the same text and score as before
    press(page, level, "ArrowRight", 10)
    until(lambda: address(page).get("threshold_value") == "115", "ten presses did not come back to 115")
    again_score, again = settled_on(page, 115)
    assert (again_score, again) == (score, text)
    page.locator(".st-key-tune_text").get_by_text(change).wait_for()


def test_the_picture_zooms_and_pans_and_a_double_click_clears_the_crop(page, served, drawn):
    open_tune(page, served, drawn)
    view = page.locator(".st-key-tune_picture .ocrv-view")
    image = page.locator(".st-key-tune_picture img")
    fitted = image.bounding_box()
    assert fitted is not None and view.bounding_box() is not None
    page.get_by_role("button", name="1:1").click()
    one = image.bounding_box()
    assert one is not None and one["width"] == pytest.approx(900 * 1.0, rel=0.02)  # the preview's own pixels
    box = view.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, -300)  # zoom in at the pointer
    until(lambda: (image.bounding_box() or {"width": 0})["width"] > one["width"] * 1.2, "the wheel did not zoom in")
    before = image.bounding_box()
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 + 60, box["y"] + box["height"] / 2, steps=5)
    page.mouse.up()
    until(lambda: (image.bounding_box() or {"x": -1e9})["x"] == pytest.approx(before["x"] + 60, abs=3),
          "the picture did not follow the pointer's drag", page=page)
    page.get_by_role("button", name="Fit").click()
    until(lambda: abs((image.bounding_box() or {"width": 0})["width"] - fitted["width"]) < 2,
          "Fit did not fit the picture again")
    # the original: no tooltip with the picture's address on hover; a box dragged on it crops, and a
    # double-click clears it, as its caption says
    chart = page.locator(".st-key-tune_original .marks").first
    area = chart.bounding_box()
    assert area is not None
    for share in (0.4, 0.5):  # vega's tooltip shows as the pointer moves over a mark, at once
        page.mouse.move(area["x"] + area["width"] * share, area["y"] + area["height"] * share)
    assert page.locator("#vg-tooltip-element.visible").count() == 0
    page.mouse.move(area["x"] + area["width"] * 0.1, area["y"] + area["height"] * 0.1)
    page.mouse.down()
    page.mouse.move(area["x"] + area["width"] * 0.6, area["y"] + area["height"] * 0.7, steps=8)
    page.mouse.up()
    until(lambda: "crop" in address(page), "the box did not become the crop")
    # the crop reruns the page and the chart is drawn again: wait until the rerun is over and the new
    # chart is there, not the old one's box (it goes while the page is redrawn)
    until(lambda: settled(page) and chart.bounding_box() is not None,
          "the original was not drawn again after the crop", page=page)
    area = chart.bounding_box()
    assert area is not None
    page.mouse.dblclick(area["x"] + area["width"] * 0.3, area["y"] + area["height"] * 0.3)
    until(lambda: "crop" not in address(page), "a double-click did not clear the crop", page=page)


def test_a_level_is_drawn_in_the_page_at_once_and_is_the_servers_picture(page, served, drawn):
    """The Level slider's picture is drawn by the viewer from the grey page as the key is pressed; the
    server's picture of the same level, when it comes, is the same pixels."""
    import base64
    import io

    import numpy as np
    from PIL import Image

    open_tune(page, served, drawn, "engine=tesseract&threshold=fixed&threshold_value=150&invert=yes")
    root = page.locator(".st-key-tune_picture .ocrv")
    until(lambda: root.get_attribute("data-shown") == "server:150", "the first picture did not show")
    page.evaluate("""() => { window.__shown = [];
        new MutationObserver(() => window.__shown.push(document.querySelector('.ocrv').dataset.shown))
            .observe(document.querySelector('.ocrv'), {attributes: true, attributeFilter: ['data-shown']}); }""")
    level = page.get_by_role("slider", name="Level")
    for want in (151, 152):
        press(page, level, "ArrowRight", 1)
        until(lambda want=want: f"local:{want}" in page.evaluate("() => window.__shown"),
              f"the level {want} was not drawn in the page", page=page)
        local = page.evaluate("() => document.querySelector('.st-key-tune_picture canvas').toDataURL('image/png')")
        until(lambda want=want: root.get_attribute("data-shown") == f"server:{want}",
              f"the server's picture of {want} did not come", page=page)
        server = page.locator(".st-key-tune_picture img").get_attribute("src")

        def pixels(address: str) -> np.ndarray:
            return np.asarray(Image.open(io.BytesIO(base64.b64decode(address.split(",", 1)[1]))).convert("L"))

        drawn_here, made_there = pixels(local), pixels(server)
        assert drawn_here.shape == made_there.shape
        assert np.array_equal(drawn_here, made_there)
        assert 0 < np.count_nonzero(made_there == 0) < made_there.size  # ink and paper both
        assert address(page) == {"engine": "tesseract", "threshold": "fixed", "threshold_value": str(want),
                                 "invert": "yes"}  # and nothing else moved


def holds(page, field: str, *values: float) -> bool:
    """Whether the page holds pictures made ahead of the slider of ``field`` at each of ``values``."""
    return page.evaluate("""([key, values]) => { const a = window.ocrvAhead;
        return !!(a && a.hand === key && values.every((v) => a.steps.some((p) => p.value === v))); }""",
                         [keys.setting(field), list(values)])


def ahead_src(page, value: float) -> str:
    """The picture the page holds, made ahead, of the slider in hand at ``value``."""
    return page.evaluate("v => window.ocrvAhead.steps.find((p) => p.value === v).src", value)


def watch_shown(page) -> None:
    """From now on, window.__shown lists what the viewer showed ("server:128", "ahead:1.05"), in order."""
    page.evaluate("""() => { window.__shown = [];
        new MutationObserver(() => window.__shown.push(document.querySelector('.ocrv').dataset.shown))
            .observe(document.querySelector('.ocrv'), {attributes: true, attributeFilter: ['data-shown']}); }""")


def test_a_sliders_first_step_shows_the_picture_made_when_the_hand_came_to_it(page, served, drawn):
    """Before a slider has moved at all, the keyboard focus on it (or the pointer over it) has the server
    make the pictures of its next step both ways: the first press shows one at once ("ahead"), and it is
    the server's own picture of that step, the same bytes, when the move's run ends."""
    open_tune(page, served, drawn, "engine=tesseract&threshold=adaptive_gaussian")
    root = page.locator(".st-key-tune_picture .ocrv")
    picture = page.locator(".st-key-tune_picture img")
    until(lambda: (root.get_attribute("data-shown") or "").startswith("server:") and settled(page),
          "the first picture did not show", page=page)
    watch_shown(page)
    resize = page.get_by_role("slider", name="Resize (×)")
    resize.focus()  # as a person tabs to it: nothing pressed yet
    until(lambda: holds(page, "scale", 0.95, 1.05),
          "the focus on the slider did not bring the pictures of its first step", 30, page=page)
    ahead = ahead_src(page, 1.05)
    before = picture.get_attribute("src")
    assert ahead != before
    assert address(page) == {"engine": "tesseract", "threshold": "adaptive_gaussian"}  # nothing moved
    page.evaluate("() => { window.__shown = []; }")
    page.keyboard.press("ArrowRight")
    until(lambda: "ahead:1.05" in page.evaluate("() => window.__shown"), "the step made ahead was not shown",
          page=page)
    assert page.evaluate("() => window.__shown")[0] == "ahead:1.05"  # shown first, before the server's run
    until(lambda: address(page).get("scale") == "1.05" and settled(page), "the first step did not end", page=page)
    assert picture.get_attribute("src") == ahead  # the server's picture of 1.05 is the one shown ahead
    # the pointer over another slider, never moved: the same for it, without a click
    block = page.get_by_role("slider", name="Neighbourhood (pixels)")
    value = int(block.get_attribute("aria-valuetext"))
    page.locator(f".st-key-{keys.setting('block_size')}").hover()
    until(lambda: holds(page, "block_size", value - 2, value + 2),
          "the pointer over the slider did not bring the pictures of its first step", 30, page=page)
    left = ahead_src(page, value - 2)
    page.evaluate("() => { window.__shown = []; }")
    block.focus()
    page.keyboard.press("ArrowLeft")
    until(lambda: f"ahead:{value - 2}" in page.evaluate("() => window.__shown"),
          "the step made ahead was not shown", page=page)
    until(lambda: address(page).get("block_size") == str(value - 2) and settled(page), "the step did not end",
          page=page)
    assert picture.get_attribute("src") == left
    assert address(page) == {"engine": "tesseract", "threshold": "adaptive_gaussian", "scale": "1.05",
                             "block_size": str(value - 2)}


def test_a_resize_step_shows_the_next_picture_made_ahead_and_it_is_the_servers(page, served, drawn):
    """After a step of the Resize slider, the pictures of its next step both ways are in the page before
    a key is pressed: a press either way shows one ("ahead"), and the server's picture of that step,
    when the move's run ends, is the same picture; a step back shows the picture left."""
    open_tune(page, served, drawn, "engine=tesseract&threshold=otsu")
    root = page.locator(".st-key-tune_picture .ocrv")
    until(lambda: (root.get_attribute("data-shown") or "").startswith("server:"), "the first picture did not show")
    watch_shown(page)
    resize = page.get_by_role("slider", name="Resize (×)")
    picture = page.locator(".st-key-tune_picture img")
    press(page, resize, "ArrowRight", 1)
    until(lambda: address(page).get("scale") == "1.05" and settled(page), "the first step did not end", page=page)
    until(lambda: holds(page, "scale", 1.0, 1.1), "the next step's pictures were not handed to the page", page=page)
    ahead = ahead_src(page, 1.1)
    before = picture.get_attribute("src")
    assert ahead != before  # another picture: the next step's
    page.evaluate("() => { window.__shown = []; }")
    press(page, resize, "ArrowRight", 1)
    until(lambda: "ahead:1.1" in page.evaluate("() => window.__shown"), "the step made ahead was not shown",
          page=page)
    until(lambda: address(page).get("scale") == "1.1" and settled(page), "the second step did not end", page=page)
    assert picture.get_attribute("src") == ahead  # the server's picture of 1.1 is the one shown ahead
    assert root.get_attribute("data-shown").startswith("server:")
    assert address(page) == {"engine": "tesseract", "threshold": "otsu", "scale": "1.1"}
    until(lambda: holds(page, "scale", 1.05), "the step back was not handed to the page",
          page=page)
    page.evaluate("() => { window.__shown = []; }")
    press(page, resize, "ArrowLeft", 1)  # back: the picture left, made ahead too
    until(lambda: "ahead:1.05" in page.evaluate("() => window.__shown"), "the step back was not shown at once",
          page=page)
    until(lambda: address(page).get("scale") == "1.05" and settled(page), "the step back did not end", page=page)
    assert picture.get_attribute("src") == before  # the picture of 1.05 again


def test_a_switch_shows_its_other_side_made_when_the_hand_came_to_it(page, served, drawn):
    """The pointer over a clean-up switch has the server make the picture of its other side: the click
    shows it at once ("ahead"), the server's own picture, the same bytes; turned back, the picture left."""
    open_tune(page, served, drawn, "engine=tesseract")
    root = page.locator(".st-key-tune_picture .ocrv")
    picture = page.locator(".st-key-tune_picture img")
    until(lambda: (root.get_attribute("data-shown") or "").startswith("server:") and settled(page),
          "the first picture did not show", page=page)
    watch_shown(page)
    switch = page.locator(f".st-key-{keys.setting('clahe')}")
    switch.hover()
    until(lambda: holds(page, "clahe", True), "the pointer over the switch did not bring its other side", 30,
          page=page)
    ahead, before = ahead_src(page, True), picture.get_attribute("src")
    assert ahead != before
    page.evaluate("() => { window.__shown = []; }")
    switch.get_by_text("Boost local contrast").click()
    until(lambda: "ahead:true" in page.evaluate("() => window.__shown"), "the side made ahead was not shown",
          page=page)
    assert page.evaluate("() => window.__shown")[0] == "ahead:true"
    until(lambda: address(page).get("clahe") == "1" and settled(page), "the switch's run did not end", page=page)
    assert picture.get_attribute("src") == ahead
    until(lambda: holds(page, "clahe", False), "the side left was not handed to the page", page=page)
    page.evaluate("() => { window.__shown = []; }")
    switch.get_by_text("Boost local contrast").click()
    until(lambda: "ahead:false" in page.evaluate("() => window.__shown"), "the side left was not shown at once",
          page=page)
    until(lambda: "clahe" not in address(page) and settled(page), "the switch's run did not end", page=page)
    assert picture.get_attribute("src") == before

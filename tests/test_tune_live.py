"""The Tune page's speed levers and live text, without a browser: the preview made from a kept working copy
is the pipeline's picture pixel for pixel; the orientation is asked once per copy; the quick reader reads
only the latest of a burst of asks and never shows an older answer; the controls change only what was
moved; the share link and the line of changes follow every move.

The pages are drawn here (DejaVu text, seeds of their own: none of them was tuned on).
"""

from __future__ import annotations

import base64
import io
import json
import math
import threading
import time

import numpy as np
import pandas as pd
import pytest
from PIL import Image

import ocr
from ocr import overlay, preprocessing
from ocr.settings import Options, Settings
from workbench import keys, live, preview

from .conftest import draw_page
from .test_app import ok, png, processed_image, tune


def page_of(seed: int, size: tuple[int, int]) -> np.ndarray:
    """A drawn page in colour with grey shading and a little noise, from ``seed``."""
    rng = np.random.default_rng(seed)
    words = ["harbour", "lantern", "ninety", "copper", "meadow", "quartz", "velvet", "orchard"]
    lines = [" ".join(rng.choice(words, 4)) for _ in range(5)]
    image = np.asarray(draw_page(lines, size=size, font_size=52, ink=40, paper=225, mode="RGB")).astype(float)
    shade = np.linspace(0.75, 1.0, size[0])[None, :, None]
    return np.clip(image * shade + rng.normal(0, 6, image.shape), 0, 255).astype(np.uint8)


def working(image: np.ndarray, s: Settings, dpi: float) -> preview.Working:
    """The working copy the Tune page makes, by the same steps."""
    if s.crop:
        image = preprocessing.crop(image, s.crop)
    if s.rotate:
        image = preprocessing.rotate(image, s.rotate)
    reduced = 1.0
    if image.size // image.shape[-1] > overlay.DISPLAY_PIXELS:
        reduced = math.sqrt(overlay.DISPLAY_PIXELS / (image.shape[0] * image.shape[1]))
        image = preprocessing.reduce(image, reduced)
    return preview.Working(ident=("drawn", 0, s.crop, s.rotate), image=image, reduced=reduced, dpi=dpi)


@pytest.mark.parametrize("seed", [7101, 7102])
@pytest.mark.parametrize("s", [
    Settings(auto_orient=False),
    Settings(auto_orient=False, threshold="adaptive_gaussian", block_size=45, c=8),
    Settings(auto_orient=False, crop=(150, 80, 2100, 1300), background="blur", threshold="sauvola",
             morphology="open", morph_kernel=3),
    Settings(auto_orient=False, rotate=90, deskew=True, denoise="median", denoise_strength=5, clahe=True),
    Settings(auto_orient=False, target_dpi=150, threshold="otsu", invert="yes"),
], ids=["plain", "adaptive", "crop-flatten-sauvola", "turn-deskew-denoise", "dpi-otsu-invert"])
def test_the_preview_from_the_working_copy_is_the_pipelines_picture(seed, s):
    """The copy is made once and kept; what the pipeline makes from it must be what it makes from the
    full page with max_pixels (the sizes in pixels shrink with the copy, the crop is of the page)."""
    image, dpi = page_of(seed, (2600, 1800)), 200.0
    whole = ocr.preprocess(image, s, dpi=dpi, max_pixels=overlay.DISPLAY_PIXELS)
    kept = preview.run(working(image, s, dpi), s)
    assert kept.image.shape == whole.image.shape
    assert np.array_equal(kept.image, whole.image)
    assert kept.factor == pytest.approx(whole.factor, rel=1e-3)


def test_the_orientation_is_asked_once_per_working_copy(monkeypatch):
    asked: list[tuple[int, ...]] = []

    class Counting:
        def orientation(self, image, dpi, timeout=60.0):
            asked.append(image.shape)
            return (0, 9.0)

    monkeypatch.setattr(preview, "engine", lambda: Counting())
    big = png(draw_page(["A page to turn upright once"] * 12, size=(2400, 1700), font_size=70))
    at = tune(("turn.png", big))
    for value in ("otsu", "sauvola", "adaptive_gaussian"):
        ok(at.selectbox(key=keys.setting("threshold")).set_value(value).run())
    ok(at.slider(key=keys.setting("scale")).set_value(1.5).run())
    assert len(asked) == 1  # four more settings, a resize too: the same copy, asked once
    ok(at.slider(key=keys.setting(keys.CROP_X)).set_value((10.0, 90.0)).run())
    assert len(asked) == 2  # a new crop is a new copy


# -- the quick reader ------------------------------------------------------------------------------------


class Gate:
    """Stands in for ocr.recognize: records what it was asked to read, and holds each reading until let go."""

    def __init__(self) -> None:
        self.read: list[float] = []
        self.go = threading.Semaphore(0)

    def __call__(self, image, options, *, dpi=None, engine=None):
        if image.shape != (4, 4):  # another test's page, read by a reader left from it: not ours to hold
            return ocr.Result(text="", words=pd.DataFrame({"text": [], "conf": []}), engine="tesseract")
        self.read.append(float(image[0, 0]))
        assert self.go.acquire(timeout=30), "the test never let the reading finish"
        words = pd.DataFrame({"text": ["value"] * int(image[0, 0]), "conf": [95.0] * int(image[0, 0])})
        return ocr.Result(text=f"read {int(image[0, 0])}", words=words, engine="tesseract")


def wait(condition, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the reader did not get there"
        time.sleep(0.01)


def ask(reader: live.Live, value: int) -> None:
    reader.ask(f"setting {value}", lambda: np.full((4, 4), value, np.uint8), 300, Options(engine="tesseract"),
               f"setting {value}")


def test_a_burst_of_asks_reads_only_the_last_and_never_shows_an_older_answer(monkeypatch):
    gate = Gate()
    monkeypatch.setattr(ocr, "recognize", gate)
    reader = live.Live(lambda: None)  # type: ignore[arg-type, return-value]
    ask(reader, 3)
    wait(lambda: gate.read == [3])  # the first reading has started (after the hand settled)
    for value in (4, 5, 6, 7):  # a burst while it reads: each replaces the one before, none queues
        ask(reader, value)
    assert reader.busy
    gate.go.release()  # the reading of 3 ends: too late, its answer is dropped
    wait(lambda: gate.read == [3, 7])
    assert reader.latest is None and reader.busy
    gate.go.release()
    wait(lambda: not reader.busy)
    assert reader.latest is not None and reader.latest.text == "read 7" and reader.latest.label == "setting 7"
    assert gate.read == [3, 7]  # 4, 5 and 6 were never read
    ask(reader, 7)
    assert not reader.busy  # the same settings again: nothing to read
    ask(reader, 2)
    gate.go.release()
    wait(lambda: not reader.busy)
    assert reader.latest.text == "read 2" and reader.before is not None and reader.before.text == "read 7"
    assert live.change_words(reader.before, reader.latest).startswith("reads worse: -")


def test_a_failed_reading_is_a_sentence(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("Tesseract stopped: out of memory")

    monkeypatch.setattr(ocr, "recognize", broken)
    reader = live.Live(lambda: None)  # type: ignore[arg-type, return-value]
    ask(reader, 1)
    wait(lambda: not reader.busy)
    assert reader.latest is not None and reader.latest.error and "\n" not in reader.latest.error


def test_the_change_in_score_is_said_in_plain_words():
    def at(score: float) -> live.Reading:
        return live.Reading(1, "k", score=score)

    assert live.change_words(at(10), at(52.4)) == "reads better: +42 characters look right"
    assert live.change_words(at(52), at(10)) == "reads worse: -42 characters look right"
    assert live.change_words(at(10), at(10.2)) == "reads as well as before"
    assert live.change_words(None, at(10)) == ""


def test_the_score_is_the_judges_over_every_language():
    words = pd.DataFrame({"text": ["Straße", "house", "the"], "conf": [90.0, 90.0, 90.0]})
    result = ocr.Result(text="Straße house the", words=words, engine="tesseract")
    assert live.score_of(result, "eng+deu") == ocr.judge.score(words, "eng+deu", engine="tesseract").score


# -- the page: the live text, the controls, the link --------------------------------------------------


def test_the_tune_page_shows_the_text_of_the_preview_beside_it():
    at = tune(engine="tesseract")
    reader: live.Live = at.session_state[keys.LIVE]
    wait(lambda: not reader.busy, 120)
    ok(at.run())
    shown = "\n".join(t.value for t in at.text)
    assert "quick brown fox" in shown.lower()
    assert any(c.value.startswith("Score ") for c in at.caption)
    assert any(c.value == "Read with: plain · Tesseract" for c in at.caption)


def big_page() -> bytes:
    """A page large enough that the pixel sliders step by several pixels (the preview is reduced)."""
    return png(draw_page(["A large page of print"] * 20, size=(4000, 3000), font_size=90))


def test_a_resize_never_moves_a_control_nobody_touched():
    at = tune(("big.png", big_page()), morphology="open")
    assert at.slider(key=keys.setting("morph_kernel")).value == 2
    for value in (1.5, 2.0, 2.5, 1.0, 0.5):  # the pixel sliders' step changes with the resize
        ok(at.slider(key=keys.setting("scale")).set_value(value).run())
        assert at.session_state[keys.SETTINGS].morph_kernel == 2
        assert at.slider(key=keys.setting("morph_kernel")).value == 2  # shown, not only kept
        assert "morph_kernel" not in at.query_params
    assert at.session_state[keys.SETTINGS] == Settings(morphology="open", scale=0.5)


def test_an_emptied_language_list_is_put_back_and_the_page_goes_on():
    at = tune(engine="tesseract")
    ok(at.multiselect(key=keys.setting("lang")).set_value([]).run())
    assert any("Choose at least one language" in e.value for e in at.error)
    assert at.session_state[keys.OPTIONS].lang == "auto"  # the app's default: found by itself
    assert at.multiselect(key=keys.setting("lang")).value == ["auto"]
    ok(at.slider(key=keys.setting("scale")).set_value(2.0).run())  # the page is not stuck on the sentence
    assert not at.error and at.session_state[keys.SETTINGS].scale == 2.0


def test_controls_made_anew_at_their_defaults_beside_a_move_are_not_moves():
    """A person moves one control at a time; controls that report their own starting value beside a
    move were made anew by the browser (the threshold dropped, the time limit at its lowest)."""
    at = tune(engine="tesseract", threshold="fixed", invert="yes")
    at.slider(key=keys.setting("threshold_value")).set_value(150)
    at.selectbox(key=keys.setting("threshold")).set_value("none")
    at.selectbox(key=keys.setting("invert")).set_value("no")
    at.number_input(key=keys.setting("timeout")).set_value(0.1)
    ok(at.run())
    assert at.session_state[keys.SETTINGS] == Settings(threshold="fixed", invert="yes", threshold_value=150)
    assert at.session_state[keys.OPTIONS].timeout == Options().timeout
    assert at.selectbox(key=keys.setting("threshold")).value == "fixed"  # put back
    ok(at.selectbox(key=keys.setting("threshold")).set_value("none").run())  # alone, it is a move
    assert at.session_state[keys.SETTINGS].threshold == "none"


def changes_line(at) -> str:
    return next(c.value for c in at.caption if c.value.startswith("Changed from the defaults"))


def share_link(at) -> str:
    return next(c.value for c in at.code if "?" in c.value or c.value.startswith("http"))


def test_the_line_of_changes_and_the_share_link_follow_every_move():
    at = tune()
    assert changes_line(at) == "Changed from the defaults: nothing"
    ok(at.slider(key=keys.setting("scale")).set_value(1.05).run())
    assert changes_line(at) == "Changed from the defaults: Resize: 1.05 ×"  # not one move behind
    assert share_link(at).endswith("?scale=1.05")
    ok(at.selectbox(key=keys.setting("engine")).set_value("tesseract").run())
    assert "engine=tesseract" in share_link(at)  # a session starts on both engines: Tesseract is said
    assert "ws=" not in share_link(at)
    ok(at.selectbox(key=keys.setting("engine")).set_value("auto").run())
    assert "engine" not in share_link(at)


# -- the picture of a level, drawn in the browser ---------------------------------------------------------


def viewer_data(at) -> dict:
    viewer = next(e for e in at.get("bidi_component") if e.proto.component_name == "ocr_workbench_viewer")
    return json.loads(viewer.proto.json)


def decoded(address: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(address.split(",", 1)[1]))))


@pytest.mark.parametrize("seed", [7103, 7104])
def test_the_grey_page_the_browser_draws_levels_from_makes_the_servers_pictures(seed):
    """What viewer.js does with the grey page (255 where grey > level, else 0; inverted when asked) must
    give the server's own picture of every level, pixel for pixel."""
    at = tune(("drawn.png", png(Image.fromarray(page_of(seed, (1400, 900))))), threshold="fixed", clahe="1")
    for level, invert in ((128, "no"), (97, "no"), (160, "yes")):
        ok(at.slider(key=keys.setting("threshold_value")).set_value(level).run())
        ok(at.selectbox(key=keys.setting("invert")).set_value(invert).run())
        data = viewer_data(at)
        assert data["level"] == level and data["live"]["invert"] == (invert == "yes")
        grey = decoded(data["live"]["grey"])
        drawn = np.where(grey > level, 255, 0).astype(np.uint8)
        if invert == "yes":
            drawn = 255 - drawn
        assert np.array_equal(drawn, processed_image(at))


def test_the_browser_draws_nothing_ahead_when_a_step_after_the_level_is_not_arithmetic():
    at = tune(threshold="fixed", morphology="open")
    assert "live" not in viewer_data(at)
    ok(at.selectbox(key=keys.setting("morphology")).set_value("none").run())
    assert "live" in viewer_data(at)
    ok(at.selectbox(key=keys.setting("threshold")).set_value("otsu").run())
    assert "live" not in viewer_data(at)


# -- the pictures of the slider in hand, made ahead of the move -----------------------------------------


def ahead_data(at) -> dict:
    ahead = next(e for e in at.get("bidi_component") if e.proto.component_name == "ocr_workbench_ahead")
    return json.loads(ahead.proto.json)


def test_a_slider_the_hand_comes_to_gets_the_pictures_of_its_steps_both_ways_the_servers_own():
    """Before any move, the slider the browser says the hand came to (the pointer or the focus on it) gets
    the pictures of its next step down and up, made from the settings shown: the same bytes as the
    server's picture of each step once the slider is there."""
    at = tune(engine="tesseract", threshold="otsu")
    first = ahead_data(at)
    assert first["steps"] == [] and first["hand"] is None  # nothing in hand yet: nothing made
    assert keys.setting("scale") in first["controls"] and keys.setting(keys.CROP_X) not in first["controls"]
    assert keys.setting("clahe") in first["controls"] and keys.setting("threshold") not in first["controls"]
    at.session_state[keys.SLIDING] = "scale"  # what hand_near() keeps when the browser names the slider
    ok(at.run())
    data = ahead_data(at)
    assert data["hand"] == keys.setting("scale") and data["watch"] == f".st-key-{keys.setting('scale')}"
    assert data["value"] == 1.0 and data["base"] == viewer_data(at)["base"]
    steps = {p["value"]: p for p in data["steps"]}
    assert sorted(steps) == [0.95, 1.05]
    for value in (1.05, 0.95):
        ok(at.slider(key=keys.setting("scale")).set_value(value).run())
        shown = viewer_data(at)
        assert shown["src"] == steps[value]["src"]  # the picture made ahead is the server's picture
        assert (shown["width_px"], shown["height_px"]) == (steps[value]["width_px"], steps[value]["height_px"])


def test_after_a_move_the_step_back_is_the_picture_left_and_another_control_empties_the_hand():
    at = tune(engine="tesseract", threshold="otsu")
    before = viewer_data(at)["src"]
    ok(at.slider(key=keys.setting("scale")).set_value(1.5).run())
    data = ahead_data(at)
    assert data["hand"] == keys.setting("scale") and data["value"] == 1.5
    steps = {p["value"]: p["src"] for p in data["steps"]}
    assert sorted(steps) == [1.45, 1.55]
    ok(at.slider(key=keys.setting("scale")).set_value(1.45).run())
    assert viewer_data(at)["src"] == steps[1.45]
    assert {p["value"] for p in ahead_data(at)["steps"]} == {1.4, 1.5}
    ok(at.slider(key=keys.setting("scale")).set_value(1.0).run())
    assert viewer_data(at)["src"] == before  # the same settings, the same picture
    ok(at.selectbox(key=keys.setting("threshold")).set_value("none").run())
    assert ahead_data(at)["steps"] == [] and ahead_data(at)["hand"] is None


def test_the_level_the_browser_draws_is_not_made_ahead():
    at = tune(engine="tesseract", threshold="fixed")
    assert keys.setting("threshold_value") not in ahead_data(at)["controls"]
    at.session_state[keys.SLIDING] = "threshold_value"
    ok(at.run())
    assert ahead_data(at)["steps"] == []
    ok(at.selectbox(key=keys.setting("morphology")).set_value("open").run())  # no longer arithmetic
    assert keys.setting("threshold_value") in ahead_data(at)["controls"]


def test_a_switch_the_hand_comes_to_gets_the_picture_of_its_other_side_and_keeps_the_one_left():
    at = tune(engine="tesseract")
    before = viewer_data(at)["src"]
    at.session_state[keys.SLIDING] = "clahe"  # the pointer over "Boost local contrast", or the focus on it
    ok(at.run())
    data = ahead_data(at)
    assert data["hand"] == keys.setting("clahe") and data["value"] is False
    assert [p["value"] for p in data["steps"]] == [True]
    ok(at.toggle(key=keys.setting("clahe")).set_value(True).run())
    assert viewer_data(at)["src"] == data["steps"][0]["src"]  # the server's picture, made ahead
    back = ahead_data(at)
    assert back["hand"] == keys.setting("clahe") and [p["value"] for p in back["steps"]] == [False]
    assert back["steps"][0]["src"] == before  # turned back: the picture left


def test_only_a_clean_up_slider_or_switch_the_page_knows_is_taken_in_hand(monkeypatch):
    from workbench import controls

    state: dict = {}
    monkeypatch.setattr(controls.st, "session_state", state)
    assert controls.take_hand(keys.setting("deskew")) == "deskew" and state[keys.SLIDING] == "deskew"
    assert controls.take_hand(keys.setting("block_size")) == "block_size" and state[keys.SLIDING] == "block_size"
    for other in (keys.setting(keys.CROP_X), keys.setting("timeout"), keys.setting("threshold"),
                  keys.setting("preserve_spaces"), "w_set_nothing", None, 3):
        assert controls.take_hand(other) is None
    assert controls.in_hand() == "block_size"  # unchanged by what it does not know
    state[keys.SLIDING] = ("scale", 1)  # a session from before the hand was a field
    assert controls.in_hand() is None


def test_the_steps_beside_a_setting_stay_within_the_sliders_bounds_and_follow_the_pages_scale(monkeypatch):
    from workbench import controls

    state: dict = {}
    monkeypatch.setattr(controls.st, "session_state", state)
    assert controls.steps_beside(Settings(scale=1.1), "scale") == [1.05, 1.15]  # not 1.1500000000000001
    assert controls.steps_beside(Settings(scale=0.1), "scale") == [0.15]
    assert controls.steps_beside(Settings(scale=8.0), "scale") == [7.95]
    assert controls.steps_beside(Settings(block_size=31), "block_size") == [29, 33]
    state[keys.STEP_SCALE] = 3  # a large photo: a pixel slider steps by three of its steps
    assert controls.steps_beside(Settings(block_size=31), "block_size") == [25, 37]
    assert controls.steps_beside(Settings(c=-50.0), "c") == [-49.0]
    assert controls.steps_beside(Settings(deskew=True), "deskew") == [False]

"""The app, page by page, through Streamlit's AppTest: what is shown, what each control does, and what
each download carries."""

from __future__ import annotations

import ast
import base64
import dataclasses
import io
import itertools
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import tomllib
import zipfile

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from streamlit import dataframe_util
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest, app_test as app_test_module

import ocr
from ocr.exports import MIME
from ocr.settings import Options, Settings
from workbench import defaults, files, history, keys, launch, nav, preview

from .conftest import DEV, ROOT, SAMPLE_TEXT, draw_page, stop, wait_for_health, words_of

APP = str(ROOT / "app.py")
TIMEOUT = 120  # seconds per script run: OCR runs inside it


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


GOOD = png(draw_page())
OTHER = png(draw_page(["Second page here", "with two lines"], size=(700, 250)))


@pytest.fixture
def media(monkeypatch):
    """Reads what the app serves (images, downloads): every run's media manager is kept."""
    managers: list[MediaFileManager] = []

    class Recording(MediaFileManager):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            managers.append(self)

    monkeypatch.setattr(app_test_module, "MediaFileManager", Recording)

    class Media:
        def stored(self, element):
            proto = element.proto
            manager = managers[-1]
            if hasattr(proto, "deferred_file_id") and proto.deferred_file_id:
                url = manager.execute_deferred(proto.deferred_file_id)
            else:
                url = proto.url if hasattr(proto, "url") else proto.imgs[0].url
            return manager._storage.get_file(url.rsplit("/", 1)[1])

        def __call__(self, element) -> bytes:
            return self.stored(element).content

        def mimetype(self, element) -> str:
            return self.stored(element).mimetype

    return Media()


@pytest.fixture(autouse=True)
def workspaces(tmp_path, monkeypatch):
    """Each test's workspaces in a folder of its own."""
    folder = tmp_path / "workspaces"
    monkeypatch.setenv("OCR_WORKBENCH_DATA", str(folder))
    return folder


def start(**query) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params.update(query)
    return at.run()


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def upload(at: AppTest, *files: tuple[str, bytes]) -> AppTest:
    at.file_uploader[0].set_value([(name, data, "application/octet-stream") for name, data in files])
    return ok(at.run())


def texts(at: AppTest) -> list[str]:
    return [t.value for t in at.text]


def markdown_everywhere(at: AppTest) -> str:
    """Everything shown through an element that reads Markdown."""
    kinds = [at.markdown, at.caption, at.error, at.warning, at.info, at.success, at.title, at.subheader]
    return "\n".join(str(e.value) for kind in kinds for e in kind)


def statuses(at: AppTest) -> list[str]:
    """The labels of the st.status boxes shown."""
    return [s.label for s in at.get("status")]


def downloads(at: AppTest) -> dict[str, object]:
    return {d.label: d for d in at.download_button}


def first_key(at: AppTest) -> str:
    return at.session_state[keys.CURRENT]


def go(at: AppTest, destination: nav.Destination) -> AppTest:
    """Move to a page and run it."""
    return ok(at.switch_page(str(destination.path)).run())


def settle(at: AppTest, seconds: float = 180) -> AppTest:
    """Run the page until the batch it started on the server (Extract all) has ended and its end was shown."""
    deadline = time.monotonic() + seconds
    while at.session_state[keys.BATCH_WATCH] if keys.BATCH_WATCH in at.session_state else False:  # noqa: SIM401
        assert time.monotonic() < deadline, "the batch on the server did not end"
        time.sleep(0.1)
        ok(at.run())
    return at


def download(at: AppTest, media, label_start: str) -> bytes:
    button = next(d for label, d in downloads(at).items() if label.startswith(label_start))
    return media(button)


# -- Upload --------------------------------------------------------------------------------------------


def test_upload_page_offers_files_camera_and_samples():
    at = ok(start())
    assert at.file_uploader[0].accept_multiple_files
    assert at.file_uploader[0].allowed_type == []  # formats are told from the bytes, not the name
    assert at.toggle(key=keys.CAMERA_ON).value is False
    samples = [at.button(key=keys.sample(path.stem)).label for path in files.samples()]
    assert samples == ["Letter shadow", "Notice skewed", "Receipt"]
    assert any("Nothing is open yet" in i.value for i in at.info)


def test_each_refused_file_gets_its_own_sentence_and_the_good_ones_open():
    hostile = "![pic](http://example.com/x.png) notes.png"
    huge = png(Image.new("1", (9_500, 9_000), 1))  # 85.5 megapixels, a few kilobytes
    at = upload(ok(start()), ("page.png", GOOD), ("notes.txt", b"just some text, not an image"),
                ("empty.jpg", b""), (hostile, b"\x89PNG\r\n\x1a\n broken"), ("misnamed.pdf", OTHER), ("huge.png", huge))
    shown = [line for t in texts(at) for line in t.splitlines()]
    assert any(t.startswith("notes.txt: not an image or PDF") for t in shown)
    assert "empty.jpg: the file is empty (0 bytes)." in shown
    assert any(t.startswith(hostile + ": ") for t in shown)
    assert any(t.startswith("huge.png: the image is 9500x9000 pixels") for t in shown)
    assert [e.value for e in at.error] == ["4 files could not be opened. The other files were opened."]  # one box
    assert "example.com" not in markdown_everywhere(at)  # names never go through Markdown
    names = [e.name for e in at.session_state[keys.FILES].values()]
    assert names == ["page.png", "misnamed.pdf"]  # a PNG named .pdf is still a PNG
    assert len(at.image) == 2 and "page.png" in shown and "misnamed.pdf" in shown
    assert any("PNG · " in c.value and "1 page" in c.value and "1000×400" in c.value for c in at.caption)
    assert at.button(key=keys.GO_EXTRACT).label == "Extract text from 2 pages"
    # the drop zone is empty again, ready for more; the same file twice is refused with its reason
    at = upload(at, ("again.png", GOOD))
    assert "again.png: it is already open as page.png." in texts(at)


def test_the_limits_are_said_in_a_sentence_each():
    at = ok(start())
    said = "\n".join(texts(at))
    size = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["server"]["maxUploadSize"]
    assert f"Size: at most {size} MB a file" in said
    for sentence in ocr.Limits().sentences():
        assert sentence in said
    assert "Time: a page taking longer than 60 seconds" in said
    assert any(f"Up to {size} MB and 500 pages a file" in c.value for c in at.caption)
    client = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["client"]
    assert client["showErrorLinks"] == "false" and client["showErrorDetails"] == "none"  # no outside links


def test_remove_a_file():
    at = upload(ok(start()), ("a.png", GOOD), ("b.png", OTHER))
    sha = next(iter(at.session_state[keys.FILES]))
    ok(at.button(key=keys.remove(sha)).click().run())
    assert [e.name for e in at.session_state[keys.FILES].values()] == ["b.png"]
    assert at.session_state[keys.CURRENT].split(":")[0] != sha


def test_a_multipage_pdf_counts_its_pages():
    images = [draw_page(), draw_page(["Second page here"], size=(1000, 400))]
    buffer = io.BytesIO()
    images[0].convert("RGB").save(buffer, format="PDF", save_all=True, append_images=[images[1].convert("RGB")],
                                  resolution=150)
    at = upload(ok(start()), ("two.pdf", buffer.getvalue()))
    entry = next(iter(at.session_state[keys.FILES].values()))
    assert (entry.kind, entry.count) == ("PDF", 2)
    assert any("2 pages" in c.value for c in at.caption)


def test_a_pdf_page_that_cannot_be_drawn_fails_alone(monkeypatch):
    import ocr.decode

    drawn = ocr.decode._pdf_renderer

    def renderer(data, index, dpi):
        if index == 1:
            def broken():
                raise ocr.decode.DamagedFileError("the page cannot be rasterised (test).")
            return broken
        return drawn(data, index, dpi)

    monkeypatch.setattr(ocr.decode, "_pdf_renderer", renderer)
    images = [draw_page(["A first page that draws"]), draw_page(["A second page that does not"])]
    buffer = io.BytesIO()
    images[0].convert("RGB").save(buffer, format="PDF", save_all=True, append_images=[images[1].convert("RGB")])
    at = upload(ok(start()), ("half.pdf", buffer.getvalue()))
    sha = next(iter(at.session_state[keys.FILES]))
    go(at, nav.EXTRACT)
    settle(ok(at.button(key=keys.EXTRACT_ALL).click().run()))
    assert "half.pdf (page 2 of 2): the page cannot be rasterised (test)." in texts(at)
    assert list(at.session_state[keys.RESULTS]) == [f"{sha}:0"]
    assert "first" in words_of(at.session_state[keys.RESULTS][f"{sha}:0"].text)
    at.session_state[keys.CURRENT] = f"{sha}:1"
    go(at, nav.TUNE)
    assert any("cannot be shown" in e.value for e in at.error) and not at.slider


def test_camera_photo_and_sample_open():
    at = ok(start())
    ok(at.toggle(key=keys.CAMERA_ON).set_value(True).run())
    photo = io.BytesIO()
    draw_page().convert("RGB").save(photo, format="JPEG")
    ok(at.camera_input[0].set_value(("photo.jpg", photo.getvalue(), "image/jpeg")).run())
    names = [e.name for e in at.session_state[keys.FILES].values()]
    assert len(names) == 1 and names[0].startswith("camera-") and names[0].endswith(".jpg")
    ok(at.button(key=keys.sample("receipt")).click().run())
    receipt = [e for e in at.session_state[keys.FILES].values() if e.name == "receipt.jpg"]
    assert receipt and "TOTAL" in receipt[0].truth


def test_samples_are_small_real_images():
    samples = sorted((ROOT / "workbench" / "samples").glob("*.[jp][pn]g"))
    assert 2 <= len(samples) <= 3
    for path in samples:
        assert path.stat().st_size < 200_000
        assert ocr.load(path)[0].size[0] >= 400
        assert path.with_suffix(".gt.txt").read_text().strip()


# -- Tune ----------------------------------------------------------------------------------------------


def tune(*files: tuple[str, bytes], **query) -> AppTest:
    at = upload(start(**query), *(files or [("page.png", GOOD)]))
    return go(at, nav.TUNE)


def shown_controls(at: AppTest) -> dict[str, object]:
    kinds = [at.slider, at.toggle, at.selectbox, at.multiselect, at.text_input, at.number_input,
             at.get("button_group")]
    return {w.key: w for kind in kinds for w in kind if w.key and w.key.startswith(keys.setting(""))}


def every_field():
    """(kind, field, spec) of every setting and option, from ocr's own specs."""
    return [(kind, field, spec) for kind in (Settings, Options) for field, spec in kind.specs()]


def needs_met() -> list[Settings]:
    """Settings under which each dependent control matters, one per value a dependency allows."""
    return [Settings(**{spec.needs[0]: value}) for kind, _, spec in every_field()
            if kind is Settings and spec.needs for value in spec.needs[1]]


def control_key(field: str) -> set[str]:
    if field == "crop":
        return {keys.setting(keys.CROP_X), keys.setting(keys.CROP_Y)}
    return {keys.setting(field)}


def test_every_setting_and_option_has_a_control():
    at = tune()
    seen = set(shown_controls(at))
    for settings in needs_met():
        at.session_state[keys.SETTINGS], at.session_state[keys.PUSH] = settings, True
        seen |= set(shown_controls(ok(at.run())))
    wanted = set().union(*(control_key(field) for _, field, _ in every_field()))
    assert wanted == seen


def test_a_control_that_needs_another_setting_shows_only_when_it_holds():
    at = tune()
    shown = shown_controls(at)
    for kind, field, spec in every_field():
        if spec.needs:
            need, values = spec.needs
            holds = getattr(kind(), need) in values
            assert (keys.setting(field) in shown) == holds, field
    at.session_state[keys.SETTINGS], at.session_state[keys.PUSH] = Settings(threshold="sauvola"), True
    shown = shown_controls(ok(at.run()))
    assert {keys.setting("block_size"), keys.setting("sauvola_k")} <= set(shown)
    assert keys.setting("c") not in shown and keys.setting("threshold_value") not in shown


def test_controls_are_made_from_the_specs():
    """Bounds, steps, labels with units, help and the plain names of choices all come from ocr's specs."""
    at = tune()
    shown = shown_controls(at)
    for settings in needs_met():
        at.session_state[keys.SETTINGS], at.session_state[keys.PUSH] = settings, True
        shown |= shown_controls(ok(at.run()))
    for _, field, spec in every_field():
        for key in control_key(field):
            widget = shown[key]
            assert widget.label.startswith(spec.label), field
            assert widget.help == spec.help, field
            if spec.unit and spec.low is not None:
                assert widget.label == f"{spec.label} ({spec.unit})", field
            if spec.low is not None and field != "crop":
                assert (widget.min, widget.max, widget.step) == (spec.low, spec.high, spec.step), field
            if spec.choices and hasattr(widget, "options"):
                assert list(widget.options) == [spec.name_of(c) for c in spec.choices], field
    assert shown[keys.setting("scale")].label == "Resize (×)"
    assert (shown[keys.setting("scale")].min, shown[keys.setting("scale")].max) == (0.1, 8.0)


def test_languages_are_chosen_from_the_installed_and_joined_with_plus(monkeypatch):
    monkeypatch.setattr(ocr, "languages", lambda: ["deu", "eng", "osd"])
    at = tune(lang="deu+eng")
    chooser = at.multiselect(key=keys.setting("lang"))
    assert chooser.value == ["deu", "eng"]
    assert chooser.options == ["Find by itself", "deu", "eng"]  # orientation data is not one
    ok(chooser.set_value(["eng", "deu"]).run())  # the order is Tesseract's order of preference
    assert at.session_state[keys.OPTIONS].lang == "eng+deu" and at.query_params["lang"] == "eng+deu"
    ok(at.multiselect(key=keys.setting("lang")).set_value([]).run())
    assert any("at least one language" in e.value for e in at.error)
    assert at.session_state[keys.OPTIONS].lang == "eng+deu"
    ok(at.multiselect(key=keys.setting("lang")).set_value(["eng"]).run())
    assert at.session_state[keys.OPTIONS].lang == "eng" and at.query_params["lang"] == "eng"  # the app finds it


def test_a_language_in_a_link_that_is_not_installed_is_refused_at_once(monkeypatch):
    monkeypatch.setattr(ocr, "languages", lambda: ["eng", "osd"])
    at = ok(start(lang="eng+xyz", psm="6"))  # on the first page seen, not at Extract
    assert any("could not be used" in w.value for w in at.warning)
    assert "The language 'xyz' is not installed: the package tesseract-ocr-xyz brings it." in texts(at)
    assert at.session_state[keys.OPTIONS] == defaults.OPTIONS.replace(psm=6)  # the rest of the link applies
    at = go(upload(at, ("page.png", GOOD)), nav.TUNE)
    assert at.multiselect(key=keys.setting("lang")).options == ["Find by itself", "eng"]
    shown = " ".join(c.value for c in at.caption)
    assert "tesseract-ocr-deu" in shown and "tesseract-ocr-fra" in shown  # what is missing, and what brings it


def test_the_language_is_found_by_itself_unless_the_person_chooses_one(monkeypatch):
    monkeypatch.setattr(ocr, "languages", lambda: ["deu", "eng", "fra", "osd"])
    at = tune()
    chooser = at.multiselect(key=keys.setting("lang"))
    assert defaults.OPTIONS.lang == "auto" and chooser.value == ["auto"]
    assert chooser.options[0] == "Find by itself"
    ok(chooser.set_value(["auto", "deu"]).run())  # a language chosen after it overrules it
    assert at.session_state[keys.OPTIONS].lang == "deu" and at.query_params["lang"] == "deu"
    assert at.multiselect(key=keys.setting("lang")).value == ["deu"]
    ok(at.multiselect(key=keys.setting("lang")).set_value(["deu", "auto"]).run())  # and back
    assert at.session_state[keys.OPTIONS].lang == "auto" and "lang" not in at.query_params
    assert at.multiselect(key=keys.setting("lang")).value == ["auto"]


def test_options_beyond_language_and_layout_are_set_on_the_tune_page():
    at = tune()
    ok(at.text_input(key=keys.setting("whitelist")).input("0123456789").run())
    ok(at.number_input(key=keys.setting("timeout")).set_value(30.0).run())
    assert at.session_state[keys.OPTIONS] == defaults.OPTIONS.replace(whitelist="0123456789", timeout=30.0)
    assert at.query_params["whitelist"] == "0123456789" and at.query_params["timeout"] == "30.0"


JARGON = re.compile(r"\b(otsu|sauvola|clahe|psm|oem|nlmeans|morphology|dilate|erode)\b", re.IGNORECASE)


def test_labels_speak_plainly_and_keep_the_technical_names_for_the_help():
    at = tune()
    seen: list[str] = []
    for settings in [Settings(), *needs_met(), Settings(threshold="otsu", clahe=True, denoise="nlmeans")]:
        at.session_state[keys.SETTINGS], at.session_state[keys.PUSH] = settings, True
        ok(at.run())
        for widget in shown_controls(at).values():
            seen.append(widget.label)
            seen += [str(o) for o in getattr(widget, "options", [])]
        seen += [e.label for e in at.expander] + [c.value for c in at.caption] + [t.label for t in at.get("tab")]
    offenders = sorted({text for text in seen if JARGON.search(text) or text.strip().lower() in ("k", "c")})
    assert offenders == []
    helps = " ".join(w.help or "" for w in shown_controls(at).values())
    assert all(name in helps for name in ("Otsu", "Sauvola", "CLAHE", "psm"))  # the technical names, in the help


def test_a_setting_a_link_applies_is_visible_on_the_page():
    at = tune(whitelist="0123456789", dpi="300", threshold="sauvola")
    changed = next(c.value for c in at.caption if c.value.startswith("Changed from the defaults"))
    assert "Only these characters: 0123456789" in changed and "Resolution: 300 dpi" in changed
    assert "Black & white: For stains and fading" in changed
    reading = next(e for e in at.expander if e.label == ocr.settings.GROUPS["reading"])
    assert reading.proto.expanded  # the group holding a changed setting is open
    assert at.text_input(key=keys.setting("whitelist")).value == "0123456789"
    assert ok(tune()).expander  # without the link, the reading group starts closed
    assert not next(e for e in tune().expander if e.label == ocr.settings.GROUPS["reading"]).proto.expanded


def test_pixel_sliders_step_so_every_step_shows_on_a_large_photo(media):
    big = draw_page(["A twelve megapixel photo of a page"] * 20, size=(4000, 3000), font_size=90)
    at = tune(("big.png", png(big)), threshold="adaptive_gaussian")
    block = at.slider(key=keys.setting("block_size"))
    factor = (1_000_000 / (4000 * 3000)) ** 0.5
    assert block.step * factor >= 1 and block.step % 2 == 0  # a step moves the preview; sizes stay odd
    assert "every step shows" in block.help
    pictures = [processed_image(at, media)]
    first = at.slider(key=keys.setting("block_size")).value  # 31 on the nearest step
    for _ in range(3):
        value = at.slider(key=keys.setting("block_size")).value
        ok(at.slider(key=keys.setting("block_size")).set_value(value + block.step).run())
        pictures.append(processed_image(at, media))
    assert at.session_state[keys.SETTINGS].block_size == first + 3 * block.step
    assert all(not np.array_equal(a, b) for a, b in itertools.pairwise(pictures))  # every step shows
    small = tune(threshold="adaptive_gaussian").slider(key=keys.setting("block_size"))
    assert small.step == 2  # a page the preview shows at full size keeps the spec's step


def viewers(at: AppTest) -> int:
    """How many processed pictures (viewers) the page shows."""
    return sum(e.proto.component_name == "ocr_workbench_viewer" for e in at.get("bidi_component"))


def processed_image(at: AppTest, media=None) -> np.ndarray:
    """The Tune page's processed picture: the data: address its viewer (a custom component) was given."""
    viewer = next(e for e in at.get("bidi_component") if e.proto.component_name == "ocr_workbench_viewer")
    data = base64.b64decode(json.loads(viewer.proto.json)["src"].split(",", 1)[1])
    return np.asarray(Image.open(io.BytesIO(data)))


def crop_chart(at: AppTest):
    """The Tune page's original picture: the chart a box is dragged on."""
    return next(c for c in charts(at) if list(c.proto.selection_mode) == ["crop"])


def charts(at: AppTest) -> list:
    """Every Altair/Vega-Lite chart shown."""
    return [*at.get("vega_lite_chart"), *at.get("arrow_vega_lite_chart")]


def original_image(at: AppTest) -> np.ndarray:
    """The picture inside the crop chart, as grey pixels."""
    proto = crop_chart(at).proto
    table = dataframe_util.convert_arrow_bytes_to_pandas_df((proto.datasets[0] if proto.datasets else proto).data.data)
    data = base64.b64decode(table["url"].iloc[0].split(",", 1)[1])
    return np.asarray(Image.open(io.BytesIO(data)).convert("L"))


def test_a_slider_move_changes_the_preview_and_the_link(media):
    at = tune()
    before = processed_image(at, media)
    assert len(np.unique(before)) > 2  # greys: nothing thresholds it yet
    ok(at.selectbox(key=keys.setting("threshold")).set_value("otsu").run())
    after = processed_image(at, media)
    assert set(np.unique(after)) <= {0, 255}
    assert at.session_state[keys.SETTINGS].threshold == "otsu"
    assert at.query_params["threshold"] == "otsu"
    ok(at.slider(key=keys.setting("scale")).set_value(0.5).run())
    smaller = processed_image(at, media)
    assert smaller.shape[1] == pytest.approx(before.shape[1] / 2, abs=2)
    assert at.session_state[keys.SETTINGS].scale == 0.5 and at.query_params["scale"] == "0.5"


def test_crop_frames_the_original_and_crops_the_processed_page(media):
    at = tune()
    ok(at.slider(key=keys.setting(keys.CROP_X)).set_value((10.0, 60.0)).run())
    ok(at.slider(key=keys.setting(keys.CROP_Y)).set_value((0.0, 50.0)).run())
    assert at.session_state[keys.SETTINGS].crop == (100, 0, 500, 200)
    assert at.query_params["crop"] == "100,0,500,200"
    assert processed_image(at, media).shape[:2] == (200, 500)
    original = original_image(at)
    assert original.shape == (400, 1000) and original[350, 900] < 120  # outside the crop is dimmed


def test_the_link_reproduces_the_settings_and_bad_values_are_reported():
    at = tune(threshold="otsu", deskew="1", psm="6", block_size="41")
    assert at.session_state[keys.SETTINGS] == Settings(threshold="otsu", deskew=True, block_size=41)
    assert at.session_state[keys.OPTIONS].psm == 6
    assert at.selectbox(key=keys.setting("threshold")).value == "otsu"
    assert at.toggle(key=keys.setting("deskew")).value is True
    assert at.selectbox(key=keys.setting("psm")).value == 6
    at = ok(start(threshold="sparkly", scale="2"))
    assert at.session_state[keys.SETTINGS] == Settings(scale=2.0)
    assert any("could not be used" in w.value for w in at.warning)
    assert any("'threshold' cannot be 'sparkly'" in t for t in texts(at))


def test_presets_download_load_and_reset(media):
    at = tune()
    ok(at.selectbox(key=keys.setting("threshold")).set_value("adaptive_gaussian").run())
    ok(at.slider(key=keys.setting("block_size")).set_value(51).run())
    preset = download(at, media, "Download these settings")
    assert media.mimetype(at.download_button(key=keys.PRESET_DOWNLOAD)) == MIME["json"]
    settings, options = ocr.parse_preset(preset)
    assert settings == Settings(threshold="adaptive_gaussian", block_size=51) and options == defaults.OPTIONS

    ok(at.button(key=keys.RESET).click().run())
    assert at.session_state[keys.SETTINGS] == Settings()
    assert at.selectbox(key=keys.setting("threshold")).value == "none" and set(at.query_params) == {"ws"}

    between = ocr.preset_json(Settings(scale=1.37, denoise="median", denoise_strength=5), ocr.Options(psm=11))
    ok(at.file_uploader(key=keys.PRESET_UPLOAD).set_value(("p.json", between.encode(), "application/json")).run())
    assert at.session_state[keys.SETTINGS] == Settings(scale=1.37, denoise="median", denoise_strength=5)
    assert at.slider(key=keys.setting("scale")).value == 1.37  # the slider shows the setting, off its steps
    assert at.selectbox(key=keys.setting("psm")).value == 11 and at.query_params["scale"] == "1.37"
    ok(at.slider(key=keys.setting("denoise_strength")).set_value(7).run())
    assert at.session_state[keys.SETTINGS].scale == 1.37 and at.session_state[keys.SETTINGS].denoise_strength == 7

    bad = ("bad.json", b'{"settings": {"colour": 1}}', "application/json")
    ok(at.file_uploader(key=keys.PRESET_UPLOAD).set_value(bad).run())
    assert any("settings file could not be loaded" in e.value for e in at.error)
    assert "unknown setting 'colour'." in texts(at)
    assert at.session_state[keys.SETTINGS].scale == 1.37


def test_page_chooser_switches_between_pages():
    at = tune(("a.png", GOOD), ("b.png", OTHER))
    shas = list(at.session_state[keys.FILES])
    picker = at.selectbox(key=keys.page_picker("tune"))
    assert picker.options == ["a.png", "b.png"]  # shown by name
    ok(picker.set_value(f"{shas[1]}:0").run())
    assert at.session_state[keys.CURRENT] == f"{shas[1]}:0"


# -- Extract -------------------------------------------------------------------------------------------


def extract(*files: tuple[str, bytes], settings: Settings | None = None, options: Options | None = None) -> AppTest:
    at = upload(start(), *(files or [("page.png", GOOD)]))
    if settings is not None:
        at.session_state[keys.SETTINGS] = settings
    if options is not None:
        at.session_state[keys.OPTIONS] = options
    go(at, nav.EXTRACT)
    return ok(at.button(key=keys.EXTRACT_ONE).click().run())


def test_extract_reads_the_page_and_shows_its_text(media):
    at = extract()
    key = first_key(at)
    result = at.session_state[keys.RESULTS][key]
    assert words_of(result.text)[:5] == words_of(SAMPLE_TEXT[0])
    assert at.text_area(key=keys.TEXT).value == result.text
    assert statuses(at) == ["Read 1 of 1 page"]  # the run's status, closed once done
    assert [m.label for m in at.metric][:3] == ["Mean confidence", "Words", "Time"]
    assert at.metric[1].value == str(result.word_count)
    words = next(d.value for d in at.dataframe if "conf" in d.value.columns)
    assert list(words["conf"]) == sorted(words["conf"])  # least sure first
    # the overlay: word boxes drawn in colour over the processed page
    overlay_image = np.asarray(Image.open(io.BytesIO(media(at.image[1]))).convert("RGB")).astype(int)
    assert (np.abs(overlay_image[..., 0] - overlay_image[..., 1]) > 40).any()
    ok(at.toggle(key=keys.BOXES).set_value(False).run())
    plain = np.asarray(Image.open(io.BytesIO(media(at.image[1]))))
    assert plain.ndim == 2


FRENCH = ["Qui sème le vent récolte la tempête, dit-on.", "À chaque jour suffit sa peine, même en été.",
          "L'habit ne fait pas le moine, répète mon frère."]


def test_extract_shows_the_language_found_and_the_page_stays_up_to_date():
    if "fra" not in ocr.languages():
        pytest.skip("Tesseract's French is not installed")
    at = extract(("french.png", png(draw_page(FRENCH, size=(1300, 300), font_size=36))))
    result = at.session_state[keys.RESULTS][first_key(at)]
    assert result.language == "fra" and result.options.lang == "fra+eng"
    assert "récolte" in result.text and "tempête" in result.text
    said = [c.value for c in at.caption if "Language found by itself" in c.value]
    assert len(said) == 1 and "French" in said[0] and "fra+eng" in said[0]
    assert result.asked == at.session_state[keys.OPTIONS]  # read with the settings shown: nothing to redo
    assert not any("settings have changed" in i.value for i in at.info)


def test_a_language_given_shows_no_language_found():
    at = extract(options=defaults.OPTIONS.replace(lang="eng"))
    assert not any("Language found by itself" in c.value for c in at.caption)


def test_downloads_carry_the_right_bytes(media):
    at = extract()
    result = at.session_state[keys.RESULTS][first_key(at)]
    labels = list(downloads(at))
    assert labels[0] == "Download text (.txt)"
    assert download(at, media, "Download text").decode() == result.text
    data = json.loads(download(at, media, ".json"))
    assert data["text"] == result.text and len(data["words"]) == result.word_count
    table = pd.read_csv(io.BytesIO(download(at, media, ".csv")))
    assert list(table["text"].astype(str)) == list(result.words["text"])
    assert b"ocrx_word" in download(at, media, ".hocr")
    assert download(at, media, "Searchable .pdf").startswith(b"%PDF")
    names = zipfile.ZipFile(io.BytesIO(download(at, media, "Everything"))).namelist()
    assert {"page.txt", "page.json", "page.csv", "page.hocr", "page.ocr.pdf"} <= set(names)
    for fmt in ("txt", "json", "csv", "hocr", "pdf", "zip"):  # each served as the type ocr.exports names
        assert media.mimetype(at.download_button(key=keys.download(fmt))) == MIME[fmt], fmt


def test_edited_text_is_downloaded_and_a_new_run_replaces_it(media):
    at = extract()
    key = first_key(at)
    ok(at.text_area(key=keys.TEXT).input("My corrected text").run())
    assert at.session_state[keys.EDITS][key] == "My corrected text"
    assert download(at, media, "Download text") == b"My corrected text"
    assert json.loads(download(at, media, ".json"))["text"] == "My corrected text"
    # the edit outlives a visit to another page
    go(at, nav.HISTORY)
    go(at, nav.EXTRACT)
    assert at.text_area(key=keys.TEXT).value == "My corrected text"
    # a new run shows its own text, not the old edit (a keyed text_area would keep it)
    at.session_state[keys.SETTINGS] = Settings(crop=(0, 0, 1000, 100))
    ok(at.run())
    assert any("settings have changed" in i.value for i in at.info)
    ok(at.button(key=keys.EXTRACT_ONE).click().run())
    # the person is asked first: keeping the edits reads nothing
    assert any("You edited the text of 1 page" in m.value for m in at.markdown)
    ok(at.button(key=keys.REPLACE_NO).click().run())
    assert at.text_area(key=keys.TEXT).value == "My corrected text" and len(at.session_state[keys.HISTORY]) == 1
    assert keys.REPLACE_YES not in [b.key for b in at.button]  # the question is closed
    ok(at.button(key=keys.EXTRACT_ONE).click().run())
    ok(at.button(key=keys.REPLACE_YES).click().run())
    new_text = at.session_state[keys.RESULTS][key].text
    assert at.text_area(key=keys.TEXT).value == new_text != "My corrected text"
    assert words_of(new_text)[:2] == ["the", "quick"] and "lazy" not in words_of(new_text)
    # the edits are kept in the history as a version of their own, before the new reading
    kinds = [(r.kind, r.text) for r in at.session_state[keys.HISTORY]]
    assert [k for k, _ in kinds] == ["read", "edited", "read"] and kinds[1][1] == "My corrected text"


def test_a_page_that_fails_gets_its_sentence_and_the_others_are_read():
    wide = png(draw_page(size=(1400, 400)))
    at = upload(start(), ("small.png", OTHER), ("wide.png", wide))
    at.session_state[keys.SETTINGS] = Settings(crop=(900, 0, 400, 200))  # outside the small page only
    go(at, nav.EXTRACT)
    settle(ok(at.button(key=keys.EXTRACT_ALL).click().run()))
    sentence = [t for t in texts(at) if "small.png: the crop (900, 0, 400, 200) lies outside" in t]
    assert len(sentence) == 1  # said once, not in the run's status and again below it
    assert [e.value for e in at.error] == ["1 page could not be read. The other pages were read."]
    results = at.session_state[keys.RESULTS]
    assert len(results) == 1 and next(iter(results.values())).name == "wide.png"
    rows = at.session_state[keys.BATCH]
    assert [r["status"] for r in rows] == ["failed", "read"]


def test_extract_all_reads_on_the_cluster_ocr_scheduler_names(monkeypatch):
    """With OCR_SCHEDULER set, "Extract all" hands the pages to ocr.read_chosen as their files' bytes and
    page numbers, with the same progress (the cluster itself is tests/test_cluster.py's)."""
    calls = []
    real = ocr.read_chosen

    def spy(chosen, settings, options, *, engine, progress, scheduler):
        calls.append((chosen, scheduler))
        return real(chosen, settings, options, engine=engine, progress=progress, scheduler="")  # read here

    monkeypatch.setenv("OCR_SCHEDULER", "tcp://cluster.example:8786")
    monkeypatch.setattr(ocr, "read_chosen", spy)
    at = upload(start(), ("a.png", GOOD), ("b.png", OTHER))
    settle(ok(at.button(key=keys.GO_EXTRACT).click().run()))
    assert {scheduler for _, scheduler in calls} == {"tcp://cluster.example:8786"}  # a job per file
    chosen = sorted(page for pages, _ in calls for page in pages)
    assert [(name, index) for name, _, index in chosen] == [("a.png", 0), ("b.png", 0)]
    assert [data for _, data, _ in chosen] == [GOOD, OTHER]
    results = at.session_state[keys.RESULTS]
    assert sorted(r.name for r in results.values()) == ["a.png", "b.png"]
    assert any("on the cluster at tcp://cluster.example:8786" in c.value for c in at.caption)


def test_extract_from_upload_reads_every_page():
    at = upload(start(), ("a.png", GOOD), ("b.png", OTHER))
    settle(ok(at.button(key=keys.GO_EXTRACT).click().run()))
    assert len(at.session_state[keys.RESULTS]) == 2
    assert at.title[0].value == "Extract the text"


def accuracy_panel(at: AppTest):
    return next(e for e in at.expander if e.label.startswith("Check the accuracy"))


def test_accuracy_against_the_true_text():
    at = extract(("a.png", GOOD), ("b.png", OTHER))
    key = first_key(at)
    assert not accuracy_panel(at).proto.expanded
    truth = "\n".join(SAMPLE_TEXT)
    ok(at.text_area(key=keys.truth(key)).input(truth).run())
    cer = next(m for m in at.metric if m.label.startswith("Character error rate"))
    assert cer.value.endswith("%") and float(cer.value[:-1]) < 10
    assert accuracy_panel(at).proto.expanded  # stays open once it has a true text
    # the true text stays with its page: another page has none, and coming back finds it
    other = [k for k in at.session_state[keys.FILES]][1] + ":0"
    ok(at.selectbox(key=keys.page_picker("extract")).set_value(other).run())
    go(at, nav.HISTORY)
    go(at, nav.EXTRACT)
    assert at.session_state[keys.CURRENT] == other
    ok(at.selectbox(key=keys.page_picker("extract")).set_value(key).run())
    assert at.text_area(key=keys.truth(key)).value == truth and accuracy_panel(at).proto.expanded


def test_a_dev_photo_is_read():
    path = next(p for p in sorted(DEV.glob("*.jpg")) if p.name.startswith("lept_lucasta"))
    at = extract((path.name, path.read_bytes()))
    truth = path.with_suffix(".gt.txt").read_text()
    assert ocr.metrics.cer(truth, at.session_state[keys.RESULTS][first_key(at)].text) < 0.05


def test_refused_pages_are_one_compact_list():
    pages = [png(draw_page([f"Page {n}"], size=(300, 120))) for n in range(12)]
    at = upload(start(), *((f"p{n}.png", data) for n, data in enumerate(pages)))
    at.session_state[keys.SETTINGS] = Settings(crop=(400, 0, 50, 50))  # outside every page
    go(at, nav.EXTRACT)
    settle(ok(at.button(key=keys.EXTRACT_ALL).click().run()))
    assert [e.value for e in at.error] == ["12 pages could not be read."]  # one box, not twelve
    listing = [t for t in texts(at) if t.startswith("p0.png: ")]
    assert len(listing) == 1 and listing[0].count("\n") == 11  # one line per page, in one list
    assert statuses(at) == ["Read 0 of 12 pages; 12 could not be read"]


def test_a_page_whose_new_reading_failed_is_marked_and_left_out_of_the_zip(media):
    at = extract(("a.png", GOOD), ("b.png", OTHER))
    settle(ok(at.button(key=keys.EXTRACT_ALL).click().run()))
    other = list(at.session_state[keys.FILES])[1] + ":0"
    at.session_state[keys.SETTINGS] = Settings(crop=(800, 300, 100, 50))  # outside b.png only (700x250)
    at.session_state[keys.CURRENT] = other
    ok(at.run())
    ok(at.button(key=keys.EXTRACT_ONE).click().run())
    assert at.session_state[keys.RESULTS][other].text  # the old text is still there...
    assert any("last reading of this page failed" in w.value for w in at.warning)  # ...marked as old
    names = zipfile.ZipFile(io.BytesIO(download(at, media, "Everything"))).namelist()
    assert "a.txt" in names and not any(n.startswith("b.") for n in names)  # no stale text in the .zip
    assert any("leaves out 1 page whose last reading failed" in c.value for c in at.caption)


def test_a_zip_of_pages_read_with_different_settings_says_which(media):
    at = extract(("a.png", GOOD), ("b.png", OTHER))
    other = list(at.session_state[keys.FILES])[1] + ":0"
    at.session_state[keys.SETTINGS] = Settings(threshold="otsu")
    at.session_state[keys.CURRENT] = other
    ok(at.run())
    ok(at.button(key=keys.EXTRACT_ONE).click().run())
    archive = zipfile.ZipFile(io.BytesIO(download(at, media, "Everything")))
    said = archive.read("settings.txt").decode().splitlines()
    assert said == ["a.png: plain", "b.png: black & white: level found for the page"]
    assert any("read with different settings" in c.value for c in at.caption)


def test_a_turned_page_is_read_upright_with_the_default_settings():
    lines = ["Pages turned on their side are read", "the right way up without a single click",
             "because the orientation of the text", "is found before the page is read"]
    turned = draw_page(lines, size=(1300, 360), font_size=36).rotate(90, expand=True)
    at = extract(("turned.png", png(turned)))
    text = at.session_state[keys.RESULTS][first_key(at)].text
    assert {"pages", "turned", "right", "single"} <= set(words_of(text))
    go(at, nav.TUNE)
    assert at.toggle(key=keys.setting("auto_orient")).value is True


def test_a_page_that_reads_as_nonsense_says_what_to_try():
    upside_down = draw_page(["A page lying upside down", "reads as nonsense when", "nothing turns it round"],
                            size=(1000, 400)).rotate(180)
    # Tesseract alone (PP-OCR turns an upside-down page round itself)
    at = extract(("upside.png", png(upside_down)), settings=Settings(auto_orient=False),
                 options=Options(engine="tesseract"))
    advice = [w.value for w in at.warning if "looks like nonsense" in w.value]
    assert len(advice) == 1 and "Turn upright automatically" in advice[0] and "Auto-tune" in advice[0]
    at.session_state[keys.SETTINGS] = Settings(rotate=180, auto_orient=False)
    ok(at.run())
    ok(at.button(key=keys.EXTRACT_ONE).click().run())
    assert not any("looks like nonsense" in w.value for w in at.warning)


def test_the_hocr_download_names_the_uploaded_file(media):
    at = extract(("my scan.png", GOOD))
    hocr = download(at, media, ".hocr").decode()
    assert "/tmp/" not in hocr and "ocr-worker" not in hocr
    assert "my scan.png" in hocr


def test_compare_engines_side_by_side_and_keep_either():
    at = extract()
    key = first_key(at)
    ok(at.button(key=keys.COMPARE_RUN).click().run(timeout=240))
    found = at.session_state[keys.COMPARE][key]
    assert {name: r.engine for name, r in found.items()} == {"tesseract": "tesseract", "ppocr": "ppocr"}
    shown = [t for t in texts(at) if t.startswith(("Tesseract: score", "PP-OCR: score"))]
    assert len(shown) == 2
    diffs = [c for c in at.code if c.language == "diff"]
    assert len(diffs) == 2 and all("quick" in c.value for c in diffs)
    ok(at.button(key=keys.keep_reading("ppocr")).click().run())
    kept = at.session_state[keys.RESULTS][key]
    # read with the settings shown, so counted as read with them; the result names the engine that read it
    assert kept.engine == "ppocr" and at.session_state[keys.HISTORY][-1].options == at.session_state[keys.OPTIONS]
    assert at.text_area(key=keys.TEXT).value == kept.text


# -- History -------------------------------------------------------------------------------------------


def test_history_labels_runs_by_what_differs_and_each_page_has_its_own_time(monkeypatch):
    ticks = iter(range(10**6))
    monkeypatch.setattr(history, "clock", lambda: 1_700_000_000 + next(ticks))  # each call a second later
    at = extract(("a.png", GOOD), ("b.png", OTHER))
    settle(ok(at.button(key=keys.EXTRACT_ALL).click().run()))
    at.session_state[keys.OPTIONS] = defaults.OPTIONS.replace(psm=6)
    ok(at.button(key=keys.EXTRACT_ONE).click().run())
    at.session_state[keys.OPTIONS] = defaults.OPTIONS.replace(whitelist="abcdefghijklmnopqrstuvwxyz ")
    ok(at.button(key=keys.EXTRACT_ONE).click().run())
    runs = at.session_state[keys.HISTORY]
    batch = [r for r in runs[1:3]]
    assert batch[0].time != batch[1].time  # each page of a batch its own time
    labels = [r.describe() for r in runs]
    assert labels[:3] == ["plain"] * 3
    assert labels[3] == "plain · one block of text"
    assert labels[4] == "plain · only abcdefghijklmnopqrstuvwxyz "
    go(at, nav.HISTORY)
    assert list(at.dataframe[0].value["settings"])[3:] == labels[3:]




def test_history_lists_runs_compares_two_and_restores_one():
    at = extract()
    at.session_state[keys.SETTINGS] = Settings(threshold="otsu", scale=1.5)
    ok(at.button(key=keys.EXTRACT_ONE).click().run())
    go(at, nav.HISTORY)
    table = at.dataframe[0].value
    assert list(table["run"]) == [1, 2]
    assert list(table["settings"]) == ["plain", "×1.5, black & white: level found for the page"]
    assert at.selectbox(key=keys.RUN_A).value == 1 and at.selectbox(key=keys.RUN_B).value == 2
    differences = at.dataframe[1].value
    assert set(differences["setting"]) == {Settings.spec("scale").label, Settings.spec("threshold").label}
    assert len(at.code) == 2 and all(c.language == "diff" for c in at.code)
    runs = at.session_state[keys.HISTORY]  # typed records, not dicts
    assert all(isinstance(r, history.Run) for r in runs) and [r.number for r in runs] == [1, 2]
    latest = at.session_state[keys.RESULTS][runs[1].page]
    assert (runs[1].settings, runs[1].text, runs[1].words) == (latest.settings, latest.text, latest.word_count)
    ok(at.button(key=keys.restore("b")).click().run())
    assert at.title[0].value == "Tune the clean-up"
    assert at.session_state[keys.SETTINGS] == Settings(threshold="otsu", scale=1.5)
    assert at.selectbox(key=keys.setting("threshold")).value == "otsu"
    assert at.slider(key=keys.setting("scale")).value == 1.5


# -- Auto-tune -----------------------------------------------------------------------------------------


TRACE_COLUMNS = ["candidate", "stage", "settings", "psm", "score", "seconds", "chosen"]


def check_tuning(answer, progress: list[tuple[float, str, int]], caller: int) -> None:
    """The contract of ocr.autotune that the app codes against (as tests/test_autotune.py states it):
    a Tuning of settings, options and a trace, one chosen row that names the answer, progress only from
    the calling thread, rising to 1. The fake below and a real run both pass."""
    assert isinstance(answer, ocr.Tuning)
    settings, options, trace = answer.settings, answer.options, answer.trace
    assert isinstance(settings, Settings) and isinstance(options, Options)
    assert isinstance(trace, pd.DataFrame) and set(TRACE_COLUMNS) <= set(trace.columns)
    assert trace["chosen"].dtype == bool and trace["chosen"].sum() == 1 and trace["psm"].dtype.kind == "i"
    assert trace["candidate"].tolist() == list(range(len(trace)))
    assert trace["stage"].iloc[0] == "plain" and trace["settings"].iloc[0] == "plain"
    row = trace[trace["chosen"]].iloc[0]
    assert row["settings"] == settings.describe() and row["psm"] == options.psm
    assert progress and all(thread == caller for _, _, thread in progress)
    fractions = [f for f, _, _ in progress]
    assert all(0 <= f <= 1 for f in fractions) and fractions == sorted(fractions) and fractions[-1] == 1.0
    assert all(isinstance(message, str) and message for _, message, _ in progress)


def recorded(autotune, answers: list):
    """``autotune`` with each call's answer, progress calls and calling thread kept in ``answers``."""

    def spy(page, **kwargs):
        calls: list[tuple[float, str, int]] = []
        shown = kwargs["progress"]

        def progress(fraction: float, message: str) -> None:
            calls.append((fraction, message, threading.get_ident()))
            shown(fraction, message)

        answer = autotune(page, **{**kwargs, "progress": progress})
        answers.append((page, kwargs, answer, calls, threading.get_ident()))
        return answer

    return spy


def fake_autotune(page, *, progress, options, engine, stop=None, limit_s=None):
    """A quick stand-in for ocr.autotune: three candidates, the last chosen."""
    tried = [(Settings(), 3), (Settings(threshold="otsu"), 3), (Settings(threshold="otsu", deskew=True), 6)]
    for n in range(len(tried)):
        progress((n + 1) / len(tried), f"candidate {n + 1} of {len(tried)}")
    trace = pd.DataFrame({
        "candidate": [0, 1, 2], "stage": ["plain", "threshold", "psm"],
        "settings": [s.describe() for s, _ in tried], "psm": [psm for _, psm in tried],
        "score": [0.5, 0.7, 0.9], "seconds": [0.1, 0.1, 0.1], "chosen": [False, False, True],
    })
    return ocr.Tuning(tried[-1][0], options.replace(psm=tried[-1][1]), trace)


def tuned(at: AppTest, timeout: float = 180) -> AppTest:
    """Wait for the auto-tune job's thread to end, then run the page (which applies the answer; a run
    may have applied it already when the job ended quickly)."""
    if keys.TUNING not in at.session_state:
        return at
    job = at.session_state[keys.TUNING]
    job.thread.join(timeout)
    assert not job.thread.is_alive(), "auto-tune did not end"
    return ok(at.run())


def test_auto_tune_moves_the_sliders_and_shows_the_candidates(monkeypatch):
    answers = []
    monkeypatch.setattr(ocr, "autotune", recorded(fake_autotune, answers))
    at = tune()
    button = at.button(key=keys.AUTO_TUNE)
    assert not button.disabled
    tuned(ok(button.click().run()))
    page, kwargs, answer, progress, caller = answers[0]
    check_tuning(answer, progress, caller)
    assert kwargs["options"] == defaults.OPTIONS and kwargs["stop"] is not None and kwargs["limit_s"] > 0
    assert isinstance(kwargs["engine"], ocr.Engine) and isinstance(page, ocr.Page)
    assert at.session_state[keys.SETTINGS] == Settings(threshold="otsu", deskew=True)
    assert at.selectbox(key=keys.setting("threshold")).value == "otsu" and at.toggle(key=keys.setting("deskew")).value
    assert at.selectbox(key=keys.setting("psm")).value == 6 and at.query_params["psm"] == "6"
    trace = next(d.value for d in at.dataframe if "candidate" in d.value.columns)
    assert list(trace["score"]) == [0.5, 0.7, 0.9]
    assert list(trace["page layout"]) == ["Automatic", "Automatic", "One block of text"] and "psm" not in trace
    # the chart marks the chosen candidate in the highlight colour, the others grey
    spec = json.loads(next(c for c in charts(at) if not list(c.proto.selection_mode)).proto.spec)
    scale = spec["encoding"]["color"]["scale"]
    assert dict(zip(scale["domain"], scale["range"])) == {"chosen": "#2563eb", "tried": "#9aa5b1"}
    theme = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["theme"]
    assert theme["light"]["primaryColor"] == theme["dark"]["primaryColor"] == "#2563eb"
    # with a crop chosen, auto-tune looks at that region only
    ok(at.slider(key=keys.setting(keys.CROP_X)).set_value((0.0, 50.0)).run())
    tuned(ok(at.button(key=keys.AUTO_TUNE).click().run()))
    region = answers[-1][0]
    assert isinstance(region, ocr.Processed) and region.image.shape[:2] == (400, 500)


def test_auto_tune_speaks_plainly_keeps_the_page_on_screen_and_can_be_cancelled(monkeypatch):
    started = threading.Event()

    def slow(page, *, progress, options, engine, stop=None, limit_s=None):
        progress(0.3, "trying larger print: 2 of 6")
        started.set()
        stop.wait(60)  # until Cancel is pressed
        trace = pd.DataFrame({"candidate": [0], "stage": ["plain"], "settings": ["otsu"], "psm": [3],
                              "score": [0.4], "seconds": [0.1], "chosen": [True]})
        return ocr.Tuning(Settings(threshold="otsu"), options, trace, cut_short=stop.is_set())

    monkeypatch.setattr(ocr, "autotune", slow)
    at = ok(tune().button(key=keys.AUTO_TUNE).click().run())
    assert started.wait(30)
    ok(at.run())
    bars = at.get("progress")
    assert [b.proto.text for b in bars] == ["Auto-tune on page.png: trying larger print: 2 of 6"]
    assert at.button(key=keys.AUTO_TUNE).disabled
    threshold = at.selectbox(key=keys.setting("threshold"))  # the controls stay on the page, still
    assert threshold.disabled and viewers(at) == 1
    ok(at.button(key=keys.CANCEL_TUNE).click().run())
    tuned(at, timeout=30)
    assert at.session_state[keys.SETTINGS] == Settings(threshold="otsu")
    assert any("stopped before it had tried everything" in w.value for w in at.warning)
    assert not at.get("progress") and not at.selectbox(key=keys.setting("threshold")).disabled


def test_auto_tune_with_the_real_function(monkeypatch):
    """The real ocr.autotune on a real page: its answer keeps the contract the fake keeps, and the
    controls move to it."""
    answers = []
    monkeypatch.setattr(ocr, "autotune", recorded(ocr.autotune, answers))
    at = tune(("lucasta.jpg", (DEV / "lept_lucasta_frag.jpg").read_bytes()))
    tuned(ok(at.button(key=keys.AUTO_TUNE).click().run()))
    _, _, answer, progress, caller = answers[0]
    check_tuning(answer, progress, caller)
    settings, options = answer.settings, answer.options
    assert at.session_state[keys.SETTINGS] == settings and at.session_state[keys.OPTIONS] == options
    assert at.selectbox(key=keys.setting("threshold")).value == settings.threshold
    assert any("candidate" in d.value.columns for d in at.dataframe)
    assert not any("psm" in message for _, message, _ in progress)  # plain words while it runs


# -- Pages each session owns, previews that fail once ---------------------------------------------------


def test_each_session_decodes_its_own_pages(monkeypatch):
    """Two sessions open the same file: neither is handed the other's page objects (pages are mutable:
    a PDF page is drawn on first use)."""
    real = ocr.load
    loaded: list[list[ocr.Page]] = []

    def recording(*args, **kwargs):
        pages = real(*args, **kwargs)
        loaded.append(pages)
        return pages

    monkeypatch.setattr(ocr, "load", recording)
    data = png(draw_page(["Opened by two people at once"]))
    sessions = [go(upload(start(), ("shared.png", data)), nav.TUNE) for _ in range(2)]
    assert len(loaded) >= 2 and len({id(p) for pages in loaded for p in pages}) == sum(map(len, loaded))
    held = [at.session_state[keys.DECODED] for at in sessions]
    assert [p.name for pages in held[0].values() for p in pages] == ["shared.png"]
    mine, theirs = ({id(p) for pages in h.values() for p in pages} for h in held)
    assert mine and theirs and not mine & theirs


def test_a_session_keeps_the_pages_of_one_file_between_runs():
    pages = [png(draw_page([f"File number {n}"], size=(500, 200))) for n in range(files.MAX_DECODED + 2)]
    at = upload(start(), *((f"f{n}.png", data) for n, data in enumerate(pages)))
    assert len(at.session_state[keys.DECODED]) <= 1
    first = f"{next(iter(at.session_state[keys.FILES]))}:0"
    at.session_state[keys.CURRENT] = first  # a file whose pages were let go is opened again when shown
    go(at, nav.TUNE)
    assert viewers(at) == 1 and list(at.session_state[keys.DECODED]) == [first.split(":")[0]]


def test_a_session_holds_one_pages_pixels_and_no_pdfs_between_runs(media):
    """Issue 15, item 2: what a session keeps does not grow with the batch. Between runs it holds the
    pixels of the page on screen only, its results without their PDFs (those stay on disk until
    downloaded), and the shared picture caches hold encoded pictures, never a page's pixels."""
    pages = [png(draw_page([f"Page number {n} of the batch"], size=(900, 300))) for n in range(6)]
    at = upload(start(), *((f"p{n}.png", data) for n, data in enumerate(pages)))
    go(at, nav.EXTRACT)
    settle(ok(at.button(key=keys.EXTRACT_ALL).click().run()))
    assert len(at.session_state[keys.RESULTS]) == 6
    held = [f"{sha}:{p.index}" for sha, kept in at.session_state[keys.DECODED].items() for p in kept if p.held]
    assert held in ([], [at.session_state[keys.CURRENT]])
    assert all(r.origin is not None and r.origin.data is None and r.origin.page is None
               for r in at.session_state[keys.RESULTS].values())  # no file's bytes, no page's pixels
    assert download(at, media, "Searchable .pdf").startswith(b"%PDF")  # read from disk on the click
    kinds = {f.name: f.type for f in dataclasses.fields(preview.Preview)}
    assert "ndarray" not in " ".join(map(str, kinds.values()))  # the cached previews hold bytes only


def test_a_preview_that_fails_once_is_made_again_on_the_next_run(monkeypatch):
    real = ocr.preprocess
    failed = []

    def flaky(*args, **kwargs):
        if not failed:
            failed.append(True)
            raise ocr.EngineTimeoutError("orientation detection took longer than 5 s (test).")
        return real(*args, **kwargs)

    monkeypatch.setattr(ocr, "preprocess", flaky)
    at = tune(("flaky.png", png(draw_page(["A page whose preview fails once"]))))
    assert failed and any("cannot be applied" in e.value for e in at.error)
    assert "orientation detection took longer than 5 s (test)." in texts(at)
    ok(at.run())
    assert not at.error and viewers(at) == 1


# -- Notes from the decoder -----------------------------------------------------------------------------


def test_the_decoders_notes_are_shown_on_upload_and_extract():
    frames = [draw_page([f"Frame {n} of an animation"]).convert("P") for n in (1, 2)]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:])
    at = upload(start(), ("moving.gif", buffer.getvalue()))
    notes = ocr.load(buffer.getvalue(), "moving.gif")
    assert notes[0].notes and notes[1].notes  # what ocr.load says of each frame
    shown = texts(at)
    assert all(any(note in t for t in shown) for page in notes for note in page.notes)
    go(at, nav.EXTRACT)
    shown = texts(at)
    assert any(notes[0].notes[0] in t for t in shown)


# -- Keys ------------------------------------------------------------------------------------------------


def from_keys(node: ast.expr) -> bool:
    """``keys.NAME`` or ``keys.name(...)``."""
    value = node.func if isinstance(node, ast.Call) else node
    return isinstance(value, ast.Attribute) and getattr(value.value, "id", "") == "keys"


def test_every_key_in_the_app_is_named_in_the_keys_module():
    """No page or module spells a widget or button key as a string: each comes from workbench.keys
    (directly, or through a local name given a key from there)."""
    for path in sorted((ROOT / "workbench").rglob("*.py")):
        if path.name == "keys.py":
            continue
        tree = ast.parse(path.read_text())
        named = {target.id for node in ast.walk(tree) if isinstance(node, ast.Assign) and from_keys(node.value)
                 for target in node.targets if isinstance(target, ast.Name)}
        for node in ast.walk(tree):
            if isinstance(node, ast.keyword) and node.arg == "key":
                assert from_keys(node.value) or getattr(node.value, "id", "") in named, (
                    f"{path.relative_to(ROOT)}:{node.value.lineno} builds a key outside workbench.keys")


# -- Starting the app -------------------------------------------------------------------------------------


def test_the_package_app_runs_as_the_entry_file():
    """`ocr-workbench` runs workbench/app.py itself: the pages are found from there too."""
    at = AppTest.from_file(str(launch.APP), default_timeout=TIMEOUT).run()
    assert ok(at).title[0].value == "Get the text out of a photo or scan"
    at = upload(at, ("page.png", GOOD))
    assert go(at, nav.TUNE).title[0].value == "Tune the clean-up" and viewers(at) == 1


def test_the_launcher_passes_the_projects_streamlit_options():
    command = launch.command(["--server.port", "8600"])
    assert command[:2] == ["run", str(ROOT / "workbench" / "app.py")] and command[-2:] == ["--server.port", "8600"]
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())

    def flatten(table: dict, prefix: str = "") -> dict[str, str]:  # [theme.light] is a table in a table
        out = {}
        for name, value in table.items():
            if isinstance(value, dict):
                out.update(flatten(value, f"{prefix}{name}."))
            else:
                out[f"{prefix}{name}"] = str(value).lower() if isinstance(value, bool) else str(value)
        return out

    flat = flatten(config)
    assert dict(flag.removeprefix("--").split("=", 1) for flag in command[2:-2]) == flat


def test_ocr_workbench_serves_from_any_folder(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tmp_path / "server.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with open(log, "wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "workbench.launch", "--server.headless", "true", "--server.port", str(port),
             "--server.address", "127.0.0.1"],
            cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for_health(f"http://127.0.0.1:{port}", server, 60, "ocr-workbench", [log])
    finally:
        stop(server)
    assert "Traceback" not in log.read_text()


def test_the_tune_page_hides_options_no_chosen_engine_understands():
    claimed = {field for info in ocr.registry.engines() for field in info.options}
    assert claimed  # Tesseract's page layout, character lists ...
    for engine in ocr.registry.CHOICES:
        shown = {key.removeprefix(keys.setting("")) for key in shown_controls(tune(engine=engine))}
        for field in claimed:
            wanted = ocr.registry.understands(field, engine)
            assert (field in shown) == wanted, (engine, field, wanted)
        assert "engine" in shown

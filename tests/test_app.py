"""The app, page by page, through Streamlit's AppTest: what is shown, what each control does, and what
each download carries."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1 import app_test as app_test_module

import ocr
from ocr.settings import Settings

from .conftest import DEV, ROOT, SAMPLE_TEXT, draw_page, words_of

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

    def fetch(element) -> bytes:
        proto = element.proto
        manager = managers[-1]
        if hasattr(proto, "deferred_file_id") and proto.deferred_file_id:
            url = manager.execute_deferred(proto.deferred_file_id)
        else:
            url = proto.url if hasattr(proto, "url") else proto.imgs[0].url
        return manager._storage.get_file(url.rsplit("/", 1)[1]).content

    return fetch


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


def downloads(at: AppTest) -> dict[str, object]:
    return {d.label: d for d in at.download_button}


def first_key(at: AppTest) -> str:
    return at.session_state["current"]


def download(at: AppTest, media, label_start: str) -> bytes:
    button = next(d for label, d in downloads(at).items() if label.startswith(label_start))
    return media(button)


# -- Upload --------------------------------------------------------------------------------------------


def test_upload_page_offers_files_camera_and_samples():
    at = ok(start())
    assert at.file_uploader[0].accept_multiple_files
    assert at.file_uploader[0].allowed_type == []  # formats are told from the bytes, not the name
    assert at.toggle(key="w_camera_on").value is False
    samples = [b.label for b in at.button if b.key and b.key.startswith("sample_")]
    assert len(samples) == 3
    assert any("Nothing is open yet" in i.value for i in at.info)


def test_each_refused_file_gets_its_own_sentence_and_the_good_ones_open():
    hostile = "![pic](http://example.com/x.png) notes.png"
    huge = png(Image.new("1", (9_500, 9_000), 1))  # 85.5 megapixels, a few kilobytes
    at = upload(ok(start()), ("page.png", GOOD), ("notes.txt", b"just some text, not an image"),
                ("empty.jpg", b""), (hostile, b"\x89PNG\r\n\x1a\n broken"), ("misnamed.pdf", OTHER), ("huge.png", huge))
    shown = texts(at)
    assert any(t.startswith("notes.txt: not an image or PDF") for t in shown)
    assert "empty.jpg: the file is empty (0 bytes)." in shown
    assert any(t.startswith(hostile + ": ") for t in shown)
    assert any(t.startswith("huge.png: the image is 9500x9000 pixels") for t in shown)
    assert len(at.error) == 4
    assert "example.com" not in markdown_everywhere(at)  # names never go through Markdown
    names = [e.name for e in at.session_state["files"].values()]
    assert names == ["page.png", "misnamed.pdf"]  # a PNG named .pdf is still a PNG
    assert len(at.image) == 2 and "page.png" in shown and "misnamed.pdf" in shown
    assert any("PNG · " in c.value and "1 page" in c.value and "1000×400" in c.value for c in at.caption)
    assert at.button(key="go_extract").label == "Extract text from 2 pages"
    # the drop zone is empty again, ready for more; the same file twice is refused with its reason
    at = upload(at, ("again.png", GOOD))
    assert "again.png: it is already open as page.png." in texts(at)


def test_remove_a_file():
    at = upload(ok(start()), ("a.png", GOOD), ("b.png", OTHER))
    sha = next(iter(at.session_state["files"]))
    ok(at.button(key=f"remove_{sha}").click().run())
    assert [e.name for e in at.session_state["files"].values()] == ["b.png"]
    assert at.session_state["current"].split(":")[0] != sha


def test_a_multipage_pdf_counts_its_pages():
    images = [draw_page(), draw_page(["Second page here"], size=(1000, 400))]
    buffer = io.BytesIO()
    images[0].convert("RGB").save(buffer, format="PDF", save_all=True, append_images=[images[1].convert("RGB")], resolution=150)
    at = upload(ok(start()), ("two.pdf", buffer.getvalue()))
    entry = next(iter(at.session_state["files"].values()))
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
    sha = next(iter(at.session_state["files"]))
    ok(at.switch_page("pages/extract.py").run())
    ok(at.button(key="extract_all").click().run())
    assert "half.pdf (page 2 of 2): the page cannot be rasterised (test)." in texts(at)
    assert list(at.session_state["results"]) == [f"{sha}:0"]
    assert "first" in words_of(at.session_state["results"][f"{sha}:0"].text)
    at.session_state["current"] = f"{sha}:1"
    ok(at.switch_page("pages/tune.py").run())
    assert any("cannot be shown" in e.value for e in at.error) and not at.slider


def test_camera_photo_and_sample_open():
    at = ok(start())
    ok(at.toggle(key="w_camera_on").set_value(True).run())
    photo = io.BytesIO()
    draw_page().convert("RGB").save(photo, format="JPEG")
    ok(at.camera_input[0].set_value(("photo.jpg", photo.getvalue(), "image/jpeg")).run())
    names = [e.name for e in at.session_state["files"].values()]
    assert len(names) == 1 and names[0].startswith("camera-") and names[0].endswith(".jpg")
    ok(at.button(key="sample_receipt").click().run())
    receipt = [e for e in at.session_state["files"].values() if e.name == "receipt.jpg"]
    assert receipt and "TOTAL" in receipt[0].truth


def test_samples_are_small_real_images():
    samples = sorted((ROOT / "samples").glob("*.[jp][pn]g"))
    assert 2 <= len(samples) <= 3
    for path in samples:
        assert path.stat().st_size < 200_000
        assert ocr.load(path)[0].size[0] >= 400
        assert path.with_suffix(".gt.txt").read_text().strip()


# -- Tune ----------------------------------------------------------------------------------------------


def tune(*files: tuple[str, bytes], **query) -> AppTest:
    at = upload(start(**query), *(files or [("page.png", GOOD)]))
    return ok(at.switch_page("pages/tune.py").run())


def shown_keys(at: AppTest) -> set[str]:
    kinds = [at.slider, at.toggle, at.selectbox, at.get("button_group")]
    return {w.key for kind in kinds for w in kind if w.key}


def test_every_setting_has_a_control():
    at = tune()
    seen = shown_keys(at)
    for everything in (Settings(deskew=True, background="blur", denoise="median", clahe=True, threshold="sauvola",
                                morphology="open"),
                       Settings(threshold="fixed"), Settings(threshold="adaptive_mean")):
        at.session_state["settings"], at.session_state["push"] = everything, True
        seen |= shown_keys(ok(at.run()))
    fields = {f for f in Settings().to_dict() if f != "crop"} | {"crop_x", "crop_y", "psm", "lang"}
    assert {f"w_set_{f}" for f in fields} <= seen


def processed_image(at: AppTest, media) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(media(at.image[1]))))


def test_a_slider_move_changes_the_preview_and_the_link(media):
    at = tune()
    before = processed_image(at, media)
    assert len(np.unique(before)) > 2  # greys: nothing thresholds it yet
    ok(at.selectbox(key="w_set_threshold").set_value("otsu").run())
    after = processed_image(at, media)
    assert set(np.unique(after)) <= {0, 255}
    assert at.session_state["settings"].threshold == "otsu"
    assert at.query_params["threshold"] == "otsu"
    ok(at.slider(key="w_set_scale").set_value(0.5).run())
    smaller = processed_image(at, media)
    assert smaller.shape[1] == pytest.approx(before.shape[1] / 2, abs=2)
    assert at.session_state["settings"].scale == 0.5 and at.query_params["scale"] == "0.5"


def test_crop_frames_the_original_and_crops_the_processed_page(media):
    at = tune()
    ok(at.slider(key="w_set_crop_x").set_value((10.0, 60.0)).run())
    ok(at.slider(key="w_set_crop_y").set_value((0.0, 50.0)).run())
    assert at.session_state["settings"].crop == (100, 0, 500, 200)
    assert at.query_params["crop"] == "100,0,500,200"
    assert processed_image(at, media).shape[:2] == (200, 500)
    original = np.asarray(Image.open(io.BytesIO(media(at.image[0]))).convert("L"))
    assert original.shape == (400, 1000) and original[350, 900] < 120  # outside the crop is dimmed


def test_the_link_reproduces_the_settings_and_bad_values_are_reported():
    at = tune(threshold="otsu", deskew="1", psm="6", block_size="41")
    assert at.session_state["settings"] == Settings(threshold="otsu", deskew=True, block_size=41)
    assert at.session_state["options"].psm == 6
    assert at.selectbox(key="w_set_threshold").value == "otsu" and at.toggle(key="w_set_deskew").value is True
    assert at.selectbox(key="w_set_psm").value == 6
    at = ok(start(threshold="sparkly", scale="2"))
    assert at.session_state["settings"] == Settings(scale=2.0)
    assert any("could not be used" in w.value for w in at.warning)
    assert any("'threshold' cannot be 'sparkly'" in t for t in texts(at))


def test_presets_download_load_and_reset(media):
    at = tune()
    ok(at.selectbox(key="w_set_threshold").set_value("adaptive_gaussian").run())
    ok(at.slider(key="w_set_block_size").set_value(51).run())
    preset = download(at, media, "Download these settings")
    settings, options = ocr.parse_preset(preset)
    assert settings == Settings(threshold="adaptive_gaussian", block_size=51) and options == ocr.Options()

    ok(next(b for b in at.button if b.label == "Reset to defaults").click().run())
    assert at.session_state["settings"] == Settings()
    assert at.selectbox(key="w_set_threshold").value == "none" and dict(at.query_params) == {}

    wide = ocr.preset_json(Settings(scale=6.0, denoise="median", denoise_strength=5), ocr.Options(psm=11))
    ok(at.file_uploader(key="w_preset").set_value(("p.json", wide.encode(), "application/json")).run())
    assert at.session_state["settings"] == Settings(scale=6.0, denoise="median", denoise_strength=5)
    assert at.slider(key="w_set_scale").value == 4.0  # the slider's end; the setting stays 6
    assert at.selectbox(key="w_set_psm").value == 11 and at.query_params["scale"] == "6.0"
    ok(at.slider(key="w_set_denoise_strength").set_value(7).run())
    assert at.session_state["settings"].scale == 6.0 and at.session_state["settings"].denoise_strength == 7

    ok(at.file_uploader(key="w_preset").set_value(("bad.json", b'{"settings": {"colour": 1}}', "application/json")).run())
    assert any("settings file could not be loaded" in e.value for e in at.error)
    assert "unknown setting 'colour'." in texts(at)
    assert at.session_state["settings"].scale == 6.0


def test_page_chooser_switches_between_pages():
    at = tune(("a.png", GOOD), ("b.png", OTHER))
    keys = list(at.session_state["files"])
    picker = at.selectbox(key="w_pagetune")
    assert picker.options == ["a.png", "b.png"]  # shown by name
    ok(picker.set_value(f"{keys[1]}:0").run())
    assert at.session_state["current"] == f"{keys[1]}:0"


# -- Extract -------------------------------------------------------------------------------------------


def extract(*files: tuple[str, bytes], settings: Settings | None = None) -> AppTest:
    at = upload(start(), *(files or [("page.png", GOOD)]))
    if settings is not None:
        at.session_state["settings"] = settings
    ok(at.switch_page("pages/extract.py").run())
    return ok(at.button(key="extract_one").click().run())


def test_extract_reads_the_page_and_shows_its_text(media):
    at = extract()
    key = first_key(at)
    result = at.session_state["results"][key]
    assert words_of(result.text)[:5] == words_of(SAMPLE_TEXT[0])
    assert at.text_area(key="w_text").value == result.text
    assert any(t.startswith("✓ page.png:") for t in texts(at))
    assert [m.label for m in at.metric][:3] == ["Mean confidence", "Words", "Time"]
    assert at.metric[1].value == str(result.word_count)
    words = next(d.value for d in at.dataframe if "conf" in d.value.columns)
    assert list(words["conf"]) == sorted(words["conf"])  # least sure first
    # the overlay: word boxes drawn in colour over the processed page
    overlay_image = np.asarray(Image.open(io.BytesIO(media(at.image[1]))).convert("RGB")).astype(int)
    assert (np.abs(overlay_image[..., 0] - overlay_image[..., 1]) > 40).any()
    ok(at.toggle(key="w_boxes").set_value(False).run())
    plain = np.asarray(Image.open(io.BytesIO(media(at.image[1]))))
    assert plain.ndim == 2


def test_downloads_carry_the_right_bytes(media):
    at = extract()
    result = at.session_state["results"][first_key(at)]
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
    assert {f"page.png.{fmt}" for fmt in ("txt", "json", "csv", "hocr", "pdf")} <= set(names)


def test_edited_text_is_downloaded_and_a_new_run_replaces_it(media):
    at = extract()
    key = first_key(at)
    ok(at.text_area(key="w_text").input("My corrected text").run())
    assert at.session_state["edits"][key] == "My corrected text"
    assert download(at, media, "Download text") == b"My corrected text"
    assert json.loads(download(at, media, ".json"))["text"] == "My corrected text"
    # the edit outlives a visit to another page
    ok(at.switch_page("pages/history.py").run())
    ok(at.switch_page("pages/extract.py").run())
    assert at.text_area(key="w_text").value == "My corrected text"
    # a new run shows its own text, not the old edit (a keyed text_area would keep it)
    at.session_state["settings"] = Settings(crop=(0, 0, 1000, 100))
    ok(at.run())
    assert any("settings have changed" in i.value for i in at.info)
    ok(at.button(key="extract_one").click().run())
    new_text = at.session_state["results"][key].text
    assert at.text_area(key="w_text").value == new_text != "My corrected text"
    assert words_of(new_text)[:2] == ["the", "quick"] and "lazy" not in words_of(new_text)


def test_a_page_that_fails_gets_its_sentence_and_the_others_are_read():
    wide = png(draw_page(size=(1400, 400)))
    at = upload(start(), ("small.png", OTHER), ("wide.png", wide))
    at.session_state["settings"] = Settings(crop=(900, 0, 400, 200))  # outside the small page only
    ok(at.switch_page("pages/extract.py").run())
    ok(at.button(key="extract_all").click().run())
    assert any(t.startswith("small.png: the crop (900, 0, 400, 200) lies outside") for t in texts(at))
    assert any("could not be read" in e.value for e in at.error)
    results = at.session_state["results"]
    assert len(results) == 1 and next(iter(results.values())).name == "wide.png"
    rows = at.session_state["batch"]
    assert [r["status"] for r in rows] == ["failed", "read"]


def test_extract_from_upload_reads_every_page():
    at = upload(start(), ("a.png", GOOD), ("b.png", OTHER))
    ok(at.button(key="go_extract").click().run())
    assert len(at.session_state["results"]) == 2
    assert at.title[0].value == "Extract the text"


def test_accuracy_against_the_true_text():
    at = extract()
    truth = "\n".join(SAMPLE_TEXT)
    area = at.text_area(key=f"w_truth{first_key(at)}")
    ok(area.input(truth).run())
    cer = next(m for m in at.metric if m.label.startswith("Character error rate"))
    assert cer.value.endswith("%") and float(cer.value[:-1]) < 10


def test_a_dev_photo_is_read():
    path = next(p for p in sorted(DEV.glob("*.jpg")) if p.name.startswith("lept_lucasta"))
    at = extract((path.name, path.read_bytes()))
    truth = path.with_suffix(".gt.txt").read_text()
    assert ocr.metrics.cer(truth, at.session_state["results"][first_key(at)].text) < 0.05


# -- History -------------------------------------------------------------------------------------------


def test_history_lists_runs_compares_two_and_restores_one():
    at = extract()
    at.session_state["settings"] = Settings(threshold="otsu", scale=1.5)
    ok(at.button(key="extract_one").click().run())
    ok(at.switch_page("pages/history.py").run())
    table = at.dataframe[0].value
    assert list(table["run"]) == [1, 2] and list(table["settings"]) == ["plain", "x1.5, otsu"]
    assert at.selectbox(key="w_run_a").value == 1 and at.selectbox(key="w_run_b").value == 2
    differences = at.dataframe[1].value
    assert set(differences["setting"]) == {"scale", "threshold"}
    assert len(at.code) == 2 and all(c.language == "diff" for c in at.code)
    ok(at.button(key="restore_b").click().run())
    assert at.title[0].value == "Tune the clean-up"
    assert at.session_state["settings"] == Settings(threshold="otsu", scale=1.5)
    assert at.selectbox(key="w_set_threshold").value == "otsu" and at.slider(key="w_set_scale").value == 1.5


# -- Auto-tune -----------------------------------------------------------------------------------------


def fake_autotune(calls):
    """Follows the contract of ocr.autotune: progress from the calling thread, settings, options, trace."""

    def autotune(page, *, progress, options, engine):
        calls.append((page, None, options, engine))
        for n in range(3):
            progress((n + 1) / 3, f"candidate {n + 1} of 3")
        trace = pd.DataFrame({
            "candidate": [1, 2, 3], "stage": ["start", "threshold", "psm"],
            "settings": ["plain", "otsu", "otsu"], "psm": [3, 3, 6],
            "score": [0.5, 0.7, 0.9], "seconds": [0.1, 0.1, 0.1], "chosen": [False, False, True],
        })
        return Settings(threshold="otsu", deskew=True), options.replace(psm=6), trace

    return autotune


def test_auto_tune_moves_the_sliders_and_shows_the_candidates(monkeypatch):
    calls = []
    monkeypatch.setattr(ocr, "autotune", fake_autotune(calls))
    at = tune()
    button = next(b for b in at.button if b.label == "Auto-tune")
    assert not button.disabled
    ok(button.click().run())
    page, budget, options, engine = calls[0]
    assert options == ocr.Options() and isinstance(engine, ocr.Engine)
    assert isinstance(page, ocr.Page)
    assert at.session_state["settings"] == Settings(threshold="otsu", deskew=True)
    assert at.selectbox(key="w_set_threshold").value == "otsu" and at.toggle(key="w_set_deskew").value
    assert at.selectbox(key="w_set_psm").value == 6 and at.query_params["psm"] == "6"
    trace = next(d.value for d in at.dataframe if "candidate" in d.value.columns)
    assert list(trace["score"]) == [0.5, 0.7, 0.9]
    assert len(at.get("vega_lite_chart")) == 1
    # with a crop chosen, auto-tune looks at that region only
    ok(at.slider(key="w_set_crop_x").set_value((0.0, 50.0)).run())
    ok(next(b for b in at.button if b.label == "Auto-tune").click().run())
    region = calls[-1][0]
    assert isinstance(region, ocr.Processed) and region.image.shape[:2] == (400, 500)


def test_auto_tune_with_the_real_function():
    """The real ocr.autotune on a real page."""
    at = tune(("lucasta.jpg", (DEV / "lept_lucasta_frag.jpg").read_bytes()))
    ok(next(b for b in at.button if b.label == "Auto-tune").click().run(timeout=180))
    assert any("candidate" in d.value.columns for d in at.dataframe)
    assert isinstance(at.session_state["settings"], Settings)

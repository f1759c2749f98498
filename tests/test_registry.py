"""An engine is one file: a third engine registered by the tests alone (tests/fake_engine.py) is found in
``--engine``, in ``auto``, in auto-tune, in the app's comparison of engines and in every export."""

from __future__ import annotations

import dataclasses
import importlib
import io
import json
import xml.etree.ElementTree as ET
import zipfile

import numpy as np
import pytest
from PIL import Image

import ocr
from ocr.cli import build_parser, main
from ocr.engines import registry
from ocr.pdf import page_text
from workbench import keys, nav

from .conftest import draw_page
from .test_app import GOOD, extract, first_key, go, ok, texts


@pytest.fixture
def fake():
    """The fake engine registered for one test (importing its module registers it), and gone after it:
    the other tests see two engines."""
    module = importlib.import_module("tests.fake_engine")
    registry.register(module.FAKE)
    yield module.FAKE
    registry.unregister(module.NAME)


@pytest.fixture(scope="module")
def page() -> np.ndarray:
    return np.asarray(draw_page())


def test_the_registry_names_the_builtin_engines_in_order():
    assert registry.names()[:2] == ("tesseract", "ppocr")
    assert registry.names()[0] == registry.DEFAULT  # the first engine reads when none is named
    result_default = next(f.default for f in dataclasses.fields(ocr.Result) if f.name == "engine")
    assert ocr.Options().engine == result_default == registry.DEFAULT
    assert list(ocr.Options.spec("engine").choices) == [*registry.names(), "auto"]
    assert ocr.Options.spec("engine").name_of("auto") == "Best of both"
    with pytest.raises(ocr.SettingsError, match="'engine' cannot be 'nope'"):
        ocr.Options(engine="nope")


def test_the_built_in_engines_keep_their_order_whichever_is_imported_first():
    """A script that imports PP-OCR's reader before anything asks the registry registers PP-OCR first;
    Tesseract must still lead "auto" (it had PP-OCR read clean pages first, at five times the cost)."""
    import subprocess
    import sys

    from .conftest import ROOT

    done = subprocess.run([sys.executable, "-c", "import ocr.engines.ppocr; from ocr.engines import registry; "
                           "print(registry.first().name, registry.names())"],
                          capture_output=True, text=True, cwd=ROOT, timeout=60, check=True)
    assert done.stdout.split()[0] == "tesseract" and done.stdout.index("tesseract") < done.stdout.index("ppocr")


def test_a_registered_engine_is_a_choice_of_options_and_the_command_line(fake, page, tmp_path, capsys):
    assert ocr.Options(engine="fake").engine == "fake"
    assert ocr.Options.spec("engine").name_of("fake") == "Fake engine"
    assert ocr.Options.spec("engine").name_of("auto") == "Best of all engines"
    image = tmp_path / "page.png"
    Image.fromarray(page).save(image)
    assert main([str(image), "--engine", "fake", "--format", "json", "-o", str(tmp_path / "out")]) == 0
    record = json.loads((tmp_path / "out" / "page.json").read_text())
    assert record["engine"] == "fake" and record["text"].startswith("fake1a fake1b")
    assert "fake (tests)" in build_parser().format_help()


def test_auto_reads_with_every_registered_engine(fake, page):
    readings = ocr.recognition.read_each(page, ocr.Options(engine="auto"))
    assert [r.engine for r in readings] == ["tesseract", "ppocr", "fake"]
    assert all(r.score is not None for r in readings)
    best = ocr.recognition.best(readings)
    assert "Fake engine" in best.note
    # auto spends the engines after the first only where the first's reading leaves something to do
    alone = ocr.recognize(page, ocr.Options(engine="auto"))
    assert alone.engine == "tesseract" and "PP-OCR and Fake engine did not read" in alone.note
    # a language the fake engine does not read leaves it out, and says so
    others = ocr.recognition.read_each(page, ocr.Options(engine="auto", lang="deu"))
    assert [r.engine for r in others] == ["tesseract", "ppocr"]
    assert any("Fake engine does not read 'deu'" in w for w in others[0].warnings)


def test_auto_tune_tries_every_registered_engine(fake, page):
    found = ocr.autotune(page, 4.0, options=ocr.Options(engine="auto"))
    plain = found.trace[found.trace["stage"] == "plain"]
    assert set(plain["engine"]) == {"tesseract", "ppocr", "fake"}
    assert found.options.engine in registry.names()


def test_every_export_carries_the_engines_reading(fake, page):
    result = ocr.read_page(ocr.load(GOOD, name="page.png")[0], options=ocr.Options(engine="fake"))
    assert result.engine == "fake"
    assert ocr.export(result, "txt").decode().startswith("fake1a fake1b")
    assert json.loads(ocr.export(result, "json"))["engine"] == "fake"
    assert "fake1a" in ocr.export(result, "csv").decode()
    hocr = ET.fromstring(ocr.export(result, "hocr"))
    words = [e.text for e in hocr.iter() if e.get("class") == "ocrx_word"]
    assert words[:2] == ["fake1a", "fake1b"]
    assert "x_source_engine fake" in next(e for e in hocr.iter() if e.get("class") == "ocr_page").get("title")
    assert page_text(ocr.export(result, "pdf"), 0).split()[:2] == ["fake1a", "fake1b"]
    with zipfile.ZipFile(io.BytesIO(ocr.export_zip([result]))) as archive:
        assert {name.rsplit(".", 1)[1] for name in archive.namelist()} == {"txt", "json", "csv", "hocr", "pdf"}


def test_the_apps_comparison_has_a_column_per_engine(fake):
    at = extract()
    ok(at.button(key=keys.COMPARE_RUN).click().run(timeout=240))
    found = at.session_state[keys.COMPARE][first_key(at)]
    assert list(found) == ["tesseract", "ppocr", "fake"]
    shown = [t for t in texts(at) if ": score " in t]
    assert [t.split(":")[0] for t in shown] == ["Tesseract", "PP-OCR", "Fake engine"]
    ok(at.button(key=keys.keep_reading("fake")).click().run())
    assert at.session_state[keys.RESULTS][first_key(at)].engine == "fake"
    go(at, nav.TUNE)
    choices = at.selectbox(key=keys.setting("engine")).options
    assert "Fake engine" in choices and "Best of all engines" in choices


PLUGGED = """
import json, sys
from ocr.engines import registry
names = registry.names()
print(json.dumps({"names": list(names), "metadata": "importlib.metadata" in sys.modules}))
"""


@pytest.mark.parametrize("declared", [True, False])
def test_an_engine_another_package_declares_is_found_and_none_is_looked_for_when_none_is_declared(declared, tmp_path):
    """A package declares an engine under the entry-point group (its ``entry_points.txt``, as pip installs
    it); with none declared, the command does without importing importlib.metadata at all."""
    import os
    import subprocess
    import sys

    from .conftest import ROOT

    info = tmp_path / "fake_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fake-plugin\nVersion: 1.0\n")
    group = registry.ENTRY_POINTS if declared else "console_scripts"
    (info / "entry_points.txt").write_text(f"[{group}]\nfake = tests.fake_engine\n")
    done = subprocess.run([sys.executable, "-c", PLUGGED], capture_output=True, text=True, timeout=120, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(tmp_path)])})
    assert done.returncode == 0, done.stderr
    said = json.loads(done.stdout)
    assert ("fake" in said["names"]) is declared and said["names"][:2] == ["tesseract", "ppocr"]
    assert said["metadata"] is declared

"""The PP-OCR reader on drawn pages and dev images: accuracy, word boxes, languages, no network."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from ocr.decode import load
from ocr.engines import ppocr
from ocr.errors import InputError, ModelDownloadRefusedError, SettingsError, UnsupportedLanguageError
from ocr.metrics import cer, ground_truth

DEV = Path("/work/shared/eval/dev")
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
LEFT = ["The quick brown fox jumps over", "the lazy dog while the farmer", "counts his sheep in the field",
        "and the sun sets behind a hill."]
RIGHT = ["Pack my box with five dozen", "liquor jugs, said the sailor", "to the innkeeper at the port",
         "before the ship left at dawn."]
CONNECTIONS: list[Any] = []


@pytest.fixture(scope="module")
def offline() -> Iterator[None]:
    """No socket may connect while this module's reader loads and reads: each attempt is noted and fails."""
    def refuse(self: socket.socket, address: Any) -> None:
        CONNECTIONS.append(address)
        raise OSError(f"network blocked by the test: {address}")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", refuse)
        patch.setattr(socket.socket, "connect_ex", refuse)
        yield


@pytest.fixture(scope="module")
def reader(offline: None) -> ppocr.PPOCRReader:
    return ppocr.PPOCRReader()


def drawn(columns: list[list[str]], size: int = 30) -> np.ndarray:
    """A white gray page with each list of lines drawn as a column, left to right, lines on one grid."""
    font = ImageFont.truetype(FONT, size)
    # at least 760 high: rapidocr enlarges a page whose short side is under 736 pixels before detection
    image = Image.new("L", (60 + 620 * len(columns), max(760, 80 + int(size * 1.5) * max(map(len, columns)))), 255)
    draw = ImageDraw.Draw(image)
    for c, lines in enumerate(columns):
        for i, text in enumerate(lines):
            draw.text((40 + 620 * c, 40 + int(size * 1.5) * i), text, font=font, fill=0)
    return np.asarray(image)


def dev(name: str) -> tuple[np.ndarray, str]:
    image = next(p for p in DEV.glob(name + ".*") if not p.name.endswith(".txt"))
    return load(str(image))[0].image, ground_truth((DEV / f"{name}.gt.txt").read_text(encoding="utf-8"))


def test_reads_a_drawn_page(reader: ppocr.PPOCRReader) -> None:
    text, words = reader.text(drawn([LEFT]))
    assert cer(" ".join(LEFT), text) <= 0.02  # measured 0.000
    assert [w.text for w in words][:3] == ["The", "quick", "brown"]
    # the first word's box fits the drawn word (IoU measured 0.9 on drawn pages)
    font = ImageFont.truetype(FONT, 30)
    left, top, right, bottom = ImageDraw.Draw(Image.new("L", (1, 1))).textbbox((40, 40), "The", font=font)
    first = words[0]
    inter = max(0, min(right, first.left + first.width) - max(left, first.left)) * \
        max(0, min(bottom, first.top + first.height) - max(top, first.top))
    union = (right - left) * (bottom - top) + first.width * first.height - inter
    assert inter / union >= 0.7


def test_two_columns_come_out_column_by_column(reader: ppocr.PPOCRReader) -> None:
    text, words = reader.text(drawn([LEFT, RIGHT]))
    assert cer(" ".join(LEFT + RIGHT), text) <= 0.02  # measured 0.000; rapidocr's own order reads across
    assert [row for row in text.split("\n") if row] == LEFT + RIGHT
    assert len({w.block for w in words}) == 2


def test_a_page_of_many_lines_upside_down_reads_as_upright_from_a_few_pieces(reader, monkeypatch):
    page = drawn([LEFT + RIGHT + LEFT, RIGHT + LEFT + RIGHT], size=24)  # 24 lines: one piece each votes
    voted: list[int] = []
    classify = reader._turn.classifier
    monkeypatch.setattr(reader._turn, "classifier", lambda pieces: voted.append(len(pieces)) or classify(pieces))
    upright, _ = reader.text(page)
    turned, words = reader.text(np.ascontiguousarray(page[::-1, ::-1]))
    assert turned == upright and cer(" ".join(LEFT + RIGHT + LEFT + RIGHT + LEFT + RIGHT), turned) <= 0.02
    assert reader._turn.turned and voted == [ppocr._PageTurn.PIECES] * 2
    assert [w.text for w in words][:3] == ["The", "quick", "brown"]


@pytest.mark.parametrize("name, bound", [("lept_lighttext", 0.05), ("sroie_005", 0.09)])
def test_dev_images(reader: ppocr.PPOCRReader, name: str, bound: float) -> None:
    # measured: lept_lighttext 0.017 (rapidocr's own order 0.569), sroie_005 0.059
    image, truth = dev(name)
    text, words = reader.text(image)
    assert cer(truth, text) <= bound
    height, width = image.shape[:2]
    assert words and all(w.left >= 0 and w.left + w.width <= width and w.top >= 0 and w.top + w.height <= height
                         and w.width > 0 and w.height > 0 for w in words)
    assert all(0.0 <= w.conf <= 100.0 for w in words) and max(w.conf for w in words) > 90
    assert " ".join(w.text for w in words) == " ".join(text.split())


def test_no_network(reader: ppocr.PPOCRReader) -> None:
    text, _ = reader.text(drawn([LEFT]), lang="eng+deu")
    assert text and CONNECTIONS == []  # nothing tried to connect while loading and reading
    with pytest.raises(OSError):  # and the block is real: a connection attempt fails and is noted
        socket.create_connection(("127.0.0.1", 9), timeout=1)
    assert CONNECTIONS
    CONNECTIONS.clear()


# In a fresh process, as in a worker: a test process may have imported rapidocr another way first.
FRESH_LOAD = """
import logging, sys
from omegaconf import OmegaConf
from ocr.engines import ppocr
from ocr.errors import ModelDownloadRefusedError
ppocr.PPOCRReader()
assert "requests" not in sys.modules, "requests was imported for an image loader given no addresses"
from rapidocr.utils import load_image
assert load_image.requests.get.__module__ == "requests.api" and "requests" in sys.modules
from rapidocr.inference_engine.base import MODEL_URL_PATH, InferSession
assert not InferSession.model_info, "the table was read"
assert OmegaConf.load(MODEL_URL_PATH), "OmegaConf's loader was not given back"
from rapidocr.utils.download_file import DownloadFile, DownloadFileInput
try:
    DownloadFile.run(DownloadFileInput(file_url="https://x.invalid/m.onnx", save_path="m.onnx",
                                       logger=logging.getLogger()))
except ModelDownloadRefusedError as e:
    assert "x.invalid" in str(e)
else:
    raise AssertionError("a download was not refused")
"""


def test_no_table_of_download_addresses_and_no_downloader(reader: ppocr.PPOCRReader) -> None:
    # read as empty: nothing to download from, 0.7 s less to load; and OmegaConf's own loader is back;
    # rapidocr's downloader replaced by one that refuses; requests imported only if its loader uses it
    done = subprocess.run([sys.executable, "-c", FRESH_LOAD], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    rec = reader._engine.text_rec
    assert (rec.rec_batch_num, list(rec.rec_image_shape)) == (1, ppocr.REC_SHAPE)


def test_one_thread_each(reader: ppocr.PPOCRReader) -> None:
    engine = reader._engine
    for part in (engine.text_det, engine.text_cls.classifier, engine.text_rec):
        options = part.session.session.get_session_options()
        assert (options.intra_op_num_threads, options.inter_op_num_threads) == (1, 1)


def test_languages_are_what_the_model_writes(reader: ppocr.PPOCRReader) -> None:
    characters = reader.characters
    assert len(characters) > 18000
    covered = {lang for lang, letters in ppocr.ALPHABETS.items() if ppocr.covered(letters, characters)}
    assert covered & ppocr.RAPIDOCR_LISTED == ppocr.LANGUAGES
    assert {"eng", "deu", "fra", "spa", "ita", "por", "nld", "chi_sim", "jpn"} <= ppocr.LANGUAGES
    assert not {"vie", "rus", "ell", "kor", "ara"} & ppocr.LANGUAGES


def test_supports() -> None:
    assert ppocr.supports("eng") and ppocr.supports("eng+deu") and ppocr.PPOCRReader.supports("chi_sim+eng")
    assert not ppocr.supports("eng+rus") and not ppocr.supports("") and not ppocr.supports("vie")


def test_unsupported_language_is_refused_with_a_sentence(reader: ppocr.PPOCRReader) -> None:
    with pytest.raises(UnsupportedLanguageError) as caught:
        reader.text(drawn([LEFT]), lang="eng+rus")
    message = str(caught.value)
    assert message.startswith("PP-OCR cannot read 'rus'") and message.endswith(".") and "\n" not in message


@pytest.mark.parametrize("params, error", [
    ({"Rec.lang_type": "arabic"}, ModelDownloadRefusedError),
    ({"Det.model_type": "medium"}, ModelDownloadRefusedError),
    ({"Global.font_path": None}, ModelDownloadRefusedError),
    ({"EngineConfig.onnxruntime.intra_op_num_threads": 4}, SettingsError),
])
def test_settings_that_would_download_are_refused(params: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error, match=r"\.$"):
        ppocr.PPOCRReader(params=params)


def test_bad_and_blank_pages(reader: ppocr.PPOCRReader) -> None:
    with pytest.raises(InputError):
        reader.text(np.zeros((20, 20), dtype=np.float32))
    with pytest.raises(InputError):
        reader.text(np.zeros((20, 20, 2), dtype=np.uint8))
    with pytest.raises(InputError):
        reader.text(np.zeros(20, dtype=np.uint8))
    assert reader.text(np.full((200, 300), 255, dtype=np.uint8)) == ("", [])
    assert reader.text(np.full((200, 300, 3), 255, dtype=np.uint8)) == ("", [])


def test_the_detector_converted_at_install_reads_as_the_float_one(reader):
    """make converts the detector to 8 bits (python -m ocr.engines.models); the reader uses it, and it
    finds the same lines on a page of its own drawing and on a dev receipt."""
    from ocr.engines import models

    assert reader.detector == models.converted(ppocr.model_path("Det")) and reader.detector.is_file()
    float_reader = ppocr.PPOCRReader(quantized=False)
    assert float_reader.detector == ppocr.model_path("Det")
    page = drawn([LEFT, RIGHT])
    assert reader.text(page)[0] == float_reader.text(page)[0]
    image, truth = dev("sroie_010")
    assert abs(cer(truth, reader.text(image)[0]) - cer(truth, float_reader.text(image)[0])) <= 0.01


def test_the_models_optimized_at_install_are_loaded_and_read_the_same(reader, monkeypatch):
    """make saves each model as onnxruntime's portable graph optimizations leave it, and again after
    every optimization, named by this CPU; the reader loads the copies for this CPU (two thirds less
    set-up), the portable ones on another, and reads as it does from the wheel's own files."""
    for part in ("Det", "Cls", "Rec"):
        source = reader.detector if part == "Det" else ppocr.model_path(part)
        here = ppocr.optimized(source, here=True)
        assert here.is_file() and here != ppocr.optimized(source) and ppocr._cpu() in here.name
        assert getattr(reader._engine.cfg, part).model_path == str(here)
    with monkeypatch.context() as patch:
        patch.setattr(ppocr, "_cpu", lambda: "0ther0cpu")  # made on another kind of CPU: not taken here
        elsewhere = ppocr.PPOCRReader()
        assert elsewhere._engine.cfg.Rec.model_path == str(ppocr.optimized(ppocr.model_path("Rec")))
        patch.setattr(ppocr, "_cpu", lambda: "")  # a CPU that cannot be told
        assert ppocr.loadable(ppocr.model_path("Rec")) == ppocr.optimized(ppocr.model_path("Rec"))
    plain = ppocr.PPOCRReader(optimized=False)
    assert plain._engine.cfg.Rec.model_path == str(ppocr.model_path("Rec"))
    page = drawn([LEFT, RIGHT])
    assert reader.text(page) == plain.text(page) == elsewhere.text(page) and reader.text(page)[0]
    image, _ = dev("sroie_010")
    assert reader.text(image)[0] == plain.text(image)[0] == elsewhere.text(image)[0]


def test_optimizing_a_model_keeps_its_answers(tmp_path):
    import onnxruntime as ort

    from ocr.engines import models

    source = ppocr.model_path("Cls")
    target = models.optimize(source, tmp_path / "cls.onnx")
    assert target.is_file() and not list(tmp_path.glob("*.part*")) and target.read_bytes() != source.read_bytes()
    x = np.random.default_rng(7).random((2, 3, 48, 192), dtype=np.float32)
    answers = []
    for model in (source, target):
        session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
        answers.append(session.run(None, {session.get_inputs()[0].name: x})[0])
    assert np.allclose(*answers, atol=1e-5) and answers[0].shape == (2, 2)


def test_a_page_the_8_bit_detector_finds_empty_is_looked_at_with_the_float_one(monkeypatch):
    """Seen on a faint drawn page: the 8-bit detector found no line where the float one found them all.
    Here it is made to find none on a page with text: the float model then finds the lines."""
    from rapidocr.ch_ppocr_det.utils import TextDetOutput

    reader = ppocr.PPOCRReader()
    detector = reader._engine.text_det
    assert isinstance(detector, ppocr._Detector) and detector.exact is None
    page = drawn([LEFT])
    found = reader.text(page)[0]
    assert detector.exact is None  # a page with lines found: the float model is never loaded
    monkeypatch.setattr(detector, "quick", lambda image: TextDetOutput())
    assert reader.text(page)[0] == found and detector.exact is not None
    assert reader.text(np.full((800, 800), 255, dtype=np.uint8)) == ("", [])  # a blank page: still blank


def test_a_pages_lines_shared_with_a_helper_read_as_when_read_alone(reader):
    image, _ = dev("sroie_010")
    alone = reader.text(image)
    asked: list[int] = []

    def helper(task):  # the lines are read here, later, as a hand would read them
        asked.append(len(task.args[-1]))
        return task

    try:
        reader.share(helper)
        shared = reader.text(image)
        assert asked and reader._shared.shared == asked[0] > 5  # about half of the receipt's lines
        assert shared[0] == alone[0] and [w.text for w in shared[1]] == [w.text for w in alone[1]]
        reader.share(lambda task: lambda: None)  # a hand that failed: the reader reads its lines itself
        assert reader.text(image)[0] == alone[0] and reader._shared.shared == 0

        asked.clear()

        def later(task):  # no hand free at the first two asks: the reader reads on, and asks again
            asked.append(len(task.args[-1]))
            return None if len(asked) < 3 else task

        reader.share(later)
        again = reader.text(image)
        assert len(asked) == 3 and asked[0] > asked[1] > asked[2] == reader._shared.shared > 0
        assert again[0] == alone[0] and [w.text for w in again[1]] == [w.text for w in alone[1]]
        asked.clear()
        reader.share(lambda task: asked.append(len(task.args[-1])))  # never a hand free
        assert reader.text(image)[0] == alone[0] and reader._shared.shared == 0
        assert len(asked) == ppocr._Shared.ASKS
    finally:
        reader.share(None)


# In a fresh process, so that whether the parent imported rapidocr tells something.
HAND = """
import json, sys
from ocr.decode import load
from ocr.engines import Engine, Request
from ocr.settings import Options
page = load(sys.argv[1])[0]
request = Request(image=page.image, dpi=300, options=Options(engine="ppocr"))
one, two = Engine("api", workers=1), Engine("api", workers=2)
alone, helped = one.run(request), two.run(request)
print(json.dumps({"lent": [one.lent, two.lent], "workers": len(two.worker_pids()), "same": alone.text == helped.text,
                  "words": len(helped.text.split()), "rapidocr": "rapidocr" in sys.modules}))
one.close()
two.close()
"""


def test_a_page_read_alone_gets_a_hand_from_a_copy_of_its_worker():
    done = subprocess.run([sys.executable, "-c", HAND, str(DEV / "sroie_012.jpg")], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    said = json.loads(done.stdout.splitlines()[-1])
    assert said["lent"] == [0, 1] and said["workers"] == 1  # the hand was a fork: no second worker, no second load
    assert said["same"] and said["words"] > 50
    assert not said["rapidocr"]  # the lines never crossed the parent


def test_calibration_pages_are_drawn_the_same_each_time():
    from ocr.engines import models

    first, again = list(models.drawn_pages(2)), list(models.drawn_pages(2))
    assert all(np.array_equal(a, b) for a, b in zip(first, again)) and first[0].shape != first[1].shape

"""PP-OCRv6 through rapidocr: the second OCR engine, and its registry entry.

The only module that imports ``rapidocr`` (and through it ``onnxruntime``), and only inside
:class:`PPOCRReader`, so importing it costs nothing and :func:`supports` loads no model. The models are
the ones inside the rapidocr wheel, named by path: nothing is ever downloaded, and a setting that would
make rapidocr fetch something is refused. One thread per process; the text and word boxes come from
:func:`ocr.layout.arrange` (reading order across columns) and :func:`ocr.layout.fit_to_ink`.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import importlib
import logging
import os
import sys
import time
import zlib
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from types import ModuleType
from typing import Any, cast

import numpy as np

from ..errors import (
    InputError,
    MissingDependencyError,
    ModelDownloadRefusedError,
    RecognitionError,
    SettingsError,
    UnsupportedLanguageError,
)
from ..layout import Piece, TextLine, arrange, fit_to_ink
from ..settings import Options
from .protocol import Answer, Word
from .registry import EngineInfo, register

log = logging.getLogger(__name__)

MODEL_FILES = {
    "Det": "PP-OCRv6_det_small.onnx",
    "Rec": "PP-OCRv6_rec_small.onnx",
    "Cls": "ch_ppocr_mobile_v2.0_cls_mobile.onnx",
}

# rapidocr settings this reader changes from rapidocr's own defaults (chosen on the dev set with
# scripts/ppocr_eval.py; see the report there). Every other setting is rapidocr 3.10.0's default.
# One line at a time: with one thread a batch buys nothing, and its lines are padded to the widest.
# Lines are found on the page as it is (at most 2000 pixels on its long side, rapidocr's own bound), never
# enlarged: rapidocr's default enlarged every page to 736 pixels on its short side, a narrow receipt or a
# strip of text several times over. Detection on the dev set 4.3 -> 3.0 s, on drawn pages (seed 1) 15.8 ->
# 7.2 s, as accurate (docs/accuracy.md, "PP-OCR's speed"); at most 1600, a large receipt read 0.011 worse.
DEFAULT_PARAMS: dict[str, Any] = {"Rec.rec_batch_num": 1, "Det.limit_type": "max", "Det.limit_side_len": 2000}
# The recogniser's input: 48 pixels high and at least 160 wide (rapidocr pads every line to 320, so a
# price of five characters cost as much as a line of twenty). On the dev set and drawn pages this reads
# as well and takes 0.7-0.8x the time (docs/accuracy.md, "PP-OCR's speed"). Not a caller's setting.
REC_SHAPE = [3, 48, 160]

# Settings a caller may tune: thresholds and sizes only, none of which chooses a model.
TUNABLE = frozenset({
    "Global.text_score", "Global.use_cls", "Global.max_side_len", "Global.min_side_len",
    "Det.limit_side_len", "Det.limit_type", "Det.thresh", "Det.box_thresh", "Det.unclip_ratio",
    "Det.use_dilation", "Det.score_mode", "Rec.rec_batch_num",
})
# Settings that choose a model, a character list or the drawing font: rapidocr would fetch them.
_DOWNLOADING = ("lang_type", "model_type", "ocr_version", "engine_type", "model_path", "model_dir",
                "model_root_dir", "rec_keys_path", "font_path")

# The letters each language needs beyond ASCII (both cases are checked), in Tesseract's codes. For Chinese
# and Japanese, frequent characters (and the modern kana) stand for the script. Letter-apostrophes count as
# covered by the quotation marks they look like (Uzbek's oʻ is read as o‘). Spanish leaves out ¡: the model
# has ¿ but no ¡ (it reads ! or i), too rare a mark to refuse Spanish for.
ALPHABETS: dict[str, str] = {
    "eng": "", "afr": "éèêëîïôû", "aze": "çəğıöşüİ", "bos": "čćđšž", "cat": "àçèéíïòóúü·",
    "ces": "áčďéěíňóřšťúůýž", "cym": "âêîôûŵŷäëïöü", "dan": "æøåé", "deu": "äöüß", "est": "äöõüšž",
    "eus": "ñ", "fin": "äöåšž", "fra": "àâæçéèêëîïôœùûüÿ", "gle": "áéíóú", "glg": "áéíñóúü",
    "hrv": "čćđšž", "hun": "áéíóöőúüű", "ind": "", "isl": "áðéíóúýþæö", "ita": "àèéìíîòóùú",
    "kmr": "çêîûş", "lat": "", "lav": "āčēģīķļņšūž", "lit": "ąčęėįšųūž", "ltz": "äëéè", "mlt": "ċġħżàèìòù",
    "mri": "āēīōū", "msa": "", "nld": "éëïèóöü", "nor": "æøåéèêóòô", "oci": "àèéíïòóúüç",
    "pol": "ąćęłńóśźż", "por": "áâãàçéêíóôõú", "que": "ñ", "ron": "ăâîșț", "slk": "áäčďéíĺľňóôŕšťúýž",
    "slv": "čšž", "spa": "áéíñóúü¿", "sqi": "çë", "srp_latn": "čćđšž", "swa": "", "swe": "åäöé",
    "tgl": "ñ", "tur": "çğıöşüâîİ", "uzb": "ʻ",
    "vie": "àáảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ",
    "ell": "αβγδεζηθικλμνξοπρστυφχψωάέήίόύώςϊϋΐΰ", "epo": "ĉĝĥĵŝŭ",
    "rus": "абвгдеёжзийклмнопрстуфхцчшщъыьэюя", "ukr": "абвгґдеєжзиіїйклмнопрстуфхцчшщьюя",
    "kor": "가나다라마바사아자차카타파하한국어", "ara": "ابتثجحخدذرزسشصضطظعغفقكلمنهوي", "hin": "अआइईउऊएऐओऔकखगघ",
    "tha": "กขคงจฉชซญดตถทนบปผพฟมยรลวสหอ",
    "chi_sim": "的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可她里后小"
               "么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经头面公同三已老从动两长",
    "chi_tra": "這個們來時說國會對過學後發經開動長還當從點現關體問與書頭實進門間東車應樣電題業務區義讓種則給機",
    "jpn": "ぁあぃいぅうぇえぉおかがきぎくぐけげこごさざしじすずせぜそぞただちぢっつづてでとどなにぬねのはばぱひびぴふ"
           "ぶぷへべぺほぼぽまみむめもゃやゅゆょよらりるれろゎわをんァアィイゥウェエォオカガキギクグケゲコゴサザシジス"
           "ズセゼソゾタダチヂッツヅテデトドナニヌネノハバパヒビピフブプヘベペホボポマミムメモャヤュユョヨラリルレロヮ"
           "ワヲンヴヵヶー日本人年大中出上子生会自事見行分時間気言思手前家地国学長場今何",
}
_LOOK_ALIKES = {"ʻ": "‘", "ʼ": "’"}

# rapidocr 3.10.0's list for the PP-OCRv6 small models (default_models.yaml), in Tesseract's codes.
RAPIDOCR_LISTED = frozenset({
    "chi_sim", "chi_tra", "eng", "jpn", "afr", "aze", "bos", "cat", "ces", "cym", "dan", "deu", "spa", "est",
    "eus", "fin", "fra", "gle", "glg", "hrv", "hun", "ind", "isl", "ita", "kmr", "lat", "ltz", "lit", "lav",
    "mri", "msa", "mlt", "nld", "nor", "oci", "pol", "por", "que", "ron", "srp_latn", "slk", "slv", "sqi",
    "swe", "swa", "tgl", "tur", "uzb", "vie",
})

# What the reader reads: listed by rapidocr for these models AND every letter in the model's character
# list (checked against the model in tests/test_ppocr.py). Left out: vie (the model has 2 of the 134
# Vietnamese letters with tone marks); not listed and not covered: ell (no accented letters, no final
# sigma), Cyrillic, Korean, Arabic, Devanagari, Thai; covered but not listed, so never trained: epo.
LANGUAGES: frozenset[str] = frozenset({
    "afr", "aze", "bos", "cat", "ces", "chi_sim", "chi_tra", "cym", "dan", "deu", "eng", "est", "eus", "fin",
    "fra", "gle", "glg", "hrv", "hun", "ind", "isl", "ita", "jpn", "kmr", "lat", "lav", "lit", "ltz", "mlt",
    "mri", "msa", "nld", "nor", "oci", "pol", "por", "que", "ron", "slk", "slv", "spa", "sqi", "srp_latn",
    "swa", "swe", "tgl", "tur", "uzb",
})


def supports(lang: str) -> bool:
    """Whether the reader reads ``lang``: a Tesseract code, or several joined with ``+`` (all must be)."""
    parts = lang.split("+")
    return all(part in LANGUAGES for part in parts)


def covered(alphabet: str, characters: frozenset[str]) -> bool:
    """Whether a recogniser with ``characters`` can write every letter of ``alphabet`` (both cases) and ASCII."""
    needed = set(alphabet) | {c.upper() for c in alphabet if len(c.upper()) == 1} | set(map(chr, range(33, 127)))
    return all(_LOOK_ALIKES.get(c, c) in characters for c in needed)


def check_params(params: Mapping[str, Any]) -> None:
    """Refuse rapidocr settings that would download something or that this reader does not offer."""
    for key in params:
        if key.rsplit(".", 1)[-1] in _DOWNLOADING:
            raise ModelDownloadRefusedError(
                f"The PP-OCR setting {key} would make rapidocr fetch a model or font that is not in its "
                "installed package, and this program never downloads at run time.")
        if key not in TUNABLE:
            raise SettingsError(f"{key} is not a PP-OCR setting this program can change; it can change "
                                f"{', '.join(sorted(TUNABLE))}.")


def model_path(part: str) -> Path:
    """The installed wheel's model for ``part`` ("Det", "Cls" or "Rec"); refused when it is missing."""
    path = _model_dir() / MODEL_FILES[part]
    if not path.is_file():
        raise ModelDownloadRefusedError(
            f"The PP-OCR model {path} is not in the installed rapidocr package and this program never "
            "downloads models: reinstall it with `pip install -r requirements.txt`.")
    return path


def models_dir() -> Path:
    """Where converted models are kept: ``$OCR_MODELS_DIR``, else the environment's share folder."""
    chosen = os.environ.get("OCR_MODELS_DIR")
    return Path(chosen) if chosen else Path(sys.prefix) / "share" / "ocr-workbench" / "models"


# Which calibration made a conversion: 2 since detection sees pages as they are (never enlarged), which is
# what the conversion is calibrated on; a conversion by an earlier one is not used.
CALIBRATION_VERSION = 2


def converted(source: Path) -> Path:
    """Where the 8-bit conversion of ``source`` lies (it may not exist): named, as :func:`optimized`
    names its copies, by the source's size and time of writing (a reinstalled wheel's model is another
    file), which is known without reading the 10 MB the conversion is made from."""
    stamp = source.stat()
    return models_dir() / f"{source.stem}.{stamp.st_size:x}-{stamp.st_mtime_ns:x}.int8-{CALIBRATION_VERSION}.onnx"


_SAID: set[str] = set()


def quantized_detector(source: Path) -> Path:
    """The detector converted to 8 bits at install time (:mod:`ocr.engines.models`) when it is there,
    else ``source`` (said once per process)."""
    found = converted(source)
    if found.is_file():
        return found
    if str(source) not in _SAID:
        _SAID.add(str(source))
        log.info("PP-OCR's detector is not converted to 8 bits (%s); it reads with the slower float model: run "
                 "`python -m ocr.engines.models`", found)
    return source


def optimized(model: Path, here: bool = False) -> Path:
    """Where ``model`` lies as saved by onnxruntime after its graph optimizations that hold on any CPU
    (level "extended": fused and folded nodes; install time, :mod:`ocr.engines.models`); it may not exist.
    Loading it skips that work: a third of PP-OCR's session set-up, the same answers. Named by the model's
    size and time of writing (a reinstalled wheel's model is another file) and onnxruntime's version.
    ``here``: the copy after every optimization (level "all": the layouts of this CPU's kernels as well),
    named by this CPU too, since it holds on this kind of CPU alone (None-like: ``model`` itself when
    the CPU cannot be told, which is then never found as a copy)."""
    import onnxruntime

    stamp = model.stat()
    level = ""
    if here:
        cpu = _cpu()
        if not cpu:
            return model
        level = f".all-{cpu}"
    named = f"{model.stem}.{stamp.st_size:x}-{stamp.st_mtime_ns:x}.ort-{onnxruntime.__version__}{level}.onnx"
    return models_dir() / named


def loadable(model: Path) -> Path:
    """``model``'s copy optimized for this CPU (:func:`optimized`) when it is there, else the one for any
    CPU, else ``model`` itself."""
    for found in (optimized(model, here=True), optimized(model)):
        if found != model and found.is_file():
            return found
    return model


@functools.cache
def _cpu() -> str:
    """This CPU's kind, as what decides onnxruntime's kernels: a checksum of its model name and the
    instruction sets it has (Linux's /proc/cpuinfo); empty when that cannot be read."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as info:
            said = [line for line in info if line.startswith(("model name", "flags"))][:2]
    except OSError:
        return ""
    return f"{zlib.crc32(''.join(said).encode()):08x}" if len(said) == 2 else ""


def _model_dir() -> Path:
    """Where the rapidocr wheel keeps its models (found from the package, without importing it)."""
    import importlib.util

    spec = importlib.util.find_spec("rapidocr")
    if spec is None or spec.origin is None:
        raise ModelDownloadRefusedError("PP-OCR needs the rapidocr package: install it with "
                                        "`pip install -r requirements.txt`.")
    return Path(spec.origin).parent / "models"


def _rapidocr() -> Any:
    """rapidocr's ``RapidOCR``: the one place rapidocr (and through it onnxruntime) is imported.

    rapidocr 3.10 prepares for downloads this reader never lets it make (every model is named by its
    path), and that is most of its import. As it imports its engines, it reads its table of model
    download addresses (default_models.yaml, 1,600 lines) into OmegaConf: 0.7 s of a 1.1 s load; it is
    read as an empty table, so a download rapidocr tried would find no address. And its downloader
    imports ``tqdm`` for its progress bars; it is replaced by :func:`_no_downloads`, which refuses.
    Its image loader imports ``requests`` (0.07 s) to open an image given as an address, which this
    reader never gives it: the loader is given a stand-in that imports requests if it is ever used
    (:func:`_on_use`).
    """
    if "rapidocr.utils.download_file" not in sys.modules:
        sys.modules["rapidocr.utils.download_file"] = _no_downloads()
    if "rapidocr.utils.load_image" not in sys.modules and "requests" not in sys.modules:
        sys.modules["requests"] = _on_use("requests")
        try:
            import rapidocr.utils.load_image  # noqa: F401 - keeps the stand-in as its `requests`
        finally:
            del sys.modules["requests"]  # anyone else importing requests gets the package itself
    if "rapidocr.inference_engine.base" not in sys.modules:
        from omegaconf import OmegaConf

        kept = OmegaConf.__dict__["load"]

        def load(path: Any, *args: Any, **kwargs: Any) -> Any:
            if Path(path).name == "default_models.yaml":
                return OmegaConf.create({})
            return kept.__func__(path, *args, **kwargs)

        OmegaConf.load = staticmethod(load)  # type: ignore[method-assign,assignment]
        try:
            from rapidocr.inference_engine import base  # noqa: F401 - its class reads the table
        finally:
            OmegaConf.load = kept  # type: ignore[method-assign]
    from rapidocr import RapidOCR

    return RapidOCR


def _bgr(image: np.ndarray) -> np.ndarray:
    """A uint8 gray or RGB page as the 3-channel BGR array the PP-OCR models were trained on."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.size == 0:
        raise InputError("The page to read must be a non-empty 8-bit gray or RGB image.")
    if image.ndim == 2:
        return np.ascontiguousarray(np.repeat(image[:, :, None], 3, axis=2))
    if image.ndim == 3 and image.shape[2] == 3:
        return np.ascontiguousarray(image[:, :, ::-1])
    raise InputError("The page to read must be an 8-bit gray or RGB image, not one with "
                     f"{image.shape[2] if image.ndim == 3 else image.ndim} channels or dimensions.")


def _box(points: Any) -> tuple[float, float, float, float]:
    array = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    return (float(array[:, 0].min()), float(array[:, 1].min()), float(array[:, 0].max()), float(array[:, 1].max()))


def _mirrored(piece: Piece, line: tuple[float, float, float, float]) -> Piece:
    """A piece reflected along its line's long axis, inside the line's box.

    rapidocr places characters in the line's crop as cut from the page; when the crop was turned by 180
    degrees to be read, the places it reports run the wrong way, and this puts them back.
    """
    x0, y0, x1, y1 = piece.box
    if line[2] - line[0] >= line[3] - line[1]:
        return piece._replace(box=(line[0] + line[2] - x1, y0, line[0] + line[2] - x0, y1))
    return piece._replace(box=(x0, line[1] + line[3] - y1, x1, line[1] + line[3] - y0))


def _text_lines(result: Any, turned: bool) -> list[TextLine]:
    """rapidocr's output as TextLines in rapidocr's order, with character positions when it gave them.

    ``turned``: every line was read turned by 180 degrees (the page is upside down, or reads upwards).
    """
    texts = tuple(getattr(result, "txts", None) or ())
    if not texts:
        return []
    boxes, scores = np.asarray(result.boxes, dtype=np.float64), tuple(result.scores)
    words = tuple(getattr(result, "word_results", None) or ())
    if len(words) != len(texts):  # rapidocr drops a line's positions when it finds none: keep none then
        words = ((),) * len(texts)
    lines = []
    for polygon, text, score, chars in zip(boxes, texts, scores, words):
        pieces = tuple(Piece(str(c), float(s) * 100.0, _box(b)) for c, s, b in chars if b is not None)
        if turned:
            pieces = tuple(_mirrored(piece, _box(polygon)) for piece in pieces)
        lines.append(TextLine(tuple((float(x), float(y)) for x, y in polygon), str(text), float(score) * 100.0,
                              pieces))
    return lines


def _windows(crop: np.ndarray, aspect: float = 4.0, most: int = 4) -> list[np.ndarray]:
    """Up to ``most`` pieces of a line's crop, each ``aspect`` times as wide as tall, spread along it.

    The line classifier sees 48 x 192 pixels: a whole long line squeezed into that is unreadable to it,
    while a piece of four heights keeps the letters' shapes.
    """
    height, width = crop.shape[:2]
    span = round(aspect * height)
    if width <= span:
        return [crop]
    count = min(most, int(np.ceil(width / span)))
    return [crop[:, start:start + span] for start in np.linspace(0, width - span, count).astype(int)]


class _PageTurn:
    """Stands in for rapidocr's line classifier: turns all of a page's lines by 180 degrees, or none.

    rapidocr turns each line the 0/180 classifier doubts; on the dev set and on drawn pages that turned
    short or faint lines of upright pages (a receipt's prices, a skewed page's lines) and cost far more than
    it saved, while on upside-down pages the classifier's doubts about long lines stayed under its
    threshold. Here the classifier judges pieces of each line (:func:`_windows`) and they vote, by width
    and confidence, for the whole page. Lines come cut from the page, those taller than wide already turned
    a quarter (rapidocr's rule), so one vote covers upside-down pages and pages that read upwards.
    At most :attr:`PIECES` pieces vote, from the widest lines: a page's turn is the same in all its lines,
    and a receipt's 50 lines gave 150 pieces, 0.1 s, with the same answer (docs/accuracy.md).
    """

    PIECES = 24

    def __init__(self, classifier: Any) -> None:
        self.classifier = classifier
        self.turned = False

    def vote(self, crops: list[np.ndarray]) -> float:
        """Width-weighted confidence that the lines are upside down (> 0) or upright (< 0)."""
        each = max(1, min(4, self.PIECES // max(1, len(crops))))
        widest = sorted(crops, key=lambda crop: -crop.shape[1])
        pieces = [window for crop in widest for window in _windows(crop, most=each)][:self.PIECES]
        if not pieces:
            return 0.0
        result = self.classifier(pieces)
        return float(sum(piece.shape[1] * (2.0 * float(score) - 1.0) * (1.0 if "180" in label else -1.0)
                         for piece, (label, score) in zip(pieces, result.cls_res)))

    def __call__(self, crops: list[np.ndarray]) -> Any:
        self.turned = self.vote(crops) > 0
        images = [np.ascontiguousarray(crop[::-1, ::-1]) if self.turned else crop for crop in crops]
        return _ClsOutput(images, [("180" if self.turned else "0", 1.0)] * len(crops))


class _Detector:
    """rapidocr's detector with the 8-bit model, and the float model for a page where it finds no line.

    On the dev set and drawn pages the 8-bit detector finds the lines the float one finds, but on a faint
    page (low contrast, drawn) it found none where the float one found every line: so a page it finds
    empty is looked at again with the float model (loaded then, once). A blank page pays a second look.
    """

    def __init__(self, quick: Any, exact: Callable[[], Any]) -> None:
        self.quick = quick
        self._exact = exact
        self.exact: Any = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.quick, name)

    def __call__(self, image: np.ndarray) -> Any:
        found = self.quick(image)
        if found.boxes is not None:
            return found
        if self.exact is None:
            self.exact = self._exact()
        return self.exact(image)


def _on_use(name: str) -> ModuleType:
    """A stand-in for module ``name`` that imports it when one of its attributes is first used, and
    answers from it."""

    class OnUse(ModuleType):
        def __getattr__(self, attribute: str) -> Any:
            return getattr(importlib.import_module(name), attribute)

    return OnUse(name, f"{name}, imported when first used")


def _no_downloads() -> ModuleType:
    """What rapidocr imports as its downloader (``rapidocr.utils.download_file``): the same two names,
    and a download refused. rapidocr calls it only for a model or dictionary missing from its wheel."""
    module = ModuleType("rapidocr.utils.download_file", "rapidocr's downloader, replaced: downloads are refused.")

    @dataclasses.dataclass
    class DownloadFileInput:
        file_url: str
        save_path: str | Path
        logger: logging.Logger
        sha256: str | None = None
        verbose: bool = True

    class DownloadFile:
        @classmethod
        def run(cls, params: DownloadFileInput) -> None:
            raise ModelDownloadRefusedError(
                f"PP-OCR would download {params.file_url}: it is not in the installed rapidocr package, and "
                "this program never downloads at run time; reinstall it with `pip install -r requirements.txt`.")

    module.DownloadFileInput, module.DownloadFile = DownloadFileInput, DownloadFile  # type: ignore[attr-defined]
    return module


def _detector(engine: Any, model: Path) -> Any:
    """A rapidocr detector like ``engine``'s, with the model at ``model``."""
    from rapidocr.ch_ppocr_det import TextDetector

    config = copy.deepcopy(engine.cfg.Det)
    config.model_path = str(model)
    return _in_float32(TextDetector(config))


def _in_float32(detector: Any) -> Any:
    """``detector`` (rapidocr's), scaling the page to its model's input in 32-bit floats. rapidocr
    subtracts its mean in 64-bit floats and converts after: 0.05 s of a 1.4-megapixel receipt's 0.7 s
    detection. The model's input is the same to float32's precision."""
    made = detector.get_preprocess

    def get_preprocess() -> Any:
        op = made()
        std = np.asarray(op.std, dtype=np.float64)
        scale = (op.scale / std).astype(np.float32)
        shift = (-np.asarray(op.mean, dtype=np.float64) / std).astype(np.float32)

        def normalize(image: np.ndarray) -> np.ndarray:
            out = image.astype(np.float32)
            out *= scale
            out += shift
            return out

        op.normalize = normalize
        return op

    detector.get_preprocess = get_preprocess
    return detector


def _as_found(corners: list[list[int]]) -> list[list[int]]:
    """A character box's corners as rapidocr found them. It puts them in order, 0.1 ms a box in
    Python (0.05 s of a receipt's); only their bounds are kept here (:func:`_box`), which order does not change."""
    return corners


class _Shared:
    """rapidocr's recogniser, with a page's lines shared with a hand when a core is free.

    A worker reading a page alone leaves the other core idle: once the lines are found, the reader offers
    half of them (by width, which is what a line costs) to ``helper`` (set per page by the worker: it asks
    the parent for a free core, and reads them in a copy of itself, :meth:`ocr.engines.worker.Worker.help`),
    reads its own half, then takes the other half's readings. When no core is free yet (another worker
    still reads its own page), it reads an eighth of the lines left and asks again, at most ``ASKS``
    times in all (an ask refused costs a message each way). Each line is recognised on its own
    (``Rec.rec_batch_num`` 1), so where a line is read does not change what it reads. A hand that fails
    leaves its lines to be read here.
    """

    SHARED_FROM = 8  # lines left: fewer are not worth the fork
    ASKS = 8

    def __init__(self, recognizer: Any) -> None:
        self.recognizer = recognizer
        self.helper: Callable[[Callable[[], Any]], Callable[[], Any] | None] | None = None
        self.shared = 0  # lines read elsewhere on the last page (for tests and the log)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.recognizer, name)

    def __call__(self, given: Any) -> Any:
        images = [given.img] if isinstance(given.img, np.ndarray) else list(given.img)
        self.shared = 0
        if self.helper is None or len(images) < self.SHARED_FROM:
            return self.recognizer(given)
        texts, scores, words = [None] * len(images), [0.0] * len(images), [None] * len(images)
        left, asks, own = list(range(len(images))), 0, None

        def read_here(indices: list[int]) -> None:
            nonlocal own
            own = self.recognizer(dataclasses.replace(given, img=[images[i] for i in indices]))
            keep(indices, (own.txts, own.scores, own.word_results))

        def keep(indices: list[int], read: tuple[Any, Any, Any]) -> None:
            for k, i in enumerate(indices):
                texts[i], scores[i], words[i] = read[0][k], read[1][k], read[2][k]

        while left:
            if len(left) < self.SHARED_FROM or asks == self.ASKS:
                read_here(left)
                break
            asks += 1
            mine, theirs = ([left[k] for k in half] for half in _halves([images[i] for i in left]))
            waiting = self.helper(partial(self.read, given, [images[i] for i in theirs]))
            if waiting is None:  # no core free yet: read a part here, and ask again
                part = left[:max(1, len(left) // 8)]
                read_here(part)
                left = left[len(part):]
                continue
            read_here(mine)
            answer = waiting()
            if answer is None:  # the hand failed: its lines are read here
                read_here(theirs)
            else:
                keep(theirs, answer)
                self.shared = len(theirs)
            break
        assert own is not None
        return dataclasses.replace(own, imgs=images, txts=tuple(texts), scores=tuple(scores), word_results=tuple(words))

    def read(self, given: Any, images: list[np.ndarray]) -> tuple[Any, Any, Any]:
        """``images`` read as ``given`` asks (a hand's share of a page's lines): texts, scores, words."""
        out = self.recognizer(dataclasses.replace(given, img=images))
        return tuple(out.txts), tuple(out.scores), tuple(out.word_results)


def _halves(images: list[np.ndarray]) -> tuple[list[int], list[int]]:
    """The lines' indices in two halves of about equal cost (width relative to height, at least the
    recogniser's smallest input), widest first, each to the lighter half; each half in page order."""
    least = REC_SHAPE[2] / REC_SHAPE[1]
    cost = [max(least, image.shape[1] / max(1, image.shape[0])) for image in images]
    halves: tuple[list[int], list[int]] = ([], [])
    load = [0.0, 0.0]
    for i in sorted(range(len(images)), key=lambda i: -cost[i]):
        side = 0 if load[0] <= load[1] else 1
        halves[side].append(i)
        load[side] += cost[i]
    return sorted(halves[0]), sorted(halves[1])


class _ClsOutput:
    """What rapidocr's pipeline reads from a classifier's answer: the images to recognise (and labels)."""

    def __init__(self, img_list: list[np.ndarray], cls_res: list[tuple[str, float]]) -> None:
        self.img_list = img_list
        self.cls_res = cls_res
        self.elapse = 0.0


class PPOCRReader:
    """PP-OCRv6 (small) on onnxruntime with one thread; models loaded once, in ``__init__``.

    ``params`` tunes rapidocr's thresholds and sizes (keys in :data:`TUNABLE`, over
    :data:`DEFAULT_PARAMS`); settings that would choose another model are refused.
    """

    languages = LANGUAGES

    def __init__(self, *, params: Mapping[str, Any] | None = None, quantized: bool = True,
                 optimized: bool = True) -> None:
        """``quantized``: detect with the 8-bit detector when it was converted; ``optimized``: load each
        model's optimized copy when it was saved (both at install time, :mod:`ocr.engines.models`)."""
        chosen = {**DEFAULT_PARAMS, **(params or {})}
        check_params(chosen)
        paths = {part: model_path(part) for part in MODEL_FILES}
        exact = paths["Det"]
        if quantized:
            paths["Det"] = quantized_detector(exact)
        self.detector = paths["Det"]
        started = time.perf_counter()
        try:
            import cv2  # PP-OCR's pre- and post-processing: one thread, like the engines themselves

            cv2.setNumThreads(1)
            RapidOCR = _rapidocr()
        except ImportError as error:
            raise MissingDependencyError(f"PP-OCR needs rapidocr and onnxruntime ({error}): install them with "
                                         "`pip install -r requirements.txt`.") from error
        loaded = {part: loadable(path) if optimized else path for part, path in paths.items()}
        config: dict[str, Any] = {
            "Global.log_level": "error",
            "EngineConfig.onnxruntime.intra_op_num_threads": 1,
            "EngineConfig.onnxruntime.inter_op_num_threads": 1,
            "EngineConfig.onnxruntime.enable_cpu_mem_arena": True,  # reused buffers: a few % less time
            "Rec.rec_img_shape": REC_SHAPE,
            **{f"{part}.model_path": str(path) for part, path in loaded.items()},
            **chosen,
        }
        try:
            self._engine: Any = cast(Any, RapidOCR(params=config))  # its model attributes are set on load
            # rapidocr loads each model on first use; load them now, so a broken install fails here, once.
            self._engine._load_det_model()
            self._engine._load_cls_model()
            self._engine._load_rec_model()
            _in_float32(self._engine.text_det)
            self._engine.cal_rec_boxes.order_points = _as_found
            self._turn = _PageTurn(self._engine.text_cls)
            self._engine.text_cls = self._turn
            self._shared = _Shared(self._engine.text_rec)
            self._engine.text_rec = self._shared
            if self.detector != exact:
                exact_loaded = loadable(exact) if optimized else exact
                self._engine.text_det = _Detector(self._engine.text_det, partial(_detector, self._engine, exact_loaded))
        except Exception as error:  # rapidocr and onnxruntime raise plain exceptions
            raise RecognitionError(f"PP-OCR could not load its models: {error}") from error
        self.load_seconds = time.perf_counter() - started
        self.params = chosen

    @staticmethod
    def supports(lang: str) -> bool:
        """Whether ``lang`` (Tesseract codes, ``+``-joined) is read; see :func:`supports`."""
        return supports(lang)

    @property
    def characters(self) -> frozenset[str]:
        """Every character the recognition model can write (from the model file's own list)."""
        return frozenset(self._engine.text_rec.session.get_character_list())

    def share(self, helper: Callable[[Callable[[], Any]], Callable[[], Any] | None] | None) -> None:
        """Offer part of the lines of the pages read from now on to ``helper`` (None: read them all here);
        see :class:`_Shared`. ``helper(task)`` has ``task`` (reading some lines) done elsewhere and
        returns what waits for its result, or None when no hand is free."""
        self._shared.helper = helper

    def lines(self, image: np.ndarray) -> list[TextLine]:
        """The detected lines of a page, in rapidocr's own order (top to bottom, then left to right)."""
        page = _bgr(image)
        self._turn.turned = False
        try:
            result = self._engine(page, return_word_box=True, return_single_char_box=True)
        except Exception as error:  # rapidocr and onnxruntime raise plain exceptions
            raise RecognitionError(f"PP-OCR failed on this page: {error}") from error
        return _text_lines(result, self._turn.turned)

    def prepare(self, options: Options) -> None:
        """Nothing to load per language: the models were loaded with the reader."""

    def read(self, image: np.ndarray, options: Options) -> Answer:
        """Read a page (uint8, gray or RGB): the text in reading order, the words with boxes fitted to the
        ink. Raises :class:`~ocr.errors.UnsupportedLanguageError` for a language the model does not read."""
        start = time.perf_counter()
        text, words = self.text(image, options.lang)
        return Answer(text=text, words=list(words), engine=PPOCR.name, backend="api",
                      seconds=time.perf_counter() - start)

    def text(self, image: np.ndarray, lang: str = "eng") -> tuple[str, list[Word]]:
        """A page's text in reading order and its words (what :meth:`read` answers)."""
        _check(lang)
        lines = self.lines(image)  # checks the image first
        text, words = arrange(lines, (int(image.shape[1]), int(image.shape[0])))
        return text, fit_to_ink(words, image)


def _check(lang: str) -> None:
    if not supports(lang):
        unread = [part for part in lang.split("+") if part not in LANGUAGES] or [lang]
        raise UnsupportedLanguageError(f"PP-OCR cannot read {', '.join(repr(part) for part in unread)}: its model "
                                       f"reads {', '.join(sorted(LANGUAGES))}.")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"rapidocr {version('rapidocr')}, PP-OCRv6 small"
    except PackageNotFoundError:
        return "not installed"


# Confidence -> Tesseract's confidence with the same chance of a right word (docs/accuracy.md, "calibration").
CALIBRATION = ((0.0, 40.0, 60.0, 75.0, 85.0, 92.5, 96.5, 98.75, 99.9, 100.0),
               (0.0, 15.0, 19.6, 55.3, 86.1, 90.8, 92.3, 93.2, 96.3, 97.0))

PPOCR = register(EngineInfo(
    name="ppocr", label="PP-OCR", module=__name__, load=lambda folder: PPOCRReader(), reads=supports, check=_check,
    languages=lambda: sorted(LANGUAGES), version=_version, cost=6.0, calibration=CALIBRATION, search="light",
    resizes=True, best_for="photos, receipts, screens and coloured print", shares=True,
))

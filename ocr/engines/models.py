"""PP-OCR's detection model converted to 8-bit integers at install time, with onnxruntime's own tools:
``python -m ocr.engines.models`` (``make`` runs it after installing the packages).

Detection is the larger part of PP-OCR's time; quantized statically (QDQ, weights per channel, activations
calibrated on pages this module draws, never on the evaluation pages) it reads the dev set and drawn pages
as well and takes about 0.6x the time (docs/accuracy.md, "PP-OCR's speed"). The recogniser stays in floats:
quantized, it lost accuracy. The converted file lies beside nothing of the package's own: under
``$OCR_MODELS_DIR`` or the environment's ``share/ocr-workbench/models``, named by the hash of the model it
was made from, so a new rapidocr wheel's model is never paired with an old conversion. Without it, the
reader uses the wheel's model as it is. Nothing is downloaded: the source is the installed wheel's file.

Each model PP-OCR loads (the 8-bit and the float detector, the classifier, the recogniser) is also saved
as onnxruntime's graph optimizations that hold on any CPU leave it (:func:`optimize`): loading that copy
skips them, 0.1 s of a worker's start, and reads the same (:func:`ocr.engines.ppocr.optimized`). A
second copy, after every optimization (this CPU's kernel layouts as well), is named by the CPU it was
made on and loaded only there: another third of the set-up.
"""

from __future__ import annotations

import argparse
import logging
import random
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .ppocr import PPOCRReader, converted, model_path, optimized

log = logging.getLogger(__name__)

DETECTION = "PP-OCRv6_det_small.onnx"
OPSET = 13  # per-channel QDQ needs DequantizeLinear's axis (opset 13); the wheel's model is opset 11
CALIBRATION_PAGES = 24
FONTS = Path("/usr/share/fonts/truetype/dejavu")
WORDS = ("invoice total receipt page chapter the of and to in is for with on by at from this that which water "
         "street account number amount date paid cash change thank you notice meeting report council minutes "
         "letter dear sincerely office tel road house village garden 12.50 3.99 2024 14:05 No. 1,250 %")


def drawn_pages(count: int = CALIBRATION_PAGES, seed: int = 0) -> Iterator[np.ndarray]:
    """Pages of words in DejaVu fonts, as people bring them: dark or coloured print on white, tinted or
    shaded paper, small and large print, one column or a narrow receipt, some blurred or grainy."""
    from PIL import Image, ImageDraw, ImageFilter, ImageFont

    rng = random.Random(seed)
    fonts = sorted(FONTS.glob("DejaVu*.ttf"))
    words = WORDS.split()
    for n in range(count):
        narrow = n % 4 == 3
        size = (rng.randint(500, 700), rng.randint(900, 1400)) if narrow else (rng.randint(900, 1600),
                                                                                rng.randint(700, 1500))
        paper = tuple(rng.randint(200, 255) for _ in range(3))
        ink = tuple(rng.randint(0, 90) for _ in range(3))
        image = Image.new("RGB", size, paper)
        draw = ImageDraw.Draw(image)
        points = rng.choice((14, 18, 24, 32, 44))
        face = ImageFont.truetype(str(rng.choice(fonts)), points) if fonts else ImageFont.load_default(points)
        y = rng.randint(20, 80)
        while y < size[1] - points * 2:
            x, line = rng.randint(20, 60), " ".join(rng.choice(words) for _ in range(rng.randint(2, 12)))
            draw.text((x, y), line, fill=ink, font=face)
            y += int(points * rng.uniform(1.3, 2.2))
        if n % 3 == 1:
            image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 1.5)))
        pixels = np.asarray(image).astype(np.float32)
        if n % 3 == 2:
            shade = np.linspace(rng.uniform(0.6, 1.0), 1.0, size[0], dtype=np.float32)[None, :, None]
            pixels = pixels * shade + np.random.default_rng(n).normal(0, 8, pixels.shape).astype(np.float32)
        yield np.clip(pixels, 0, 255).astype(np.uint8)


def _detector_inputs(pages: Iterator[np.ndarray]) -> list[np.ndarray]:
    """What the float detector is given for each page (rapidocr's own preprocessing), captured as it reads."""
    captured: list[np.ndarray] = []
    reader = PPOCRReader(quantized=False)
    session = reader._engine.text_det.session

    class Tap:
        def __call__(self, x: np.ndarray) -> Any:
            captured.append(np.array(x))
            return session(x)

        def __getattr__(self, name: str) -> Any:
            return getattr(session, name)

    reader._engine.text_det.session = Tap()
    for page in pages:
        reader.text(page)
    return captured


def convert(source: Path, target: Path, pages: int = CALIBRATION_PAGES) -> Path:
    """Quantize the detector ``source`` into ``target`` (written whole, then renamed into place)."""
    import onnx
    from onnx import version_converter
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    inputs = _detector_inputs(drawn_pages(pages))
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ocr-models-") as tmp:
        upgraded, prepared = Path(tmp) / "opset.onnx", Path(tmp) / "prepared.onnx"
        onnx.save(version_converter.convert_version(onnx.load(str(source)), OPSET), str(upgraded))
        quant_pre_process(str(upgraded), str(prepared), skip_symbolic_shape=True)
        name = onnx.load(str(prepared)).graph.input[0].name

        class Pages(CalibrationDataReader):  # type: ignore[misc]
            def __init__(self) -> None:
                self.left = iter(inputs)

            def get_next(self) -> dict[str, np.ndarray] | None:
                x = next(self.left, None)
                return None if x is None else {name: x}

        partial = Path(tmp) / "int8.onnx"
        quantize_static(str(prepared), str(partial), Pages(), quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        calibrate_method=CalibrationMethod.MinMax)
        staged = target.with_name(f"{target.name}.part")
        staged.write_bytes(partial.read_bytes())
        staged.replace(target)
    return target


def optimize(source: Path, target: Path, here: bool = False) -> Path:
    """Save ``source`` as onnxruntime's graph optimizations of level "extended" leave it (those that hold
    on any CPU; the layout ones for this CPU are still made as a session loads it) into ``target``;
    ``here``: of level "all" (this CPU's layouts too: the copy holds on this kind of CPU alone)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    level = ort.GraphOptimizationLevel
    options.graph_optimization_level = level.ORT_ENABLE_ALL if here else level.ORT_ENABLE_EXTENDED
    options.log_severity_level = 3  # not its warning that the "all" copy holds on this CPU alone: it is named so
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = target.with_name(f"{target.stem}.part.onnx")  # .onnx: onnxruntime picks the format by name
    options.optimized_model_filepath = str(staged)
    ort.InferenceSession(str(source), options, providers=["CPUExecutionProvider"])
    staged.replace(target)
    return target


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m ocr.engines.models", description=__doc__.splitlines()[0])
    p.add_argument("--force", action="store_true", help="convert and optimize again even when it is done")
    args = p.parse_args(argv)
    source = model_path("Det")
    target = converted(source)
    if target.exists() and not args.force:
        print(f"PP-OCR's detector is converted already: {target}")
    else:
        print(f"converting PP-OCR's detector to 8 bits (calibrated on {CALIBRATION_PAGES} drawn pages)...",
              flush=True)
        convert(source, target)
        print(f"written: {target}")
    for model in (target, source, model_path("Cls"), model_path("Rec")):
        for here in (False, True):
            done = optimized(model, here)
            if done != model and (args.force or not done.exists()):
                optimize(model, done, here)
                print(f"optimized{' for this CPU' if here else ''}: {done}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

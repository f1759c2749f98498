"""`python -m ocr`: output, exit codes, and one plain line per bad file. Every test calls
``ocr.cli.main(argv)`` in this process, but the one that runs the command end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from ocr.cli import main
from ocr.engines import install

from .conftest import ROOT, SAMPLE_TEXT, ctrl_c_as_at_a_terminal, draw_page, words_of


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def run(capsysbinary):
    """``run(*args)``: ``main(args)`` in this process, with its exit status and what it printed."""

    def call(*args) -> Ran:
        try:
            code = main([str(a) for a in args])
        except SystemExit as e:  # argparse's own exit for bad arguments
            code = int(e.code or 0)
        out, err = capsysbinary.readouterr()
        return Ran(code, out.decode("utf-8"), err.decode("utf-8"))

    return call


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("cli")
    good = d / "good.png"
    draw_page().save(good)
    tiff = d / "three.tif"
    pages = [draw_page([f"Page number {n}"], size=(700, 150)) for n in ("one", "two", "three")]
    pages[0].save(tiff, save_all=True, append_images=pages[1:])
    (d / "empty.png").write_bytes(b"")
    (d / "notes.jpg").write_text("just some text, not a picture\n")
    data = good.read_bytes()
    (d / "cut.png").write_bytes(data[: len(data) // 3])
    return {p.stem: p for p in d.iterdir()}


def test_one_file_prints_its_text(files, run):
    out = run(files["good"])
    assert out.returncode == 0, out.stderr
    assert words_of(out.stdout) == words_of(" ".join(SAMPLE_TEXT))
    assert out.stderr == ""


def test_the_command_reads_a_dev_image_end_to_end(dev_dir, tmp_path):
    out = subprocess.run([sys.executable, "-m", "ocr", str(dev_dir / "lept_italic.png")], capture_output=True,
                         text=True, cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)
    assert out.returncode == 0 and "remf place indicator" in out.stdout and out.stderr == ""


def test_output_folder_gets_one_file_per_page(files, tmp_path, run):
    out = run(files["three"], files["good"], "-o", tmp_path, "--format", "json", "--jobs", "2")
    assert out.returncode == 0, out.stderr
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["good.json", "three-p1.json", "three-p2.json", "three-p3.json"]
    assert "two" in json.loads((tmp_path / "three-p2.json").read_text())["text"]


def test_bad_files_fail_one_line_each_and_the_rest_is_written(files, tmp_path, run):
    out = run(files["empty"], files["good"], files["notes"], files["cut"], tmp_path / "missing.png",
              "-o", tmp_path / "out")
    assert out.returncode == 1
    lines = out.stderr.strip().splitlines()
    assert "Traceback" not in out.stderr
    assert lines == [  # in the files' order, whether refused from the headers or when the pixels are read
        "error: empty.png: the file is empty (0 bytes).",
        "error: notes.jpg: not an image or PDF that this tool reads (PNG, JPEG, TIFF, BMP, WebP, GIF or PDF).",
        lines[2],
        "error: missing.png: no such file.",
    ]
    assert lines[2].startswith("error: cut.png: the image is damaged")
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["good.txt"]


@pytest.mark.parametrize("args, message", [
    (["--psm", "99"], "psm"),
    (["--format", "docx"], "invalid choice"),
    (["--no-such-flag"], "unrecognized"),
    (["--lang", "xyz"], "tesseract-ocr-xyz"),
    (["--jobs", "0"], "--jobs"),
    (["--max-megapixels", "-1"], "--max-megapixels"),
    (["--cluster", "remote:2"], "--cluster takes local"),
    (["--cluster", "local:0"], "--cluster local:N"),
    (["--cluster", "local", "--scheduler", "tcp://x:8786"], "not allowed with"),
    (["--cluster", "local", "--auto"], "--auto reads on this machine only"),
    (["--shared-files"], "--shared-files goes with --scheduler"),
    (["--skip-text", "--redo"], "not allowed with"),
])
def test_bad_arguments_exit_2(files, args, message, run):
    out = run(files["good"], *args)
    assert out.returncode == 2 and message in out.stderr and "Traceback" not in out.stderr


def test_bad_preset_exits_2(files, tmp_path, run):
    preset = tmp_path / "p.json"
    preset.write_text('{"settings": {"threshold": "purple"}}')
    out = run(files["good"], "--preset", preset)
    assert out.returncode == 2 and "threshold" in out.stderr and "Traceback" not in out.stderr
    out = run(files["good"], "--preset", tmp_path / "absent.json")
    assert out.returncode == 2 and "cannot be read" in out.stderr


def test_preset_settings_are_used(files, tmp_path, run):
    preset = tmp_path / "p.json"
    preset.write_text(json.dumps({"settings": {"threshold": "otsu", "scale": 1.5}, "options": {"psm": 6}}))
    out = run(files["good"], "--preset", preset, "--format", "json")
    data = json.loads(out.stdout)
    assert data["settings"]["threshold"] == "otsu" and data["options"]["psm"] == 6
    assert words_of(data["text"]) == words_of(" ".join(SAMPLE_TEXT))


def test_command_line_backend(files, run):
    out = run(files["good"], "--backend", "cli", "--format", "csv")
    assert out.returncode == 0 and out.stdout.startswith("page,text,conf")


def test_missing_tesseract_is_one_line_with_the_fix(files, tmp_path, monkeypatch, run):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("TESSDATA_PREFIX", str(tmp_path))
    install.tessdata_dir.cache_clear()
    try:
        out = run(files["good"], "--backend", "cli")
    finally:
        monkeypatch.undo()
        install.tessdata_dir.cache_clear()
    assert out.returncode == 1
    assert "apt-get install" in out.stderr and "Traceback" not in out.stderr


def test_pixel_limit_is_configurable(files, run):
    out = run(files["good"], "--max-megapixels", "0.1")
    assert out.returncode == 1 and "0.4 megapixels), over the limit of 0.1 megapixels" in out.stderr
    assert out.stderr.startswith("error: good.png: the image is 1000x400 pixels")


def test_pages_and_pixels_per_file_are_limits_the_flags_name(files, run):
    out = run(files["three"], files["good"], "--max-pages", "2")
    assert out.returncode == 1 and words_of(out.stdout) == words_of(" ".join(SAMPLE_TEXT))
    assert out.stderr.strip() == "error: three.tif: the file has more than 2 pages, over the limit of 2 pages per file."
    out = run(files["three"], "--max-file-megapixels", "0.2")
    assert out.returncode == 1 and "over the limit of 0.2 megapixels per file" in out.stderr
    assert run(files["good"], "--max-pages", "0").returncode == 2


def test_unwritable_output_is_one_line(files, tmp_path, run):
    blocker = tmp_path / "out"
    blocker.mkdir()
    (blocker / "good.txt").mkdir()  # a folder where the output file should go
    out = run(files["good"], "-o", blocker)
    assert out.returncode == 1 and "cannot write" in out.stderr and "Traceback" not in out.stderr


def test_a_page_over_its_time_out_is_one_line_and_the_rest_reads(files, tmp_path, run):
    from .test_engine import SAMPLE_TEXT

    # the time-out applies to every page: 2 s for a page that takes Tesseract tens of seconds (85 s measured
    # on a loaded machine), and for one that takes it a few hundredths of one
    lines = [f"{i:03d} " + " ".join(SAMPLE_TEXT) * 2 for i in range(200)]
    slow = tmp_path / "slow.png"
    draw_page(lines, size=(5200, 8600), font_size=30, origin=(20, 20)).save(slow)
    out = run(slow, files["good"], "--timeout", "2", "-o", tmp_path / "out")
    assert out.returncode == 1
    assert out.stderr.strip() == "error: slow.png: Tesseract gave up after its time-out of 2 s."
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["good.txt"]


CTRL_C_IN_A_FINALIZER = """
import os, signal
from ocr.cli import CtrlC

class Dropped:
    def __del__(self):
        os.kill(os.getpid(), signal.SIGINT)
        sum(range(1000))  # the handler runs here, inside the finalizer, and Python drops what it raises

with CtrlC() as ctrl_c:
    Dropped()
    print("dropped", flush=True)
    try:
        ctrl_c.check()
    except KeyboardInterrupt:
        print("raised again", flush=True)
"""


def test_a_ctrl_c_dropped_by_a_finalizer_is_raised_again_at_the_next_page():
    done = subprocess.run([sys.executable, "-c", CTRL_C_IN_A_FINALIZER], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120, preexec_fn=ctrl_c_as_at_a_terminal)
    assert "Exception ignored" in done.stderr and "KeyboardInterrupt" in done.stderr
    assert done.stdout.splitlines() == ["dropped", "raised again"]

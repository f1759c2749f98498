"""Tesseract as a command: one ``tesseract`` process per page, for when the in-process library cannot
load (or is not wanted), and the plain ``tesseract IMG stdout`` every figure is measured against.

One run asks for every output it needs at once (``txt tsv``); the command line is built here
and nowhere else, and each run gets the one-thread environment of :func:`child_environment`.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from ..errors import EngineCrashError, EngineTimeoutError, MissingDependencyError, TesseractError
from .install import INSTALL_HINT, child_environment, tessdata_dir
from .protocol import Answer, Request
from .tesseract import refusal, variables, words_from_tsv, write_png


def executable() -> str:
    exe = shutil.which("tesseract")
    if not exe:
        raise MissingDependencyError(f"the `tesseract` command is not installed: {INSTALL_HINT}.")
    return exe


def run(args: list[str], timeout: float) -> subprocess.CompletedProcess[bytes]:
    """Run the tesseract command with ``args``; our errors for a time-out, a crash or a failure."""
    try:
        out = subprocess.run([executable(), *args], capture_output=True, timeout=timeout, env=child_environment())
    except subprocess.TimeoutExpired:
        raise EngineTimeoutError(f"Tesseract gave up after its time-out of {timeout:g} s.") from None
    if out.returncode < 0:
        name = signal.Signals(-out.returncode).name
        raise EngineCrashError(f"Tesseract crashed on this page (signal {name}).")
    if out.returncode != 0:
        said = " ".join(out.stderr.decode("utf-8", errors="replace").split())[:200]
        raise TesseractError(f"Tesseract failed on this page (exit code {out.returncode}: {said}).")
    return out


def _options(req: Request) -> list[str]:
    o = req.options
    args = ["-l", o.lang, "--psm", str(o.psm), "--oem", str(o.oem), "--dpi", str(int(req.dpi)),
            "--tessdata-dir", tessdata_dir()]
    for name, value in variables(req).items():
        if name != "user_defined_dpi" and value:
            args += ["-c", f"{name}={value}"]
    return args


def recognize(req: Request) -> Answer:
    """Read one page with the command: text and words from one run."""
    start = time.perf_counter()
    if reason := refusal(req.image):
        raise TesseractError(f"Tesseract cannot read this page: {reason}.")
    with tempfile.TemporaryDirectory(prefix="ocr-cli-") as tmp:
        source, base = Path(tmp) / "page.png", Path(tmp) / "page"
        write_png(req.image, str(source), req.dpi)
        run([str(source), str(base), *_options(req), "txt", "tsv"], timeout=req.options.timeout)

        def read(ext: str) -> str:
            path = base.with_suffix(f".{ext}")
            return path.read_text(encoding="utf-8") if path.exists() else ""

        return Answer(
            text=read("txt").replace("\f", ""),
            words=words_from_tsv(read("tsv")),
            engine="tesseract",
            backend="cli",
            seconds=time.perf_counter() - start,
        )


def orientation(image: np.ndarray, dpi: int, timeout: float) -> tuple[int, float] | None:
    """Orientation detection with the command (``--psm 0``); None when there is too little text."""
    if refusal(image):
        return None
    with tempfile.TemporaryDirectory(prefix="ocr-cli-") as tmp:
        source = os.path.join(tmp, "page.png")
        write_png(image, source, dpi)
        try:
            out = run([source, "stdout", "--psm", "0", "--dpi", str(dpi), "--tessdata-dir", tessdata_dir()], timeout)
        except TesseractError as e:
            if "too few characters" in str(e).lower():
                return None
            raise
    text = out.stdout.decode("utf-8", errors="replace")
    rotate = re.search(r"Rotate:\s*(\d+)", text)
    conf = re.search(r"Orientation confidence:\s*([\d.]+)", text)
    return (int(rotate.group(1)) % 360, float(conf.group(1)) if conf else 0.0) if rotate else None


def plain_tesseract(path: str | os.PathLike[str], *, lang: str = "eng", timeout: float = 120.0) -> str:
    """``OMP_THREAD_LIMIT=1 tesseract FILE stdout``: the reference every speed and accuracy figure is
    measured against (the command as a person would run it, on the file itself)."""
    out = run([str(path), "stdout", "-l", lang], timeout)
    return out.stdout.decode("utf-8", errors="replace").replace("\f", "")

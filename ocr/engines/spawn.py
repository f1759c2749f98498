"""Starting an engine's worker process, and a command's first worker started before anything else.

A cold ``python -m ocr IMG`` spends a fifth of a second importing what reads and decodes a page; its
worker (another fifth, to start Python and load Tesseract) need not wait for that: :func:`early`
starts it first thing, from the arguments as written, and the pool takes it (:func:`adopt`) when it
starts its first worker. Only the standard library is imported here, so starting costs nothing more.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import IO

from .install import ask_early, child_environment

FOLDER_PREFIX = "ocr-worker-"
FIRST_OPTIONS = "OCR_WORKER_FIRST"  # the environment variable naming a worker's first options (start)
# arguments after which the command reads nowhere on this machine's workers (or reads nothing)
_ELSEWHERE = ("--scheduler", "--cluster", "--backend=cli", "-h", "--help", "--version")

_early: list[tuple[subprocess.Popen[bytes], str]] = []


def start(first: dict[str, str] | None = None, n: int = 0) -> tuple[subprocess.Popen[bytes], str]:
    """A worker process starting (it says hello once its first engine is loaded), and its private folder.
    ``first``: the options the first page will most likely be read with (``engine``, ``lang``, ``oem``, as
    words; empty for the defaults); the worker, the ``n``-th the command starts, loads what the pool's
    ``prepare`` will ask of it (:func:`ocr.engines.registry.for_worker`) while the command still imports
    what decodes the page. The parent's own ``prepare`` follows as ever, and finds it loaded."""
    folder = tempfile.mkdtemp(prefix=FOLDER_PREFIX)
    package_root = str(Path(__file__).resolve().parent.parent.parent)
    path = os.pathsep.join([package_root, *filter(None, [os.environ.get("PYTHONPATH")])])
    extra = {"PYTHONPATH": path, "OCR_WORKER_DIR": folder}
    if first is not None:
        extra[FIRST_OPTIONS] = json.dumps({"options": first, "worker": n})
    proc = subprocess.Popen(
        [sys.executable, "-m", "ocr.engines.worker"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=child_environment(extra),
        start_new_session=True,  # a Ctrl-C in a terminal reaches the parent, which then stops us
    )
    return proc, folder


def early(argv: list[str]) -> None:
    """Start a command's workers now when its arguments (``argv``, as written) will read on this machine's
    workers: a file is named, and no flag sends the reading elsewhere or asks for no workers. One worker,
    or, with an engine other than Tesseract named, as many as the command starts at once (:func:`count`).
    A guess from the words alone; a worker the command does not take is stopped by :func:`drop`."""
    words = [a for a in argv if a != "--"]
    if not any(not a.startswith("-") for a in words) or any(a.split("=")[0] in _ELSEWHERE or a in _ELSEWHERE
                                                              for a in words):
        return
    if _value(words, "--jobs") == "0" or _value(words, "--backend") == "cli":
        return
    first = {key: value for key in ("engine", "lang", "oem") if (value := _value(words, "--" + key)) is not None}
    for n in range(count(words)):
        _early.append(start(first, n))
    ask_early()  # where Tesseract's language data is: the command line checks the languages asked for


def count(words: list[str]) -> int:
    """How many workers a command starts before its first page: one for Tesseract alone (the default),
    and one for another engine named on one picture (a worker that shares the page's work lends itself a
    hand: ocr.engines.worker); else one per core or ``--jobs`` (``auto`` reads a page read alone with
    both engines side by side: ocr.cli)."""
    engine = _value(words, "--engine")
    if engine in (None, "tesseract") or (engine != "auto" and _one_picture(words)):
        return 1
    cores = os.cpu_count() or 1
    try:
        return max(1, min(int(_value(words, "--jobs") or cores), cores))
    except ValueError:
        return 1


def _one_picture(words: list[str]) -> bool:
    """Whether the words name one file, not a PDF (a word that is a file is taken for one named)."""
    named = [word for word in words if not word.startswith("-") and os.path.isfile(word)]
    return len(named) == 1 and not named[0].lower().endswith(".pdf")


def _value(words: list[str], flag: str) -> str | None:
    """The value given to ``flag`` (``--flag VALUE`` or ``--flag=VALUE``), the last one; None when not given."""
    found = None
    for i, word in enumerate(words):
        if word == flag and i + 1 < len(words):
            found = words[i + 1]
        elif word.startswith(flag + "="):
            found = word[len(flag) + 1:]
    return found


def widen(pipe: IO[bytes] | None) -> int:
    """Let the pipe to a worker hold a page of up to 1 MiB (64 KiB by default; Linux's F_SETPIPE_SZ), and
    say how much it holds: a request that fits is written while the worker still finishes the one before
    (:meth:`ocr.engines.pool.WorkerProcess.call`)."""
    room = 1 << 16
    if pipe is not None and hasattr(fcntl, "F_SETPIPE_SZ"):
        with contextlib.suppress(OSError):
            room = fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, 1 << 20)
    return room


def adopt() -> tuple[subprocess.Popen[bytes], str] | None:
    """The worker :func:`early` started, for the first pool that starts a worker; None when there is none."""
    return _early.pop(0) if _early else None  # in the order started: the n-th prepares what for_worker says


def drop() -> None:
    """Stop a worker started early that no pool took (the arguments turned out bad, say)."""
    import shutil

    while _early:
        proc, folder = _early.pop()
        proc.kill()
        proc.wait()
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                stream.close()
        shutil.rmtree(folder, ignore_errors=True)

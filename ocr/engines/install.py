"""What is installed: Tesseract's language data, its word lists, its version.

Nothing here loads an engine; these answers are cheap and cached, so the app and the command line can
ask them before any page is read.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path

from ..errors import LanguageMissingError, MissingDependencyError

INSTALL_HINT = ("install it with `sudo apt-get install tesseract-ocr tesseract-ocr-eng tesseract-ocr-osd` "
                "(or run `make run`)")


_asked: list[subprocess.Popen[str]] = []


def ask_early() -> None:
    """Start asking the ``tesseract`` command where its language data is, for :func:`tessdata_dir` to
    collect later: a cold command (and its worker) imports what it needs meanwhile. Not when the answer
    it gave before is kept (:func:`_remembered`)."""
    exe = None if os.environ.get("TESSDATA_PREFIX") else shutil.which("tesseract")
    if exe and not _asked and _remembered(exe) is None:
        with contextlib.suppress(OSError):
            _asked.append(subprocess.Popen([exe, "--list-langs"], stdout=subprocess.PIPE,
                                           stderr=subprocess.STDOUT, text=True))


@lru_cache(maxsize=1)
def tessdata_dir() -> str:
    """The folder holding ``*.traineddata``: ``TESSDATA_PREFIX`` when set, else the one the installed
    ``tesseract`` names, else a usual place."""
    env = os.environ.get("TESSDATA_PREFIX")
    if env:
        path = Path(env)
        if not any(path.glob("*.traineddata")) and (path / "tessdata").is_dir():
            path = path / "tessdata"
        return str(path) + os.sep
    exe = shutil.which("tesseract")
    if exe and (known := _remembered(exe)):
        return known
    ask_early()
    if _asked:
        asking = _asked.pop()
        try:
            said, _ = asking.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            asking.kill()
            said = ""
        found = re.search(r'"([^"]+)"', said or "")
        if found and Path(found.group(1)).is_dir():
            folder = str(Path(found.group(1))) + os.sep
            if exe:
                _remember(exe, folder)
            return folder
    usual = [Path("/usr/share/tessdata"), Path("/usr/local/share/tessdata")]
    for guess in [*sorted(Path("/usr/share/tesseract-ocr").glob("*/tessdata"), reverse=True), *usual]:
        if any(guess.glob("*.traineddata")):
            return str(guess) + os.sep
    raise MissingDependencyError(f"Tesseract's language data was not found: {INSTALL_HINT}.")


def _cache() -> Path:
    """This program's cache folder (``$XDG_CACHE_HOME/ocr-workbench``)."""
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "ocr-workbench"


def _answer_file(exe: str) -> Path:
    """Where the answer of the ``tesseract`` at ``exe`` about its language data is kept: named by the
    program's path, size and time of writing, so another or a reinstalled Tesseract is asked again."""
    stamp = os.stat(exe)
    name = re.sub(r"[^A-Za-z0-9]+", "_", exe).strip("_")
    return _cache() / f"tessdata-{name}-{stamp.st_size:x}-{stamp.st_mtime_ns:x}.txt"


def _remembered(exe: str) -> str | None:
    """The language data folder ``tesseract`` named when it was last asked, if it still holds language
    data; None otherwise. Asking costs a process at every command's start (two for a cold one)."""
    try:
        folder = _answer_file(exe).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return folder if folder and any(Path(folder).glob("*.traineddata")) else None


def _remember(exe: str, folder: str) -> None:
    with contextlib.suppress(OSError):  # no cache to write to: the next command asks again
        target = _answer_file(exe)
        target.parent.mkdir(parents=True, exist_ok=True)
        staged = target.with_suffix(f".{os.getpid()}.part")
        staged.write_text(folder, encoding="utf-8")
        staged.replace(target)


def languages() -> list[str]:
    """Installed language data, e.g. ``['eng', 'osd']``."""
    return sorted(p.stem for p in Path(tessdata_dir()).glob("*.traineddata"))


def language_package(lang: str) -> str:
    """The Debian/Ubuntu package that brings one language's data: ``deu`` -> ``tesseract-ocr-deu``."""
    return "tesseract-ocr-" + lang.lower().replace("_", "-")


def check_languages(lang: str) -> None:
    """Raise :class:`LanguageMissingError` naming the package to install when a language is missing."""
    have = languages()
    for part in lang.split("+"):
        if part not in have:
            raise LanguageMissingError(
                f"the language data for {part!r} is not installed (installed: {', '.join(have) or 'none'}); "
                f"install it with `sudo apt-get install {language_package(part)}`."
            )


def tesseract_version() -> str:
    """The first line of ``tesseract --version``, or "not installed"."""
    exe = shutil.which("tesseract")
    if not exe:
        return "not installed"
    try:
        out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    lines = (out.stdout or out.stderr).splitlines()
    return lines[0] if lines else "unknown"


def wordlist(lang: str = "eng") -> frozenset[str]:
    """The words in a language's own dictionary (its traineddata's word list) that have a letter in
    them, lower-cased.

    Extracted once with Tesseract's ``combine_tessdata`` and ``dawg2wordlist`` and cached under
    ``~/.cache/ocr-workbench`` as they are returned (loading them is then a split: a tenth of a second
    less for a cold command). Empty when the tools or the dictionary are missing.
    """
    return _wordlist(tessdata_dir(), lang)


@lru_cache(maxsize=8)
def _wordlist(folder: str, lang: str) -> frozenset[str]:
    source = Path(folder) / f"{lang}.traineddata"
    target = _cache() / f"{lang}-{int(source.stat().st_mtime) if source.exists() else 0}.lower.words"
    if not target.exists():
        if not source.exists() or not shutil.which("combine_tessdata") or not shutil.which("dawg2wordlist"):
            return frozenset()
        _extract_wordlist(source, lang, target)
        if not target.exists():
            return frozenset()
    return frozenset(target.read_text(encoding="utf-8").split())


def _extract_wordlist(source: Path, lang: str, target: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / lang
        shutil.copy(source, f"{base}.traineddata")
        subprocess.run(["combine_tessdata", "-u", f"{base}.traineddata", f"{base}."], capture_output=True, timeout=120)
        for prefix in ("lstm-", ""):
            unicharset, dawg = Path(f"{base}.{prefix}unicharset"), Path(f"{base}.{prefix}word-dawg")
            if unicharset.exists() and dawg.exists():
                out = Path(tmp) / "words.txt"
                command = ["dawg2wordlist", str(unicharset), str(dawg), str(out)]
                subprocess.run(command, capture_output=True, timeout=120)
                if out.exists():
                    target.parent.mkdir(parents=True, exist_ok=True)
                    partial = target.with_suffix(".part")
                    words = out.read_text(encoding="utf-8", errors="replace").lower().split()
                    kept = sorted({w for w in words if any(ch.isalpha() for ch in w)})
                    partial.write_text("\n".join(kept) + "\n", encoding="utf-8")
                    partial.replace(target)
                    return


# glibc's malloc asks for transparent huge pages for its memory (glibc 2.35+; older ones, other C
# libraries and kernels with them off ignore it). PP-OCR's detector works in a few hundred megabytes
# that malloc maps fresh for a page: in 4 KiB pages that was 67,000 page faults on a large receipt, 0.1 s
# of its first detection's 0.9 s; in huge pages, 3,300.
HUGE_PAGES = "glibc.malloc.hugetlb=1"


def child_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment an engine's process runs with: ours, plus one thread for OpenMP (Debian's
    Tesseract uses it; on two cores it made one page ten times slower) and for ONNX Runtime's own pools,
    and malloc in huge pages (:data:`HUGE_PAGES`, unless the environment sets that tunable itself).
    Only children get this; the calling process's environment is never changed."""
    tunables = os.environ.get("GLIBC_TUNABLES", "")
    if "glibc.malloc.hugetlb" not in tunables:
        tunables = ":".join(filter(None, [tunables, HUGE_PAGES]))
    return {**os.environ, "OMP_THREAD_LIMIT": "1", "OMP_NUM_THREADS": "1", "GLIBC_TUNABLES": tunables,
            **(extra or {})}

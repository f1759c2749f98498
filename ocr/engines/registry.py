"""The registry of OCR engines: every engine is one module that registers an :class:`EngineInfo`.

The worker, the pool, :func:`ocr.recognize`, the judge, auto-tune, the ``engine`` choices of
:class:`~ocr.settings.Options`, the command line and the app ask the registry which engines there are
and what each one needs, so a new engine is one file. The built-in engines are loaded by module name
on first use, then any engine another package declares under the entry-point group
:data:`ENTRY_POINTS` (as OCRmyPDF loads its plugins). This module imports nothing of the package's but
its errors, so the settings can ask it for the engine choices.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, overload

from ..errors import SettingsError

log = logging.getLogger(__name__)

AUTO = "auto"  # not an engine: read with every engine that reads the language, keep the best reading
BUILTIN = ("ocr.engines.tesseract", "ocr.engines.ppocr")  # in the order "auto" reads with them
DEFAULT = "tesseract"  # the first of them, which reads when no engine is named (a test keeps the two so)
ENTRY_POINTS = "ocr_workbench.engines"

Calibration = tuple[tuple[float, ...], tuple[float, ...]]


def _everything(lang: str) -> bool:
    return True


@dataclass(frozen=True)
class EngineInfo:
    """What the rest of the package knows of one engine.

    ``load(folder)`` runs in a worker process (``folder`` is the worker's own) and returns the reader:
    an object with ``read(image, options) -> Answer`` and ``prepare(options)`` (load what reading with
    ``options`` needs, ahead of the first page). ``module`` is imported by a worker that has not seen
    the engine yet. ``reads(lang)`` says, without loading a model, whether the engine's model can read
    every language of ``lang`` ("eng+deu"); ``check(lang)`` raises a one-sentence
    :class:`~ocr.errors.MissingDependencyError` when something it needs for ``lang`` is not installed.
    """

    name: str  # as Options.engine, presets, links and --engine spell it
    label: str  # as a person reads it
    module: str
    load: Callable[[str], Any]
    reads: Callable[[str], bool] = _everything
    check: Callable[[str], None] = lambda lang: None
    languages: Callable[[], Sequence[str]] = tuple
    version: Callable[[], str] = lambda: "unknown"
    cost: float = 1.0  # what a megapixel costs it, relative to Tesseract (auto-tune's budget)
    calibration: Calibration | None = None  # its confidence -> Tesseract's with the same chance of a right word
    options: frozenset[str] = frozenset()  # Options fields only this engine understands
    search: str = "light"  # auto-tune: "full" searches clean-ups, sizes and layouts; "light" a few clean-ups
    resizes: bool = False  # its detector sizes the page itself, so a reduced copy reads as well as the page
    own_timeout: bool = False  # it stops itself at the page's time limit (the worker is killed only later)
    fallback: Callable[[Any], Any] | None = None  # read a Request in this process when workers cannot start
    best_for: str = ""  # what it reads best, in a few words
    by_language: bool = False  # its model is chosen by the language: a page found in another is read again
    shares: bool = False  # its reader can share a page's work with another worker (``share``, ``read_lines``)
    extra: dict[str, Any] = field(default_factory=dict)


_ENGINES: dict[str, EngineInfo] = {}
_LOCK = threading.RLock()
_BUILT_IN = False  # the built-in engines are registered
_LOADED = False  # ... and those other packages declare


def register(info: EngineInfo) -> EngineInfo:
    """Add (or replace) an engine; returns it, so a module can keep it as a name."""
    if not info.name or info.name == AUTO or not info.name.replace("_", "").replace("-", "").isalnum():
        raise ValueError(f"an engine's name must be a word other than {AUTO!r}, not {info.name!r}")
    if info.search not in ("full", "light"):
        raise ValueError(f"an engine's search is 'full' or 'light', not {info.search!r}")
    with _LOCK:
        _ENGINES[info.name] = info
    return info


def unregister(name: str) -> None:
    """Remove an engine (tests register engines of their own)."""
    with _LOCK:
        _ENGINES.pop(name, None)


def _built_in() -> None:
    """The built-in engines; once per process."""
    global _BUILT_IN
    with _LOCK:
        if not _BUILT_IN:
            for module in BUILTIN:
                importlib.import_module(module)
            _BUILT_IN = True


def _load() -> None:
    """The built-in engines, then those other packages declare; once per process. The packages are
    looked through (a few hundredths of a second) only when every engine is asked for, or one that is
    not built in: a cold command reading with a built-in engine does without."""
    global _LOADED
    with _LOCK:
        if _LOADED:
            return
        _built_in()
        if not _declared():
            _LOADED = True
            return
        from importlib.metadata import entry_points

        for point in entry_points(group=ENTRY_POINTS):
            try:
                point.load()
            except Exception:  # a third party's plugin may raise anything: it is left out, said once
                log.exception("the engine plugin %s could not be loaded; it is left out", point.name)
        _LOADED = True


def _declared() -> bool:
    """Whether an installed package may declare an engine: the group's name in one of the packages'
    ``entry_points.txt``, looked for in the files alone (a few milliseconds), as importing
    ``importlib.metadata`` costs a cold process 0.035 s (and ``auto`` asks in the command and in each
    of its workers). True when unsure (a path that is not a folder: importlib.metadata looks there)."""
    for entry in sys.path:
        folder = entry or os.curdir
        try:
            names = os.listdir(folder)
        except NotADirectoryError:
            return True
        except OSError:  # a path that is not there
            continue
        for name in names:
            if name.endswith((".dist-info", ".egg-info")):
                try:
                    with open(os.path.join(folder, name, "entry_points.txt"), encoding="utf-8", errors="replace") as f:
                        if ENTRY_POINTS in f.read():
                            return True
                except OSError:  # no entry points (or an .egg-info file): nothing declared there
                    continue
    return False


def engines() -> tuple[EngineInfo, ...]:
    """Every engine: the built-in ones first, in :data:`BUILTIN`'s order, then the others in the order
    they were registered."""
    _load()
    return _ordered()


def _ordered() -> tuple[EngineInfo, ...]:
    """The engines registered so far, the built-in ones first in :data:`BUILTIN`'s order: whichever
    module a process happened to import first (a script importing PP-OCR's reader, say), Tesseract
    stays the one "auto" reads with first and a worker loads before it says hello."""
    rank = {module: i for i, module in enumerate(BUILTIN)}
    with _LOCK:
        return tuple(sorted(_ENGINES.values(), key=lambda info: rank.get(info.module, len(rank))))


def names() -> tuple[str, ...]:
    return tuple(info.name for info in engines())


def first() -> EngineInfo:
    """The first built-in engine (Tesseract): the one a worker loads before it says hello. Only its module
    is imported (the others' bring NumPy, which a Tesseract worker does without)."""
    importlib.import_module(BUILTIN[0])
    return _ordered()[0]


def get(name: str) -> EngineInfo:
    """The engine called ``name``; a :class:`SettingsError` naming the engines there are otherwise. One
    registered already is found without importing the other built-in engines' modules."""
    with _LOCK:
        found = _ENGINES.get(name)
    if found is None:
        _built_in()
        with _LOCK:
            found = _ENGINES.get(name)
    if found is None:
        _load()
        with _LOCK:
            found = _ENGINES.get(name)
    if found is None:
        raise SettingsError(f"there is no engine {name!r} (engines: {', '.join(names())}, or {AUTO}).")
    return found


def label(name: str) -> str:
    """An engine's plain name ("PP-OCR"); "Best of all engines" for ``auto``."""
    if name == AUTO:
        return auto_label()
    with _LOCK:
        found = _ENGINES.get(name)
    return found.label if found is not None else name


def auto_label() -> str:
    """What ``auto`` is called: "Best of both" with two engines."""
    return "Best of both" if len(engines()) == 2 else "Best of all engines"


def reading(lang: str) -> tuple[EngineInfo, ...]:
    """The engines whose models read every language of ``lang``, in registry order."""
    return tuple(info for info in engines() if info.reads(lang))


def chosen(engine: str) -> tuple[EngineInfo, ...]:
    """The engines an ``Options.engine`` value reads with: every engine for ``auto``, else the one."""
    return engines() if engine == AUTO else (get(engine),)


def for_worker(engine: str, lang: str, n: int) -> list[tuple[str, str]]:
    """What the ``n``-th of a pool's workers loads ahead of the first page read with ``engine`` in
    ``lang``: the engines that read it taken in turn, one each (``[(name, module)]``; empty when none reads it)."""
    if engine == AUTO and n == 0 and (lead := first()).reads(lang):
        return [(lead.name, lead.module)]  # the first engine reads first: the others' modules are not imported
    named = [(info.name, info.module) for info in chosen(engine) if info.reads(lang)]
    return [named[n % len(named)]] if named else []


def understands(field_name: str, engine: str) -> bool:
    """Whether an engine-specific option matters for ``engine`` (any engine of ``auto``); options no
    engine claims matter to all."""
    claimed = [info for info in engines() if field_name in info.options]
    return not claimed or any(field_name in info.options for info in chosen(engine))


class _Live(Sequence[str]):
    """The engine choices as a sequence that follows the registry (``Options``' spec holds one)."""

    def __init__(self, pick: Callable[[EngineInfo], str], last: Callable[[], str], always: str | None = None) -> None:
        self._pick, self._last = pick, last
        self._always = always  # the last choice when it is known without asking which engines there are

    def _now(self) -> tuple[str, ...]:
        return (*(self._pick(info) for info in engines()), self._last())

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...

    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        return self._now()[index]

    def __len__(self) -> int:
        return len(self._now())

    def __bool__(self) -> bool:
        return True  # the last choice (auto) is always there

    def __contains__(self, value: object) -> bool:
        """Found among the engines registered, else the built-in ones, without looking through the
        packages for more (nor, for one registered or ``auto``, importing the other built-in engines' modules)."""
        if value == self._always or value in [self._pick(info) for info in _ordered()]:
            return True
        _built_in()
        return value in [self._pick(info) for info in _ordered()] or value in self._now()

    def __iter__(self) -> Iterator[str]:
        return iter(self._now())

    def __repr__(self) -> str:
        return repr(self._now())


CHOICES: Sequence[str] = _Live(lambda info: info.name, lambda: AUTO, AUTO)  # Options.engine's values
LABELS: Sequence[str] = _Live(lambda info: info.label, auto_label)  # ... and their plain names

"""``python -m ocr``: the command line. Everything the app does, for scripts and batches.

Exit status: 0 when every file was read, 1 when any failed (one ``error: NAME: ...`` line each on
stderr, every other file still written), 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, TextIO

from . import logs
from .engines import registry
from .engines.install import check_languages
from .engines.pool import BACKENDS, Engine
from .errors import LanguageMissingError, MissingDependencyError, OcrError, SettingsError
from .exports import FORMATS, export, page_stem, pieces, safe_name
from .language import first as first_language
from .limits import Limits
from .settings import DEFAULT_EFFORT, Options, Settings, parse_preset, preset_json

if TYPE_CHECKING:  # the reading machinery is imported once a worker is on its way (a cold command's start)
    from .batch import Outcome, Runner, Tuner
    from .decode import Page
    from .pdf import SearchablePdf
    from .result import Result

log = logging.getLogger(__name__)


def build_parser(prog: str = "python -m ocr") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=prog,
        description="Read the text of images and PDFs with Tesseract, after optional clean-up.",
        formatter_class=_Help,
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="images (PNG, JPEG, TIFF, BMP, WebP, GIF) or PDFs")
    p.add_argument("--version", action=_Version, help="show the versions of this package and of Tesseract, and exit")
    p.add_argument("--preset", metavar="JSON", help="settings (and options) saved from the app or --save-preset")
    engine = p.add_argument("--engine", help="(the engines, listed by _Help)")
    # set after adding: argparse lists the choices when an option is added, which would look through
    # every installed package for engines (a cold command reading with a built-in engine does without)
    engine.choices = Options.spec("engine").choices
    p.add_argument("--lang", help="language data, several joined by +: eng+deu (default eng); auto finds it")
    p.add_argument("--psm", type=int, help="page segmentation mode 0-13 (default 3, automatic)")
    p.add_argument("--oem", type=int, help="engine mode 0-3 (default 3)")
    p.add_argument("--dpi", type=int, help="resolution to tell Tesseract (default: the file's, else 300)")
    p.add_argument("--timeout", type=float, help="seconds per page (default 60)")
    limits = Limits()
    p.add_argument("--max-megapixels", type=float, default=limits.max_pixels_per_page / 1e6, metavar="MP",
                   help="pixels per page (a larger image is refused, a larger PDF page drawn at a lower "
                        "resolution; default %(default)g)")
    p.add_argument("--max-file-megapixels", type=float, default=limits.max_pixels_per_file / 1e6, metavar="MP",
                   help="pixels of all of a file's pages together (default %(default)g)")
    p.add_argument("--max-pages", type=int, default=limits.max_pages, metavar="N",
                   help="pages (or animation frames) per file (default %(default)s)")
    p.add_argument("--format", default="txt", choices=FORMATS, help="output format (default txt)")
    p.add_argument("-o", "--output", metavar="OUTDIR",
                   help="write one output file per page here (--format pdf: one searchable PDF per input file)")
    p.add_argument("--jobs", type=int, help="pages read side by side on this machine (default: one per core)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="read the pages on the Dask cluster whose scheduler is at ADDRESS (tcp://host:8786)")
    where.add_argument("--cluster", metavar="local[:N]",
                       help="start a Dask LocalCluster of N worker processes (default: one per core) and read on it")
    p.add_argument("--shared-files", action="store_true",
                   help="with --scheduler: every worker sees FILES at the same paths, so send paths, not bytes")
    text = p.add_mutually_exclusive_group()
    text.add_argument("--skip-text", dest="text_layer", action="store_const", const="skip",
                      help="a PDF page that already has text is kept as it is, not read (the default, without a note)")
    text.add_argument("--redo", dest="text_layer", action="store_const", const="redo",
                      help="read PDF pages that already have text too; in a searchable PDF an earlier invisible "
                           "(OCR) layer gives way to the new one (default: keep their text, and say so)")
    p.set_defaults(text_layer="keep")
    p.add_argument("--backend", default="api", choices=BACKENDS,
                   help="api: Tesseract's library in worker processes (default); cli: the tesseract command")
    p.add_argument("--auto", action="store_true", help="auto-tune the settings for each page")
    p.add_argument("--auto-effort", type=float, default=DEFAULT_EFFORT, metavar="N",
                   help="auto-tune work per page, in readings of the page (default %(default)g); the same page "
                        "and effort give the same choice on any machine")
    p.add_argument("--auto-limit", type=float, metavar="SECONDS",
                   help="stop each page's auto-tune after this many seconds (default: no limit)")
    p.add_argument("--save-preset", metavar="JSON", help="with --auto: save the first page's tuned settings here")
    p.add_argument("--log-level", choices=logs.LEVELS, type=str.upper,
                   help="what to log on stderr (default WARNING; -v is INFO, -vv DEBUG)")
    p.add_argument("-v", "--verbose", action="count", default=0, help="log each page read (-vv: more)")
    return p


class _Help(argparse.HelpFormatter):
    """The engines are listed in ``--engine``'s help when help is shown, not when the parser is built."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        return _engine_help().replace("%", "%%") if action.dest == "engine" else action.help


def _engine_help() -> str:
    first = registry.engines()[0].name
    each = ", ".join(f"{info.name} ({info.best_for})" if info.best_for else info.name for info in registry.engines())
    return f"{each}, or {registry.AUTO}: read with each and keep the reading that looks right (default {first})"


def setup_logging(args: argparse.Namespace) -> None:
    """The package's log records on stderr, at the level the flags ask for (warnings only by default)."""
    logs.setup(args.log_level or ("DEBUG" if args.verbose > 1 else "INFO" if args.verbose else "WARNING"))


def _options(args: argparse.Namespace, base: Options | None) -> Options:
    fields = ("engine", "lang", "psm", "oem", "dpi", "timeout")
    changes = {k: getattr(args, k) for k in fields if getattr(args, k) is not None}
    return (base or Options()).replace(**changes)


def _check(args: argparse.Namespace) -> tuple[Settings, Options]:
    """The settings and options the arguments ask for; raises SettingsError for a bad argument."""
    settings, preset_options = Settings(), None
    if args.preset:
        try:
            text = Path(args.preset).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            reason = getattr(e, "strerror", None) or e
            raise SettingsError(f"the preset {args.preset} cannot be read ({reason}).") from None
        settings, preset_options = parse_preset(text)
    options = _options(args, preset_options)
    if args.jobs is not None and args.jobs < 1:
        raise SettingsError("--jobs must be 1 or more.")
    for flag in ("max_megapixels", "max_file_megapixels", "max_pages"):
        if getattr(args, flag) <= 0:
            raise SettingsError(f"--{flag.replace('_', '-')} must be above 0.")
    if args.auto_effort <= 0 or (args.auto_limit is not None and args.auto_limit <= 0):
        raise SettingsError("--auto-effort and --auto-limit must be above 0.")
    if args.save_preset and not args.auto:
        raise SettingsError("--save-preset needs --auto.")
    on_cluster = args.scheduler or args.cluster
    if on_cluster and args.auto:
        raise SettingsError("--auto reads on this machine only: tune here (--auto --save-preset), then read on the "
                            "cluster with --preset.")
    if on_cluster and args.jobs is not None:
        raise SettingsError("--jobs counts this machine's workers; on a cluster its workers read (--cluster local:N).")
    if on_cluster and args.backend != "api":
        raise SettingsError("--backend cli reads on this machine only.")
    if args.shared_files and not args.scheduler:
        raise SettingsError("--shared-files goes with --scheduler.")
    if args.cluster:
        from .cluster import parse_local

        parse_local(args.cluster)
    check_languages(first_language(options.lang))
    return settings, options


def main(argv: list[str] | None = None, prog: str = "python -m ocr") -> int:
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    setup_logging(args)
    try:
        engine = _started(args)
    except MissingDependencyError as e:  # the tesseract command, for --backend cli
        print(f"error: {e}", file=sys.stderr)
        return 1
    try:
        settings, options = _check(args)
    except (SettingsError, MissingDependencyError) as e:
        if engine is not None:
            engine.close()
        if isinstance(e, SettingsError):
            parser.error(str(e))
        print(f"error: {e}", file=sys.stderr)
        # a --lang asking for what is not installed is a bad argument; missing Tesseract is not
        return 2 if isinstance(e, LanguageMissingError) and args.lang else 1

    outdir = Path(args.output) if args.output else None
    if outdir:
        try:
            outdir.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            if engine is not None:
                engine.close()
            print(f"error: cannot create {outdir}: {e.strerror or e}", file=sys.stderr)
            return 1
    from .batch import LocalRunner, stream_pages

    if engine is not None:
        threading.Thread(target=_warm, args=(engine, first_language(options.lang)), daemon=True,
                         name="ocr-warm").start()
    try:
        with contextlib.ExitStack() as stack:
            if args.scheduler or args.cluster:
                from .cluster import connect

                address = args.scheduler or args.cluster
                runner: Runner = stack.enter_context(connect(address, share_paths=True if args.shared_files else None))
                tuned: list[tuple[str, Settings, Options]] = []
            else:
                assert engine is not None
                stack.callback(engine.close, wait=False)  # the command ends next: the kernel reaps the workers
                tune, tuned = _tuner(args, options, engine)
                # one picture read alone: auto's other engines start at once on the idle worker
                runner = LocalRunner(engine, args.jobs, tune, speculate=len(args.files) == 1 and not _one_pdf(args))
                stack.callback(runner.close)
            bar = Bar.for_stderr()
            out = Output(args.format, outdir, bar)
            ctrl_c = stack.enter_context(CtrlC())

            def progress(done: int, total: int, outcome: Outcome) -> None:
                ctrl_c.check()
                bar.update(done, total, outcome)

            outcomes = stream_pages(args.files, settings, options, runner=runner, progress=progress,
                                    limits=limits_of(args), text_layer=args.text_layer)
            for outcome in outcomes:
                ctrl_c.check()
                out.add(outcome)
            out.finish()
            bar.close()
            for w in engine.warnings if engine else []:
                print(f"warning: {w}", file=sys.stderr)
            if args.save_preset and tuned:
                Path(args.save_preset).write_text(preset_json(tuned[0][1], tuned[0][2]), encoding="utf-8")
            return 1 if out.failed else 0
    except OcrError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nerror: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # stdout closed early (| head): stop quietly
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as e:  # a bug of ours, whatever it is: logged with its traceback, said in one line
        log.exception("unexpected error")
        print(f"error: unexpected {type(e).__name__}: {e}", file=sys.stderr)
        return 1


def _started(args: argparse.Namespace) -> Engine | None:
    """This machine's engine, its workers starting now (before the arguments are checked and the reading
    machinery imported: a cold command's first page then waits for nothing); None for a cluster.
    Arguments that turn out bad stop them again."""
    if args.scheduler or args.cluster or args.backend not in BACKENDS:
        return None
    engine = Engine(args.backend, workers=args.jobs) if args.jobs is None or args.jobs > 0 else None
    if engine is None:
        return None
    try:
        guess = Options(engine=args.engine or registry.DEFAULT, lang=args.lang or "eng")
    except SettingsError:
        return engine
    # one picture: one worker, and for auto a second beside it (the other engine reads at once); an engine
    # that shares a page's work gets its hand from its own worker (ocr.engines.worker)
    wanted = engine.workers if len(args.files) > 1 or _one_pdf(args) or guess.engine == registry.AUTO else 1
    engine.prestart(wanted, guess)
    return engine


def _one_pdf(args: argparse.Namespace) -> bool:
    """Whether the one file named is a PDF (by its name: a guess that only decides how many workers start)."""
    return len(args.files) == 1 and str(args.files[0]).lower().endswith(".pdf")


def _warm(engine: Engine, lang: str) -> None:
    """Beside the first page's reading (the worker reads; this process waits), not before (the page's
    decoding would wait for the lock Python's threads share): load the judge's dictionary, which the
    page's result needs next, and collect the young garbage."""
    engine.reading.wait(5.0)
    import numpy.ma  # noqa: F401 - NumPy's median and percentile (the judge's) import it on first use

    from .judge import char_model, load_words

    load_words(lang)
    char_model(lang)
    # Import-time garbage (a few hundred objects in cycles, among them classes: 13 ms to free) would
    # otherwise be collected when the page's answer arrives, the first allocations after the threshold.
    gc.collect(1)


def _tuner(args: argparse.Namespace, options: Options,
           engine: Engine) -> tuple[Tuner | None, list[tuple[str, Settings, Options]]]:
    """With --auto: the function that tunes each page (and the list of what it chose); else None."""
    tuned: list[tuple[str, Settings, Options]] = []
    if not args.auto:
        return None, tuned
    from .tuning import autotune

    def tune(page: Page) -> tuple[Settings, Options]:
        found = autotune(page, args.auto_effort, options=options, engine=engine, limit_s=args.auto_limit)
        if found.cut_short:
            print(f"warning: {page.name}: auto-tune stopped at its time limit; the best found so far is used.",
                  file=sys.stderr)
        tuned.append((page.name, found.settings, found.options))
        return found.settings, found.options

    return tune, tuned


class CtrlC:
    """Ctrl-C, remembered. Python drops a KeyboardInterrupt that is raised while a finalizer runs (a Dask
    future's ``__del__``, say: "Exception ignored in ..."), and the batch would go on; so the interrupt
    is also raised again at the next page. Only in the main thread, and only over Python's own handler."""

    def __init__(self) -> None:
        self.seen = False
        self._before: object = None

    def __enter__(self) -> CtrlC:
        if threading.current_thread() is threading.main_thread() and \
                signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            self._before = signal.signal(signal.SIGINT, self._interrupted)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._before is not None:
            signal.signal(signal.SIGINT, signal.default_int_handler)

    def _interrupted(self, signum: int, frame: FrameType | None) -> None:
        self.seen = True
        raise KeyboardInterrupt

    def check(self) -> None:
        if self.seen:
            raise KeyboardInterrupt


class Bar:
    """A progress line on stderr (only when it is a terminal): pages done of pages found, and the pace."""

    def __init__(self, stream: TextIO | None) -> None:
        self.stream = stream
        self.start = time.monotonic()
        self.shown = False

    @classmethod
    def for_stderr(cls) -> Bar:
        return cls(sys.stderr if sys.stderr.isatty() else None)

    def update(self, done: int, total: int, outcome: Outcome) -> None:
        if self.stream is None:
            return
        width = 30
        filled = int(width * done / max(total, 1))
        minutes = (time.monotonic() - self.start) / 60
        pace = f", {done / minutes:.0f} pages/min" if minutes > 0 and done > 1 else ""
        self.stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} pages{pace}\x1b[K")
        self.stream.flush()
        self.shown = True

    def clear(self) -> None:
        """Take the line away before another message is printed."""
        if self.stream is not None and self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.shown = False

    def close(self) -> None:
        self.clear()


class Output:
    """Writes each page as it comes, in document order: a file per page in a folder, one searchable PDF
    per input file (``pdf``), or everything to stdout (every page's text, or one PDF of every file)."""

    def __init__(self, fmt: str, outdir: Path | None, bar: Bar) -> None:
        self.fmt, self.outdir, self.bar = fmt, outdir, bar
        self.failed = 0
        self.used: set[str] = set()
        self.noted: set[tuple[int, str]] = set()
        self.pdf: SearchablePdf | None = None
        self.pdf_file: int | None = None  # the input file the open PDF is of
        self.pdf_name = ""
        self.first: Result | None = None  # stdout waits for a second page to know whether pages get headers
        self.count = 0  # pages written to stdout

    def say(self, line: str) -> None:
        self.bar.clear()
        print(line, file=sys.stderr)

    def add(self, outcome: Outcome) -> None:
        if outcome.error:
            self.failed += 1
            self.say(f"error: {outcome.name}: {outcome.error}")
        for note in [*outcome.file_notes, *outcome.notes]:
            if (outcome.file, note) not in self.noted:  # a note on every frame of a file is said once
                self.noted.add((outcome.file, note))
                self.say(f"note: {outcome.source}: {note}")
        if self.fmt == "pdf":
            self._add_pdf(outcome)
        elif outcome.result is not None:
            if self.outdir:
                self._write(self.outdir / f"{_stem(outcome, self.used)}.{self.fmt}", outcome.name,
                            export(outcome.result, self.fmt))
            else:
                self._to_stdout(outcome.result)

    def finish(self) -> None:
        if self.fmt == "pdf":
            self._save_pdf()
        elif self.outdir is None:
            if self.first is not None:  # one page in all
                self._emit(export(self.first, self.fmt))
            elif self.count:
                self._emit(pieces(self.fmt)[2](True))

    # stdout ------------------------------------------------------------------------------------------

    def _to_stdout(self, result: Result) -> None:
        """One page to stdout. The first waits for a second: only a document of several pages has
        headers (txt) or a list of pages (json)."""
        head, piece, _ = pieces(self.fmt)
        if self.count == 0 and self.first is None:
            self.first = result
            return
        if self.first is not None:
            self._emit(head(True) + piece(self.first, 1, True))
            self.first, self.count = None, 1
        self.count += 1
        self._emit(piece(result, self.count, True))

    def _emit(self, data: bytes) -> None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()

    # pdf ---------------------------------------------------------------------------------------------

    def _add_pdf(self, outcome: Outcome) -> None:
        if outcome.origin is None:  # the file could not be opened
            return
        if self.outdir is not None and self.pdf_file is not None and outcome.file != self.pdf_file:
            self._save_pdf()
        if self.pdf is None:
            from .pdf import SearchablePdf  # only when a PDF is written: pikepdf costs a cold start otherwise

            self.pdf = SearchablePdf()
            self.pdf_file = outcome.file
            self.pdf_name = outcome.source
        try:
            self.pdf.add(outcome.origin, outcome.result)
        except OcrError as e:
            self.failed += 1
            self.say(f"error: {outcome.name}: {e}")

    def _save_pdf(self) -> None:
        if self.pdf is None:
            return
        document, self.pdf, self.pdf_file = self.pdf, None, None
        try:
            if not document.pages:
                return
            if self.outdir is None:
                self._emit(document.to_bytes())
            else:
                stem = _unique(safe_name(Path(self.pdf_name).stem), self.used)
                path = self.outdir / f"{stem}.pdf"
                try:
                    document.save(path)
                except OSError as e:
                    self.failed += 1
                    self.say(f"error: {self.pdf_name}: cannot write {path} ({e.strerror or e}).")
        finally:
            document.close()

    def _write(self, path: Path, name: str, data: bytes) -> None:
        try:
            path.write_bytes(data)
        except OSError as e:
            self.failed += 1
            self.say(f"error: {name}: cannot write {path} ({e.strerror or e}).")


def _stem(outcome: Outcome, used: set[str]) -> str:
    """Output name for a page: the file's name without extension, ``-pN`` for pages of a longer file
    (padded to the page count's width, so names sort in page order)."""
    stem = page_stem(outcome.source, outcome.index, outcome.count)  # as the app names a page's downloads
    if stem in used:
        stem = safe_name(outcome.name)
    return _unique(stem, used)


def _unique(stem: str, used: set[str]) -> str:
    n, base = 2, stem
    while stem in used:
        stem, n = f"{base}-{n}", n + 1
    used.add(stem)
    return stem


def limits_of(args: argparse.Namespace) -> Limits:
    """The limits a file is held to, from the flags that name them."""
    return Limits(max_pixels_per_page=round(args.max_megapixels * 1e6),
                  max_pixels_per_file=round(args.max_file_megapixels * 1e6), max_pages=args.max_pages)


class _Version(argparse.Action):
    """``--version``: the versions are found only when asked for (the tesseract command runs for it)."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=str(kwargs.get("help")))

    def __call__(self, parser: argparse.ArgumentParser, *args: object) -> None:
        print(_version())
        parser.exit()


def _version() -> str:
    """This package's version and the Tesseract it finds (what a bug report needs)."""
    from importlib.metadata import PackageNotFoundError, version

    from .engines.install import tesseract_version

    try:
        ours = version("ocr-workbench")
    except PackageNotFoundError:
        ours = "(not installed)"
    return f"ocr-workbench {ours}; {tesseract_version()}"


def run(prog: str = "ocr") -> None:
    """The ``ocr`` command (and ``python -m ocr``): once the output is written and the engines are
    stopped, the process ends without tearing down every module it imported (a tenth of a second on a
    small page's command, as mypy's own command does)."""
    code = main(prog=prog)
    from .engines import spawn
    from .engines.pool import close_all

    close_all()
    spawn.drop()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # stdout closed early (| head): nothing more to say
            stream.flush()
    logging.shutdown()
    os._exit(code)

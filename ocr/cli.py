"""``python -m ocr``: the command line. Everything the app does, for scripts and batches.

Exit status: 0 when every file was read, 1 when any failed (one ``error: NAME: ...`` line each on
stderr, every other file still written), 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .batch import Outcome, read_files
from .decode import DEFAULT_MAX_PIXELS
from .engines import BACKENDS, Engine, check_languages
from .errors import LanguageMissingError, MissingDependencyError, OcrError, SettingsError
from .exports import FORMATS, export, safe_name
from .settings import Options, Settings, parse_preset, preset_json
from .tuning import DEFAULT_EFFORT, autotune


def build_parser(prog: str = "python -m ocr") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=prog,
        description="Read the text of images and PDFs with Tesseract, after optional clean-up.",
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="images (PNG, JPEG, TIFF, BMP, WebP, GIF) or PDFs")
    p.add_argument("--version", action="version", version=_version())
    p.add_argument("--preset", metavar="JSON", help="settings (and options) saved from the app or --save-preset")
    p.add_argument("--engine", choices=Options.spec("engine").choices,
                   help="tesseract (default: clean scans, fast), ppocr (photos, receipts, screens), or auto: "
                        "read with each and keep the reading that looks right")
    p.add_argument("--lang", help="language data, several joined by +: eng+deu (default eng)")
    p.add_argument("--psm", type=int, help="page segmentation mode 0-13 (default 3, automatic)")
    p.add_argument("--oem", type=int, help="engine mode 0-3 (default 3)")
    p.add_argument("--dpi", type=int, help="resolution to tell Tesseract (default: the file's, else 300)")
    p.add_argument("--timeout", type=float, help="seconds per page (default 60)")
    p.add_argument("--max-megapixels", type=float, default=DEFAULT_MAX_PIXELS / 1e6, metavar="MP",
                   help="refuse images larger than this (default %(default)g)")
    p.add_argument("--format", default="txt", choices=FORMATS, help="output format (default txt)")
    p.add_argument("-o", "--output", metavar="OUTDIR", help="write one output file per page here")
    p.add_argument("--jobs", type=int, help="pages read side by side (default: one per core)")
    p.add_argument("--backend", default="api", choices=BACKENDS,
                   help="api: Tesseract's library in worker processes (default); cli: the tesseract command")
    p.add_argument("--auto", action="store_true", help="auto-tune the settings for each page")
    p.add_argument("--auto-effort", type=float, default=DEFAULT_EFFORT, metavar="N",
                   help="auto-tune work per page, in readings of the page (default %(default)g); the same page "
                        "and effort give the same choice on any machine")
    p.add_argument("--auto-limit", type=float, metavar="SECONDS",
                   help="stop each page's auto-tune after this many seconds (default: no limit)")
    p.add_argument("--save-preset", metavar="JSON", help="with --auto: save the first page's tuned settings here")
    return p


def _options(args, base: Options | None) -> Options:
    fields = ("engine", "lang", "psm", "oem", "dpi", "timeout")
    changes = {k: getattr(args, k) for k in fields if getattr(args, k) is not None}
    return (base or Options()).replace(**changes)


def main(argv: list[str] | None = None, prog: str = "python -m ocr") -> int:
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    settings, preset_options = Settings(), None
    try:
        if args.preset:
            try:
                text = Path(args.preset).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as e:
                raise SettingsError(f"the preset {args.preset} cannot be read ({getattr(e, 'strerror', None) or e}).") from None
            settings, preset_options = parse_preset(text)
        options = _options(args, preset_options)
        if args.jobs is not None and args.jobs < 1:
            raise SettingsError("--jobs must be 1 or more.")
        if args.max_megapixels <= 0:
            raise SettingsError("--max-megapixels must be above 0.")
        if args.auto_effort <= 0 or (args.auto_limit is not None and args.auto_limit <= 0):
            raise SettingsError("--auto-effort and --auto-limit must be above 0.")
        if args.save_preset and not args.auto:
            raise SettingsError("--save-preset needs --auto.")
        check_languages(options.lang)
    except SettingsError as e:
        parser.error(str(e))
    except MissingDependencyError as e:
        print(f"error: {e}", file=sys.stderr)
        # a --lang asking for what is not installed is a bad argument; missing Tesseract is not
        return 2 if isinstance(e, LanguageMissingError) and args.lang else 1

    outputs = ("hocr",) if args.format == "hocr" else ("pdf",) if args.format == "pdf" else ()
    engine = Engine(args.backend, workers=args.jobs)
    tune, tuned = None, []
    if args.auto:

        def tune(page):
            found = autotune(page, args.auto_effort, options=options, engine=engine, limit_s=args.auto_limit)
            if found.cut_short:
                print(f"warning: {page.name}: auto-tune stopped at its time limit; the best found so far is used.",
                      file=sys.stderr)
            tuned.append((page.name, found.settings, found.options))
            return found.settings, found.options

    outdir = Path(args.output) if args.output else None
    if outdir:
        try:
            outdir.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            print(f"error: cannot create {outdir}: {e.strerror or e}", file=sys.stderr)
            return 1
    written: set[str] = set()
    noted: set[tuple[str, str]] = set()
    failed = 0

    def finished(done: int, total: int, outcome: Outcome) -> None:
        nonlocal failed
        if outcome.error:
            failed += 1
            print(f"error: {outcome.name}: {outcome.error}", file=sys.stderr)
        for note in outcome.page.notes if outcome.page is not None else []:
            if (outcome.source, note) not in noted:  # a note on every frame of a file is said once
                noted.add((outcome.source, note))
                print(f"note: {outcome.source}: {note}", file=sys.stderr)

    try:
        outcomes = read_files(args.files, settings, options, jobs=args.jobs, outputs=outputs, engine=engine,
                              tune=tune, progress=finished, max_pixels=int(args.max_megapixels * 1e6))
        for w in engine.warnings:
            print(f"warning: {w}", file=sys.stderr)
        results = [o for o in outcomes if o.result is not None]
        if outdir:
            for o in results:
                path = outdir / f"{_stem(o, written)}.{args.format}"
                try:
                    path.write_bytes(export(o.result, args.format))
                except OSError as e:
                    failed += 1
                    print(f"error: {o.name}: cannot write {path} ({e.strerror or e}).", file=sys.stderr)
        elif results:
            sys.stdout.buffer.write(export([o.result for o in results], args.format))
            sys.stdout.flush()
        if args.save_preset and tuned:
            Path(args.save_preset).write_text(preset_json(tuned[0][1], tuned[0][2]), encoding="utf-8")
    except OcrError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # a bug of ours: still one line, never a traceback
        print(f"error: unexpected {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    finally:
        engine.close()
    return 1 if failed else 0


def _stem(outcome: Outcome, used: set[str]) -> str:
    """Output name for a page: the file's name without extension, ``-pN`` for pages of a longer file."""
    page = outcome.page
    stem = safe_name(Path(outcome.source).stem)
    if page is not None and page.count > 1:
        stem = f"{stem}-p{page.index + 1}"
    if stem in used:
        stem = safe_name(outcome.name)
    n, base = 2, stem
    while stem in used:
        stem, n = f"{base}-{n}", n + 1
    used.add(stem)
    return stem


def _version() -> str:
    """This package's version and the Tesseract it finds (what a bug report needs)."""
    from importlib.metadata import PackageNotFoundError, version

    from .engines import tesseract_version

    try:
        ours = version("ocr-workbench")
    except PackageNotFoundError:
        ours = "(not installed)"
    return f"ocr-workbench {ours}; {tesseract_version()}"


def run() -> None:
    """The ``ocr`` command."""
    sys.exit(main(prog="ocr"))

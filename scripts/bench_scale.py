"""Scale: pages per minute on a long PDF, one and two workers, a Dask cluster, and OCRmyPDF; peak memory.

Draws a PDF of ``--pages`` text pages (A4 at 200 dpi, 30 lines of DejaVu each; not committed) and reads
it into one searchable PDF, each method a fresh command in its own process, in interleaved rounds (a
busy moment hits every method alike), reporting the median:

- ``jobs 1``, ``jobs 2``: ``python -m ocr doc.pdf --format pdf -o OUT --jobs N`` (Tesseract's library
  in worker processes);
- ``jobs 2 auto``: the same with ``--engine auto`` (the second engine reads where the first is unsure);
- ``cluster 2 (running)``: the same with ``--scheduler`` on a Dask LocalCluster of 2 worker processes of
  one thread, started once beforehand (engines loaded by a first batch), so the time is the batch's;
- ``cluster 2 (started)``: ``--cluster local:2``, the cluster's start included;
- ``jobs 2 without orientation``: the same with ``auto_orient`` off (a preset), as OCRmyPDF reads
  by default (it turns pages only with ``--rotate-pages``);
- ``jobs 2 tesseract command``: ``--backend cli --jobs 2``, the ``tesseract`` command Debian ships, the
  very Tesseract OCRmyPDF runs;
- ``ocrmypdf --jobs 2``: ``ocrmypdf --jobs 2 --output-type pdf --optimize 0`` (no clean-up, no
  optimisation; Debian's package: ``apt-get install ocrmypdf``).

Then peak resident memory of the command reading 1 and ``--rss-pages`` small pages (``--format pdf``).
The machine must be otherwise idle for the numbers to mean anything.

    .venv/bin/python scripts/bench_scale.py [--pages 40] [--rounds 3] [--rss-pages 300]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import Image, ImageDraw, ImageFont  # noqa: E402

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf"
WORDS = ["archive", "records", "ledger", "survey", "parish", "letter", "account", "minutes", "council", "deed",
         "estate", "harbour", "register", "census", "voyage", "cargo", "receipt", "invoice", "charter", "mill"]
# The command's own peak (VmHWM; getrusage's ru_maxrss would carry over the peak of the process that
# forked it), and its engine workers' (sampled: they are gone when the command ends).
PEAK = """
import sys, threading
from ocr.cli import main
import ocr.engines.pool as pool

def hwm(pid):
    try:
        status = dict(line.split(":", 1) for line in open(f"/proc/{pid}/status"))
        return int(status["VmHWM"].split()[0]) * 1024
    except (OSError, KeyError):
        return 0

workers = {}
stop = threading.Event()
started = pool.WorkerProcess.__init__

def watch(self, *a, **k):
    started(self, *a, **k)
    workers[self.pid] = 0

def sample():
    while not stop.wait(0.2):
        for pid in list(workers):
            workers[pid] = max(workers[pid], hwm(pid))

pool.WorkerProcess.__init__ = watch
threading.Thread(target=sample, daemon=True).start()
code = main(sys.argv[1:])
stop.set()
print("peak", hwm("self"), max(workers.values(), default=0), file=sys.stderr)
sys.exit(code)
"""


def draw_document(path: Path, count: int, size: tuple[int, int] = (1654, 2339), lines: int = 30,
                  font_size: int = 30) -> None:
    """``count`` pages of ``lines`` lines of words, each page different, as one PDF at 200 dpi."""
    face = ImageFont.truetype(FONT, font_size)
    pages = []
    for n in range(count):
        page = Image.new("L", size, 255)
        draw = ImageDraw.Draw(page)
        for i in range(lines):
            words = [WORDS[(n * 7 + i * 3 + k) % len(WORDS)] for k in range(8)]
            draw.text((120, 140 + i * int(font_size * 2.2)), f"{n + 1}.{i + 1} " + " ".join(words), fill=0, font=face)
        pages.append(page)
    pages[0].save(path, save_all=True, append_images=pages[1:], resolution=size[0] / 8.27)


def run(command: list[str]) -> float:
    """Seconds one command takes; it must succeed."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{done.stderr[-2000:]}")
    return seconds


def peak(args: list[str]) -> tuple[int, int]:
    """Peak resident bytes of the command's own process and of its largest engine worker."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", PEAK, *args], capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(done.stderr[-2000:])
    _, own, child = done.stderr.strip().splitlines()[-1].split()
    return int(own), int(child)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pages", type=int, default=40)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--rss-pages", type=int, default=300, help="pages of the memory run (0: no memory run)")
    p.add_argument("--rss-a4", action="store_true", help="the memory run reads full A4 pages of 30 lines")
    p.add_argument("--only", help="comma-separated methods to time (default: all; 'none': the memory run only)")
    args = p.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    try:
        return measure(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def measure(args: argparse.Namespace, work: Path) -> int:
    from ocr.cluster import local_cluster
    from ocr.engines import tesseract_version

    doc = work / "doc.pdf"
    draw_document(doc, args.pages)
    command = subprocess.run(["tesseract", "--version"], capture_output=True, text=True).stdout.split()[1]
    print(f"{args.pages}-page PDF, {doc.stat().st_size / 1e6:.1f} MB; ours: {tesseract_version()}; "
          f"the command: {command}")
    ours = [sys.executable, "-m", "ocr", str(doc), "--format", "pdf", "-o"]
    upright = work / "upright.json"
    upright.write_text('{"settings": {"auto_orient": false}}')
    methods: dict[str, list[str]] = {
        "jobs 1": [*ours, str(work / "j1"), "--jobs", "1"],
        "jobs 2": [*ours, str(work / "j2"), "--jobs", "2"],
        "jobs 2 auto": [*ours, str(work / "j2a"), "--jobs", "2", "--engine", "auto"],
        "cluster 2 (started)": [*ours, str(work / "cs"), "--cluster", "local:2"],
        "jobs 2 without orientation": [*ours, str(work / "j2u"), "--jobs", "2", "--preset", str(upright)],
        "jobs 2 tesseract command": [*ours, str(work / "cli"), "--jobs", "2", "--backend", "cli"],
    }
    if shutil.which("ocrmypdf"):
        version = subprocess.run(["ocrmypdf", "--version"], capture_output=True, text=True).stdout.strip()
        print(f"OCRmyPDF {version}")
        methods["ocrmypdf --jobs 2"] = ["ocrmypdf", "--jobs", "2", "--output-type", "pdf", "--optimize", "0",
                                        "--quiet", str(doc), str(work / "ocrmypdf.pdf")]
    else:
        print("OCRmyPDF is not installed (apt-get install ocrmypdf): its row is left out.")
    cluster = local_cluster(2)
    try:
        address = cluster.cluster.scheduler_address
        methods["cluster 2 (running)"] = [*ours, str(work / "cr"), "--scheduler", address, "--shared-files"]
        if args.only:
            methods = {name: argv for name, argv in methods.items() if name in args.only.split(",")}
        if "cluster 2 (running)" in methods:
            run(methods["cluster 2 (running)"])  # the workers load their engines
        times: dict[str, list[float]] = {name: [] for name in methods}
        names = list(methods)
        for r in range(args.rounds if names else 0):
            for name in names[r % len(names):] + names[:r % len(names)]:  # each round starts elsewhere
                times[name].append(run(methods[name]))
    finally:
        cluster.close()
    if (work / "j2" / "doc.pdf").exists():
        out_size = (work / "j2" / "doc.pdf").stat().st_size
        print(f"\nsearchable PDF: {out_size / 1e6:.2f} MB from {doc.stat().st_size / 1e6:.2f} MB"
              + (f"; OCRmyPDF's {(work / 'ocrmypdf.pdf').stat().st_size / 1e6:.2f} MB"
                 if (work / "ocrmypdf.pdf").exists() else ""))
    print(f"\n{'method':34} {'seconds':>8} {'pages/min':>10}")
    rate = {}
    for name, values in times.items():
        seconds = statistics.median(values)
        rate[name] = args.pages / seconds * 60
        print(f"{name:34} {seconds:8.1f} {rate[name]:10.1f}")
    ratios = [("2 workers / 1", "jobs 2", "jobs 1"), ("cluster (running) / jobs 2", "cluster 2 (running)", "jobs 2"),
              ("cluster (started) / jobs 2", "cluster 2 (started)", "jobs 2"),
              ("jobs 2 / OCRmyPDF", "jobs 2", "ocrmypdf --jobs 2"),
              ("jobs 2 auto / OCRmyPDF", "jobs 2 auto", "ocrmypdf --jobs 2"),
              ("jobs 2 without orientation / OCRmyPDF", "jobs 2 without orientation", "ocrmypdf --jobs 2"),
              ("the tesseract command on 2 / OCRmyPDF", "jobs 2 tesseract command", "ocrmypdf --jobs 2")]
    print("\n" + "; ".join(f"{label}: {rate[a] / rate[b]:.2f}x" for label, a, b in ratios if a in rate and b in rate))
    if not args.rss_pages:
        return 0
    size = "A4" if args.rss_a4 else "small"
    print(f"\npeak memory reading {size} pages into one searchable PDF (--format pdf --jobs 2):")
    for count in (1, args.rss_pages):
        path = work / f"small{count}.pdf"
        if args.rss_a4:
            draw_document(path, count)
        else:
            draw_document(path, count, size=(500, 90), lines=1, font_size=26)
        own, child = peak([str(path), "--format", "pdf", "-o", str(work / f"rss{count}"), "--jobs", "2"])
        print(f"{count:4} pages: the command {own / 2**20:6.0f} MiB, "
              f"its largest engine worker {child / 2**20:5.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())

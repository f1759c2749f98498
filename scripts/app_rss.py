"""Peak resident memory of the app's server (`streamlit run app.py`, its OCR worker processes not counted)
while chromium drives it through three visits, each on a fresh server: one 12-megapixel photo read, twenty
of them read in one session, and a 200-page PDF read. Pages are drawn with Pillow and DejaVu.

    .venv/bin/python scripts/app_rss.py [--only photo|photos|pdf]

Prints one line per visit: baseline (after the first page is shown), peak while reading, and after.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import psutil
from PIL import Image, ImageDraw, ImageFont
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf"
LINES = ["The workbench reads this page of text", "drawn for a measurement of memory only",
         "line after line of plain English words", "so that every page has something to read"]


def photo(path: Path, n: int) -> Path:
    """A 4000x3000 (12 MP) JPEG of a page of text."""
    image = Image.new("RGB", (4000, 3000), (236, 232, 224))
    draw = ImageDraw.Draw(image)
    face = ImageFont.truetype(FONT, 110)
    for row in range(12):
        draw.text((200, 200 + row * 210), f"{LINES[row % 4]} {n}", fill=(30, 30, 30), font=face)
    image.save(path, quality=90)
    return path


def pdf(path: Path, pages: int) -> Path:
    """A PDF of ``pages`` A4 pages (drawn at 300 dpi by the app), a few lines each."""
    face = ImageFont.truetype(FONT, 30)
    images = []
    for n in range(pages):
        image = Image.new("L", (1240, 1754), 255)  # A4 at 150 dpi
        draw = ImageDraw.Draw(image)
        for row, line in enumerate(LINES):
            draw.text((120, 150 + row * 60), f"{line} ({n + 1})", fill=0, font=face)
        images.append(image)
    images[0].save(path, save_all=True, append_images=images[1:], resolution=150)
    return path


class Sampler(threading.Thread):
    """The peak RSS of one process, sampled every 0.1 s."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.process, self.peak, self.running = psutil.Process(pid), 0, True

    def run(self) -> None:
        while self.running:
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.1)


def serve(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "OCR_WORKBENCH_DATA": str(folder)}, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                return proc, url
        except OSError:
            time.sleep(0.3)
    raise SystemExit("the server did not start")


def visit(name: str, files: list[Path], pages: int, work: Path) -> str:
    proc, url = serve(work / f"data-{name}")
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(900_000)
            page.goto(url)
            page.get_by_role("heading", name="Get the text out of a photo or scan").wait_for()
            time.sleep(2)
            baseline = psutil.Process(proc.pid).memory_info().rss
            sampler = Sampler(proc.pid)
            sampler.start()
            started = time.monotonic()
            page.locator('input[type="file"]').first.set_input_files([str(f) for f in files])
            label = f"Extract text from {pages} page{'s' if pages > 1 else ''}"
            page.get_by_role("button", name=label).click()
            done = f"Read {pages} of {pages} page{'s' if pages > 1 else ''}"
            page.get_by_text(done).first.wait_for()
            seconds = time.monotonic() - started
            sampler.running = False
            sampler.join()
            browser.close()
        time.sleep(3)
        after = psutil.Process(proc.pid).memory_info().rss
        mb = 2**20
        return (f"{name}: baseline {baseline / mb:.0f} MB, peak {sampler.peak / mb:.0f} MB "
                f"(+{(sampler.peak - baseline) / mb:.0f}), after the visit {after / mb:.0f} MB, {seconds:.0f} s")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=["photo", "photos", "pdf"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        photos = [photo(work / f"photo-{n:02}.jpg", n) for n in range(20)]
        runs = {"photo": ("one 12 MP photo", photos[:1], 1), "photos": ("20 photos of 12 MP", photos, 20),
                "pdf": ("a 200-page PDF", [pdf(work / "long.pdf", 200)], 200)}
        for key, (name, files, pages) in runs.items():
            if args.only in (None, key):
                print(visit(name, files, pages, work), flush=True)


if __name__ == "__main__":
    main()

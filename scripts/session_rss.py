"""Resident memory of the app's server (`streamlit run app.py`; its OCR worker processes not counted) as
sessions come and go: idle, five sessions each holding a 40-page scanned PDF (about 5 MB), one of them
reading every page, and every tab closed, then each ``--every`` seconds for ``--after`` seconds.

    .venv/bin/python scripts/session_rss.py [--sessions 5] [--pages 40] [--after 180] [--no-read]

Prints one line per stage, in MB (RSS from /proc/PID/status). Pages are drawn with Pillow and DejaVu.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf"
MB = 1 << 20


def scanned_pdf(path: Path, pages: int, seed: int = 0) -> Path:
    """A PDF of ``pages`` A4 pages scanned at 150 dpi: grey paper with a little noise, 20 lines of text,
    JPEG-compressed (about 130 KB a page); the app draws each at 300 dpi (26 MB of pixels)."""
    rng = np.random.default_rng(seed)
    face = ImageFont.truetype(FONT, 30)
    images = []
    for n in range(pages):
        paper = rng.normal(228, 5, (1754, 1240)).clip(0, 255).astype(np.uint8)
        image = Image.fromarray(paper, "L").convert("RGB")
        draw = ImageDraw.Draw(image)
        for row in range(20):
            draw.text((120, 150 + row * 70), f"Line {row} of a scanned page number {n + 1}", fill=(20, 20, 20),
                      font=face)
        images.append(image)
    images[0].save(path, save_all=True, append_images=images[1:], resolution=150, quality=40)
    return path


def rss(pid: int) -> int:
    """The process's resident memory now, in bytes (VmRSS in /proc/PID/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise KeyError("VmRSS")


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=5)
    parser.add_argument("--pages", type=int, default=40)
    parser.add_argument("--after", type=float, default=180.0)
    parser.add_argument("--every", type=float, default=15.0)
    parser.add_argument("--no-read", action="store_true", help="only open the PDF in each session")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        pdf = scanned_pdf(work / "scan.pdf", args.pages)
        proc, url = serve(work / "data")
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
                first = browser.new_context()
                page = first.new_page()
                page.goto(url)
                page.get_by_role("heading", name="Get the text out of a photo or scan").wait_for()
                first.close()
                time.sleep(5)
                idle = rss(proc.pid)
                print(f"idle (one visit, closed): {idle / MB:.0f} MB; the PDF: {pdf.stat().st_size / MB:.1f} MB",
                      flush=True)
                contexts = []
                for _ in range(args.sessions):
                    context = browser.new_context(viewport={"width": 1280, "height": 900})
                    tab = context.new_page()
                    tab.set_default_timeout(900_000)
                    tab.goto(url)
                    tab.get_by_role("heading", name="Get the text out of a photo or scan").wait_for()
                    tab.locator('input[type="file"]').first.set_input_files(str(pdf))
                    tab.get_by_text(pdf.name, exact=True).wait_for()
                    contexts.append((context, tab))
                time.sleep(3)
                print(f"{args.sessions} sessions holding the PDF: {rss(proc.pid) / MB:.0f} MB", flush=True)
                if not args.no_read:
                    tab = contexts[0][1]
                    tab.get_by_role("button", name=f"Extract text from {args.pages} pages").click()
                    tab.get_by_text(f"Read {args.pages} of {args.pages} pages").first.wait_for()
                    time.sleep(3)
                    print(f"after one session read {args.pages} pages: {rss(proc.pid) / MB:.0f} MB", flush=True)
                for context, _ in contexts:
                    context.close()
                browser.close()
            started = time.monotonic()
            while True:
                elapsed = time.monotonic() - started
                now = rss(proc.pid)
                print(f"{elapsed:5.0f} s after the last tab closed: {now / MB:.0f} MB "
                      f"(idle + {(now - idle) / MB:.0f})", flush=True)
                if elapsed >= args.after:
                    break
                time.sleep(args.every)
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()

"""How quickly the app answers: the figures quoted for it come from here.

1. The preview, without a browser: ``ocr.preprocess(page, settings, max_pixels=1e6)`` as the Tune page
   runs it, on a 12-megapixel photo (a dev receipt enlarged to 3000x4000), for a few settings.
2. In Debian's chromium (headless, through Playwright) against ``streamlit run app.py``:
   - a slider move on the Tune page until the new processed picture has loaded, on the 12 MP photo and
     on a small scan (the difference is what the photo's size costs);
   - upload -> "Extract text" -> text shown -> .txt downloaded, on dev photos, on a fresh server (the
     first page read is the first OCR of the server).

    .venv/bin/python scripts/bench_app.py [--dev ../shared/eval/dev] [--no-browser]

Timings depend on what else the machine is doing; the load average is printed with them.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import ocr  # noqa: E402
from ocr import overlay  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def big_photo(dev: Path, folder: Path) -> Path:
    from PIL import Image

    path = folder / "photo-12mp.jpg"
    Image.open(dev / "sroie_027.jpg").convert("RGB").resize((3000, 4000), Image.BICUBIC).save(path, quality=90)
    return path


def preview_times(photo: Path) -> None:
    page = ocr.load(photo)[0]
    print(f"\nPreview of a {page.size[0]}x{page.size[1]} photo (max_pixels=1e6), best of 5:")
    for settings in (ocr.Settings(), ocr.Settings(threshold="otsu"), ocr.Settings(scale=1.5, threshold="otsu"),
                     ocr.Settings(background="blur", threshold="adaptive_gaussian"),
                     ocr.Settings(deskew=True, threshold="sauvola")):
        best = float("inf")
        for _ in range(5):
            start = time.perf_counter()
            enlarge = max(1.0, settings.scale)
            processed = ocr.preprocess(page, settings, max_pixels=int(overlay.DISPLAY_PIXELS / enlarge ** 2))
            image, _ = overlay.fit(processed.image)
            overlay.encode(image, "png" if settings.threshold != "none" else "jpeg")
            best = min(best, time.perf_counter() - start)
        print(f"  {settings.describe():40s} {best * 1000:6.0f} ms")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve() -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as answer:
                if answer.read() == b"ok":
                    return proc, url
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("streamlit did not start")


def slider_times(page, url: str, path: Path, moves: int = 8) -> list[float]:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.goto(url)
    page.get_by_role("heading", name="Get the text out of a photo or scan").wait_for()
    page.locator('input[type="file"]').first.set_input_files(str(path))
    page.get_by_role("button", name="Extract text from 1 page").wait_for()
    page.get_by_role("link", name="2 · Tune").click()
    page.locator('[data-testid="stImage"] img').nth(1).wait_for()
    time.sleep(1)
    slider = page.get_by_role("slider", name="Resize (×)")
    times = []
    for _ in range(moves):  # each move a new value: no cache hits
        old = page.locator('[data-testid="stImage"] img').nth(1).get_attribute("src")
        value = slider.get_attribute("aria-valuetext")
        slider.focus()
        start = time.perf_counter()
        page.keyboard.press("ArrowRight")
        try:
            page.wait_for_function("([el, old]) => el.getAttribute('aria-valuetext') !== old",
                                   arg=[slider.element_handle(), value], timeout=2_000)
        except PlaywrightTimeout:  # the key was lost (a rerun re-rendered the slider): not a measurement
            continue
        page.wait_for_function(
            """old => { const im = document.querySelectorAll('[data-testid="stImage"] img')[1];
                        return im && im.src !== old && im.complete && im.naturalWidth > 0; }""", arg=old)
        times.append(time.perf_counter() - start)
        time.sleep(0.3)
    return times


def upload_to_text(page, url: str, path: Path) -> tuple[float, float, str]:
    page.goto(url)
    page.get_by_role("heading", name="Get the text out of a photo or scan").wait_for()
    start = time.perf_counter()
    page.locator('input[type="file"]').first.set_input_files(str(path))
    page.get_by_role("button", name="Extract text from 1 page").click()
    page.wait_for_function("""() => { const t = document.querySelector('[data-testid="stTextArea"] textarea');
                                      return t && t.value.trim().length > 0; }""")
    shown = time.perf_counter() - start
    with page.expect_download() as download:
        page.get_by_role("button", name="Download text (.txt)").click()
    download.value.path()
    ocr_time = page.locator('[data-testid="stMetricValue"]').nth(2).inner_text()
    return shown, time.perf_counter() - start, ocr_time


def browser_times(dev: Path, photo: Path) -> None:
    from playwright.sync_api import sync_playwright

    proc, url = serve()
    try:
        with sync_playwright() as p, tempfile.TemporaryDirectory() as profile:
            context = p.chromium.launch_persistent_context(
                profile, executable_path=CHROMIUM, headless=True, args=ARGS,
                accept_downloads=True, viewport={"width": 1440, "height": 1100})
            page = context.pages[0] if context.pages else context.new_page()
            page.set_default_timeout(120_000)
            print("\nUpload -> Extract text -> text shown -> .txt downloaded"
                  " (fresh server; the first is its first OCR):")
            for path in (dev / "sroie_027.jpg", dev / "lept_lucasta_frag.jpg", photo):
                shown, done, ocr_time = upload_to_text(page, url, path)
                print(f"  {path.name:24s} text shown after {shown:5.2f} s,"
                      f" downloaded after {done:5.2f} s (OCR {ocr_time})")
            print("\nSlider move -> new processed picture loaded in the browser (median of 8 new values):")
            for path in (photo, dev / "lept_lucasta_frag.jpg"):
                times = slider_times(page, url, path)
                print(f"  {path.name:24s} median {statistics.median(times) * 1000:4.0f} ms, "
                      f"fastest {min(times) * 1000:4.0f} ms, slowest {max(times) * 1000:4.0f} ms")
            context.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dev", type=Path, default=ROOT.parent / "shared" / "eval" / "dev")
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as folder:
        photo = big_photo(args.dev, Path(folder))
        preview_times(photo)
        if not args.no_browser:
            browser_times(args.dev, photo)
    print(f"\nload average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()

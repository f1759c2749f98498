"""How quickly the app answers: the figures quoted for it come from here.

1. The preview without a browser, on a 12-megapixel photo (a dev receipt enlarged to 3000x4000): the
   Tune page's path (its working copy made once, then the pipeline on it) against the whole pipeline on
   the full page as it ran before, interleaved, for a few settings; the ratio is what the working copy
   saves.
2. In Debian's chromium (headless, through Playwright) against ``streamlit run app.py``, at 1280x800:
   - slider to picture: a slider moved one step with the keyboard until the new processed picture is on
     screen (timed inside the page: ``performance.now()`` at the key press and when the new picture's
     ``decode()`` resolves, or the viewer drew the level itself), for the "Level" slider (black & white
     at a set level: the viewer draws it in the page) and the "Resize" slider, on a 1-megapixel
     receipt scan and on the 12-megapixel photo: median, 95th percentile and worst of ``--moves`` moves
     each, and the first step apart;
   - a slider's first step: as a person does it, the keyboard focus brought to a slider that has not
     moved yet (as a Tab does), a pause of the hand (``HAND_S``), then one arrow press, timed from the
     press to the new picture; on five sliders in turn, over several rounds, on both pages; and the same
     pressed with no pause at all (the focus and the key at once), the least a hand gives the page; and
     a switch turned the same way (the focus, the pause, the space bar), two switches in turn;
   - slider to text: a move until the live text of the new settings is shown (its "Score" line back
     after "Reading these settings"), with Tesseract, on the receipt scan, the reading's own time
     included;
   - upload -> "Extract text" -> text shown -> .txt downloaded, on dev photos, on a fresh server.

    .venv/bin/python scripts/bench_app.py [--dev ../shared/eval/dev] [--no-browser] [--moves 20]
        [--only preview,sliders,first,text,upload]

Timings depend on what else the machine is doing; the load average is printed with them.
"""

from __future__ import annotations

import argparse
import math
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
from ocr import overlay, preprocessing  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
SCAN = "sroie_012.jpg"  # a receipt scan of about a megapixel (747x1412)
HAND_S = 0.4  # seconds a hand rests: between two moves, and from coming to a slider to its first press
PARTS = ("preview", "sliders", "first", "text", "upload")
# a slider's first step: settings that show several sliders, and five of them whose every step changes the
# preview on both pages (the Level, drawn in the page itself, is timed with the other sliders)
FIRST_QUERY = "engine=tesseract&clahe=1&threshold=adaptive_gaussian"
FIRST_SLIDERS = ("Resize (×)", "Contrast limit", "Regions per side", "Neighbourhood (pixels)", "Offset")
SWITCHES = ("Boost local contrast", "Straighten a slanted page")  # each turn changes the preview on both pages


def big_photo(dev: Path, folder: Path) -> Path:
    from PIL import Image

    path = folder / "photo-12mp.jpg"
    Image.open(dev / "sroie_027.jpg").convert("RGB").resize((3000, 4000), Image.BICUBIC).save(path, quality=90)
    return path


def load() -> str:
    return "load average " + " ".join(f"{v:.2f}" for v in os.getloadavg())


def preview_times(photo: Path, rounds: int = 5) -> None:
    """The working copy's path against the whole pipeline on the full page, interleaved (best of each)."""
    page = ocr.load(photo)[0]
    image = page.image
    reduced = math.sqrt(overlay.DISPLAY_PIXELS / (image.shape[0] * image.shape[1]))
    start = time.perf_counter()
    copy = preprocessing.reduce(image, reduced)
    made = time.perf_counter() - start
    print(f"\nPreview of a {page.size[0]}x{page.size[1]} photo, best of {rounds} (working copy made once in "
          f"{made * 1000:.0f} ms; orientation detection left out: the app asks it once per copy):")
    print(f"  {'settings':58s} {'full page':>9s} {'copy':>6s} {'ratio':>6s}")
    for settings in (ocr.Settings(auto_orient=False), ocr.Settings(auto_orient=False, threshold="otsu"),
                     ocr.Settings(auto_orient=False, scale=1.5, threshold="otsu"),
                     ocr.Settings(auto_orient=False, background="blur", threshold="adaptive_gaussian"),
                     ocr.Settings(auto_orient=False, deskew=True, threshold="sauvola")):
        full, kept = float("inf"), float("inf")
        enlarge = max(1.0, settings.scale)
        for _ in range(rounds):
            start = time.perf_counter()
            done = ocr.preprocess(page, settings, max_pixels=int(overlay.DISPLAY_PIXELS / enlarge ** 2))
            overlay.encode(overlay.fit(done.image)[0], "png" if settings.threshold != "none" else "jpeg")
            full = min(full, time.perf_counter() - start)
            start = time.perf_counter()
            done = ocr.preprocess(copy, settings, dpi=page.dpi, reduced=reduced,
                                  max_pixels=int(overlay.DISPLAY_PIXELS / enlarge ** 2) if enlarge > 1 else None)
            overlay.encode(overlay.fit(done.image)[0], "png" if settings.threshold != "none" else "jpeg")
            kept = min(kept, time.perf_counter() - start)
        print(f"  {settings.describe(ocr.Settings(auto_orient=False)):58s} {full * 1000:7.0f} ms "
              f"{kept * 1000:4.0f} ms {full / kept:5.1f}x")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(data: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        env={**os.environ, "OCR_WORKBENCH_DATA": str(data)},
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as answer:
                if answer.read() == b"ok":
                    return proc, url
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("streamlit did not start")


# In the page: when the processed picture's address changes, the time its new picture is decoded; when the
# live text's panel goes from "Reading these settings" back to its "Score" line, the time of that.
WATCH = """() => {
  if (window.__bench) return;
  window.__bench = {picture: 0, reading: 0, text: 0};
  new MutationObserver((changes) => {
    for (const c of changes) {
      if (c.type !== 'attributes' || !c.target.matches) continue;
      if (c.target.matches('.st-key-tune_picture img')) {
        c.target.decode().then(() => { window.__bench.picture = window.__bench.picture || performance.now(); },
                               () => {});
      } else if (c.target.matches('.st-key-tune_picture .ocrv') && c.attributeName === 'data-shown') {
        window.__bench.picture = window.__bench.picture || performance.now();  // drawn in the page
      }
    }
    const panel = document.querySelector('.st-key-tune_text');
    if (panel) {
      const said = panel.innerText;
      if (said.includes('Reading these settings')) window.__bench.reading = performance.now();
      else if (said.includes('Score') && window.__bench.reading > window.__bench.text) {
        window.__bench.text = performance.now();
      }
    }
  }).observe(document.body, {subtree: true, childList: true, attributes: true, attributeFilter: ['src', 'data-shown'],
                              characterData: true});
}"""


def open_tune(page, url: str, path: Path, query: str) -> None:
    """Upload ``path`` and open the Tune page with the settings of ``query``."""
    page.goto(url)
    page.get_by_role("heading", name="Get the text out of a photo or scan").wait_for()
    page.locator('input[type="file"]').first.set_input_files(str(path))
    page.get_by_role("button", name="Extract text from 1 page").wait_for()
    page.get_by_role("link", name="2 · Tune").click()  # the workspace holds the file once this page shows
    page.locator(".st-key-tune_picture img").wait_for()
    ws = page.evaluate("() => new URLSearchParams(location.search).get('ws')")
    page.goto(f"{url}/tune?ws={ws}&{query}")
    page.locator(".st-key-tune_picture img").wait_for()
    page.wait_for_function("() => document.querySelector('.st-key-tune_picture img').complete")
    page.evaluate(WATCH)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)]


def move(page, slider, timeout: float = 30.0, pause: float = 0.0, key: str = "ArrowRight") -> float | None:
    """One step right of ``slider`` (or ``key`` pressed on another control; the focus brought to it first,
    then ``pause`` seconds: a hand coming to it); the milliseconds from the key press until the new
    picture is decoded (None when no new picture came: the key was lost)."""
    slider.focus()
    if pause:
        time.sleep(pause)
    t0 = page.evaluate("() => { window.__bench.picture = 0; return performance.now(); }")
    page.keyboard.press(key)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = page.evaluate("() => window.__bench.picture")
        if done:
            return float(done - t0)
        time.sleep(0.01)
    return None


def slider_times(page, url: str, path: Path, name: str, query: str, moves: int) -> list[float]:
    open_tune(page, url, path, query)
    slider = page.get_by_role("slider", name=name)
    slider.scroll_into_view_if_needed()
    times: list[float] = []
    for n in range(moves):  # each move a new value: no cache hits
        took = move(page, slider, pause=HAND_S if n == 0 else 0.0)  # the first: the hand comes to the slider
        if took is not None:
            times.append(took)
        time.sleep(HAND_S)  # the hand pauses: each move is timed alone
    return times


def first_times(page, url: str, path: Path, rounds: int, pause: float) -> list[float]:
    """A slider's first step, on each of ``FIRST_SLIDERS`` in turn, ``rounds`` times: the focus brought to
    a slider another one held before, ``pause`` seconds, then one press (a new value each time)."""
    open_tune(page, url, path, FIRST_QUERY)
    return presses(page, "slider", FIRST_SLIDERS, rounds, "el => el", pause, "ArrowRight")


def switch_times(page, url: str, path: Path, rounds: int) -> list[float]:
    """A switch turned: each of ``SWITCHES`` in turn, ``rounds`` times, the focus brought to it, ``HAND_S``
    seconds, then the space bar."""
    open_tune(page, url, path, "engine=tesseract")
    return presses(page, "switch", SWITCHES, rounds, "el => el.closest('[data-testid=\"stCheckbox\"]')", HAND_S,
                   "Space")


def presses(page, role: str, names, rounds: int, box: str, pause: float, key: str) -> list[float]:
    """Each control of ``role`` named in ``names`` in turn, ``rounds`` times: scrolled into view (the
    element ``box``, a JavaScript function of the control, gives), the focus brought to it, ``pause``
    seconds, then ``key``; the milliseconds of each press that brought a new picture."""
    times: list[float] = []
    for _ in range(rounds):
        for name in names:
            control = page.get_by_role(role, name=name)
            control.evaluate(f"el => ({box})(el).scrollIntoView({{block: 'center'}})")
            took = move(page, control, pause=pause, key=key)
            if took is None:
                print(f"    no new picture came after {key} on {name}")
            else:
                times.append(took)
            time.sleep(HAND_S)
    return times


def text_times(page, url: str, path: Path, moves: int) -> list[float]:
    """Slider to text with Tesseract: the "Level" slider moved, until the new reading's text is shown."""
    open_tune(page, url, path, "engine=tesseract&threshold=fixed&threshold_value=150")
    page.locator(".st-key-tune_text").get_by_text("Score").wait_for(timeout=120_000)
    slider = page.get_by_role("slider", name="Level")
    times = []
    for n in range(moves):
        slider.focus()
        t0 = page.evaluate("() => { window.__bench.text = 0; window.__bench.reading = 0; return performance.now(); }")
        page.keyboard.press("ArrowRight" if n % 2 == 0 else "ArrowLeft")
        page.wait_for_function("() => window.__bench.text > window.__bench.reading && window.__bench.reading > 0",
                               timeout=60_000)
        times.append(float(page.evaluate("() => window.__bench.text") - t0))
        time.sleep(0.5)
    return times


def upload_to_text(page, url: str, path: Path) -> tuple[float, float]:
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
    return shown, time.perf_counter() - start


def summary(times: list[float]) -> str:
    if not times:
        return "no move measured"
    return (f"median {statistics.median(times):4.0f} ms, 95th percentile {percentile(times, 0.95):4.0f} ms, "
            f"worst {max(times):4.0f} ms ({len(times)} moves)")


def browser_times(dev: Path, photo: Path, moves: int, parts: set[str]) -> None:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as data:
        proc, url = serve(Path(data))
        try:
            with sync_playwright() as p, tempfile.TemporaryDirectory() as profile:
                context = p.chromium.launch_persistent_context(
                    profile, executable_path=CHROMIUM, headless=True, args=ARGS,
                    accept_downloads=True, viewport={"width": 1280, "height": 800})
                page = context.pages[0] if context.pages else context.new_page()
                page.set_default_timeout(120_000)
                if "sliders" in parts:
                    print(f"\nSlider to picture, decoded in the page ({load()}):")
                    for path in (dev / SCAN, photo):
                        for name, query in (("Level", "threshold=fixed&engine=tesseract"),
                                            ("Resize (×)", "engine=tesseract")):
                            times = slider_times(page, url, path, name, query, moves)
                            print(f"  {path.name:18s} {name:11s} {summary(times)}")
                            if times:
                                print(f"  {'':18s} {'':11s} first step {times[0]:4.0f} ms ({HAND_S:g} s after the "
                                      f"focus came); the steps after it: {summary(times[1:])}")
                if "first" in parts:
                    rounds = max(2, moves // 5)
                    how_switch = f"{HAND_S:g} s after the focus"
                    print(f"\nA slider's first step, {len(FIRST_SLIDERS)} sliders in turn, {rounds} rounds "
                          f"({load()}):")
                    for path in (dev / SCAN, photo):
                        for pause, how in ((HAND_S, f"{HAND_S:g} s after the focus came"),
                                           (0.0, "pressed with the focus")):
                            times = first_times(page, url, path, rounds, pause)
                            print(f"  {path.name:18s} {how:30s} {summary(times)}")
                        times = switch_times(page, url, path, rounds)
                        print(f"  {path.name:18s} {'a switch, ' + how_switch:30s} {summary(times)}")
                if "text" in parts:
                    print(f"\nSlider to text with Tesseract, the reading included ({load()}):")
                    times = text_times(page, url, dev / SCAN, max(4, moves // 2))
                    print(f"  {SCAN:18s} {'Level':11s} {summary(times)}")
                if "upload" in parts:
                    print(f"\nUpload -> Extract text -> text shown -> .txt downloaded ({load()}):")
                    for path in (dev / "sroie_027.jpg", dev / "lept_lucasta_frag.jpg", photo):
                        shown, done = upload_to_text(page, url, path)
                        print(f"  {path.name:24s} text shown after {shown:5.2f} s, downloaded after {done:5.2f} s")
                context.close()
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=20)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--dev", type=Path, default=ROOT.parent / "shared" / "eval" / "dev")
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--moves", type=int, default=20, help="slider moves timed per slider and page")
    parser.add_argument("--only", default=",".join(PARTS),
                        help=f"the parts to run, comma-separated, of {', '.join(PARTS)} (default: all)")
    args = parser.parse_args()
    parts = set(args.only.split(","))
    if parts - set(PARTS):
        parser.error(f"--only: no part {', '.join(sorted(parts - set(PARTS)))}; the parts: {', '.join(PARTS)}")
    print(f"{load()} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as folder:
        photo = big_photo(args.dev, Path(folder))
        if "preview" in parts:
            preview_times(photo)
        if not args.no_browser and parts - {"preview"}:
            browser_times(args.dev, photo, args.moves, parts)
    print(f"\n{load()}")


if __name__ == "__main__":
    main()

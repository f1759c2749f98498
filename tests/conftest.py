"""Shared test helpers: the dev evaluation set, drawn test pages, the shared engine."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from workbench import keys

ROOT = Path(__file__).resolve().parent.parent
DEV = Path(os.environ.get("OCR_DEV_SET", ROOT.parent / "shared" / "eval" / "dev"))
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
SERIF = "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf"

SAMPLE_TEXT = ["The quick brown fox jumps", "over the lazy dog while", "seven zebras watch quietly"]


def dev_images() -> list[Path]:
    """Every image in the dev set that has a ground truth."""
    return sorted(p for p in DEV.iterdir() if p.suffix in (".png", ".jpg") and p.with_suffix(".gt.txt").exists())


def draw_page(lines=SAMPLE_TEXT, *, size=(1000, 400), font_size=40, font=FONT, ink=0, paper=255,
              mode="L", origin=(40, 40)) -> Image.Image:
    """A clean page of text drawn with DejaVu."""
    image = Image.new(mode, size, paper)
    draw = ImageDraw.Draw(image)
    face = ImageFont.truetype(font, font_size)
    y = origin[1]
    for line in lines:
        draw.text((origin[0], y), line, fill=ink, font=face)
        y += int(font_size * 1.5)
    return image


def ctrl_c_as_at_a_terminal() -> None:
    """A child process's Ctrl-C as at a terminal (``preexec_fn``): a shell that starts a job in the
    background (``make test &``, a CI runner) has it ignore SIGINT, and Python then leaves it ignored."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def words_of(text: str) -> list[str]:
    return [w.strip(".,;:!?").lower() for w in text.split() if w.strip(".,;:!?")]


@pytest.fixture(scope="session")
def page_array() -> np.ndarray:
    return np.asarray(draw_page())


@pytest.fixture(scope="session")
def dev_dir() -> Path:
    if not DEV.is_dir():
        pytest.fail(f"the dev evaluation set is missing: {DEV} (expected ../shared/eval/dev beside the repo)")
    return DEV


# -- a real server and a real browser (tests/test_browser.py, test_app_load.py, test_container.py) --------

@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Under pytest-xdist (``--dist loadgroup``): every test that drives a browser against a server of its
    own in one group, so they run one after another in one worker (two apps and two chromiums side by side
    starve each other on two cores), and every other file's tests in a group of the file (its module's
    server starts once). The container image's tests open that group: built from nothing, the image takes
    minutes of both cores (pip, and the calibration of PP-OCR's 8-bit model), and browser tests run beside
    it waited 60-90 s for pages that show in a second; `nice` did not help, as podman's build steps run in
    sessions of their own, which the kernel's autogroups weigh as equals. So the build runs beside the unit
    tests only, and the browser tests after it."""
    def rank(item) -> int:
        """0: the container image's tests, 1: the others of their own file's group, 2: the browser tests."""
        path = item.nodeid.split("::")[0]
        return 0 if path.endswith("test_container.py") else 2 if item.get_closest_marker("browser") else 1

    for item in items:
        item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0] if rank(item) == 1 else "browser"))
    items.sort(key=rank)


def left_behind() -> list[str]:
    """Engine workers' folders whose process is gone, and Dask's scratch space, in the temporary folder."""
    import tempfile

    from ocr.engines.pool import FOLDER_PREFIX, _alive

    top = Path(tempfile.gettempdir())
    left = []
    for path in top.glob(f"{FOLDER_PREFIX}*"):
        try:
            pid = int((path / "pid").read_text())
        except (OSError, ValueError):
            continue  # a worker still starting: not one left behind
        if not _alive(pid):
            left.append(path.name)
    if (top / "dask-scratch-space").exists():
        left.append("dask-scratch-space")
    return left


def pytest_sessionfinish(session, exitstatus):
    """After every test (under xdist, in the controller once all workers are done): nothing left behind in
    the temporary folder (the pool and ocr.cluster remove their own); the run fails naming what was."""
    if hasattr(session.config, "workerinput"):
        return
    left = left_behind()
    if left:
        session.config.get_terminal_writer().line(f"left in the temporary folder after the tests: {left}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pdf_of(texts: list[str]) -> bytes:
    """A PDF of one small page per text, each drawn with DejaVu at 100 dpi."""
    pages = [draw_page([t], size=(900, 160)).convert("RGB") for t in texts]
    buffer = io.BytesIO()
    pages[0].save(buffer, "PDF", save_all=True, append_images=pages[1:], resolution=100)
    return buffer.getvalue()


def until(condition, what: str, seconds: float = 120) -> None:
    """Poll ``condition()`` until it holds; fail saying ``what`` after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} within {seconds:.0f} s")
        time.sleep(0.05)


def settled(page) -> bool:
    """Whether no script run is going on: Streamlit's running indicator is gone, nothing is stale, and
    every control shown is drawn (Streamlit loads a widget's code when the page first needs it and shows
    an empty box of another height until then: the page below it moves when it comes)."""
    return page.evaluate("""prefix => !document.querySelector('[data-testid="stStatusWidget"]')
        && !document.querySelector('[data-stale="true"]')
        && [...document.querySelectorAll(`[class*="st-key-${prefix}"]`)].every(
               el => el.closest('details:not([open])') || el.offsetParent === null || el.innerText.trim() !== '')""",
                         keys.setting(""))


CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served(str):
    """The server's URL, with its process."""

    proc: subprocess.Popen

    def __new__(cls, url: str, proc: subprocess.Popen) -> Served:
        made = super().__new__(cls, url)
        made.proc = proc
        return made

    @property
    def pid(self) -> int:
        return self.proc.pid


def wait_for_health(url: str, proc: subprocess.Popen, seconds: float, name: str, logs: list[Path]) -> None:
    """Until ``url``'s /_stcore/health answers ok; the test fails with the tail of ``logs`` if ``proc``
    (``name``) exits first or ``seconds`` pass."""
    deadline = time.monotonic() + seconds

    def tail() -> str:
        return "".join(p.read_text() for p in logs if p.exists())[-2000:]

    while True:
        if proc.poll() is not None:
            pytest.fail(f"{name} exited with {proc.returncode}:\n{tail()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=3) as answer:
                if answer.read().strip() == b"ok":
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"{name} did not answer {url}/_stcore/health within {seconds:.0f} s:\n{tail()}")
        time.sleep(0.3)  # polling a server that is starting, bounded by the deadline


def stop(proc: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    """Stop a server started with ``start_new_session=True``: ``sig``, then its whole group killed if it
    has not ended within 20 s."""
    proc.send_signal(sig)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@pytest.fixture
def server_args() -> list[str]:
    """More flags for `streamlit run` (a test module may give its own)."""
    return []


def launch(log: Path, data: Path, *, port: int | None = None, env: dict[str, str] | None = None,
           start: Sequence[str] = (sys.executable, "-m", "streamlit"), args: Sequence[str] = ()) -> Served:
    """`streamlit run app.py` (through ``start``) on 127.0.0.1:``port`` (a free one by default), its
    workspaces in ``data``, its output appended to ``log``; once /_stcore/health answers (stopped if it
    never does)."""
    port = port or free_port()
    with open(log, "ab") as out:  # the process holds its own copy
        proc = subprocess.Popen(
            [*start, "run", "app.py", "--server.headless", "true", "--server.port", str(port),
             "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false", *args],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, "OCR_WORKBENCH_DATA": str(data), **(env or {})})
    served = Served(f"http://127.0.0.1:{port}", proc)
    try:
        wait_for_health(served, proc, 90, "streamlit", [log])
    except BaseException:
        stop(proc)
        raise
    return served


@contextlib.contextmanager
def streamlit(folder: Path, **how) -> Iterator[Served]:
    """:func:`launch` with its log (streamlit.log) and workspaces in ``folder``; stopped afterwards
    (unless it has ended already)."""
    served = launch(folder / "streamlit.log", folder / "workspaces", **how)
    try:
        yield served
    finally:
        if served.proc.poll() is None:
            stop(served.proc)


@pytest.fixture
def server(tmp_path, server_args):
    """`streamlit run app.py` on 127.0.0.1 (its workspaces in a folder of the test's own); its URL once
    /_stcore/health answers (its ``pid`` the server's process id); stopped afterwards."""
    with streamlit(tmp_path, args=server_args) as served:
        yield served


@contextlib.contextmanager
def launched_chromium() -> Iterator[Any]:
    """Debian's chromium through Playwright, closed afterwards."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (make test does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def browser():
    """Debian's chromium for one test; contexts (each a fresh profile: a new tab of a new person) are
    made from it by the test."""
    with launched_chromium() as made:
        yield made


@pytest.fixture
def browser_page(browser):
    context = browser.new_context(accept_downloads=True, viewport={"width": 1440, "height": 1100})
    try:
        page = context.new_page()
        page.set_default_timeout(60_000)
        yield page
    finally:
        context.close()


@pytest.fixture(scope="module")
def chromium():
    """Debian's chromium shared by a module's tests."""
    with launched_chromium() as made:
        yield made

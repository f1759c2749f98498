"""The HTTP API against a real server (`streamlit run app.py` on a free port, the API's token set): every
route and format, the bad-file corpus, tokens, sizes, a full queue, ten clients at once, a job that
survives a restart, and the README's examples run as written."""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from .badfiles import corpus
from .conftest import ROOT, draw_page, free_port, launch, pdf_of, stop, words_of

TOKEN, OTHER = "test-token-one", "test-token-two"
QUEUE = 2  # reads waiting or running at once, small so that a burst fills it
WORDS = ["Harbour lights glow", "Copper kettles whistle", "Quiet meadows bloom", "Granite bridges span",
         "Velvet curtains fall", "Silver rivers wind", "Amber forests sway", "Crimson sails drift",
         "Marble columns rise", "Golden wheat ripens"]


def png(words: str) -> bytes:
    buffer = io.BytesIO()
    draw_page([words, "a second line of text"], size=(900, 200)).save(buffer, "PNG")
    return buffer.getvalue()


class Server:
    """A server on one port and one data folder, that can be killed and started again."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.port = folder, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        env = {"OCR_WORKBENCH_API_TOKEN": f"{TOKEN},{OTHER}", "OCR_WORKBENCH_API_QUEUE": str(QUEUE)}
        self.proc = launch(self.folder / "streamlit.log", self.folder / "data", port=self.port, env=env).proc

    def kill(self) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def log(self) -> str:
        return (self.folder / "streamlit.log").read_text(errors="replace")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    served = Server(tmp_path_factory.mktemp("api"))
    served.start()
    try:
        yield served
    finally:
        if served.proc is not None and served.proc.poll() is None:
            stop(served.proc)


def api(server: Server, path: str) -> str:
    return f"{server.url}/api/v1{path}"


AUTH = {"Authorization": f"Bearer {TOKEN}"}


def read(server: Server, data: bytes, name: str = "page.png", retry: bool = True, **params) -> requests.Response:
    """POST /read as a polite client: multipart, and again after Retry-After when the queue is full."""
    while True:
        answer = requests.post(api(server, "/read"), headers=AUTH, files={"file": (name, data)},
                               data={"engine": "tesseract", **params}, timeout=300)
        if answer.status_code != 429 or not retry:
            return answer
        time.sleep(float(answer.headers["Retry-After"]))


def test_no_token_or_a_wrong_one_is_401_and_either_client_token_works(server):
    assert requests.get(api(server, "/health"), timeout=30).status_code == 401
    wrong = requests.get(api(server, "/health"), headers={"Authorization": "Bearer nope"}, timeout=30)
    assert wrong.status_code == 401 and wrong.headers["content-type"] == "application/problem+json"
    assert wrong.json()["status"] == 401 and wrong.json()["detail"].endswith(".")
    for token in (TOKEN, OTHER):
        ok = requests.get(api(server, "/health"), headers={"Authorization": f"Bearer {token}"}, timeout=30)
        assert ok.status_code == 200 and ok.json()["status"] == "ok" and ok.json()["store"] == "ok"
    assert TOKEN not in server.log() and OTHER not in server.log()  # requests are logged, tokens never
    assert re.search(r"API GET /api/v1/health 401", server.log())


def test_engines_say_their_versions_and_languages(server):
    found = requests.get(api(server, "/engines"), headers=AUTH, timeout=30).json()
    names = {e["name"]: e for e in found["engines"]}
    assert {"tesseract", "ppocr"} <= set(names)
    assert "eng" in names["tesseract"]["languages"] and any(c.isdigit() for c in names["tesseract"]["version"])


def test_every_format_of_one_page(server):
    data = png(WORDS[0])
    text = read(server, data, format="txt")
    assert text.status_code == 200 and text.headers["content-type"].startswith("text/plain")
    assert words_of(text.text)[:3] == words_of(WORDS[0])
    record = read(server, data).json()  # JSON by default
    first = record["pages"][0]
    assert first["engine"] == "tesseract" and words_of(first["text"])[:3] == words_of(WORDS[0])
    assert first["words"] and record["errors"] == []
    csv = read(server, data, format="csv")
    assert csv.headers["content-type"].startswith("text/csv") and "harbour" in csv.text.lower()
    hocr = requests.post(api(server, "/read"), headers={**AUTH, "Accept": "text/html"}, files={"file": ("p.png", data)},
                         data={"engine": "tesseract"}, timeout=300)
    assert "ocrx_word" in hocr.text and hocr.headers["content-type"].startswith("text/html")
    pdf = read(server, data, format="pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    shown = subprocess.run(["pdftotext", "-", "-"], input=pdf.content, capture_output=True, check=True).stdout
    assert words_of(shown.decode())[:3] == words_of(WORDS[0])


def test_a_raw_body_with_its_media_type_and_chosen_pages(server):
    answer = requests.post(api(server, "/read"), headers={**AUTH, "Content-Type": "application/pdf"},
                           params={"engine": "tesseract", "pages": "2-3", "format": "txt", "name": "three.pdf"},
                           data=pdf_of(WORDS[:3]), timeout=300)
    assert answer.status_code == 200 and answer.headers["x-pages"] == "2"
    assert [words_of(t)[:3] for t in answer.text.split("\f")] == [words_of(WORDS[1]), words_of(WORDS[2])]


def test_the_bad_file_corpus_gives_one_sentence_each_and_no_500(server):
    for name, data, expected in corpus():
        answer = read(server, data, name=name, pages="1", format="json")
        assert answer.status_code in (200, 413, 422), (name, answer.status_code, answer.text[:300])
        if answer.status_code == 200:
            assert expected.pages > 0, name
        else:
            detail = answer.json()["detail"]
            assert detail.endswith(".") and "\n" not in detail and "Traceback" not in detail, (name, detail)
    good = read(server, png(WORDS[1]), format="txt")  # and a good file after them is read
    assert words_of(good.text)[:3] == words_of(WORDS[1])


def test_a_file_over_the_size_limit_is_413(server):
    big = b"\0" * (51 * 1024 * 1024)
    answer = requests.post(api(server, "/read"), headers={**AUTH, "Content-Type": "image/png"}, data=big, timeout=120)
    assert answer.status_code == 413 and "50 MB" in answer.json()["detail"]


def test_a_full_queue_is_429_and_ten_clients_each_get_their_own_page(server):
    pages = [png(w) for w in WORDS]
    with ThreadPoolExecutor(max_workers=10) as clients:
        impolite = list(clients.map(lambda d: read(server, d, retry=False, format="txt"), pages))
    refused = [a for a in impolite if a.status_code == 429]
    assert refused and all(int(a.headers["Retry-After"]) > 0 for a in refused)
    assert all(a.status_code in (200, 429) for a in impolite)
    with ThreadPoolExecutor(max_workers=10) as clients:
        polite = list(clients.map(lambda d: read(server, d, format="txt"), pages))
    assert [words_of(a.text)[:3] for a in polite] == [words_of(w) for w in WORDS]


def test_a_job_survives_a_restart_of_the_server(server):
    document = pdf_of(WORDS[:6])
    started = requests.post(api(server, "/jobs"), headers=AUTH, files={"file": ("six.pdf", document)},
                            data={"engine": "tesseract"}, timeout=60)
    assert started.status_code == 202
    job = started.json()
    assert started.headers["Location"] == f"/api/v1/jobs/{job['id']}" and job["pages"] == 6
    server.kill()  # at once: the job is queued or part-read
    server.start()
    deadline = time.monotonic() + 180
    where = api(server, f"/jobs/{job['id']}")
    while (state := requests.get(where, headers=AUTH, timeout=30).json())["state"] != "done":
        assert time.monotonic() < deadline, state
        time.sleep(0.2)
    assert state["done"] == 6
    text = requests.get(api(server, f"/jobs/{job['id']}"), headers=AUTH, params={"format": "txt"}, timeout=60).text
    assert [words_of(t)[:3] for t in text.split("\f")] == [words_of(w) for w in WORDS[:6]]
    assert requests.get(api(server, "/jobs/nothing-like-it"), headers=AUTH, timeout=30).status_code == 404


def test_the_openapi_description_and_the_docs_page(server):
    spec = requests.get(api(server, "/openapi.json"), timeout=30).json()
    assert spec["openapi"].startswith("3.1")
    assert {"/read", "/jobs", "/jobs/{id}", "/health", "/engines"} <= set(spec["paths"])
    page = requests.get(api(server, "/docs"), timeout=30).text
    assert "POST /api/v1/read" in page and "<script" not in page and "http" not in page.split("</style>")[0]


def readme_blocks(kind: str) -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## HTTP API"):]
    section = section[:section.index("\n## ", 3)]
    return re.findall(rf"```{kind}\n(.*?)```", section, re.S)


def test_the_readmes_examples_run_as_written(server, tmp_path):
    (tmp_path / "scan.png").write_bytes(png(WORDS[2]))
    env = {**os.environ, "OCR_URL": server.url, "OCR_TOKEN": TOKEN}
    [curl] = readme_blocks("sh")
    out = subprocess.run(["sh", "-c", curl], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert words_of(out.stdout)[:3] == words_of(WORDS[2])
    [python] = readme_blocks("python")
    out = subprocess.run([sys.executable, "-c", python], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    assert words_of(out.stdout)[:3] == words_of(WORDS[2])


@pytest.mark.browser
def test_the_app_reads_a_page_in_a_browser_while_the_api_is_busy(server):
    """Clients keep the API's queue full (each asking again when refused) while a person uploads, tunes
    and extracts a page in chromium: the app keeps its worker and reads the page."""
    from playwright.sync_api import sync_playwright

    from .browser_flow import upload_tune_extract
    from .conftest import ARGS, CHROMIUM

    done = threading.Event()
    answers: list[int] = []

    def client(words: str) -> None:
        while not done.is_set():
            answers.append(read(server, png(words), format="txt").status_code)

    with ThreadPoolExecutor(max_workers=4) as clients:
        busy = [clients.submit(client, w) for w in WORDS[:4]]
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
                try:
                    page = browser.new_context(viewport={"width": 1280, "height": 800},
                                               accept_downloads=True).new_page()
                    page.set_default_timeout(180_000)
                    upload_tune_extract(page, server.url, shots="api-busy")
                finally:
                    browser.close()
        finally:
            done.set()
            for f in busy:
                f.result()
    assert answers and set(answers) == {200}  # the API went on answering while the person read

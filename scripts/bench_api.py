"""The HTTP API's cost: one page through ``POST /api/v1/read`` against the same page read by this package in
a warm process (``ocr.read_page`` with a warm engine), interleaved in rounds in this process (a busy
moment hits both alike); prints the ratio of the medians and the API's overhead in milliseconds.

    .venv/bin/python scripts/bench_api.py [IMAGE ...] [--rounds 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

import ocr  # noqa: E402
from tests.conftest import free_port, stop, wait_for_health  # noqa: E402

TOKEN = "bench-token"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    dev = ROOT.parent / "shared" / "eval" / "dev"
    p.add_argument("images", nargs="*", type=Path,
                   default=[dev / "sroie_010.jpg", dev / "lept_italic.png", dev / "unlv_8071_093_3B.png"])
    p.add_argument("--rounds", type=int, default=15)
    args = p.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-api-"))
    port = free_port()
    log = open(folder / "server.log", "wb")  # noqa: SIM115 (closed at the end)
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1"], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        env={**os.environ, "OCR_WORKBENCH_DATA": str(folder / "data"), "OCR_WORKBENCH_API_TOKEN": TOKEN})
    engine = ocr.Engine("api", workers=1)
    options = ocr.Options(engine="tesseract")
    try:
        wait_for_health(f"http://127.0.0.1:{port}", server, 120, "streamlit", [folder / "server.log"])
        engine.warm(options)
        url = f"http://127.0.0.1:{port}/api/v1/read"
        print(f"{'image':28} {'API s':>7} {'in-process s':>13} {'ratio':>6} {'overhead ms':>12}")
        for path in args.images:
            data = path.read_bytes()

            def through_api(data: bytes = data, path: Path = path) -> float:
                start = time.perf_counter()
                answer = requests.post(url, headers={"Authorization": f"Bearer {TOKEN}"}, data=data,
                                       params={"engine": "tesseract", "format": "txt", "name": path.name}, timeout=300)
                answer.raise_for_status()
                return time.perf_counter() - start

            def in_process(data: bytes = data, path: Path = path) -> float:
                start = time.perf_counter()
                for page in ocr.load(data, path.name):
                    ocr.read_page(page, options=options, engine=engine)
                return time.perf_counter() - start

            through_api(), in_process()  # both warm: the server's workers have read once
            api, direct = [], []
            for r in range(args.rounds):
                for fn, into in ((through_api, api), (in_process, direct))[:: 1 if r % 2 else -1]:
                    into.append(fn())
            a, d = statistics.median(api), statistics.median(direct)
            print(f"{path.name:28} {a:7.3f} {d:13.3f} {a / d:6.2f} {(a - d) * 1000:12.0f}")
    finally:
        engine.close()
        stop(server)
        log.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

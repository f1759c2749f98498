"""`pip install .` gives a working package: the `ocr` and `ocr-workbench` commands run from any folder,
with the app's pages and samples inside the installed package."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from .conftest import ROOT, SAMPLE_TEXT, draw_page, words_of

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The package installed by pip (without its dependencies, which this test's environment has) into
    a folder of its own, away from the repository."""
    target, source = tmp_path_factory.mktemp("site"), tmp_path_factory.mktemp("source") / "ocr-workbench"
    # from a copy, so the build leaves nothing in the repository
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".git", ".venv", "test-artifacts", "eval-out",
                                                                "build", "*.egg-info", "__pycache__", ".*cache"))
    out = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target),
                          str(source)], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    return target


def environment(site: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(site), "PATH": f"{site / 'bin'}{os.pathsep}{os.environ['PATH']}"}


def test_the_package_carries_the_apps_pages_and_samples(installed):
    pages = sorted(p.name for p in (installed / "workbench" / "pages").glob("*.py"))
    assert pages == ["extract.py", "history.py", "tune.py", "upload.py"]
    assert list((installed / "workbench" / "samples").glob("*.jpg"))
    assert (installed / "ocr" / "engines" / "worker.py").exists()


def test_the_ocr_command_reads_a_page_from_another_folder(installed, tmp_path):
    draw_page().save(tmp_path / "page.png")
    command = installed / "bin" / "ocr"
    assert command.exists()
    help_ = subprocess.run([str(command), "--help"], capture_output=True, text=True, cwd=tmp_path,
                           env=environment(installed), timeout=120)
    assert help_.returncode == 0 and help_.stdout.startswith("usage: ocr ")
    out = subprocess.run([str(command), "page.png"], capture_output=True, text=True, cwd=tmp_path,
                         env=environment(installed), timeout=300)
    assert out.returncode == 0, out.stderr
    assert words_of(out.stdout) == words_of(" ".join(SAMPLE_TEXT))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_ocr_workbench_command_serves_the_app_from_another_folder(installed, tmp_path):
    port = free_port()
    command = installed / "bin" / "ocr-workbench"
    server = subprocess.Popen([str(command), "--server.port", str(port), "--server.headless", "true"], cwd=tmp_path,
                              env={**environment(installed), "OCR_WORKBENCH_DATA": str(tmp_path / "data")},
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        health = ""
        while time.monotonic() < deadline and server.poll() is None:
            try:
                health = urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).read().decode()
                break
            except OSError:
                time.sleep(0.2)  # polling a server that is starting, bounded by the deadline
        assert health == "ok", server.stdout.read().decode() if server.poll() is not None else "no answer"
        page = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10).read().decode()
        assert "<title>" in page
    finally:
        server.terminate()
        server.wait(30)

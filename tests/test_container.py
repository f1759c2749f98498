"""The container image, built and run as people run it, with rootful podman in place of docker (no Docker
daemon and no Docker Hub here): scripts/podman-here.sh gives podman a configuration and storage of this
project's own, scripts/podman-base.sh makes a local stand-in for python:3.11-slim-bookworm.

The commands are the README's `docker build` / `docker run` lines and docs/deploy.md's, read from those
files. Only this is added: to the build, the stand-in base, `--pull=never`, the Docker image format (OCI
drops HEALTHCHECK) and, where the network re-signs TLS, the host's CA bundle for pip; to each run,
`-d` and a name so it can be stopped; published ports move to free loopback ports and volumes get this
test's names. The seconds of each phase and the image's size go to test-artifacts/container-report.txt.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ocr.metrics import cer

from .browser_flow import ARTIFACTS, PHOTO, shot, upload_tune_extract
from .conftest import DEV, ROOT, free_port, stop, wait_for_health
from .test_deploy_files import (
    CONFIG,
    DEPLOY,
    arg_default,
    docker_commands,
    nginx_config,
    option_value,
    readme_docker_lines,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

PODMAN = ROOT / "scripts" / "podman-here.sh"
MAKE_BASE = ROOT / "scripts" / "podman-base.sh"
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
PREFIX = "ocr-workbench-test"
SAMPLE = ROOT / "workbench" / "samples" / "notice-skewed.png"
HEALTH_SECONDS = 180  # a fresh container answers /_stcore/health within this, or the test fails
REPORT: dict[str, str] = {}
NOISE = re.compile(r"unable to get systemd connection")  # podman without systemd; harmless

# Each engine's reading of one page, as the app and a Dask worker load them (more engines join here).
ENGINES = '''
import json, sys

def engines_read(path):
    import ocr
    page = ocr.load(path)[0]
    readings = {}
    for engine in ("tesseract", "ppocr"):
        result = ocr.recognize(page, ocr.Options(engine=engine))
        readings[engine] = {"backend": result.backend, "engine": result.engine, "text": result.text}
    return readings
'''
DASK_CLIENT = '''
from distributed import Client, get_worker

def on_worker(path):
    return get_worker().name, engines_read(path)

with Client(sys.argv[2], timeout="60s") as client:
    client.wait_for_workers(1, timeout=120)
    print(json.dumps(client.submit(on_worker, sys.argv[1], pure=False).result(timeout=300)))
'''


# -- running commands -------------------------------------------------------------------------------


def tail(text: str, lines: int = 30) -> str:
    """The last lines of a command's output, without podman's systemd noise."""
    kept = [line for line in text.splitlines() if not NOISE.search(line)]
    return "\n".join(kept[-lines:])


def run(argv: list[str], *, timeout: float, cwd: Path = ROOT, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a command to its end; a failure or a time-out fails the test with the command and its output."""
    shown = shlex.join(str(a) for a in argv)
    try:
        done = subprocess.run([str(a) for a in argv], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"`{shown}` did not finish within {timeout:.0f} s:\n{tail(str(e.stderr or ''))}")
    if check and done.returncode != 0:
        pytest.fail(f"`{shown}` failed with exit status {done.returncode}:\n{tail(done.stdout + done.stderr)}")
    return done


def podman(*args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess[str]:
    return run([PODMAN, *args], timeout=timeout, check=check)


def remove_leftovers() -> None:
    """Remove this test's containers and volumes, from this run or one that was killed."""
    names = podman("ps", "-a", "--format", "{{.Names}}").stdout.split()
    ours = [n for n in names if n.startswith(PREFIX)]
    if ours:
        podman("rm", "--force", "--depend", "--ignore", "--volumes", "--time", "5", *ours, timeout=180)
    volumes = [v for v in podman("volume", "ls", "--format", "{{.Name}}").stdout.split() if v.startswith(PREFIX)]
    if volumes:
        podman("volume", "rm", "-f", *volumes)


def logs(name: str) -> str:
    """The end of a container's output."""
    done = podman("logs", name, check=False)
    return tail(done.stdout + done.stderr)


def as_podman_run(argv: list[str]) -> tuple[list[str], str, dict[str, int]]:
    """A `docker run` line from the README or the docs as this test runs it (see the module's docstring):
    the podman command, the container's name, and each written host port's free stand-in."""
    assert argv[:2] == ["docker", "run"], argv
    out, name, ports = [str(PODMAN), "run"], "", {}
    args = argv[2:]
    i = 0
    while i < len(args):
        arg = args[i]
        if arg in ("--name", "-p", "--publish", "-v", "--volume") and i + 1 < len(args):
            value = args[i + 1]
            if arg == "--name":
                name = f"{PREFIX}-{value}"
                out += ["--name", name]
            elif arg in ("-p", "--publish"):
                *_, host, inside = value.split(":")
                ports[host] = free_port()
                out += ["-p", f"127.0.0.1:{ports[host]}:{inside}"]
            else:
                source, target = value.split(":", 1)
                out += ["-v", f"{PREFIX}-{source}:{target}"]
            i += 2
        else:
            out.append(arg)
            i += 1
    if "-d" not in out:
        out.insert(2, "-d")
    if not name:
        name = f"{PREFIX}-{argv[-1]}"
        out[2:2] = ["--name", name]
    return out, name, ports


def wait_healthy(name: str, url: str) -> float:
    """Seconds until ``url``/_stcore/health answers ok; fails with the container's log if it stops or
    does not answer within HEALTH_SECONDS."""
    start = time.monotonic()
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=3) as answer:
                if answer.read().strip() == b"ok":
                    return time.monotonic() - start
        except OSError:
            pass
        status = podman("inspect", "--format", "{{.State.Status}}", name).stdout.strip()
        if status not in ("created", "running"):
            pytest.fail(f"container {name} stopped ({status}) before answering:\n{logs(name)}")
        if time.monotonic() - start > HEALTH_SECONDS:
            pytest.fail(f"{url} did not answer /_stcore/health within {HEALTH_SECONDS} s:\n"
                        f"{logs(name)}")
        time.sleep(0.5)


def start(argv: list[str]) -> tuple[str, dict[str, int]]:
    """Start a `docker run` line's container and wait until the app in it answers; its name and ports."""
    command, name, ports = as_podman_run(argv)
    podman(*command[1:])
    seconds = wait_healthy(name, f"http://127.0.0.1:{next(iter(ports.values()))}")
    REPORT[f"{name}: start to healthy"] = f"{seconds:.1f} s"
    return name, ports


def reading_cer(text: str) -> float:
    return cer(SAMPLE.with_suffix(".gt.txt").read_text(), text)


# -- fixtures ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tools() -> Iterator[None]:
    """podman, runc and debootstrap present and usable (rootful); every phase's time reported at the end."""
    missing = [tool for tool in ("podman", "runc", "debootstrap") if not shutil.which(tool)]
    if missing:
        pytest.fail(f"the container test needs {', '.join(missing)}: apt-get install podman runc debootstrap "
                    "(make test installs them)")
    if os.geteuid() != 0:
        reason = "the container test runs rootful podman and debootstrap: run it as root (CI does)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    began = time.monotonic()
    remove_leftovers()
    try:
        yield
    finally:
        REPORT["whole container test"] = f"{time.monotonic() - began:.0f} s"
        ARTIFACTS.mkdir(exist_ok=True)
        report = "\n".join(f"{key}: {value}" for key, value in REPORT.items())
        (ARTIFACTS / "container-report.txt").write_text(report + "\n")
        print("\n" + report)
        remove_leftovers()


@pytest.fixture(scope="module")
def image(tools: None) -> str:
    """The README's `docker build` line, built with podman on the local stand-in base; the image's tag."""
    began = time.monotonic()
    base = run([MAKE_BASE], timeout=1200).stdout.strip().splitlines()[-1]
    REPORT["base image (made or reused)"] = f"{time.monotonic() - began:.0f} s"

    build = readme_docker_lines()["build"]
    flags = ["--pull=never", "--format", "docker", "--build-arg", f"BASE={base}"]
    if CA_BUNDLE.exists():
        flags += ["-v", f"{CA_BUNDLE}:{CA_BUNDLE}:ro", "--build-arg", f"PIP_CERT={CA_BUNDLE}"]
    began = time.monotonic()
    run([PODMAN, "build", *flags, *build[2:]], timeout=1800)
    podman("image", "prune", "--force")  # earlier builds' layers: the storage stays one image's size
    REPORT["build (layers reused when unchanged)"] = f"{time.monotonic() - began:.0f} s"
    tag = option_value(build, "-t", "--tag")
    size = int(podman("image", "inspect", "--format", "{{.Size}}", tag).stdout.strip())
    REPORT["image size"] = f"{size / 1e9:.2f} GB ({size / 2**20:.0f} MiB)"
    return tag


@pytest.fixture(scope="module")
def app(image: str) -> Iterator[tuple[str, str]]:
    """The README's `docker run` line, running: (container name, base URL on loopback)."""
    name, ports = start(readme_docker_lines()["run"])
    yield name, f"http://127.0.0.1:{ports['8501']}"


@pytest.fixture
def nginx(tmp_path: Path) -> Iterator[Any]:
    """A function that starts docs/deploy.md's nginx configuration, its upstream ports moved as given,
    on a free loopback port, and returns its URL; stopped afterwards."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(binary).exists():
        pytest.fail("nginx is missing: apt-get install nginx (make test installs it)")
    procs: list[subprocess.Popen[bytes]] = []

    def serve(ports: dict[str, int]) -> str:
        config = nginx_config()
        for written, free in ports.items():
            config = config.replace(f"127.0.0.1:{written};", f"127.0.0.1:{free};")
        port = free_port()
        config = re.sub(r"listen\s+80;", f"listen 127.0.0.1:{port};", config)
        # Around the docs' part, what a distribution's nginx.conf provides, with this test's paths; the
        # access log names the replica that answered each request.
        (tmp_path / "nginx.conf").write_text(f"""
user root;
worker_processes 1;
pid {tmp_path}/nginx.pid;
events {{ worker_connections 256; }}
http {{
    log_format upstream '$status $request_method $uri $upstream_addr';
    access_log {tmp_path}/access.log upstream;
    client_body_temp_path {tmp_path}/body;
    proxy_temp_path {tmp_path}/proxy;
    fastcgi_temp_path {tmp_path}/fastcgi;
    uwsgi_temp_path {tmp_path}/uwsgi;
    scgi_temp_path {tmp_path}/scgi;
{config}
}}
""")
        with open(tmp_path / "nginx.out", "wb") as log:  # nginx writes to its own copy of the descriptor
            procs.append(subprocess.Popen([binary, "-e", str(tmp_path / "error.log"), "-p", str(tmp_path),
                                           "-c", str(tmp_path / "nginx.conf"), "-g", "daemon off;"],
                                          stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
        url = f"http://127.0.0.1:{port}"
        wait_for_health(url, procs[-1], 60, "nginx", [tmp_path / "nginx.out", tmp_path / "error.log"])
        return url

    yield serve
    for proc in procs:
        stop(proc, signal.SIGQUIT)


# -- the tests --------------------------------------------------------------------------------------


def test_health_answers_ok_and_the_healthcheck_reports_healthy(app: tuple[str, str]) -> None:
    name, url = app
    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=10) as answer:
        assert answer.read() == b"ok"
    check = podman("healthcheck", "run", name, check=False)
    assert check.returncode == 0, f"the image's HEALTHCHECK failed: {tail(check.stdout + check.stderr)}"
    assert podman("inspect", "--format", "{{.State.Health.Status}}", name).stdout.strip() == "healthy"


def test_the_app_runs_as_a_non_root_user_who_may_write_only_the_workspace(app: tuple[str, str]) -> None:
    name, _ = app
    status = podman("exec", name, "cat", "/proc/1/status").stdout
    uids = re.search(r"^Uid:\s+(.*)$", status, flags=re.M)
    assert uids and set(uids.group(1).split()) == {"10001"}, f"the app's process runs as {uids and uids.group(1)}"
    probe = ("import os, pathlib\n"
             "data = pathlib.Path(os.environ['OCR_WORKBENCH_DATA'])\n"
             "(data / 'probe').write_text('x'); (data / 'probe').unlink()\n"
             "try:\n    open('/app/probe', 'w')\nexcept PermissionError:\n    print('/app is read-only')\n")
    assert podman("exec", name, "python", "-c", probe).stdout.strip() == "/app is read-only"


def test_the_image_holds_the_app_and_its_languages_not_the_developers_files(app: tuple[str, str]) -> None:
    name, _ = app
    listing = set(podman("exec", name, "ls", "-A", "/app").stdout.split())
    assert {"app.py", "ocr", "workbench", ".streamlit", "requirements.txt"} <= listing
    assert not listing & {".venv", ".git", "test-artifacts", ".pytest_cache", "tests"}, listing
    assert podman("exec", name, "find", "/app", "-name", "__pycache__").stdout.strip() == ""
    langs = set(podman("exec", name, "tesseract", "--list-langs").stdout.split()[1:])
    assert set(arg_default("LANGS").split()) | {"osd"} <= langs


def test_the_command_line_reads_a_bundled_sample_and_a_mounted_file(app: tuple[str, str], tmp_path: Path) -> None:
    name, _ = app
    text = podman("exec", name, "python", "-m", "ocr", str(SAMPLE.relative_to(ROOT)), timeout=300).stdout
    assert reading_cer(text) < 0.05
    # docs/deploy.md's line for a folder of one's own, run in a folder holding scan.png
    line = next(argv for argv in docker_commands(DEPLOY) if "python" in argv and "--rm" in argv)
    folder = tmp_path / "work"
    folder.mkdir(mode=0o755)
    shutil.copy(SAMPLE, folder / "scan.png")
    (folder / "scan.png").chmod(0o644)
    argv = [str(PODMAN)] + [arg.replace("$PWD", str(folder)) for arg in line[1:]]
    assert reading_cer(run(argv, timeout=300, cwd=folder).stdout) < 0.05


def test_the_engines_load_and_read_in_the_image(image: str) -> None:
    script = ENGINES + "print(json.dumps(engines_read(sys.argv[1])))\n"
    out = podman("run", "--rm", image, "python", "-c", script, f"/app/{SAMPLE.relative_to(ROOT)}", timeout=300).stdout
    readings = json.loads(out.strip().splitlines()[-1])
    assert readings["tesseract"]["backend"] == "api", "tesserocr did not load; the tesseract command read instead"
    assert readings["ppocr"]["engine"] == "ppocr", "PP-OCR did not read in the image"
    for engine in ("tesseract", "ppocr"):
        assert reading_cer(readings[engine]["text"]) < 0.05, engine


def test_upload_tune_extract_in_a_browser_against_the_container(app: tuple[str, str], browser_page: Any) -> None:
    _, url = app
    timings = upload_tune_extract(browser_page, url, shots="container")
    REPORT.update({f"browser, container: {k}": f"{v:.1f} s" for k, v in timings.items()})
    # the image's own .streamlit/config.toml is the one in force
    limit = re.search(r"maxUploadSize\s*=\s*(\d+)", CONFIG.read_text())
    assert limit
    browser_page.goto(url)
    browser_page.get_by_text(f"{limit.group(1)}MB per file").wait_for()


def test_two_replicas_behind_the_docs_nginx_keep_a_browser_on_one(image: str, nginx: Any, browser_page: Any,
                                                                   tmp_path: Path) -> None:
    ports: dict[str, int] = {}
    names = []
    for line in (argv for argv in docker_commands(DEPLOY) if argv[1] == "run" and "-d" in argv):
        name, moved = start(line)
        names.append(name)
        ports.update(moved)
    url = nginx(ports)
    page = browser_page
    pending: dict[str, str] = {}
    page.on("request", lambda r: pending.__setitem__(str(id(r)), r.url))
    page.on("requestfinished", lambda r: pending.pop(str(id(r)), None))
    page.on("requestfailed", lambda r: pending.pop(str(id(r)), None))
    console: list[str] = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: console.append(f"page error: {e}"))
    try:
        heading = page.get_by_role("heading", name="Get the text out of a photo or scan")
        page.goto(url)
        try:
            heading.wait_for(timeout=30_000)
        except Exception:  # seen twice in 35 runs: the first load stalls after the static files
            warnings.warn(f"the first load through the proxy stalled; reloaded once (unanswered: "
                          f"{sorted(pending.values())})", stacklevel=1)
            page.reload()
            heading.wait_for()
        page.locator('input[type="file"]').first.set_input_files(str(DEV / PHOTO))
        page.get_by_text(PHOTO, exact=True).wait_for()
        page.get_by_role("button", name="Extract text from 1 page").click()
        page.wait_for_function(
            """() => { const t = document.querySelector('[data-testid="stTextArea"] textarea');
                       return t && t.value.includes('Parliament'); }""")
    except Exception as e:
        shot(page, "proxy-failed")
        errors = (tmp_path / "error.log").read_text()[-3000:] if (tmp_path / "error.log").exists() else ""
        pytest.fail(f"through the proxy: {e}\nrequests unanswered: {sorted(pending.values())}\nnginx: {errors}\n"
                    f"console: {console[-20:]}\naccess log:\n{(tmp_path / 'access.log').read_text()[-3000:]}\n"
                    + "\n".join(f"{name}:\n{logs(name)}" for name in names))

    # nginx logs the websocket when it closes: leave the page, then wait for the line
    page.goto("about:blank")
    deadline = time.monotonic() + 30
    while True:
        log = [line.split() for line in (tmp_path / "access.log").read_text().splitlines()]
        socket = [entry for entry in log if entry[2] == "/_stcore/stream"]
        if socket or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    uploads = [entry for entry in log if entry[2].startswith("/_stcore/upload_file") and entry[1] == "PUT"]
    assert socket and socket[0][0] == "101", "the websocket did not pass through the proxy"
    assert uploads and uploads[0][0] in ("200", "204"), f"the upload through the proxy: {uploads}"
    replicas = {entry[3] for entry in log if entry[3] != "-"}
    assert len(replicas) == 1, f"one browser's requests went to several replicas: {replicas}"


def test_a_dask_worker_container_reads_with_the_engines(image: str) -> None:
    scheduler, worker = f"{PREFIX}-dask-scheduler", f"{PREFIX}-dask-worker"
    podman("run", "-d", "--name", scheduler, image, "dask", "scheduler")
    # the worker shares the scheduler's network namespace: they meet on its loopback
    podman("run", "-d", "--name", worker, f"--network=container:{scheduler}", image,
           "dask", "worker", "tcp://127.0.0.1:8786", "--name", "container-worker", "--nthreads", "1")
    began = time.monotonic()
    done = podman("exec", scheduler, "python", "-c", ENGINES + DASK_CLIENT, f"/app/{SAMPLE.relative_to(ROOT)}",
                  "tcp://127.0.0.1:8786", timeout=420, check=False)
    if done.returncode != 0:
        pytest.fail(f"the Dask client failed:\n{tail(done.stderr)}\nscheduler:\n{logs(scheduler)}"
                    f"\nworker:\n{logs(worker)}")
    REPORT["dask: scheduler and worker up, one page read"] = f"{time.monotonic() - began:.1f} s"
    ran_on, readings = json.loads(done.stdout.strip().splitlines()[-1])
    assert ran_on == "container-worker"
    assert readings["tesseract"]["backend"] == "api" and readings["ppocr"]["engine"] == "ppocr"
    for engine in ("tesseract", "ppocr"):
        assert reading_cer(readings[engine]["text"]) < 0.05, engine


def test_the_api_reads_a_page_in_the_image_when_a_token_is_set(image: str) -> None:
    """The README's `docker run` line with the API's token given: the app's own process answers the API."""
    line = readme_docker_lines()["run"]
    argv = [*line[:2], "-e", "OCR_WORKBENCH_API_TOKEN=container-token", "--name", "api",
            *[arg.replace("ocr-workbench-data:", "ocr-workbench-api-data:") for arg in line[2:]]]
    _, ports = start(argv)
    url = f"http://127.0.0.1:{next(iter(ports.values()))}/api/v1/read?format=txt&engine=tesseract"
    request = urllib.request.Request(url, data=SAMPLE.read_bytes(), method="POST", headers={
        "Authorization": "Bearer container-token", "Content-Type": "image/png"})
    with urllib.request.urlopen(request, timeout=300) as answer:
        assert reading_cer(answer.read().decode()) < 0.05
    refused = urllib.request.Request(url, data=SAMPLE.read_bytes(), method="POST")
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(refused, timeout=60)
    assert error.value.code == 401

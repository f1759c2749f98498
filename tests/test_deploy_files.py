"""The deployment files hold what deploying relies on (fast: reads files, runs nothing). The container
itself is built and run by tests/test_container.py, which takes its commands from the README and its
proxy configuration from docs/deploy.md through the readers here.
"""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path

from .conftest import ROOT

DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
PACKAGES = ROOT / "packages.txt"
CONFIG = ROOT / ".streamlit" / "config.toml"
README = ROOT / "README.md"
DEPLOY = ROOT / "docs" / "deploy.md"


def instructions(path: Path = DOCKERFILE) -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (KEYWORD, arguments), continuation lines joined, comments dropped."""
    joined, parts = [], []
    for line in path.read_text().splitlines():
        if not parts and (not line.strip() or line.lstrip().startswith("#")):
            continue
        parts.append(line.rstrip().removesuffix("\\").strip())
        if not line.rstrip().endswith("\\"):
            joined.append(" ".join(p for p in parts if p))
            parts = []
    return [(text.split(None, 1)[0].upper(), text.split(None, 1)[1] if " " in text else "") for text in joined]


def arg_default(name: str) -> str:
    """The default of the Dockerfile's ``ARG name=...``, quotes removed."""
    for keyword, args in instructions():
        if keyword == "ARG" and args.startswith(f"{name}="):
            return shlex.split(args)[0].split("=", 1)[1]
    raise AssertionError(f"the Dockerfile has no ARG {name} with a default")


def fenced_blocks(path: Path, language: str) -> list[str]:
    """The bodies of the ```language fenced blocks of a Markdown file."""
    return re.findall(rf"^```{language}\n(.*?)^```", path.read_text(), flags=re.M | re.S)


def docker_commands(path: Path = README) -> list[list[str]]:
    """The `docker ...` lines of a Markdown file's ```sh blocks, as argument lists, in order."""
    return [argv for block in fenced_blocks(path, "sh") for line in block.splitlines()
            if (argv := shlex.split(line, comments=True))[:1] == ["docker"]]


def readme_docker_lines() -> dict[str, list[str]]:
    """The README's one `docker build` and one `docker run` line, keyed "build" and "run"."""
    commands = docker_commands(README)
    found = {verb: [argv for argv in commands if argv[1:2] == [verb]] for verb in ("build", "run")}
    for verb, lines in found.items():
        assert len(lines) == 1, f"the README should show one `docker {verb}` line in a ```sh block, found {len(lines)}"
    return {verb: lines[0] for verb, lines in found.items()}


def nginx_config() -> str:
    """docs/deploy.md's nginx configuration (its one ```nginx block), as a reader would copy it."""
    blocks = fenced_blocks(DEPLOY, "nginx")
    assert len(blocks) == 1, f"docs/deploy.md should have one ```nginx block, found {len(blocks)}"
    return blocks[0]


def option_value(argv: list[str], *names: str) -> str:
    """The value after the first of ``names`` in an argument list."""
    for i, arg in enumerate(argv[:-1]):
        if arg in names:
            return argv[i + 1]
    raise AssertionError(f"{' '.join(argv)} has none of {names}")


def test_dockerfile_checks_health_on_streamlits_endpoint() -> None:
    checks = [args for keyword, args in instructions() if keyword == "HEALTHCHECK"]
    assert len(checks) == 1
    assert "CMD" in checks[0] and "/_stcore/health" in checks[0]
    assert ("EXPOSE", "8501") in instructions()


def test_dockerfile_runs_as_a_non_root_user() -> None:
    users = [args for keyword, args in instructions() if keyword == "USER"]
    assert users, "the Dockerfile sets no USER: the app would run as root"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")


def test_dockerfile_keeps_the_workspace_on_a_volume() -> None:
    env = " ".join(args for keyword, args in instructions() if keyword == "ENV")
    assert "OCR_WORKBENCH_DATA=/data" in env
    assert ("VOLUME", "/data") in instructions()


def test_dockerfile_installs_from_requirements_and_copies_the_filtered_context() -> None:
    runs = " ".join(args for keyword, args in instructions() if keyword == "RUN")
    assert "pip install" in runs and "-r requirements.txt" in runs
    assert ("COPY", ". .") in instructions()
    assert arg_default("BASE") == "python:3.11-slim-bookworm"


def test_packages_txt_lists_tesseract_its_data_and_the_images_languages() -> None:
    packages = PACKAGES.read_text().split()
    assert {"tesseract-ocr", "tesseract-ocr-eng", "tesseract-ocr-osd"} <= set(packages)
    languages = arg_default("LANGS").split()
    assert {"eng", "deu", "fra", "spa"} <= set(languages)
    # Community Cloud and the image read the same languages.
    assert {f"tesseract-ocr-{code.replace('_', '-').lower()}" for code in languages} <= set(packages)
    assert all(re.fullmatch(r"[a-z0-9][a-z0-9+.-]*", name) for name in packages), "one Debian package name a line"


def test_streamlit_config_sets_upload_size_and_keeps_xsrf_protection() -> None:
    server = tomllib.loads(CONFIG.read_text())["server"]
    assert isinstance(server["maxUploadSize"], int) and 1 <= server["maxUploadSize"] < 200
    assert server["enableXsrfProtection"] is True


def test_dockerignore_keeps_environments_history_artifacts_and_caches_out() -> None:
    lines = DOCKERIGNORE.read_text().splitlines()
    patterns = {line.strip() for line in lines if line.strip() and not line.startswith("#")}
    for needed in (".venv", ".git", "test-artifacts", ".pytest_cache", ".env", ".streamlit/secrets.toml"):
        assert needed in patterns, f".dockerignore should list {needed}"
    assert patterns & {"__pycache__", "**/__pycache__"}


def test_readme_docker_lines_are_the_dockerfiles_and_the_deploy_docs() -> None:
    lines = readme_docker_lines()
    build, run = lines["build"], lines["run"]
    tag = option_value(build, "-t", "--tag")
    assert build[-1] == "." and run[-1] == tag
    assert option_value(run, "-p", "--publish").endswith(":8501")
    assert option_value(run, "-v", "--volume").endswith(":/data")
    # The same two lines head the Dockerfile and docs/deploy.md's container section.
    assert build in docker_commands(DEPLOY) and run in docker_commands(DEPLOY)
    header = DOCKERFILE.read_text()
    assert shlex.join(build) in header and shlex.join(run) in header


def test_deploy_docs_run_two_replicas_for_the_proxy() -> None:
    replicas = [argv for argv in docker_commands(DEPLOY) if "-d" in argv and argv[1] == "run"]
    assert len(replicas) == 2
    ports = [option_value(argv, "-p", "--publish").split(":") for argv in replicas]
    assert all(host == "127.0.0.1" and inside == "8501" for host, _, inside in ports), "loopback only"
    upstream = re.findall(r"server\s+127\.0\.0\.1:(\d+);", nginx_config())
    assert sorted(upstream) == sorted(port for _, port, _ in ports)


def test_deploy_docs_proxy_passes_websockets_keeps_replicas_sticky_and_allows_the_upload_size() -> None:
    config = nginx_config()
    assert re.search(r"proxy_set_header\s+Upgrade\s+\$http_upgrade;", config)
    assert re.search(r"proxy_set_header\s+Connection\s+\$connection_upgrade;", config)
    assert re.search(r"proxy_set_header\s+Host\s+\$host;", config), "Streamlit compares Origin with Host"
    assert re.search(r"^\s*ip_hash;", config, flags=re.M), "uploads must reach the replica holding the session"
    body = re.search(r"client_max_body_size\s+(\d+)m;", config)
    assert body and int(body.group(1)) >= tomllib.loads(CONFIG.read_text())["server"]["maxUploadSize"]

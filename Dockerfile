# OCR Workbench in a container: the Streamlit app on port 8501, `python -m ocr`, or a Dask worker.
#   docker build -t ocr-workbench .
#   docker run -p 8501:8501 -v ocr-workbench-data:/data ocr-workbench
# Build arguments:
#   LANGS  Tesseract languages to install (Tesseract's codes, e.g. "eng deu fra spa chi_sim"); the
#          orientation data (osd) always comes too
#   BASE   a Debian bookworm image with Python 3.11 as `python` and `pip` (the test builds on a local one)
# tests/test_container.py builds and runs this file; docs/deploy.md says how to deploy it.
ARG BASE=python:3.11-slim-bookworm
FROM ${BASE}

ARG LANGS="eng deu fra spa por"
# Debian names a language's package from Tesseract's code: chi_sim -> tesseract-ocr-chi-sim.
RUN set -eu; \
    langs=""; \
    for code in $LANGS; do langs="$langs tesseract-ocr-$(echo "$code" | tr 'A-Z_' 'a-z-')"; done; \
    apt-get update; \
    apt-get install -y --no-install-recommends tesseract-ocr tesseract-ocr-osd $langs fonts-dejavu-core; \
    rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt ./
# PIP_CERT: only where the network re-signs TLS, a CA bundle for pip, mounted read-only over the base's
# own for the build steps, so nothing of the host lands in the image (tests/test_container.py:
# podman build -v /etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt:ro
# --build-arg PIP_CERT=/etc/ssl/certs/ca-certificates.crt). Unset, pip uses its own bundle.
ARG PIP_CERT
RUN pip install --no-cache-dir --disable-pip-version-check -r requirements.txt

# The app runs as this user; its workspace (OCR_WORKBENCH_DATA) is the volume /data, which it owns.
RUN useradd --create-home --uid 10001 --user-group workbench \
    && mkdir /data && chown workbench:workbench /data
# Everything else in the build context, as .dockerignore filters it; owned by root, read-only to the app.
COPY . .
# The package itself (its dependencies are in already): the `ocr` and `ocr-workbench` commands.
RUN pip install --no-cache-dir --disable-pip-version-check --no-deps . && rm -rf build *.egg-info
# PP-OCR's detector converted to 8 bits with onnxruntime's tools, from the installed wheel's model.
RUN PYTHONDONTWRITEBYTECODE=1 python -m ocr.engines.models

ENV OCR_WORKBENCH_DATA=/data \
    PYTHONPATH=/app \
    PYTHONUNBUFFERED=1 \
    OMP_THREAD_LIMIT=1
VOLUME /data
# By number, so orchestrators that demand a non-root user (Kubernetes' runAsNonRoot) can verify it.
USER 10001:10001
EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4).read() != b'ok')"]
# No welcome banner: its addresses are the container's own, and making it asks a public service for the
# host's external address at every start.
CMD ["streamlit", "run", "app.py", "--server.address=0.0.0.0", "--server.port=8501", "--server.headless=true", \
     "--browser.gatherUsageStats=false", "--logger.hideWelcomeMessage=true"]

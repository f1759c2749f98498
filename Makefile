# Two commands do all the set-up on a fresh Debian/Ubuntu machine with Python 3.11+:
#   make run    Tesseract (English + orientation data), a virtualenv, the packages; then the app
#   make test   the same, plus test packages and Debian's chromium; then the tests
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PORT   ?= 8501
RUN_PACKAGES  := tesseract-ocr tesseract-ocr-eng tesseract-ocr-osd fonts-dejavu-core
TEST_PACKAGES := chromium poppler-utils
# Debian and Ubuntu ship venv's pip bootstrap separately.
VENV_PACKAGE  = $(shell $(PYTHON) -c 'import ensurepip' >/dev/null 2>&1 || echo python3-venv)

.PHONY: run test system-run system-test bench eval clean

run: system-run $(VENV)/.run-installed
	$(PY) -m streamlit run app.py --server.port $(PORT) --server.headless true

test: system-test $(VENV)/.test-installed
	$(PY) -m pytest

system-run:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed; found " + sys.version.split()[0])'
	@scripts/system-packages.sh $(RUN_PACKAGES) $(VENV_PACKAGE)

system-test: system-run
	@scripts/system-packages.sh $(TEST_PACKAGES)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.run-installed: requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.test-installed: requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt -r requirements-dev.txt
	touch $@ $(VENV)/.run-installed

bench: system-run $(VENV)/.run-installed
	$(PY) scripts/bench.py

eval: system-run $(VENV)/.run-installed
	$(PY) -m ocr.eval ../shared/eval/dev

clean:
	rm -rf $(VENV) .pytest_cache test-artifacts

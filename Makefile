# Two commands do all the set-up on a fresh Debian/Ubuntu machine with Python 3.11+:
#   make run    Tesseract (English, German, French, Spanish + orientation data), a virtualenv, the packages;
#               then the app. LANGS="chi_sim ita" adds languages (Tesseract's codes).
#   make test   the same, plus test packages (Debian's chromium, podman for the image test); then ruff,
#               mypy (strict, on ocr/ and the app) and the tests
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PORT   ?= 8501
# The languages the app offers from the start (the container image's LANGS build argument says the same).
BASE_LANGS    := eng deu fra spa por
LANGS         ?=
# Debian names a language's package from Tesseract's code: chi_sim -> tesseract-ocr-chi-sim.
LANG_PACKAGES  = $(foreach code,$(BASE_LANGS) $(LANGS),tesseract-ocr-$(subst _,-,$(shell echo $(code) | tr A-Z a-z)))
RUN_PACKAGES   = tesseract-ocr tesseract-ocr-osd $(LANG_PACKAGES) fonts-dejavu-core
TEST_PACKAGES := chromium podman runc debootstrap nginx poppler-utils
# Debian and Ubuntu ship venv's pip bootstrap separately.
VENV_PACKAGE  = $(shell $(PYTHON) -c 'import ensurepip' >/dev/null 2>&1 || echo python3-venv)

.PHONY: run test lint system-run system-test bench eval clean

run: system-run $(VENV)/.run-installed
	$(PY) -m streamlit run app.py --server.port $(PORT) --server.headless true

test: system-test $(VENV)/.test-installed
	$(PY) -m ruff check .
	$(PY) -m mypy
	$(PY) -m pytest -n 2 --dist loadgroup

system-run:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed; found " + sys.version.split()[0])'
	@scripts/system-packages.sh $(RUN_PACKAGES) $(VENV_PACKAGE)

system-test: system-run
	@scripts/system-packages.sh $(TEST_PACKAGES)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

# models.py: what is converted and optimized at install time
$(VENV)/.run-installed: requirements.txt ocr/engines/models.py ocr/engines/ppocr.py | $(VENV)/bin/python
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	$(PY) -m ocr.engines.models
	touch $@

$(VENV)/.test-installed: requirements.txt requirements-dev.txt ocr/engines/models.py ocr/engines/ppocr.py | $(VENV)/bin/python
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt -r requirements-dev.txt
	$(PY) -m ocr.engines.models
	touch $@ $(VENV)/.run-installed

lint: $(VENV)/.test-installed
	$(PY) -m ruff check .
	$(PY) -m mypy

bench: system-run $(VENV)/.run-installed
	$(PY) scripts/bench.py

eval: system-run $(VENV)/.run-installed
	$(PY) -m ocr.eval ../shared/eval/dev

clean:
	rm -rf $(VENV) .pytest_cache test-artifacts

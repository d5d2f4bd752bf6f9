# Two commands do all set-up (see README.md):
#   make app    create/reuse .venv, install, start the app on a built-in scenario
#   make test   create/reuse .venv, install (incl. test tools), run the whole test suite
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.ccplan-installed

.PHONY: app test bench install

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

app: $(STAMP)
	$(VENV)/bin/streamlit run app.py --server.headless true --browser.gatherUsageStats false

test: $(STAMP)
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev,bench]'
	$(PY) -m benchmarks

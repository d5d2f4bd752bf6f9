# Two commands do all set-up (see README.md):
#   make app    create/reuse .venv, install, start the app on a built-in scenario
#   make test   create/reuse .venv, install (incl. test tools), run the whole test suite (2 pytest workers)
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.ccplan-installed
# the app listens on this machine only; `make app APP_ADDRESS=0.0.0.0` exposes it to the network
APP_ADDRESS ?= 127.0.0.1

.PHONY: app test bench install chromium

# Debian's Chromium for the browser tests (Playwright cannot download a browser here)
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" -eq 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev,cluster]'
	touch $(STAMP)

install: $(STAMP)

app: $(STAMP)
	$(VENV)/bin/streamlit run app.py --server.address $(APP_ADDRESS) --server.headless true --browser.gatherUsageStats false

test: $(STAMP) chromium
	$(PY) -m pytest -n 2 --dist worksteal --durations=15

bench: $(STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev,cluster,bench]'
	$(PY) -m benchmarks

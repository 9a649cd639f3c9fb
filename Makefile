# Parkwacht: `make run` installs, loads the demo data, scores and serves; `make test` runs the tests.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PW     := $(VENV)/bin/parkwacht
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run install dev test bench serve clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.dev-installed: $(VENV)/.installed pyproject.toml
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

dev: $(VENV)/.dev-installed

run: install
	$(PW) db upgrade
	$(PW) demo --if-empty
	$(PW) run --host $(HOST) --port $(PORT)

serve: install
	$(PW) run --host $(HOST) --port $(PORT)

test: dev
	$(PY) -m pytest

bench: dev
	$(PY) bench/assign.py

clean:
	rm -rf $(VENV) instance .pytest_cache

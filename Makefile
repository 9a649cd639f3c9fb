# Parkwacht: `make run` installs, loads the demo data, scores and serves; `make test` runs the tests.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PW     := $(VENV)/bin/parkwacht
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run install dev test bench serve clean translations

# Front-end assets (Leaflet, jQuery, Bootstrap, ...) come from the npm registry at exact versions and are
# served by the app itself, so pages work offline and under a strict Content-Security-Policy.
$(VENV)/.installed: pyproject.toml package.json package-lock.json
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	npm ci --no-audit --no-fund
	$(PY) -m service.web.vendor
	touch $@

$(VENV)/.dev-installed: $(VENV)/.installed pyproject.toml
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

dev: $(VENV)/.dev-installed

run: install
	$(PW) db upgrade
	$(PW) demo --if-empty
	$(PW) score
	$(PW) run --host $(HOST) --port $(PORT)

serve: install
	$(PW) run --host $(HOST) --port $(PORT)

test: dev
	$(PY) -m pytest

bench: dev
	$(PY) bench/assign.py
	$(PY) bench/score.py
	$(PY) bench/maps.py

translations: install
	$(VENV)/bin/pybabel extract -F translations/babel.cfg -k _l -k lazy_gettext --no-location --omit-header -o translations/messages.pot .
	$(VENV)/bin/pybabel update -i translations/messages.pot -d translations --no-location
	$(VENV)/bin/pybabel compile -d translations

clean:
	rm -rf $(VENV) instance .pytest_cache

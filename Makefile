# Parkwacht: `make run` installs, loads the demo data, scores and serves; `make test` runs the tests.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PW     := $(VENV)/bin/parkwacht
HOST   ?= 127.0.0.1
PORT   ?= 5000
WORKERS ?= 2
# The inner loop: everything but the browser, real-data and slow (server, fault, load) tests, on both cores.
FAST   := -m "not browser and not realdata and not slow" -n 2

.PHONY: run install dev tools test test-fast test-postgis lint bench serve clean translations

# Stop at once, with one line naming what is missing, instead of failing half-way through an install.
tools:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "make: '$(PYTHON)' not found: install Python 3.11 or newer"; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "make: $(PYTHON) is $$($(PYTHON) -V 2>&1); Parkwacht needs Python 3.11 or newer"; exit 1; }
	@$(PYTHON) -c 'import venv' 2>/dev/null || { echo "make: $(PYTHON) lacks the venv module (Debian: apt-get install python3-venv)"; exit 1; }
	@command -v npm >/dev/null 2>&1 || { echo "make: 'npm' not found: install Node.js with npm (Debian: apt-get install npm); it installs the map's front-end assets"; exit 1; }

# Front-end assets (Leaflet, jQuery, Bootstrap, ...) come from the npm registry at exact versions and are
# served by the app itself, so pages work offline and under a strict Content-Security-Policy.
$(VENV)/.installed: pyproject.toml package.json package-lock.json | tools
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

# The demo admin gets a random password and token, printed once (no fixed credentials anywhere); a later
# `make run` keeps them (reset with `parkwacht users password demo-admin --generate-password`).
run: install
	$(PW) db upgrade
	$(PW) demo --if-empty
	$(PW) score
	$(PW) backtest --as-of 2024-12-31 --horizon 365 --record > /dev/null
	$(PW) users add demo-admin --role admin --generate-password --if-absent
	$(PW) serve --bind $(HOST):$(PORT) --workers $(WORKERS)

serve: install
	$(PW) serve --bind $(HOST):$(PORT) --workers $(WORKERS)

lint: dev
	$(VENV)/bin/ruff check service tests bench geodata wsgi.py
	$(VENV)/bin/mypy

test: lint
	$(PY) -m pytest

test-fast: dev
	$(PY) -m pytest $(FAST)

# The whole suite again on PostgreSQL+PostGIS: needs PARKWACHT_TEST_POSTGRES_URL, a superuser's URL of a
# throwaway cluster (`.ci/postgres start DIR` starts one and prints it; .ci/run does both).
test-postgis: dev
	@test -n "$$PARKWACHT_TEST_POSTGRES_URL" || { echo "make: set PARKWACHT_TEST_POSTGRES_URL (see .ci/postgres)"; exit 1; }
	PARKWACHT_TEST_STORE=postgis $(PY) -m pytest -n 2

bench: dev
	$(PY) bench/assign.py
	$(PY) bench/score.py
	$(PY) bench/maps.py

translations: install
	$(VENV)/bin/pybabel extract -F translations/babel.cfg -k _l -k lazy_gettext --no-location --omit-header -o translations/messages.pot .
	$(VENV)/bin/pybabel update -i translations/messages.pot -d translations --ignore-obsolete
	$(VENV)/bin/pybabel compile -d translations

clean:
	rm -rf $(VENV) instance .pytest_cache

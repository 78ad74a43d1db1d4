# SayPro Ops: `make run` starts the whole product locally, `make test` runs the test suite.
# Needs only Python 3.11+ and make; everything else is installed into .venv.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
RUN_ADDR ?= 127.0.0.1:8000
PYTEST_ARGS ?=
# The suite runs in parallel (pytest-xdist), one process per core, at most 8 (each takes a Redis database of its own:
# see saypro/settings.py). TEST_WORKERS=0 runs it in one process, e.g. to use --pdb.
TEST_WORKERS ?= logical
# Tests differ in cost by a factor of a thousand (a browser test against a table cell): a process that runs out of
# work takes the rest of another's queue (worksteal) instead of waiting idle for a long test at the end.
TEST_DIST ?= worksteal
# Locally the test databases are kept between runs (--reuse-db: migrations are applied to them, nothing else is
# redone); CI (CI=true) creates them afresh.
TEST_DB := $(if $(CI),--create-db,--reuse-db)
# Compiled modules and pytest's rewritten test modules are written to __pycache__ and reused (an environment that
# sets PYTHONDONTWRITEBYTECODE would have every test process and every `manage.py` a test starts compile the
# project again: collecting the tests took 12 s instead of 8).
PYTEST := PYTHONDONTWRITEBYTECODE= $(VENV)/bin/pytest -n $(TEST_WORKERS) --maxprocesses 8 --dist $(TEST_DIST) $(TEST_DB)

# Stamps record which requirement files are installed, so a re-run installs nothing unless one changed.
RUNTIME_STAMP := $(VENV)/.installed-runtime
DEV_STAMP := $(VENV)/.installed-dev

.DEFAULT_GOAL := help
.PHONY: help venv install install-dev run migrate seed test test-fast screenshots chromium poppler lint typecheck clean

help:
	@echo "make run        install, migrate, load demo data and start web + worker + beat on http://$(RUN_ADDR)/"
	@echo "make test       install the development tools and run the whole test suite"
	@echo "make test-fast  the suite without the browser tests, for the edit-run loop"
	@echo "make screenshots the browser tests, saving what each page looks like under test-artifacts/"
	@echo "make lint       ruff, and the import layers (import-linter)"
	@echo "make typecheck  mypy"
	@echo "make migrate    apply migrations and sync the staff roles"
	@echo "make seed       load demo data (when the database is empty) and the demo staff logins"
	@echo "make clean      remove the virtualenv and caches (the data in var/ stays)"

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "SayPro Ops needs Python 3.11 or newer: set PYTHON=/path/to/python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

venv: $(PY)

# No --quiet: the first install takes minutes, and each package and download bar shows it is moving.
$(RUNTIME_STAMP): requirements.txt | $(PY)
	$(PIP) install --progress-bar on -r requirements.txt
	@touch $@

$(DEV_STAMP): requirements.txt requirements-dev.txt | $(PY)
	$(PIP) install --progress-bar on -r requirements-dev.txt
	@touch $(RUNTIME_STAMP) $@

install: $(RUNTIME_STAMP)

install-dev: $(DEV_STAMP)

migrate: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py sync_roles

seed: migrate
	$(PY) manage.py seed_demo --users 2000 --seed 1 --if-empty
	$(PY) manage.py ensure_staff

run: seed
	$(PY) scripts/run_dev.py --addr $(RUN_ADDR)

chromium:
	@sh scripts/ensure_chromium.sh

poppler:
	@sh scripts/ensure_poppler.sh

test: install-dev chromium poppler
	$(PYTEST) $(PYTEST_ARGS)

test-fast: install-dev poppler
	$(PYTEST) -m "not e2e" $(PYTEST_ARGS)

screenshots: install-dev chromium poppler
	SAYPRO_SCREENSHOTS=1 $(PYTEST) -m e2e $(PYTEST_ARGS)

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

typecheck: install-dev
	$(VENV)/bin/mypy .

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache test-artifacts
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

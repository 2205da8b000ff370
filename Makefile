# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
# Both create .venv when missing and install the package into it.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: install sysdeps test unit e2e demo bench lint docs clean

$(STAMP): pyproject.toml setup.py
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -e '.[test]'
	@touch $@

install: $(STAMP)

# System tools the end-to-end tests and the demo use: git and a PostgreSQL
# server (initdb/pg_ctl). Installed from Debian's packages when missing.
sysdeps:
	@bash tools/sysdeps.sh

# The documentation site, warnings as errors (a moved example, a broken
# reference...). `make test` builds it first.
docs: install
	$(VENV)/bin/sphinx-build -W --keep-going -b html docs docs/_build/html

# Unit tests are independent and CPU-bound: two processes halve their time.
# End-to-end tests start masters, workers and clusters: one at a time.
test: install sysdeps docs
	$(PY) -m pytest -n 2 tests/unit $(PYTEST_ARGS)
	$(PY) -m pytest tests/e2e $(PYTEST_ARGS)

unit: install
	$(PY) -m pytest -n 2 tests/unit $(PYTEST_ARGS)

e2e: install sysdeps
	$(PY) -m pytest tests/e2e $(PYTEST_ARGS)

demo: install sysdeps
	$(PY) examples/demo.py

bench: install sysdeps
	$(PY) bench/populate.py
	$(PY) bench/watching.py
	$(PY) bench/cli_check.py
	$(PY) bench/step_overhead.py

lint: install
	$(VENV)/bin/ruff check anybox_buildbot tests bench examples

clean:
	rm -rf $(VENV) demo-run .pytest_cache docs/_build

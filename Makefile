# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
# Both create .venv when missing and install the package into it.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# The demo gets the package and what the demo runs (a local worker, the
# PostgreSQL driver of the harness); tests get the test tools on top.
DEMO_STAMP := $(VENV)/.installed-demo
STAMP := $(VENV)/.installed-stamp
PIP := $(PY) -m pip install -q --disable-pip-version-check
PYTEST_ARGS ?=

.PHONY: install sysdeps crossbar test unit e2e demo bench lint docs dist clean

$(DEMO_STAMP): pyproject.toml setup.py
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) -e '.[demo]'
	@touch $@

$(STAMP): pyproject.toml setup.py
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) -e '.[test]'
	@touch $@ $(DEMO_STAMP)

install: $(STAMP)

# System tools the end-to-end tests and the demo use: git, Mercurial, a PostgreSQL
# server (initdb/pg_ctl) and headless Chromium. Installed from Debian's packages when missing.
sysdeps:
	@bash tools/sysdeps.sh

# The WAMP router of the multi-master end-to-end test, in a venv of its own:
# crossbar is heavy (~430 MB) and not a dependency of the package (a master
# only needs autobahn, which Buildbot already brings). Installed once per
# clean checkout; the stamp keeps later `make test` runs from reinstalling.
CROSSBAR_VENV ?= .venv-crossbar
CROSSBAR_STAMP := $(CROSSBAR_VENV)/.installed-stamp

$(CROSSBAR_STAMP):
	@test -x $(CROSSBAR_VENV)/bin/python || $(PYTHON) -m venv $(CROSSBAR_VENV)
	$(CROSSBAR_VENV)/bin/python -m pip install -q --disable-pip-version-check 'crossbar==26.10.*'
	@touch $@

crossbar: $(CROSSBAR_STAMP)

# The documentation site, warnings as errors (a moved example, a broken
# reference...). `make test` builds it first.
docs: install
	$(VENV)/bin/sphinx-build -W --keep-going -b html docs docs/_build/html

# Unit tests are independent and CPU-bound: two processes halve their time;
# the crossbar router installs meanwhile (mostly downloads; its log is shown
# if it fails). End-to-end tests spend much of their time waiting (pollers,
# timers, builds' subprocesses): two processes too, each running whole test
# modules (a module shares one master), with the TCP ports of the harness
# split between them (tests/support/localrun.py, free_port).
E2E_ARGS := -n 2 --dist loadfile --durations=25
CROSSBAR_LOG := $(VENV)/crossbar-install.log

test: install sysdeps docs
	@$(MAKE) --no-print-directory crossbar > $(CROSSBAR_LOG) 2>&1 & crossbar=$$!; \
	status=0; $(PY) -m pytest -n 2 tests/unit $(PYTEST_ARGS) || status=$$?; \
	if ! wait $$crossbar; then cat $(CROSSBAR_LOG); exit 1; fi; exit $$status
	$(PY) -m pytest $(E2E_ARGS) tests/e2e $(PYTEST_ARGS)

unit: install
	$(PY) -m pytest -n 2 tests/unit $(PYTEST_ARGS)

e2e: install sysdeps crossbar
	$(PY) -m pytest $(E2E_ARGS) tests/e2e $(PYTEST_ARGS)

demo: $(DEMO_STAMP) sysdeps
	$(PY) examples/demo.py

# The sdist and the wheel into dist/, then `twine check` on both; any
# warning of the build is an error (tests/e2e/test_wheel.py does the same).
dist: install
	rm -rf dist
	$(PY) tools/build_dist.py dist

bench: install sysdeps
	$(PY) bench/populate.py
	$(PY) bench/watching.py
	$(PY) bench/cli_check.py
	$(PY) bench/step_overhead.py
	$(PY) bench/hostile_inputs.py
	$(PY) bench/fleet.py
	$(PY) bench/scale.py
	$(PY) bench/throughput.py
	$(PY) bench/buildbot_sizing.py

lint: install
	$(VENV)/bin/ruff check anybox_buildbot tests bench examples

clean:
	rm -rf $(VENV) $(CROSSBAR_VENV) demo-run .pytest_cache docs/_build dist build

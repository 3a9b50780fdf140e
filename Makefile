# The two commands of README.md:
#   make example   set everything up, build the bundled example and preview it
#   make test      set everything up and run the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup example test lint build-example clean dist

setup: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: pyproject.toml
	@echo "==> Creating the Python environment in $(VENV) (first time: about a minute)"
	$(PYTHON) -m venv $(VENV)
	@echo "==> Installing storiiies and its test tools with pip"
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --progress-bar off -e ".[test,dev]"
	@touch $@
	@echo "==> Python environment ready"

node_modules/.installed: package.json package-lock.json scripts/openseadragon.mjs
	@echo "==> Installing OpenSeadragon (and the test-only Mirador and axe-core) with npm ci;"
	@echo "    its postinstall writes the trimmed OpenSeadragon sites carry (scripts/openseadragon.mjs)"
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@
	@echo "==> npm packages ready"

example: setup
	@echo "==> Building examples/ and serving it at http://127.0.0.1:8000/ (Ctrl-C stops)"
	$(BIN)/storiiies serve examples

build-example: setup
	$(BIN)/storiiies build examples

# The code as it is checked in CI: formatting, lint and types over the package and its tests.
LINTED := storiiies tests benchmarks hatch_build.py
lint: $(VENV)/.installed
	@echo "==> Checking formatting (ruff format --check)"
	$(BIN)/ruff format --check $(LINTED)
	@echo "==> Linting (ruff check)"
	$(BIN)/ruff check $(LINTED)
	@echo "==> Type checking (mypy: strict for storiiies)"
	$(BIN)/mypy --strict storiiies
	$(BIN)/mypy $(LINTED)

# Two processes by default (pytest-xdist, one test file per process at a time); override with
# `make test PYTEST_ARGS=` for one process, or add options: `make test PYTEST_ARGS="-n 2 -x"`.
PYTEST_ARGS ?= -n 2 --dist loadfile
test: setup lint
	@echo "==> Checking that Chromium is available for the browser tests"
	./scripts/install-chromium
	@echo "==> Running the test suite in two processes (about 6 minutes on 2 quiet cores)"
	$(BIN)/pytest $(PYTEST_ARGS)

# A release in dist/: the sdist, and the wheel built from it. Both carry OpenSeadragon from a
# fresh `npm ci` (hatch_build.py), so installing either needs neither Node.js nor a clone.
dist: $(VENV)/.installed
	npm ci --no-audit --no-fund --loglevel=error
	touch node_modules/.installed
	rm -rf dist
	$(BIN)/python -m build --outdir dist .

clean:
	rm -rf $(VENV) node_modules examples/_site examples/.storiiies-cache

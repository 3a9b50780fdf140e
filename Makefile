# The two commands of README.md:
#   make example   set everything up, build the bundled example and preview it
#   make test      set everything up and run the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup example test build-example clean dist

setup: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

example: setup
	$(BIN)/storiiies serve examples

build-example: setup
	$(BIN)/storiiies build examples

test: setup
	./scripts/install-chromium
	$(BIN)/pytest

# A release in dist/: the sdist, and the wheel built from it. Both carry OpenSeadragon from a
# fresh `npm ci` (hatch_build.py), so installing either needs neither Node.js nor a clone.
dist: $(VENV)/.installed
	npm ci --no-audit --no-fund --loglevel=error
	touch node_modules/.installed
	rm -rf dist
	$(BIN)/python -m build --outdir dist .

clean:
	rm -rf $(VENV) node_modules examples/_site examples/.storiiies-cache

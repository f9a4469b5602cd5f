# smartdc developer tasks. `make test` and `make demo` work on a fresh clone.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
NODE_DIR := .node
NODE_PEERS := triton@7.17.0 http-signature@1.4.0 smartdc@9.0.1

.PHONY: test demo lint typecheck bench node-peers clean fuzz docs

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

$(NODE_DIR)/.installed: Makefile
	mkdir -p $(NODE_DIR)
	npm install --prefix $(NODE_DIR) --no-audit --no-fund --loglevel=error $(NODE_PEERS)
	touch $@

node-peers: $(NODE_DIR)/.installed

test: $(VENV)/.installed $(NODE_DIR)/.installed
	$(PY) -m ruff check src tests examples bench
	$(PY) -m mypy
	$(PY) -m pytest -q
	$(MAKE) docs

lint: $(VENV)/.installed
	$(PY) -m ruff check src tests examples bench
	$(PY) -m ruff format --check src tests examples bench

typecheck: $(VENV)/.installed
	$(PY) -m mypy

# Fuzz the emulator through its /openapi.json for longer than CI does (SMARTDC_FUZZ_EXAMPLES
# examples per operation; SMARTDC_FUZZ_SEED=<n> replays a run).
FUZZ_EXAMPLES ?= 200
fuzz: $(VENV)/.installed
	SMARTDC_FUZZ_EXAMPLES=$${SMARTDC_FUZZ_EXAMPLES:-$(FUZZ_EXAMPLES)} $(PY) -m pytest -q \
		-o timeout=3600 -p no:cacheprovider tests/emulator/test_fuzz.py

# The documentation site (mkdocs.yml, docs/) into site/; warnings fail the build.
docs: $(VENV)/.installed
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict --site-dir site

demo: $(VENV)/.installed
	$(PY) examples/run_demo.py

bench: $(VENV)/.installed $(NODE_DIR)/.installed
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) $(NODE_DIR) build *.egg-info src/*.egg-info

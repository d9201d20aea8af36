# envtrace — two commands on a fresh Debian machine with Python 3.11:
#   make demo   creates .venv, installs envtrace, runs the monthly briefing on the sample county
#   make test   installs what the tests need and runs them
SHELL := /bin/bash
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
DATA ?= data/sample
export PY

.PHONY: demo test venv kernel lint bench wheelhouse sample clean deb-demo deb-test

deb-demo:
	@scripts/debian-deps.sh venv cjk-font

deb-test:
	@scripts/debian-deps.sh venv cjk-font chromium

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# Re-install when the project's metadata changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test]'
	$(BIN)/python -m ipykernel install --sys-prefix --name envtrace --display-name "Python (envtrace)" >/dev/null
	@touch $@

venv: deb-demo $(VENV)/.installed

kernel: $(VENV)/.installed
	$(BIN)/python -m ipykernel install --sys-prefix --name envtrace --display-name "Python (envtrace)"

demo: venv
	@$(BIN)/envtrace brief monthly --data $(DATA) --month last

test: deb-test $(VENV)/.installed
	$(BIN)/python -m pytest -q -p no:cacheprovider

lint: $(VENV)/.installed
	$(BIN)/ruff check envtrace tests benchmarks

sample: $(VENV)/.installed
	$(BIN)/python -m envtrace.sample --out $(DATA) --seed 0

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/bench_ingest.py
	$(BIN)/python benchmarks/bench_events.py
	$(BIN)/python benchmarks/bench_trace.py

# A folder of wheels for installing on an isolated network with no package registry:
#   pip install --no-index --find-links wheelhouse envtrace
wheelhouse: $(BIN)/python
	rm -rf wheelhouse && mkdir -p wheelhouse
	$(BIN)/python -m pip wheel -q -w wheelhouse '.[test]' pip setuptools wheel
	@echo "wheelhouse/ holds $$(ls wheelhouse | wc -l) wheels; install offline with:"
	@echo "  python3 -m venv .venv && .venv/bin/pip install --no-index --find-links wheelhouse envtrace"

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache

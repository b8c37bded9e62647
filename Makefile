# Regie: `make run` starts the agent on embedded defaults; `make test` runs the whole suite,
# installing what it needs (Python deps in .venv, system packages via deploy/test-deps.sh).

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test deps system-deps lint bench clean help

help:
	@echo "make run     set up .venv, run the collector and a local agent (Ctrl-C stops them)"
	@echo "make test    install everything the suite needs, then run it"
	@echo "make lint    ruff over the tree"
	@echo "make bench   benchmarks side by side with their anchors (bench/)"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[agent,collector,dashboards,test]'
	touch $@

deps: $(STAMP)

system-deps:
	bash deploy/test-deps.sh

run: $(STAMP)
	$(VENV)/bin/regie demo --history 90d

test: deps system-deps
	$(VENV)/bin/ruff check .
	$(PY) -m pytest

lint: deps
	$(VENV)/bin/ruff check .

bench: deps system-deps
	$(PY) bench/agent.py
	$(PY) bench/ingest.py
	$(PY) bench/escalation.py
	$(PY) bench/registry.py

clean:
	rm -rf $(VENV) .pytest_cache

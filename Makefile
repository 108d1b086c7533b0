# Every target first makes sure .venv/ exists and holds the project (fast no-op when it does).
PY := .venv/bin/python

.DEFAULT_GOAL := help
.PHONY: help bootstrap compare compare-point calibrate explore test test-all lint benchmark clean

help:  ## list the targets
	@awk -F':.*## ' '/^[a-z-]+:.*## /{printf "  make %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

bootstrap:  ## build .venv/ and install the project (run by every target below)
	@bash scripts/bootstrap

compare: bootstrap  ## compare silo and whole system in every plausible world (conf/ensemble/default.yaml)
	$(PY) -m experiments.compare ensemble=default

compare-point: bootstrap  ## the same comparison at the default point only, in detail (10 seeds)
	$(PY) -m experiments.compare

calibrate: bootstrap  ## history-match the synthetic place to the observed patterns (rewrites conf/ensemble/default.yaml)
	$(PY) -m experiments.calibrate

explore: bootstrap  ## start the interactive explorer page on http://localhost:8765/
	$(PY) -m experiments.explore

test: bootstrap  ## run the fast tests (slow ones excluded)
	$(PY) -m pytest

test-all: bootstrap  ## run all tests, slow ones included
	$(PY) -m pytest -m ""

lint: bootstrap  ## ruff check (run by CI)
	$(PY) -m ruff check .

benchmark: bootstrap  ## time the simulation
	$(PY) -m experiments.benchmark

clean:  ## remove .venv/ and caches (keeps results/)
	rm -rf .venv .pytest_cache .hypothesis .ruff_cache build dist *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

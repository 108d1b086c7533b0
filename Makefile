# Every target first makes sure .venv/ exists and holds the project (fast no-op when it does).
PY := .venv/bin/python

.DEFAULT_GOAL := help
.PHONY: help bootstrap compare explore test test-all lint benchmark clean

help:  ## list the targets
	@awk -F':.*## ' '/^[a-z-]+:.*## /{printf "  make %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

bootstrap:  ## build .venv/ and install the project (run by every target below)
	@bash scripts/bootstrap

compare: bootstrap  ## run the silo vs whole-system comparison
	$(PY) -m experiments.compare

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

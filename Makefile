# Everything a fresh clone needs: `make run` and `make test` create .venv on demand.
PYTHON ?= $(shell command -v python3.12 2>/dev/null || (command -v pyenv >/dev/null && pyenv which python3.12 2>/dev/null) || echo python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test lint bench docs clean

$(STAMP): pyproject.toml requirements/constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements/constraints.txt -e ".[test]"
	touch $(STAMP)

setup: $(STAMP)

## The main job: every bundled scenario, 20 replicates each, tables on screen, data in results/.
run: $(STAMP)
	$(BIN)/collabsim run scenarios/*.toml scenarios/*/*.toml --replicates 20 --seed 1 --out results/run

## The whole test suite, lint included.
test: $(STAMP)
	$(BIN)/ruff check src tests benchmarks experiments
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks experiments

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_model.py
	$(BIN)/python benchmarks/bench_sweep.py

docs: $(STAMP)
	$(BIN)/collabsim describe --markdown > docs/scenario-reference.md

clean:
	rm -rf $(VENV) results .pytest_cache .hypothesis .ruff_cache

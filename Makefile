# Everything a fresh clone needs: `make run` and `make test` create .venv on demand.
PYTHON ?= $(shell command -v python3.12 2>/dev/null || (command -v pyenv >/dev/null && pyenv which python3.12 2>/dev/null) || echo python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test lint bench docs validate clean

$(STAMP): pyproject.toml requirements/constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements/constraints.txt -e ".[test]"
	touch $(STAMP)

setup: $(STAMP)

## The main job: compare the policy options for Northvale and write the HTML report.
## Over the calibrated ensemble: 40 plausible worlds (drawn by posterior weight) x 20
## replicates per option, the same worlds and random numbers in every option.
POLICY := status_quo pooled_budget lead_commissioning integrated_provision independent_broker \
	legal_duty austerity_shock prevention_popp shared_data
run: $(STAMP)
	$(BIN)/collabsim compare $(POLICY:%=scenarios/policy/%.toml) --ensemble --replicates 20 --seed 1 \
		--out results/policy --force

## The whole test suite, lint included (installs Debian's chromium for browser tests if missing).
test: $(STAMP)
	bash .ci/install-browser
	$(BIN)/ruff check src tests benchmarks experiments
	$(BIN)/python -m mypy
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks experiments
	$(BIN)/python -m mypy

## Every validation pattern at full size; writes docs/validation.md and its figures.
validate: $(STAMP)
	cd experiments/validation && ../../$(BIN)/python run_all.py --workers 2

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_model.py
	$(BIN)/python benchmarks/bench_sweep.py
	$(BIN)/python benchmarks/bench_compare.py

docs: $(STAMP)
	$(BIN)/collabsim describe --markdown > docs/scenario-reference.md
	$(BIN)/python -m collabsim.odd docs/ODD.md

clean:
	rm -rf $(VENV) results .pytest_cache .hypothesis .ruff_cache

# The front door: every command a developer runs daily.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
STAGE ?= dev
N ?= 100000

.PHONY: install run test lint typecheck pytest package seed bench clean

$(INSTALLED): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(INSTALLED)

run: install
	$(PY) -m devstack

test: lint typecheck pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

typecheck: install
	$(VENV)/bin/mypy

pytest: install
	$(PY) -m pytest --cov --cov-report=term

package: install
	rm -rf build/$(STAGE)
	AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-ap-southeast-3} $(VENV)/bin/chalice package --stage $(STAGE) --merge-template infra/resources.json build/$(STAGE)
	$(PY) infra/precompile.py build/$(STAGE)
	$(VENV)/bin/cfn-lint build/$(STAGE)/sam.json

seed: install
	$(PY) -m devstack.seed --participants $(N)

bench: install
	$(PY) -m bench $(BENCH)

clean:
	rm -rf build .pytest_cache .mypy_cache .ruff_cache .coverage htmlcov

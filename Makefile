# The front door: every command a developer runs daily.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
# checkov pins an old boto3: it gets a virtual environment of its own.
CHECKOV_VENV := .venv-checkov
CHECKOV_INSTALLED := $(CHECKOV_VENV)/.installed
# The browser tests drive Debian's chromium (tests/e2e/test_web.py); Playwright never downloads one.
CHROMIUM := /usr/bin/chromium
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
STAGE ?= dev
N ?= 100000

.PHONY: install run test lint typecheck pytest package seed bench clean

$(INSTALLED): requirements.txt requirements-dev.txt requirements-translator.txt
	$(PYTHON) -m venv $(VENV)
	# chalice 1.34 (its `package` runs pip) wants a pip older than 26.3.
	$(PY) -m pip install --quiet "pip<26.3"
	# phonenumberslite installs the same module: a venv made before the switch must lose the full one.
	$(PY) -m pip uninstall --quiet --yes phonenumbers
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps -r requirements-translator.txt
	# The operator CLI's `prakerja` script, editable: its libraries are pinned above.
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

$(CHECKOV_INSTALLED): requirements-checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet "pip<26.3"
	$(CHECKOV_VENV)/bin/python -m pip install --quiet -r requirements-checkov.txt
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

$(CHROMIUM):
	$(SUDO) apt-get install -y chromium || ($(SUDO) apt-get update && $(SUDO) apt-get install -y chromium)

pytest: install $(CHECKOV_INSTALLED) $(CHROMIUM)
	$(PY) -m pytest --cov --cov-report=term

package: install
	rm -rf build/$(STAGE)
	AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-ap-southeast-3} $(PY) -m infra.package $(STAGE) build/$(STAGE)
	$(VENV)/bin/cfn-lint build/$(STAGE)/sam.json

seed: install
	$(PY) -m devstack.seed --participants $(N)

bench: install
	$(PY) -m bench $(BENCH)

clean:
	rm -rf build .pytest_cache .mypy_cache .ruff_cache .coverage htmlcov

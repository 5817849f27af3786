# The two commands of the README: `make up` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: up test venv deps test-deps lint types clean

$(BIN)/python:
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
	  echo "python3 -m venv is missing; trying virtualenv instead"; \
	  $(PYTHON) -m pip install --user --quiet virtualenv && $(PYTHON) -m virtualenv $(VENV); }
	@$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.test-installed: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

deps: $(VENV)/.installed
test-deps: $(VENV)/.test-installed

up: deps
	$(BIN)/assistant up

lint: test-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: test-deps
	$(BIN)/mypy

test: test-deps lint types
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) build *.egg-info

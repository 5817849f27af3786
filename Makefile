# The two commands of the README: `make up` and `make test`; `make demo` loads the demo
# community (it creates .venv first, like every target, so it works on a fresh clone).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: up demo test venv deps test-deps lint types clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { \
	  echo "Python 3.11 or newer is needed (found $$($(PYTHON) --version))."; exit 1; }
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { rm -rf $(VENV); \
	  echo "python3 -m venv is not available; trying virtualenv instead"; \
	  $(PYTHON) -m pip install --user --quiet virtualenv && $(PYTHON) -m virtualenv $(VENV); } || { \
	  echo "Could not create a virtual environment. On Debian or Ubuntu: sudo apt install python3-venv"; \
	  exit 1; }
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

demo: deps
	$(BIN)/assistant demo-data

lint: test-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: test-deps
	$(BIN)/mypy

test: test-deps lint types
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) build *.egg-info

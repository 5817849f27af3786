# The two commands of the README: `make up` and `make test`; `make demo` loads the demo
# community (it creates .venv first, like every target, so it works on a fresh clone).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: up demo test venv deps test-deps lint types clean postgres-server rabbitmq-server

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

# A real Synapse for the Matrix tests, in a virtual environment of its own: it pins
# Twisted and many libraries of its own, which must not steer the product's versions.
SYNAPSE_VENV := $(VENV)/synapse
$(SYNAPSE_VENV)/.installed: tests/matrix/synapse-requirements.txt | $(BIN)/python
	@$(PYTHON) -m venv $(SYNAPSE_VENV) 2>/dev/null || $(BIN)/python -m virtualenv $(SYNAPSE_VENV)
	$(SYNAPSE_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(SYNAPSE_VENV)/bin/python -m pip install --quiet -r tests/matrix/synapse-requirements.txt
	@touch $@

deps: $(VENV)/.installed
test-deps: $(VENV)/.test-installed $(SYNAPSE_VENV)/.installed

up: deps
	$(BIN)/assistant up

demo: deps
	$(BIN)/assistant demo-data

lint: test-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: test-deps
	$(BIN)/mypy

# The PostgreSQL store's tests start their own server from the distribution's binaries
# (tests/store/pg_server.py). As root (CI) they are installed when missing; elsewhere
# those tests skip, except under CI=true, where they fail.
postgres-server:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing the PostgreSQL server for its tests (apt-get install postgresql)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	  else echo "No PostgreSQL server here: its tests skip (sudo apt-get install postgresql)"; fi

# RabbitMQ, the optional broker ([queue] url = "amqp://..."): its tests start their own
# node from the distribution's server on a free loopback port, never the system service.
rabbitmq-server:
	@command -v rabbitmq-server >/dev/null 2>&1 || [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing the RabbitMQ server for its tests (apt-get install rabbitmq-server)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rabbitmq-server >/dev/null; \
	  else echo "No RabbitMQ server here: its tests skip (sudo apt-get install rabbitmq-server)"; fi

# The weekly chart of reports draws Chinese labels with a CJK font. As root (CI) the
# small WenQuanYi Micro Hei is installed when no CJK font is there; elsewhere the chart
# falls back to English labels and says so in the log.
.PHONY: fonts
fonts:
	@fc-list :lang=zh 2>/dev/null | grep -q . || \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing a CJK font for the reports chart (apt-get install fonts-wqy-microhei)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei >/dev/null; \
	  else echo "No CJK font here: the reports chart uses English labels (sudo apt-get install fonts-wqy-microhei)"; fi

test: test-deps lint types postgres-server rabbitmq-server fonts
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) build *.egg-info

# HEAT Portal. `make run` serves the portal with demo data; `make test` runs the test suite.
# Both create the virtualenv and install what they need first. DATABASE_URL / REDIS_URL, when
# set, switch both from the embedded defaults (SQLite, filesystem broker) to PostgreSQL / Redis.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export PORT

.PHONY: run test lint format migrate venv browser clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python requirements.txt requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

migrate: venv
	$(BIN)/python manage.py migrate --noinput

run: migrate
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py seed_demo
	@echo
	@echo "  Portal     http://127.0.0.1:$(PORT)/"
	@echo "  API docs   http://127.0.0.1:$(PORT)/api/docs/"
	@echo "  Admin      http://127.0.0.1:$(PORT)/admin/"
	@echo "  Health     http://127.0.0.1:$(PORT)/health/"
	@echo
	HEAT_DATA_DIR="$${HEAT_DATA_DIR:-$(CURDIR)/data}" exec $(BIN)/supervisord -c supervisord.conf

# The browser tests drive Debian's Chromium; install it when it is missing (needs root).
browser:
	@test -x /usr/bin/chromium || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

test: venv browser
	$(BIN)/pytest

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python .ci/function-length
	$(BIN)/mypy
	$(BIN)/lint-imports --no-logo
	$(BIN)/python .ci/import-cycles
	$(BIN)/python manage.py makemigrations --check --dry-run

format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) data .test-data staticfiles

# Two commands on a fresh machine (Python 3.11+ and nothing else):
#   make run    create the venv, install, migrate, seed the demo, start web + worker + beat
#   make test   install what the tests need and run the whole suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: run test install install-dev lint migrate seed messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

migrate: install
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	$(BIN)/python manage.py seed_demo

run: seed
	@echo "Gongzhi on http://127.0.0.1:$(PORT)/ (demo accounts: see README)"
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/honcho start --port $(PORT)

# One worker per core (CI has two), each with its own test database; a test module or class
# stays on one worker, so a class-scoped fixture is built once. Scopes go out in collection
# order (no reordering by size): the seeded demo world's tests must come last on each worker.
test: install-dev
	$(BIN)/pytest -n auto --dist loadscope --no-loadscope-reorder

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Needs GNU gettext; the compiled .mo files are committed so running the site does not.
# Run from the project root: the catalogue covers governance/, feedback/, partners/ and
# templates/ (tests/core/test_translations.py checks that it is complete and translated).
MESSAGES_IGNORE := --ignore=.venv --ignore=var --ignore=bench --ignore=tests \
	--ignore=staticfiles --ignore=artifacts
messages: install-dev
	$(BIN)/python manage.py makemessages -l en --no-obsolete $(MESSAGES_IGNORE)
	$(BIN)/python manage.py compilemessages -l en $(MESSAGES_IGNORE)

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache

# Two commands: `make demo` and `make test` (see README.md). Everything else here serves them.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DEMO_DB ?= escrow-demo.db

.PHONY: demo test install install-test system-deps lint format messages bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

system-deps:
	@bash scripts/system-deps.sh

demo: install system-deps
	rm -f $(DEMO_DB)
	ESCROW_DATABASE_URL=sqlite:///$(DEMO_DB) $(BIN)/escrow demo --scale city
	ESCROW_DATABASE_URL=sqlite:///$(DEMO_DB) $(BIN)/escrow serve --host 127.0.0.1 --port 8000

test: install-test system-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-test
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The web UI's message ids (English) into a template; translations live in escrow/web/locale/zh_CN/*.po and
# tests/test_web_i18n.py names any id that has none.
messages: install-test
	$(BIN)/pybabel extract -F babel.cfg -k N_ --no-location --sort-output -o escrow/web/locale/messages.pot .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis test-artefacts

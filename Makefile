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
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -n auto --dist loadgroup

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: install-test
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The web UI's message ids (English) into a template; translations live in escrow/web/locale/zh_CN/*.po and
# tests/unit/test_web_i18n.py names any id that has none.
messages: install-test
	$(BIN)/pybabel extract -F babel.cfg -k N_ --no-location --sort-output -o escrow/web/locale/messages.pot .

# Every benchmark of bench/ (bench/README.md) at a small size, a minute or two: each still runs, checks its
# result and prints its numbers, which mean nothing at this size. `make bench BENCH_SIZE=full` runs them at
# the sizes of docs/BENCHMARKS.md (tens of minutes, best on an otherwise idle machine). Needs wrk, and
# PostgreSQL on 127.0.0.1:5432 for deposits_http.py (with pgbench), account_cost.py and city_jobs.py.
BENCH_SIZE ?= small
ifeq ($(BENCH_SIZE),full)
BENCH_RECONCILE :=
BENCH_REPORTS :=
BENCH_LOOKUP :=
BENCH_DEPOSITS :=
BENCH_ACCOUNT := --deposits 100000 --requests 1000
BENCH_PAGES :=
BENCH_CITY_JOBS :=
else
BENCH_RECONCILE := --lines 2000
BENCH_REPORTS := --only voucher,monthly --deposits 50 --runs 3 --warm 1
BENCH_LOOKUP := --vouchers 20 --rounds 1 --duration 2 --warmup 1
BENCH_DEPOSITS := --workers 1 --duration 2 --warmup 1 --max-rate 100 --projects 2 \
	--pgbench-scale 1 --pgbench-duration 2
BENCH_ACCOUNT :=
BENCH_PAGES := --quick
BENCH_CITY_JOBS := --quick
endif

bench: install-test system-deps
	$(BIN)/python bench/reconcile_csv.py $(BENCH_RECONCILE)
	$(BIN)/python bench/reports_pdf.py $(BENCH_REPORTS)
	$(BIN)/python bench/public_lookup.py $(BENCH_LOOKUP)
	$(BIN)/python bench/deposits_http.py $(BENCH_DEPOSITS)
	$(BIN)/python bench/account_cost.py $(BENCH_ACCOUNT)
	$(BIN)/python bench/demo_city.py
	$(BIN)/python bench/city_pages.py $(BENCH_PAGES)
	$(BIN)/python bench/city_jobs.py $(BENCH_CITY_JOBS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis test-artefacts

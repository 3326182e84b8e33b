# Two commands: `make demo` and `make test` (see README.md). Everything else here serves them.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DEMO_DB ?= escrow-demo.db

.PHONY: demo test install install-test constraints system-deps lint format messages bench clean

# Installs take every version from constraints.txt (the same packages on every machine); `make constraints`
# writes it afresh after a change of the dependencies (scripts/refresh-constraints.sh, README "Installs").
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade -c constraints.txt pip

$(VENV)/.installed: $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/pip install --quiet -c constraints.txt -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml constraints.txt
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test]'
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

constraints:
	PYTHON=$(PYTHON) bash scripts/refresh-constraints.sh

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
	PYTHON=$(BIN)/python bash scripts/test.sh -n auto --dist loadgroup

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

# Every benchmark of bench/ (bench/README.md) in its quick mode, a few minutes at most each, measured beside
# its anchor where it has one (pgbench, a bare Litestar endpoint, a bare csv.reader pass). `make bench
# BENCH_SIZE=full` runs them at the sizes of docs/BENCHMARKS.md (tens of minutes, best on an otherwise idle
# machine). wrk and pgbench come with `scripts/system-deps.sh bench`; deposits_http.py needs PostgreSQL on
# 127.0.0.1:5432. Each script calls harness.verdict, which appends its JSON line to $(BENCH_VERDICTS); the
# last lines `make bench` prints are those lines, one a benchmark (a script that fails before its verdict
# gets `"met": false` here). It exits 0 even then, so that make's own error line does not follow them: read
# "met".
BENCH_SIZE ?= quick
BENCH_VERDICTS ?= $(CURDIR)/bench-verdicts.jsonl
ifeq ($(BENCH_SIZE),full)
BENCH_RECONCILE :=
BENCH_REPORTS :=
BENCH_LOOKUP :=
BENCH_DEPOSITS :=
BENCH_DEMO :=
BENCH_ACCOUNT_COST := --deposits 100000 --requests 1000
BENCH_CITY_PAGES :=
BENCH_CITY_JOBS :=
else
BENCH_RECONCILE := --lines 100000
BENCH_REPORTS := --only voucher,monthly --deposits 1000 --runs 5 --warm 1
BENCH_LOOKUP := --vouchers 50 --rounds 1 --duration 10 --warmup 2
BENCH_DEPOSITS := --workers 1 --duration 10 --warmup 2 --max-rate 300 --projects 4 \
	--pgbench-scale 10 --pgbench-duration 10
BENCH_DEMO := --scale small
BENCH_ACCOUNT_COST :=
BENCH_CITY_PAGES := --quick
BENCH_CITY_JOBS := --quick
endif
# A script not (yet) in bench/ is passed over.
BENCHES := "reconcile_csv $(BENCH_RECONCILE)" "reports_pdf $(BENCH_REPORTS)" "public_lookup $(BENCH_LOOKUP)" \
	"deposits_http $(BENCH_DEPOSITS)" "demo_city $(BENCH_DEMO)" "account_cost $(BENCH_ACCOUNT_COST)" \
	"city_pages $(BENCH_CITY_PAGES)" "city_jobs $(BENCH_CITY_JOBS)"

bench: install-test
	@bash scripts/system-deps.sh bench
	@rm -f $(BENCH_VERDICTS); \
	for run in $(BENCHES); do \
		set -- $$run; name=$$1; shift; \
		[ -f bench/$$name.py ] || continue; \
		before=$$(cat $(BENCH_VERDICTS) 2>/dev/null | wc -l); \
		BENCH_VERDICTS=$(BENCH_VERDICTS) $(BIN)/python bench/$$name.py "$$@"; \
		if [ "$$(cat $(BENCH_VERDICTS) 2>/dev/null | wc -l)" = "$$before" ]; then \
			echo "{\"bench\": \"$$name\", \"figures\": {}, \"targets\": {}, \"met\": false}" >> $(BENCH_VERDICTS); \
		fi; \
	done; \
	echo; cat $(BENCH_VERDICTS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis test-artefacts bench-verdicts.jsonl

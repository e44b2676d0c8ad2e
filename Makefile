# The verbs people type. Every target installs what it needs first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PERIOD ?= 202411
DOMAINS ?= annuity_performance
DATA_DIR ?= data
ROWS ?= 200
EXECUTE ?=
export RUNTIME__DLTHUB_TELEMETRY := false
export DBT_SEND_ANONYMOUS_USAGE_STATS := false

.PHONY: setup demo etl test lint docs dbt bench clean db-stop help

help:
	@echo "make demo    set up, start the embedded PostgreSQL, load a sample month (all domains), build the docs"
	@echo "make test    set up and run the whole test suite"
	@echo "make etl DOMAINS=a,b PERIOD=YYYYMM [EXECUTE=1] [DATA_DIR=data]"
	@echo "make dbt ARGS='test'   dbt on the warehouse (wdh dbt …)"
	@echo "make lint | docs | clean | db-stop"
	@echo "make clean   remove build state (dbt target/logs, caches); keeps the warehouse (wdh db destroy deletes it)"

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: setup
	$(BIN)/wdh db start
	$(BIN)/wdh sample --period $(PERIOD) --rows $(ROWS) --data-dir $(DATA_DIR)
	$(BIN)/wdh etl --all-domains --period $(PERIOD) --data-dir $(DATA_DIR) --execute
	$(BIN)/wdh docs

etl: setup
	$(BIN)/wdh etl --domains $(DOMAINS) --period $(PERIOD) --data-dir $(DATA_DIR) $(if $(EXECUTE),--execute,)

test: setup
	$(BIN)/pytest -q

lint: setup
	$(BIN)/ruff check loader tests bench
	$(BIN)/ruff format --check loader tests bench
	$(BIN)/mypy
	@# sqlfluff's dbt templater compiles through a live connection: the warehouse wdh uses
	$(BIN)/wdh db start >/dev/null
	cd dbt_project && env $$(cd .. && $(BIN)/python -c "from loader.warehouse import connection; \
	    print(' '.join(f'{k}={v}' for k, v in connection().dbt_env().items()))") \
	    ../$(BIN)/sqlfluff lint models --processes 2

dbt: setup
	$(BIN)/wdh dbt $(ARGS)

docs: setup
	$(BIN)/wdh docs

db-stop: setup
	$(BIN)/wdh db stop

# Build state only: the warehouse (.wdh/pgdata) stays; `wdh db destroy` deletes it.
clean:
	rm -rf "$${WDH_HOME:-.wdh}/dbt" dbt_project/target dbt_project/logs
	rm -rf .pytest_cache .mypy_cache .ruff_cache

bench: setup
	$(BIN)/python bench/run.py

# Switchboard: `make run` to serve on the embedded defaults, `make test` to test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help install run migrate test check format schema bench fuzz soak

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-9s %s\n", $$1, $$2}'

install: $(INSTALLED) ## create .venv and install the dependencies

$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet '.[dev]'
	touch $@

migrate: install ## apply migrations to DATABASE_URL (SQLite under data/ by default)
	$(BIN)/python cli.py migrate

run: migrate ## install, migrate and serve http://127.0.0.1:8000/settings (GraphiQL on /graphql)
	@echo
	@echo "Switchboard: the settings page, signed in as the demo user (an administrator):"
	@$(BIN)/python cli.py demo-link demo --admin --base-url http://$(HOST):$(PORT)
	@echo "Another user: $(BIN)/python cli.py demo-link NAME   (add --admin for an administrator)"
	@echo "GraphiQL: http://$(HOST):$(PORT)/graphql with the Headers tab set to"
	@echo "  {\"Authorization\": \"Bearer <token>\"}   (a token from: $(BIN)/python cli.py token NAME)"
	@echo
	$(BIN)/python cli.py serve --host $(HOST) --port $(PORT)

test: install ## run the tests (PostgreSQL and Redis too when TEST_DATABASE_URL / TEST_REDIS_URL are set)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

fuzz: install ## fuzz longer than `make test`: the schema (FUZZ_EXAMPLES) and the fast path (DIFFERENTIAL_DOCUMENTS)
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-200} DIFFERENTIAL_DOCUMENTS=$${DIFFERENTIAL_DOCUMENTS:-1000} \
	  $(BIN)/python -m pytest tests/security/test_fuzz.py tests/fastpath/test_differential.py -s $(PYTEST_ARGS)

soak: install ## 200 clients and 500 live subscribers for 60 s on one server (needs TEST_DATABASE_URL, TEST_REDIS_URL)
	$(BIN)/python -m bench.soak $(SOAK_ARGS)

check: install ## format check, lint and type check
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy .

format: install ## format the code
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

schema: install ## export schema.graphql from the code
	$(BIN)/python cli.py schema > schema.graphql

bench: install ## run the benchmarks: one table (PostgreSQL and Redis rows when TEST_DATABASE_URL / TEST_REDIS_URL are set)
	$(BIN)/python -m bench

# Everything runs inside a project-local virtual environment made from pyproject.toml.
VENV ?= .venv
BIN := $(VENV)/bin
PYTHON ?= python3

.PHONY: install web audit run test test-fast check format lint types contracts schema migrations clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

install: $(BIN)/.installed

## The web client served at / (clients/web/dist), built with Node.js and npm when it is
## missing or older than its sources; without npm the server runs and / says how to build it.
WEB := clients/web
WEB_SOURCES := $(WEB)/package.json $(WEB)/build.mjs $(WEB)/operations.mjs $(WEB)/tsconfig.json \
	$(WEB)/index.html $(WEB)/icon.svg $(wildcard $(WEB)/src/*) $(wildcard clients/operations/*.graphql)

## GraphiQL (development only, at /graphql) is served from GraphiQL's, React's and ReactDOM's
## built files that npm installs in clients/graphiql: no CDN. The graphql-http conformance
## audit that the tests run against the server lives in tests/http_audit.
GRAPHIQL := clients/graphiql
AUDIT := tests/http_audit

ifeq ($(shell command -v npm 2>/dev/null),)
web:
	@echo "npm not found: the web client (clients/web) is not built; install Node.js 20 and npm, then run make web"
audit:
	@echo "npm not found: the graphql-http audit (tests/http_audit) is not installed"
else
web: $(WEB)/dist/index.html $(GRAPHIQL)/node_modules/.package-lock.json
audit: $(AUDIT)/node_modules/.package-lock.json
endif

$(GRAPHIQL)/node_modules/.package-lock.json: $(GRAPHIQL)/package-lock.json
	cd $(GRAPHIQL) && npm ci --no-audit --no-fund --ignore-scripts

$(AUDIT)/node_modules/.package-lock.json: $(AUDIT)/package-lock.json
	cd $(AUDIT) && npm ci --no-audit --no-fund --ignore-scripts

$(WEB)/node_modules/.package-lock.json: $(WEB)/package-lock.json
	cd $(WEB) && npm ci --no-audit --no-fund

$(WEB)/dist/index.html: $(WEB)/node_modules/.package-lock.json $(WEB_SOURCES)
	cd $(WEB) && npm run --silent build

## Serve on http://127.0.0.1:8000/graphql with the embedded defaults (SQLite, in-memory fan-out).
## Another port or address: PORT=8080 make run, HOST=0.0.0.0 make run.
run: install web
	$(BIN)/extranet migrate
	$(BIN)/extranet demo --if-empty
	$(BIN)/extranet serve --host $(or $(HOST),127.0.0.1) --port $(or $(PORT),8000)

## The test suite (SQLite by default; DATABASE_URL/BROADCAST_URL select PostgreSQL/Redis), in
## TEST_WORKERS processes (pytest-xdist; each has its own database, app and servers); most tests
## wait on a database, a socket or a browser, so two workers use two cores well.
## TEST_WORKERS=0 runs the suite in this process (for a debugger or -x).
TEST_WORKERS ?= 2
PYTEST := $(BIN)/pytest -q $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist worksteal)

test: install web audit
	$(PYTEST)

## The inner loop: the suite without end_to_end tests (processes and services of their own)
## and slow ones (hypothesis searches, size limits, expiries in real time); under a minute
## on two cores with SQLite.
test-fast: install
	$(PYTEST) -m "not end_to_end and not slow"

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

lint: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

types: install
	$(BIN)/mypy .

## The import contracts of pyproject.toml: each layer imports only the layers below it.
contracts: install
	$(BIN)/lint-imports

## Format, lint, types, import contracts and tests: what CI runs.
check: lint types contracts test

## Regenerate schema.graphql from the code (a test fails when it drifts).
schema: install
	$(BIN)/strawberry export-schema graphql_schema.schema:schema --output schema.graphql

## Write a migration for model changes.
migrations: install
	$(BIN)/python -m tortoise -c tortoise_config.TORTOISE_ORM makemigrations

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache $(WEB)/node_modules $(WEB)/dist \
		$(GRAPHIQL)/node_modules $(AUDIT)/node_modules

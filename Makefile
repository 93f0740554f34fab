# my_app developer commands. `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 8000
UWSGI_PROCESSES ?= 4
export UWSGI_PROCESSES

.DEFAULT_GOAL := help
.PHONY: help prepare start test unit serve migrate lint audit format fuzz notebook bench compose-dev compose-prd clean

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "} {printf "  %-14s %s\n", $$1, $$2}'

prepare: ## Create .venv (Python >= 3.11), install the project with its dev extras, and the JS lint tools (npm ci)
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python >= 3.11 is required"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip setuptools wheel
	$(BIN)/pip install -e ".[dev]"
	@# The JS lint tools serve `make lint` only: without Node.js the app and its tests still run.
	@if command -v npm >/dev/null; then \
		npm ci --engine-strict --no-audit --no-fund || echo "warning: npm ci failed (Node.js >= 20.19 needed): make lint cannot lint the console's JavaScript"; \
	else \
		echo "note: npm not found: the app and make test need nothing more; install Node.js >= 20.19 and npm, then make prepare again, for make lint"; \
	fi

start: ## Development server on http://127.0.0.1:5000 (SQLite, e-mail on the console)
	APP_ENV=development MAIL_BACKEND=console $(FLASK) db upgrade
	APP_ENV=development MAIL_BACKEND=console $(BIN)/python run.py

test: ## Run the whole test suite
	$(BIN)/pytest

unit: ## Run only the unit tests: rules that need no HTTP and no database (under a second)
	$(BIN)/pytest tests/unit

# Production unless APP_ENV says otherwise: a forgotten variable never means the development keys.
serve: export APP_ENV ?= production
serve: ## Production-style uWSGI on $(HOST):$(PORT) with $(UWSGI_PROCESSES) workers (APP_ENV=production)
	$(FLASK) db upgrade
	UWSGI_HTTP=$(HOST):$(PORT) $(BIN)/uwsgi --ini deploy/uwsgi.ini

migrate: ## Apply migrations to DATABASE_URL
	$(FLASK) db upgrade

lint: ## ruff lint and format check; Bandit (no medium or high finding); eslint and prettier on the console's JavaScript
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/bandit --quiet --recursive --severity-level low my_app config.py blacklist.py wsgi.py
	@test -x node_modules/.bin/eslint || { echo "node_modules/ is missing: run make prepare (it needs npm)"; exit 1; }
	npm run --silent lint

audit: ## pip-audit of the installed packages: fails on a known vulnerability, says so when it cannot check
	$(BIN)/python -m tools.audit

format: ## Format the code with ruff (and apply safe lint fixes)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

fuzz: ## schemathesis against a live server's /openapi.json, as a requester and as an admin
	$(BIN)/python -m tools.fuzz

notebook: ## Re-run api_usage.ipynb against a live server and save its outputs
	$(BIN)/python -m tools.run_notebook --save

bench: ## Every performance figure against its floors (PostgreSQL, Redis, wrk); ARGS="--only submit --pgbouncer"
	$(BIN)/python -m bench.run $(ARGS)

compose-dev: ## Docker: the app with reload, PostgreSQL, Redis and a mail catcher
	docker compose -f docker-compose-dev.yaml up --build

compose-prd: ## Docker: nginx, uWSGI, PostgreSQL and Redis with settings from prod.env
	docker compose -f docker-compose-prd.yaml up --build -d

clean: ## Remove caches, build output and the development database
	rm -rf .pytest_cache .ruff_cache build dist *.egg-info instance reports .coverage
	find . -name __pycache__ -type d -not -path './.venv/*' -prune -exec rm -rf {} +

# The two commands of the README: `make up` (the whole system) and `make test` (every test).
VENV ?= .venv
BIN := $(VENV)/bin
PACKAGE_FILES := requirements-dev.txt libs/schoolkit/pyproject.toml $(wildcard services/*/pyproject.toml) \
	clients/web/pyproject.toml

.PHONY: up down status test lint format install bench secrets

up: install
	$(BIN)/python scripts/localrun.py up

down:
	@if [ -x $(BIN)/python ]; then $(BIN)/python scripts/localrun.py down; fi

status: install
	$(BIN)/python scripts/localrun.py status

test: install lint
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install
	$(BIN)/python bench/bus/run.py
	$(BIN)/python bench/erasure/run.py
	$(BIN)/python bench/identity/run.py
	$(BIN)/python bench/notify/run.py
	$(BIN)/python bench/web/run.py

install: $(VENV)/.installed

# The keys docker compose needs, into .env (fresh ones for any missing; none ever changed).
secrets:
	python3 scripts/secrets.py

$(VENV)/.installed: $(PACKAGE_FILES) scripts/install.sh
	scripts/install.sh

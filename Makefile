# Two commands for a newcomer: `make run` and `make test`. Both set up .venv first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: install run test lint format bench replay fuzz clean

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

# Every benchmark script under bench/ in turn, import_bench.py first; each prints its figures.
# loadkit.py and ceiling_app.py are pieces of contest_load.py, not benchmarks of their own.
# city_replay.py runs a tenth of the city here (about 3 minutes); `make replay` runs the whole city.
BENCH_PARTS := bench/loadkit.py bench/ceiling_app.py bench/city_replay.py
BENCHES := $(wildcard bench/import_bench.py) \
	$(sort $(filter-out bench/import_bench.py $(BENCH_PARTS),$(wildcard bench/*.py)))

bench: install
	@set -e; for script in $(BENCHES); do echo "== $$script"; $(BIN)/python $$script; done
	@echo "== bench/city_replay.py --scale 0.1"; $(BIN)/python bench/city_replay.py --scale 0.1

# The city-sized replay (22,484 entrants, 88,843 attempts, 1,000 watchers): about 30 minutes.
replay: install
	$(BIN)/python bench/city_replay.py

# Longer fuzzing than `make test` does: the participant API against its OpenAPI document, the bank loader.
fuzz: install
	API_FUZZ_EXAMPLES=$${API_FUZZ_EXAMPLES:-500} $(BIN)/pytest -q tests/test_api_schema.py tests/test_banks_fuzz.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

# Bailanys: the two set-up commands are `make run` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
CONFIG ?= configs/default.toml

.PHONY: deps run test test-fast lint bench demo-call models clean

deps:
	@./scripts/ensure-deps.sh

run: deps
	$(PY) -m bailanys serve --config $(CONFIG)

test: deps
	$(PY) -m pytest -q

test-fast: deps
	$(PY) -m pytest -q -m "not peer"

lint: deps
	$(VENV)/bin/ruff check bailanys tests bench
	$(VENV)/bin/mypy --strict bailanys

bench: deps
	$(PY) bench/run_all.py

# Downloads the Vosk models for speech menus into voice_models/ru/ and voice_models/kk/.
models:
	@./scripts/fetch-models.sh

# Has SIPp dial the line test (1499) on the running engine (make run), press 2 then 1 2 3 #.
demo-call: deps
	$(PY) -m bailanys demo-call --config $(CONFIG)

clean:
	rm -rf var/ .pytest_cache .mypy_cache .ruff_cache

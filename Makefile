# `make test`: install everything (Debian packages, a venv) and run every test, real daemons included.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: test demo venv clients lint clean

test: venv clients lint
	DLWATCH_REQUIRE_REAL_CLIENTS=1 $(BIN)/python -m pytest -q -n 2 --dist loadfile

# `make demo`: real clients on loopback, real downloads sent with dlwatch, the live table to the end.
demo: venv clients
	$(BIN)/python scripts/demo.py

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

clients:
	./scripts/install-clients.sh

lint: venv
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

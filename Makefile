# The two commands: `make demo` and `make test`. Everything else is set-up they run for you.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test install lint bench clean

install: $(STAMP) node_modules/.installed

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11 or newer is needed") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --requirement requirements.lock
	$(BIN)/pip install --quiet --no-deps --editable .
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

demo: install
	$(BIN)/broker demo

test: install
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check broker keys vouching tests
	$(BIN)/mypy broker keys vouching

bench: install
	cd bench/peer && npm ci --no-audit --no-fund --loglevel=error
	$(BIN)/python bench/silent_flow.py
	$(BIN)/python bench/password_signin.py

clean:
	rm -rf $(VENV) node_modules

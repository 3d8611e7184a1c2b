# The two commands: `make demo` and `make test`. Everything else is set-up they run for you.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test install lint bench clean translations screenshots

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

# `make demo PORT=8080 RP_PORT=8081` runs it on other ports (the broker; the two demo services).
PORT ?= 8000
RP_PORT ?= 8001

demo: install
	@$(BIN)/broker demo --port $(PORT) --rp-port $(RP_PORT)

# The suite runs on one worker per core (at most four): its live servers and browsers wait on I/O.
# It measures branch coverage (settings and the 85% overall floor: [tool.coverage] in pyproject.toml),
# then holds each group below to its own floor: keys/, the protocol, the policy rules, the vouching rules.
COVERAGE_FLOORS := \
	95:keys/* \
	95:broker/oidc/* \
	95:broker/policy/release.py,broker/policy/claims.py,broker/policy/mou.py \
	95:vouching/*

test: install
	$(BIN)/pytest -n auto --maxprocesses 4 --cov --cov-report=term
	@status=0; for floor in $(COVERAGE_FLOORS); do \
		echo "coverage of $${floor#*:} (floor $${floor%%:*}%)"; \
		$(BIN)/coverage report --include="$${floor#*:}" --fail-under="$${floor%%:*}" || status=1; \
	done; exit $$status

lint: install
	$(BIN)/ruff check broker keys vouching tests
	$(BIN)/mypy broker keys vouching

# Benchmarks (bench/README.md), side by side with node oidc-provider; the broker runs on PostgreSQL
# when one answers at BENCH_POSTGRES_URL, else on SQLite. Results and the plot go to bench/results/.
BENCH_POSTGRES_URL ?= postgresql://postgres@127.0.0.1:5432/test

bench: install
	$(BIN)/pip install --quiet --requirement bench/requirements.txt
	cd bench/peer && npm ci --no-audit --no-fund --loglevel=error
	BROKER_BENCH_POSTGRES_URL=$(BENCH_POSTGRES_URL) $(BIN)/python bench/silent_flow.py
	$(BIN)/python bench/password_signin.py
	$(BIN)/python bench/report.py

# After changing any text on a page: collect the messages and add the new ones to the Welsh catalogue
# (tests/broker/test_welsh.py fails until each has its Welsh translation).
translations: install
	$(BIN)/pybabel extract -F babel.cfg -k N_ --no-location --sort-output -o broker/web/locales/messages.pot .
	$(BIN)/pybabel update --no-fuzzy-matching -i broker/web/locales/messages.pot -d broker/web/locales -l cy

# The main pages as PNGs in docs/screenshots/ (the README shows them), from a throwaway demo broker.
screenshots: install
	$(BIN)/python docs/screenshots.py

clean:
	rm -rf $(VENV) node_modules

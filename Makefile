# The two commands: `make run` and `make test`. Both install what is missing first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
CHROMIUM ?= /usr/bin/chromium

.PHONY: run test lint typecheck compose-check i18n-check unit browser bench loadtest install chromium apertium migrate demo clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	# The funding rounds' test oracle; its release requires the proprietary gurobipy, which the
	# Method of Equal Shares never uses: installed without its dependencies (those it needs are
	# in the dev extra).
	$(PY) -m pip install --quiet --no-deps 'pabutools==1.2.3'
	touch $(STAMP)

install: $(STAMP)

# Serves the app with demo data on http://127.0.0.1:8000 (SQLite + embedded Redis by default;
# set DATABASE_URL / REDIS_URL to use PostgreSQL / an external Redis). `make run PORT=8080`
# serves another port; links in e-mails and feeds follow it unless BASE_URL is set.
PORT ?= 8000
run: install apertium
	mkdir -p var
	$(PY) -m service migrate
	$(PY) -m service demo --if-empty
	$(PY) -m service run --port $(PORT)

migrate: install
	$(PY) -m service migrate

demo: install
	$(PY) -m service demo

# Browser tests need the system Chromium; install it when it is missing and we can.
chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
		echo "installing chromium"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
			|| (echo "chromium is missing and could not be installed" >&2; exit 1); \
	fi

# Machine translation of what people write runs Apertium from the distribution's packages
# (English-Spanish and Spanish-Portuguese; English-Portuguese goes through Spanish).
APERTIUM_PACKAGES := apertium apertium-eng-spa apertium-es-pt
apertium:
	@if ! command -v apertium >/dev/null || ! apertium -l | grep -qx ' *es-pt' \
		|| ! apertium -l | grep -qx ' *spa-eng'; then \
		echo "installing apertium"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APERTIUM_PACKAGES)) \
			|| (echo "apertium is missing and could not be installed ($(APERTIUM_PACKAGES))" >&2; exit 1); \
	fi

lint: install
	$(PY) -m ruff check service tests
	$(PY) -m ruff format --check service tests

typecheck: install
	$(PY) -m mypy

compose-check: install
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.compose-spec docker-compose.yml

i18n-check: install
	$(PY) -m service i18n check

# The money code (the rewards area and its payment gateway) keeps 100% branch coverage. The data
# goes to a file of the run's own: others may run the tests in the same checkout at the same time.
COVERAGE_OPTS := --cov=service/rewards --cov-branch --cov-report=term-missing:skip-covered \
	--cov-fail-under=100

unit: install apertium
	data=$$(mktemp -u "$${TMPDIR:-/tmp}/civic-coverage.XXXXXX"); \
	COVERAGE_FILE=$$data $(PY) -m pytest -n auto -m "not browser" $(COVERAGE_OPTS); \
	status=$$?; rm -f "$$data"; exit $$status

browser: install chromium
	$(PY) -m pytest -m browser tests/e2e

test: apertium lint typecheck compose-check i18n-check unit browser

# Load comes from wrk (Debian) when it can be installed; otherwise from an httpx generator.
# Property tests with new random examples (`make test` replays the same ones every time).
explore: install
	HYPOTHESIS_PROFILE=explore $(PY) -m pytest -n auto -p no:cacheprovider \
		tests/rewards/test_ledger_properties.py tests/core/test_amounts.py \
		tests/currencies/test_reward_sorting.py

bench: install
	@command -v wrk >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk) || echo "wrk unavailable: using the httpx load generator"
	$(PY) -m tests.bench
	$(PY) -m tests.matching.bench
	$(PY) -m tests.funding.bench
	$(PY) -m tests.panels.bench
	$(PY) -m tests.deliberation.bench

# Load tests (Locust, headless) at city and national scale against a local PostgreSQL: seeds the
# database `civic_load` once (kept for the next run; `python -m tests.load --drop` removes it),
# runs the app with 2 web processes and 2 workers, about 15 minutes. Not part of `make test`.
loadtest: install
	$(PY) -m tests.load

clean:
	rm -rf var/civic.sqlite3 var/redis

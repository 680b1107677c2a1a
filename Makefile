# The two commands of the README: `make run` (the product) and `make test` (every test).
# Both install what they need on first use: uv (into .tools/) and the locked dependencies.

SHELL := /bin/bash
UV_SYSTEM := $(shell command -v uv 2>/dev/null)
UV := $(if $(UV_SYSTEM),$(UV_SYSTEM),$(CURDIR)/.tools/bin/uv)
PYTHON ?= python3

.PHONY: run test test-unit test-tools lint format sync bench clean

$(CURDIR)/.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check "uv>=0.9,<1"

.venv/.synced: uv.lock pyproject.toml $(UV)
	$(UV) sync --frozen --all-packages
	touch $@

sync: .venv/.synced

run: sync  ## the whole product on http://127.0.0.1:8000
	$(UV) run billing dev

# Most tests wait (on services starting, brokers, browsers) rather than compute: two
# workers (pytest-xdist, a file's tests on one worker) halve the wall time on 2 cores.
# Each worker has its own database, exchange and sandbox. Tests marked disruptive stop a
# server everyone shares, so they run alone afterwards (exit 5: none selected).
TEST_WORKERS ?= 2

test: sync test-tools  ## every test: unit, integration (real Postgres and RabbitMQ), e2e
	$(UV) run pytest -n $(TEST_WORKERS) --dist loadfile -m "not disruptive" $(PYTEST_ARGS)
	$(UV) run pytest -m disruptive $(PYTEST_ARGS) || [ $$? -eq 5 ]

test-unit: sync  ## the fast lane: domain and fakes, no I/O (well under a minute)
	$(UV) run pytest -m unit -q $(PYTEST_ARGS)

test-tools: sync  ## chromium, nginx, promtool, kubectl (apt, when root) and checkov (uv tool, .tools/) for the tests
	$(UV) run python -m billing_platform.testing.tools --install

# Test directories share module names (conftest, test_journeys): one mypy run each.
MYPY_TEST_DIRS := libs/domain/tests libs/platform/tests services/checkout/tests \
	services/subscriptions/tests services/webhooks/tests tools/cli/tests \
	tools/stripe_sandbox/tests tests/hostile tests/proof bench tests/deploy \
	services/analytics/tests services/notifications/tests

lint: sync  ## ruff, ruff format, mypy --strict (sources and tests), import-linter contracts
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run mypy --strict libs/domain/src libs/platform/src services/checkout/src services/subscriptions/src services/webhooks/src tools/cli/src tools/stripe_sandbox/src \
		services/analytics/src services/notifications/src
	for dir in $(MYPY_TEST_DIRS); do $(UV) run mypy --strict $$dir || exit 1; done
	$(UV) run lint-imports

bench: sync  ## every benchmark beside its baselines (needs DATABASE_URL and AMQP_URL)
	$(UV) run python -m bench.run_all

format: sync
	$(UV) run ruff format .
	$(UV) run ruff check --fix .

clean:
	rm -rf .venv .tools .billing .pytest_cache .mypy_cache .ruff_cache

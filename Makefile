# The two commands of the README: `make run` and `make test`. Everything else serves them.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: run test audit test-time-shifted lint format docs bench bench-queue bench-drills loadtest clean

BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/casedesk_bench
BENCH_CASES ?= 100000
LOADTEST_SECONDS ?= 60
BENCH_ENV = DATABASE_URL=$(BENCH_DATABASE_URL) CASEDESK_VAR_DIR=var/bench REDIS_URL=$(BENCH_REDIS_URL)
# The pages and the load test run as production does (DEBUG off, static files collected),
# with a secret for the bench only, on loopback over plain HTTP.
PRODUCTION_LIKE = DJANGO_DEBUG=0 DJANGO_SECRET_KEY=bench-only-secret-never-used-for-real-data-0123456789 \
	DJANGO_ALLOWED_HOSTS=127.0.0.1 DJANGO_SECURE_SSL_REDIRECT=0

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	rm -f $(VENV)/.installed-* && touch $@

# Sets up and starts the demo: web on 127.0.0.1:8000, one Celery worker with the one beat.
run: $(STAMP)
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} bin/run-demo

# Sets up and runs the audit, ruff and the whole suite.
test: $(STAMP) audit
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

# Fails on a known vulnerability in an installed dependency (pip-audit, PyPI's data) or a
# medium- or high-severity finding in our code (bandit; tests are not scanned). Accepted
# ones are reviewed: .ci/pip-audit-allow.txt, or `# nosec BXXX: why` on the line.
audit: $(STAMP)
	$(BIN)/bandit --quiet --recursive --severity-level medium casedesk accounts escalation inbound
	CASEDESK_BIN=$(BIN) bin/audit-dependencies

# The time-dependent tests (deadlines, business time, call-backs, outbox, escalation) at a
# real clock a year ahead, under Debian's faketime: nothing may depend on today's date.
TIME_TESTS := tests/escalation tests/casedesk/test_deadlines.py tests/casedesk/test_business_time.py \
	tests/casedesk/test_callbacks.py tests/casedesk/test_outbox.py tests/casedesk/test_lifecycle_stateful.py
# The tests that start redis-server and Celery are left out: those would inherit the shifted
# clock through LD_PRELOAD (they are about processes, not dates).
test-time-shifted: $(STAMP)
	faketime -f '+365d' $(BIN)/python -m pytest -q -p no:cacheprovider $(TIME_TESTS) \
		--ignore=tests/escalation/test_worker_integration.py \
		--ignore=tests/escalation/test_sweep_queue.py

lint: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Regenerates the state diagrams of the README from the code (needs Graphviz's `dot`).
MACHINES := case:casedesk.Case handoff:casedesk.HandOff callback:casedesk.CallBack \
	exception:escalation.ExceptionRequest
docs: $(STAMP)
	for machine in $(MACHINES); do \
		name=$${machine%%:*}; model=$${machine#*:}; \
		DJANGO_DEBUG=1 $(BIN)/python manage.py graph_transitions $$model.state > docs/$$name-states.dot; \
		dot -Tsvg docs/$$name-states.dot -o docs/$$name-states.svg; \
	done

# The sweep's cost, then each role's pages, at scale on PostgreSQL (a separate database,
# loaded afresh with escalation/bench_data.py); BENCH_CASES=1000000 for more.
bench: $(STAMP)
	$(BENCH_ENV) DJANGO_DEBUG=1 \
		$(BIN)/python manage.py bench_sweep --create-database --cases $(BENCH_CASES)
	$(BENCH_ENV) $(PRODUCTION_LIKE) $(BIN)/python manage.py collectstatic --no-input -v0
	$(BENCH_ENV) $(PRODUCTION_LIKE) $(BIN)/python manage.py bench_pages
	$(MAKE) --no-print-directory bench-drills

# Locust against gunicorn (4 workers) on loopback, 10 agents back to back then 200 at a
# page every 10-30 s, LOADTEST_SECONDS each, on the bench database (loaded if it does not
# hold BENCH_CASES cases already).
loadtest: $(STAMP)
	$(BENCH_ENV) $(PRODUCTION_LIKE) $(BIN)/python manage.py collectstatic --no-input -v0
	$(BENCH_ENV) $(PRODUCTION_LIKE) $(BIN)/python manage.py loadtest \
		--cases $(BENCH_CASES) --seconds $(LOADTEST_SECONDS)

# The queue's server time and queries, every view of every role, on the bench database
# (`make bench` loads it); BENCH_QUEUE_ARGS=--explain adds each page query's plan.
bench-queue: $(STAMP)
	$(BENCH_ENV) DJANGO_DEBUG=1 $(BIN)/python manage.py bench_queue $(BENCH_QUEUE_ARGS)

# The fault drills of tests/faults (their own Redis, Celery and PostgreSQL processes), and a
# line each: how long the system took to recover.
DRILL_REPORT := var/drills.txt
bench-drills: $(STAMP)
	mkdir -p var && rm -f $(DRILL_REPORT)
	CASEDESK_DRILL_REPORT=$(CURDIR)/$(DRILL_REPORT) DATABASE_URL=$(BENCH_DATABASE_URL) \
		$(BIN)/python -m pytest -q -p no:cacheprovider -m faults tests/faults; \
		status=$$?; echo "Fault drills:"; cat $(DRILL_REPORT); exit $$status

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .hypothesis

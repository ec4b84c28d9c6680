# Two commands for a newcomer: `make run` and `make test` (see README.md).
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
# Demo dossiers of the past year for the dashboard and reports (0 = none). They are
# replaced, not added, on each run; staff-entered dossiers are never touched.
DEMO_DOSSIERS ?= 500
HOST   ?= 127.0.0.1

.PHONY: run test lint install install-dev migrate messages seed worker bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Re-install only when a requirements file changed (stamp files).
$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.installed

# axe-core for the accessibility check in the browser tests (npm registry, no CDN).
# Without npm (or Chromium) the browser tests skip, and fail under REQUIRE_SERVICES=1.
node_modules/.package-lock.json: package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --no-audit --no-fund --loglevel=error; \
	else echo "npm not found: browser accessibility checks will skip (CI installs npm)"; fi

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# The compiled catalogues are committed; recompile when GNU gettext is available.
messages: install
	@if command -v msgfmt >/dev/null 2>&1; then \
		$(BIN)/python manage.py compilemessages --ignore=.venv -v 0; \
	else echo "msgfmt not found: using the committed .mo files"; fi

migrate: install
	$(BIN)/python manage.py migrate --noinput -v 1

seed: migrate
	$(BIN)/python manage.py seed_catalogue
	$(BIN)/python manage.py seed_demo_accounts
	$(BIN)/python manage.py setup_periodic_tasks
	$(BIN)/python manage.py generate_demo_dossiers --clear --count $(DEMO_DOSSIERS)

# Installs, migrates, compiles translations, seeds (idempotent), makes a development
# signing certificate under var/signing once (README "Signing results"), then starts the web
# server with a Celery worker and a Celery beat beside it. Ctrl-C stops all three.
#
# SITE_URL (links in mail, slips and QR codes) follows HOST and PORT unless set; a
# server listening on every interface (0.0.0.0) is linked as 127.0.0.1.
#
# Stopping: on Ctrl-C (or a SIGTERM to make) the shell's trap sends one SIGTERM to the
# web server, the worker and the beat by their ids and waits for them; the shell waits
# with the `wait` builtin, which a trapped signal interrupts at once. (The former
# `trap 'kill 0' INT TERM EXIT` signalled its own shell too, which re-ran the trap:
# an endless stream of SIGTERMs that sent Celery's signal handler into a recursion
# and a segmentation fault, with the embedded beat left behind.) Worker and beat are
# two processes, as in production, so each shuts down on its own signal.
SITE_HOST = $(if $(filter 0.0.0.0 :: [::],$(HOST)),127.0.0.1,$(HOST))
run: install messages seed
	mkdir -p var/celery/out var/celery/processed var/celery/control
	$(BIN)/python manage.py collectstatic --noinput -v 0
	$(BIN)/python manage.py generate_signing_cert
	@export SITE_URL="$${SITE_URL:-http://$(SITE_HOST):$(PORT)}"; \
	echo "Starting Celery worker + beat and the web server on http://$(HOST):$(PORT)/ (links: $$SITE_URL)"; \
	$(BIN)/celery -A config worker --loglevel=INFO --concurrency=2 & worker=$$!; \
	$(BIN)/celery -A config beat --loglevel=INFO & beat=$$!; \
	$(BIN)/python manage.py runserver $(HOST):$(PORT) & web=$$!; \
	trap 'trap - INT TERM EXIT; kill -TERM $$web $$worker $$beat 2>/dev/null; wait; exit 0' INT TERM EXIT; \
	wait $$web

# The whole suite: SQLite and embedded defaults, or PostgreSQL/Redis when
# DATABASE_URL / REDIS_URL are set. One command, two pytest runs:
# 1. alone on the machine, the integration tests (marked slow: real Celery workers and
#    redis-servers they stop, freeze and pause) and the tests that time a timeout to a
#    fraction of a second (marked serial);
# 2. everything else on TEST_WORKERS pytest-xdist workers (whole files per worker; each
#    worker has its own test database, test_<name>_gw0, _gw1, ...).
# PYTEST_ARGS reach both runs. Fails when either run fails, and when neither ran a test
# (pytest's exit status 5 is only accepted for one of the two).
TEST_WORKERS ?= 2
test: install-dev node_modules/.package-lock.json
	@alone=0; parallel=0; \
	$(BIN)/python -m pytest --create-db -m "slow or serial" $(PYTEST_ARGS) || alone=$$?; \
	$(BIN)/python -m pytest --create-db -n $(TEST_WORKERS) --dist loadfile \
		-m "not slow and not serial" $(PYTEST_ARGS) || parallel=$$?; \
	echo "make test: exit status $$alone (alone), $$parallel (parallel)"; \
	if [ $$alone -eq 5 ] && [ $$parallel -eq 5 ]; then echo "make test: no test ran"; exit 5; fi; \
	for rc in $$alone $$parallel; do case $$rc in 0|5) ;; *) exit $$rc ;; esac; done

# Lint and types, as CI runs them before the tests: ruff's rules, ruff's formatting,
# and mypy (django-stubs) on the services and selectors listed in pyproject.toml.
lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Every benchmark in one go on its own PostgreSQL database (BENCH_DATABASE_URL, default
# motcua_bench), filled once with BENCH_DOSSIERS demo dossiers (default 1,000,000) and
# reused; prints one table of issue 13's measures against baselines of the same run.
# Needs wrk (apt-get install wrk) and Redis (BENCH_REDIS_URL). BENCH_ARGS="--only web".
bench: install-dev
	$(BIN)/python bench/run_all.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var staticfiles db.sqlite3

# Two commands on a fresh machine: `make run` (embedded demo) and `make test` (the whole suite).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.lock | md5sum | cut -c1-12)
HOST ?= 127.0.0.1
PORT ?= 8000
EMULATOR_PORT ?= 8765

TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/portal
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0
# The suite runs with DEBUG=0, where the portal needs a SECRET_KEY of its own: one per run.
TEST_SECRET_KEY = $${SECRET_KEY:-$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')}

.PHONY: run test lint bench fuzz browser venv lock clean messages

$(STAMP): requirements.lock
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	@$(PY) -m pip install -q --disable-pip-version-check -r requirements.lock
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

venv: $(STAMP)

## The portal on the embedded default: SQLite, tasks in-process, demo data, the VK/OK emulator.
run: venv
	@unset DATABASE_URL CELERY_BROKER_URL; export DEBUG=1 \
	  VK_API_BASE_URL=http://127.0.0.1:$(EMULATOR_PORT)/method/ \
	  OK_API_BASE_URL=http://127.0.0.1:$(EMULATOR_PORT)/fb.do \
	  VK_OAUTH_AUTHORIZE_URL=http://127.0.0.1:$(EMULATOR_PORT)/vkid/authorize \
	  VK_OAUTH_TOKEN_URL=http://127.0.0.1:$(EMULATOR_PORT)/vkid/oauth2/auth VK_OAUTH_CLIENT_ID=51234567 \
	  OK_OAUTH_AUTHORIZE_URL=http://127.0.0.1:$(EMULATOR_PORT)/ok/oauth/authorize \
	  OK_OAUTH_TOKEN_URL=http://127.0.0.1:$(EMULATOR_PORT)/ok/oauth/token.do \
	  OK_OAUTH_CLIENT_ID=512000000001 OK_OAUTH_CLIENT_SECRET=emulator-secret \
	  OK_APPLICATION_KEY=CBAEMULATOR; \
	$(PY) manage.py migrate --noinput -v0 && \
	$(PY) manage.py seed_demo && \
	{ $(PY) manage.py network_emulator --port $(EMULATOR_PORT) >/tmp/portal-emulator.log 2>&1 & \
	  trap "kill $$! 2>/dev/null" EXIT; \
	  echo "Портал: http://$(HOST):$(PORT)/  (эмулятор VK/OK на порту $(EMULATOR_PORT))"; \
	  $(PY) manage.py runserver $(HOST):$(PORT); }

## Chromium for the browser tests (Debian's package; Playwright's own download cannot work here).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests..."; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; fi; }

## Recompile the Russian catalogue (plural forms) after editing locale/ru/LC_MESSAGES/django.po;
## the compiled .mo is committed, so a fresh clone needs no gettext tools.
messages:
	@msgfmt --check -o locale/ru/LC_MESSAGES/django.mo locale/ru/LC_MESSAGES/django.po

lint: venv
	@$(VENV)/bin/ruff check .

## The whole suite against PostgreSQL and Redis (override with DATABASE_URL / REDIS_URL).
test: venv browser
	@export DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} \
	  REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} SECRET_KEY=$(TEST_SECRET_KEY); \
	export CELERY_BROKER_URL=$${CELERY_BROKER_URL:-$$REDIS_URL}; \
	$(PY) -m portal.lib.preflight && \
	$(VENV)/bin/ruff check . && \
	$(PY) manage.py makemigrations --check --dry-run -v0 && \
	$(PY) -m pytest $(PYTEST_ARGS)

bench: venv
	@export DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/portal_bench} \
	  REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} SECRET_KEY=$(TEST_SECRET_KEY); \
	$(PY) -m portal.lib.preflight && $(PY) -m bench $(BENCH_ARGS)

fuzz: venv
	@export DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
	  SECRET_KEY=$(TEST_SECRET_KEY); \
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-500} $(PY) -m pytest tests/test_fuzz_api.py $(PYTEST_ARGS)

## Re-pin requirements.lock from requirements-dev.in (needs network to PyPI).
lock:
	@rm -rf /tmp/portal-lock && $(PYTHON) -m venv /tmp/portal-lock && \
	/tmp/portal-lock/bin/pip install -q -r requirements-dev.in && \
	/tmp/portal-lock/bin/pip freeze --exclude-editable | sort -f > requirements.lock

clean:
	rm -rf $(VENV) staticfiles db.sqlite3

# `make run` — the whole system on embedded defaults (SQLite, filesystem broker) unless
#              DATABASE_URL / CELERY_BROKER_URL are set.
# `make test` — the whole suite, against PostgreSQL and Redis on 127.0.0.1.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000

.PHONY: run test lint format install messages bench fuzz clean

$(VENV)/.installed: requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -r requirements.txt
	touch $@

install: $(VENV)/.installed

run: install
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py createcachetable
	$(PY) manage.py demo_data --url http://127.0.0.1:$(PORT)/
	PORT=$(PORT) WEBHOOK_ALLOW_LOOPBACK_HTTP=true $(VENV)/bin/honcho -f Procfile.dev start

test: export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/aftersales
test: export CELERY_BROKER_URL ?= redis://127.0.0.1:6379/0
test: export CACHE_URL ?= redis://127.0.0.1:6379/1
test: install lint
	$(VENV)/bin/pytest -n 2 --dist loadfile

# Lint, format and the layers' import contract (settings in pyproject.toml); `make format`
# rewrites the files.
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# schemathesis over the OpenAPI schema against a live server, as the shop's key, an agent and a
# supervisor (bin/fuzz.py; FUZZ_SECONDS per role, default 120). Needs PostgreSQL and Redis.
fuzz: install
	$(PY) bin/fuzz.py

messages: install
	$(PY) manage.py makemessages -l zh_Hans --ignore=.venv --ignore=var
	$(PY) manage.py compilemessages --ignore=.venv

clean:
	rm -rf var

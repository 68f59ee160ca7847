# One command to run the desk, one to test it. Both set up .venv when it is missing.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
# The address links in mails point to: the port served unless SITE_URL is given (environment or
# `make run SITE_URL=https://desk.example.com`).
SITE_URL ?= http://127.0.0.1:$(PORT)
STAMP := $(VENV)/.installed

.PHONY: run test lint install migrate demo bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Settings create the SQLite and file-system broker folders under var/ when they use them.
migrate: install
	mkdir -p var
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py load_demo

# honcho runs every process of the Procfile (web: gunicorn, as in production, whatever the
# database; the Celery workers, beat and the mail intake); Ctrl-C stops them all.
run: demo
	$(PY) manage.py collectstatic --noinput --verbosity 0
	@echo "Serving the desk at http://127.0.0.1:$(PORT)/ (Ctrl-C stops every process)."
	@echo "Log in as one of the demo users above, password demo-pass-2026. Mails go to var/mail/."
	PORT=$(PORT) SITE_URL=$(SITE_URL) $(VENV)/bin/honcho start -f Procfile

# The slowest twenty tests are listed at the end: where CI's time goes.
test: install
	$(PY) -m pytest -p xdist -n 2 --dist loadgroup --durations=20 $(PYTEST_ARGS)

# ruff (lint and format), mypy (types) and import-linter (the layers, pyproject.toml). CI runs it.
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .
	$(VENV)/bin/lint-imports

bench: install
	@echo "see bench/README.md"

clean:
	rm -rf var/db.sqlite3* var/celery var/mail var/celerybeat-schedule*

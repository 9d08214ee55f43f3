# Mlango: `make run` serves the whole thing with its embedded default; `make test` runs every check.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CHROMIUM ?= /usr/lib/chromium/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test install install-test browser lint messages bench-search bench-hand-off

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -c constraints.txt -e .

install-test: $(BIN)/python browser
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test]'
	npm ci --no-audit --no-fund --loglevel=error
	npm ci --no-audit --no-fund --loglevel=error --prefix tests/oidc_op

# Debian's Chromium for the browser tests (Playwright drives it; it downloads no browser itself).
browser:
	@[ -x "$(CHROMIUM)" ] || { \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends chromium; }

run: install
	$(BIN)/portal demo

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: install-test lint
	$(BIN)/pytest

# Refresh the message catalogues after changing interface text, then translate the new entries.
messages: $(BIN)/python
	$(BIN)/pybabel extract --no-location --sort-output -F babel.cfg -o portal/locale/messages.pot .
	$(BIN)/pybabel update --no-fuzzy-matching -i portal/locale/messages.pot -d portal/locale -l sw

# Search speed at 20,000 synthetic services, engine vs page; writes bench/reports/search.md.
bench-search: install
	$(BIN)/python -m bench.search

# The time the portal adds to a GovESB hand-off; writes bench/reports/hand_off.md.
bench-hand-off: install
	$(BIN)/python -m bench.hand_off

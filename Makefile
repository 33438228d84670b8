# Two commands for a newcomer: `make run` and `make test`.
# Debian's /usr/bin/python3.11 is built with optimisations and runs Django 15-30% faster than
# an unoptimised build, so it is preferred when present (see bench/README.md).
PYTHON ?= $(shell command -v /usr/bin/python3.11 || command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)
# axe-core for the accessibility tests (tests/browser/axe.py), pinned in package-lock.json.
AXE := node_modules/axe-core/axe.min.js
# libphonenumber-js for the browser's number guard (static/guards.js), pinned there too; its UMD
# bundle needs no bundler and is served from static/vendor/. The copy there is committed, so `make run`
# still needs nothing but Python; `make js` refreshes it from the lock file (a test checks they agree).
PHONE_JS := static/vendor/libphonenumber-max.js
PHONE_JS_BUNDLE := node_modules/libphonenumber-js/bundle/libphonenumber-max.js
DEMO_ENV := DEBUG=1 PLATFORM_SANDBOX_URL=http://127.0.0.1:8100 RELAY_PUBLIC_URL=http://127.0.0.1:8000

.PHONY: run test lint format bench faults clean venv js

venv: $(STAMP)

# `npm ci` installs exactly the lock file's versions (integrity-checked) into node_modules/.
# Without npm the accessibility tests skip, unless REQUIRE_BROWSER=1 (CI) makes that a failure.
js: $(AXE) $(PHONE_JS)

$(AXE): package.json package-lock.json
	@if command -v npm >/dev/null; then npm ci --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "npm not found: the accessibility tests will be skipped (apt-get install npm)"; fi

# After npm ci (the $(AXE) stamp), so a fresh clone has the file before the browser tests run.
$(PHONE_JS): $(AXE)
	@if [ -f $(PHONE_JS_BUNDLE) ]; then mkdir -p $(@D) && cp $(PHONE_JS_BUNDLE) $@; \
	elif [ ! -f $@ ]; then echo "$@ missing: end-to-end web messages refuse to send until make js"; fi

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	rm -f $(VENV)/.installed-*
	touch $@

run: venv js
	$(DEMO_ENV) $(BIN)/python manage.py migrate --noinput
	$(DEMO_ENV) $(BIN)/python manage.py seed_demo
	$(DEMO_ENV) $(BIN)/python manage.py run_demo

test: venv js
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/lint-imports

format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: venv
	$(BIN)/python -m bench

# Issue #11's fault suite, long form (~15 min): private PostgreSQL and Redis, see bench/README.md.
faults: venv
	$(BIN)/python -m bench.faults $(FAULTS_ARGS)

clean:
	rm -rf var node_modules .pytest_cache .mypy_cache .ruff_cache .import_linter_cache

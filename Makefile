# casehall: two commands for a newcomer, `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# The browser tests drive Debian's Chromium; the document tests use poppler. Installed when missing (as root, with
# apt); otherwise the one line below says what to install.
SYSTEM_TOOLS := chromium pdftotext pdffonts pdftoppm
APT_PACKAGES := chromium fonts-noto-cjk poppler-utils

.PHONY: run test lint bench bench-reads bench-audit bench-open clean system-tools

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[local,dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/casehall up

system-tools:
	@missing=""; for tool in $(SYSTEM_TOOLS); do command -v $$tool >/dev/null || missing="$$missing $$tool"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing$$missing (apt-get: $(APT_PACKAGES))"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_PACKAGES) >/dev/null; \
	  else echo "missing$$missing: run 'sudo apt-get install -y $(APT_PACKAGES)' first"; exit 1; fi; \
	fi

test: $(STAMP) system-tools
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy .
	$(BIN)/lint-imports --no-cache

bench: $(STAMP)
	$(BIN)/python -m bench.twin

# 1,000,000 cases into a fresh database casehall_bench on make run's PostgreSQL, then read latencies from the API
# (CASES=10000000 for ten million).
bench-reads: $(STAMP)
	$(BIN)/python -m bench.fill --cases $${CASES:-1000000} --no-events
	$(BIN)/python -m bench.reads

bench-audit: $(STAMP)
	$(BIN)/python -m bench.audit_replay

# Open cases with live timers on a stack of its own (/tmp/casehall-open-cases, free ports), niced: CASES=2000 first.
bench-open: $(STAMP)
	nice -n 10 $(BIN)/python -m bench.open_cases --cases $${CASES:-100000}

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# spamkiln: one command runs the product, one passes the tests. Both set up what they need.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
OUT ?= build
APT_PACKAGES := spamassassin spamc spamd postgresql libdbd-pg-perl libdbd-sqlite3-perl

.PHONY: install system-deps build test lint bench run check-samples parity clean

# Debian packages: the upstream ruleset (/usr/share/spamassassin), the real spamd/spamc the
# interop tests and benchmarks run beside ours, PostgreSQL (the SQL user preferences tests start
# a server of their own) and the Perl DBI drivers Debian's spamd needs for the same tests.
# Installed only when root and missing.
system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "warning: missing Debian packages:$$missing (run as root or install them)"; fi; \
	fi

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: system-deps $(STAMP)

build: install
	$(BIN)/sa-compile -o $(OUT)

test: install
	$(BIN)/python -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sa-compile --lint rules-src

bench: install
	$(BIN)/python -m tests.bench.run

# Parity reproduces the golden run's config: Debian's stock files plus zz_golden.cf, no rules-src.
SHARED ?= ../shared
parity: install
	$(BIN)/sa-compile -q -o $(OUT)/golden --no-own-rules --add tests/fixtures/zz_golden.cf
	$(BIN)/spamkiln check --json -j 2 --ruleset $(OUT)/golden $(SHARED)/corpus > $(OUT)/parity.jsonl
	$(BIN)/spamkiln parity $(SHARED)/golden/corpus.jsonl $(OUT)/parity.jsonl

# `make run`: spamd on the compiled default ruleset, in the foreground, logging to stderr.
# Port 783 (SpamAssassin's) when root, 10783 otherwise; override with PORT=.
PORT ?= $(shell [ "$$(id -u)" = 0 ] && echo 783 || echo 10783)
SPAMD_ARGS ?= -m 2
run: build
	$(BIN)/spamkiln-spamd --ruleset $(OUT) -i 127.0.0.1 -p $(PORT) -s stderr $(SPAMD_ARGS)

check-samples: build
	$(BIN)/spamkiln check --ruleset $(OUT) tests/fixtures/mail

clean:
	rm -rf $(OUT)/compiled_rules.py $(OUT)/*.jsonl

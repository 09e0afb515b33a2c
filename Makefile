# Northstar: two commands on a fresh machine.
#   make demo   set everything up and run the main job on the embedded default
#   make test   set everything up and run the tests
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# make demo PROFILE=public runs the real-data profile (shared/datasets as plants of the network).
PROFILE ?= demo
NETWORK ?= $(PROFILE)
export NORTHSTAR_DATA_ROOT ?= $(CURDIR)/data
# Tools the project runs as subprocesses (dbt, dagster-webserver, streamlit) come from the venv.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: install demo apps test bench chromium lint clean

# The venv is rebuilt when the dependency pins change; constraints.txt is the lock.
$(BIN)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e ".[dev]"
	touch $@

install: $(BIN)/.installed

demo: install
	$(BIN)/northstar demo --network $(NETWORK)
	@# One pending governance proposal to try the approval path by hand (docs/governance.md); idempotent.
	$(BIN)/northstar catalog propose kpi:oee --set target=0.80 --as bjorn -m "Group OEE target 2027: 80 % (OpEx council)"

apps: install
	$(BIN)/northstar apps

# Debian's chromium for the real-browser tests (Playwright cannot download browsers here).
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
		echo "installing Debian chromium for browser tests"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; \
	fi

test: install chromium
	$(BIN)/northstar catalog validate
	$(BIN)/northstar catalog render --check
	$(BIN)/pytest

bench: install
	$(BIN)/python -m bench

lint: install
	$(BIN)/ruff check .

clean:
	rm -rf data dbt_project/target dbt_project/logs

# onebox: the README's two commands are `make sandbox` (the main job) and `make test`.
# Everything else here is a piece of those two.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
HARNESS := python3 molecule/harness/harness.py
# molecule and ansible-lint call ansible-playbook by name: put the venv first on PATH.
export PATH := $(BIN):$(PATH)

# Molecule scenarios (role/scenario), found on disk so a new one is tested without editing this
# file. Scenarios named in MANUAL_SCENARIOS need something this machine does not have (a real
# VM) and run only by hand.
MANUAL_SCENARIOS := vm
SCENARIOS := $(foreach file,$(sort $(wildcard roles/*/molecule/*/molecule.yml)),$(word 2,$(subst /, ,$(file)))/$(word 4,$(subst /, ,$(file))))
SCENARIOS := $(filter-out $(addprefix %/,$(MANUAL_SCENARIOS)),$(SCENARIOS))
MOLECULE_ROLES := $(sort $(foreach scenario,$(SCENARIOS),$(firstword $(subst /, ,$(scenario)))))
# Roles with several scenarios take longest: start them first.
MOLECULE_ROLES := $(foreach role,$(MOLECULE_ROLES),$(if $(word 2,$(filter $(role)/%,$(SCENARIOS))),$(role))) \
                  $(foreach role,$(MOLECULE_ROLES),$(if $(word 2,$(filter $(role)/%,$(SCENARIOS))),,$(role)))
# Roles are tested side by side, each role's scenarios one after the other (two scenarios of a
# role may touch the same kernel settings). Two at a time suit a 2-core machine.
MOLECULE_JOBS ?= 2
PLAYBOOKS := site.yml $(wildcard playbooks/*.yml)
INVENTORIES := $(wildcard inventories/*)

.PHONY: help venv setup sandbox doctor test lint unit app-test molecule clean

help: ## Show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

# The virtualenv is rebuilt when a pin changes.
$(VENV)/.installed: requirements.txt constraints.txt $(wildcard app/requirements*.txt)
	python3 -c 'import ensurepip' 2>/dev/null || $(HARNESS) host-packages  # Debian's python3-venv
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -r requirements.txt -r app/requirements-dev.txt
	touch $@

venv: $(VENV)/.installed ## Only the virtualenv with the pinned packages (what a deploy job needs)

setup: venv ## Host packages, the virtualenv and a running Docker engine
	$(HARNESS) host-packages
	$(HARNESS) engine

sandbox: setup ## The main job: ansible-playbook site.yml against the local sandbox container
	$(BIN)/ansible-playbook playbooks/sandbox.yml
	$(BIN)/ansible-playbook site.yml

doctor: venv ## Is the sandbox healthy? playbooks/doctor.yml against it; red lines exit non-zero
	$(BIN)/ansible-playbook playbooks/doctor.yml

# Lint first (a quick, clear failure), then the three suites side by side: each runs mostly
# one process at a time (pytest, the app's tests, molecule's two roles), so together they keep
# a 2-core machine busy. Each suite's output is printed whole when it ends.
test: setup lint ## Every test: lint, Python tests, the apps' tests, molecule for every role
	$(MAKE) --no-print-directory --output-sync=target -j3 unit app-test molecule

lint: setup ## yamllint, ansible-lint (production profile), syntax checks, ruff
	$(BIN)/yamllint --strict .
	$(BIN)/ansible-lint
	for inventory in $(INVENTORIES); do \
	  for playbook in $(PLAYBOOKS); do \
	    $(BIN)/ansible-playbook --syntax-check -i "$$inventory" "$$playbook" > /dev/null; \
	  done; \
	done
	@echo "syntax-check: $(words $(PLAYBOOKS)) playbooks x $(words $(INVENTORIES)) inventories ok"
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

unit: setup ## Python tests of the repository (filters, inventories, pins, preflight)
	$(BIN)/pytest tests --ignore=tests/container

app-test: setup ## The apps' tests against a throwaway PostgreSQL, and their images from their profiles
	cd app && ONEBOX_CONTAINER_TESTS=1 $(BIN)/pytest
	cd examples/guestbook && $(BIN)/pytest
	$(BIN)/pytest tests/container

molecule: setup ## Every molecule scenario of every role (converge, idempotence, verify)
	$(MAKE) --no-print-directory --output-sync=target -j$(MOLECULE_JOBS) \
	  $(addprefix molecule-role-,$(MOLECULE_ROLES))

# One role's scenarios, in order; the log of each role is printed whole when it ends.
molecule-role-%:
	for scenario in $(patsubst $*/%,%,$(filter $*/%,$(SCENARIOS))); do \
	  echo "=== molecule test: $*/$$scenario"; \
	  (cd "roles/$*" && $(BIN)/molecule test -s "$$scenario") || exit 1; \
	done

clean: ## Remove the sandbox container and local caches (not the images)
	-docker rm -f onebox-sandbox
	rm -rf .cache

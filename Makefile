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
# Scenarios of these roles change the test machine's own kernel (swap_guard: swap and sysctls;
# doctor: swap in use): they run one after the other in a single job. Every other scenario is a
# job of its own.
KERNEL_ROLES := swap_guard doctor
KERNEL_SCENARIOS := $(filter $(addsuffix /%,$(KERNEL_ROLES)),$(SCENARIOS))
OTHER_SCENARIOS := $(filter-out $(KERNEL_SCENARIOS),$(SCENARIOS))
# A scenario spends part of its time waiting on its containers (boot, apt, docker exec): three
# at a time keep a 2-core machine busy beside the other suites. Longest first, so that no long
# scenario starts last and runs alone (seconds in a full `make test`: microk8s' upgrade, join,
# absent and default 440-1070, the kernel scenarios together 370, offsite 200, base 150, app 80
# each); the others follow in name order, a new scenario among them.
MOLECULE_JOBS ?= 3
MOLECULE_FIRST := microk8s/upgrade microk8s/join microk8s/absent microk8s/default kernel \
  offsite/default base/default app/default app/rollback
MOLECULE_ORDER := $(foreach scenario,$(MOLECULE_FIRST),$(filter $(scenario),$(OTHER_SCENARIOS) kernel)) \
  $(filter-out $(MOLECULE_FIRST),$(OTHER_SCENARIOS))
PLAYBOOKS := site.yml $(wildcard playbooks/*.yml)
INVENTORIES := $(wildcard inventories/*)

.PHONY: help venv setup sandbox doctor test lint unit app-test molecule clean

help: ## Show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

# The virtualenv is rebuilt when a pin changes. --no-compile: Python compiles what is imported
# on first use; compiling all of ansible's collections up front cost more than it saved.
$(VENV)/.installed: requirements.txt constraints.txt $(wildcard app/requirements*.txt)
	python3 -c 'import ensurepip' 2>/dev/null || $(HARNESS) host-packages  # Debian's python3-venv
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --no-compile -c constraints.txt -r requirements.txt -r app/requirements-dev.txt
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

# The linters and the three suites side by side (pytest on two workers, the apps' tests,
# molecule's three scenarios at a time): together they keep a 2-core machine busy, where lint
# alone first left a core idle for a minute. Each one's output is printed whole when it ends,
# lint's first; a red lint fails the run when the others end (`make lint` alone is the quick
# answer).
test: setup ## Every test: lint, Python tests, the apps' tests, molecule for every role
	$(MAKE) --no-print-directory --output-sync=target -j4 lint unit app-test molecule

lint: setup ## yamllint, ansible-lint (production profile), syntax checks, ruff
	$(BIN)/yamllint --strict .
	$(BIN)/ansible-lint
	# One ansible-playbook per inventory checks every playbook (it takes several): its start-up
	# is most of the cost.
	for inventory in $(INVENTORIES); do \
	  $(BIN)/ansible-playbook --syntax-check -i "$$inventory" $(PLAYBOOKS) > /dev/null; \
	done
	@echo "syntax-check: $(words $(PLAYBOOKS)) playbooks x $(words $(INVENTORIES)) inventories ok"
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

unit: setup ## Python tests of the repository (filters, inventories, pins, preflight), two files at a time
	$(BIN)/pytest -n 2 --dist loadfile tests --ignore=tests/container

app-test: setup ## The apps' tests against a throwaway PostgreSQL, and their images from their profiles
	cd app && ONEBOX_CONTAINER_TESTS=1 $(BIN)/pytest
	cd examples/guestbook && $(BIN)/pytest
	$(BIN)/pytest tests/container

molecule: setup ## Every molecule scenario of every role (converge, idempotence, verify)
	$(MAKE) --no-print-directory --output-sync=target -j$(MOLECULE_JOBS) \
	  $(addprefix molecule@,$(subst /,@,$(MOLECULE_ORDER)))

# One scenario (molecule@role@scenario), or the kernel scenarios in a row (molecule@kernel);
# each job's log is printed whole when it ends, with the seconds it took.
molecule@kernel:
	for scenario in $(KERNEL_SCENARIOS); do \
	  $(MAKE) --no-print-directory "molecule@$${scenario/\//@}" || exit 1; \
	done

molecule@%:
	role_scenario='$*'; role="$${role_scenario%@*}"; scenario="$${role_scenario#*@}"; \
	echo "=== molecule test: $$role/$$scenario"; start=$$(date +%s); \
	(cd "roles/$$role" && $(BIN)/molecule test -s "$$scenario"); \
	echo "=== molecule test: $$role/$$scenario passed in $$(( $$(date +%s) - start )) s"

clean: ## Remove the sandbox container and local caches (not the images)
	-docker rm -f onebox-sandbox
	rm -rf .cache

# The one front door. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

SERVICE ?= packit
DEPLOYMENT ?=
TAGS ?=
VENV ?= .venv
PYTHON := $(VENV)/bin/python
ANSIBLE_PLAYBOOK := $(VENV)/bin/ansible-playbook
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg

.PHONY: help
help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  %-24s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: setup
setup: $(VENV)/.installed ## Create the virtualenv with the pinned requirements

$(VENV)/.installed: requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

include $(sort $(wildcard mk/*.mk))

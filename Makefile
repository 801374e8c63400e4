# The one front door: `make help` lists the targets.
#   [SERVICE=packit|stream] DEPLOYMENT=dev|stg|prod [TAGS=a,b] make deploy
SHELL := /bin/bash
.DEFAULT_GOAL := help

SERVICE ?= packit
DEPLOYMENT ?=
TAGS ?=
# LOCAL=1: talk to the local control plane (make local-cluster) as its deployer identity;
# without vars/<service>/<deployment>.yml the committed template is used.
LOCAL ?=
LOCAL_CLUSTER_CACHE ?= $(CURDIR)/.cache/local-cluster
export LOCAL_CLUSTER_CACHE
SECRETS_DIR ?=
OUT ?= rendered/$(SERVICE)-$(DEPLOYMENT)
# make render-all: where the six sets go, and where their secret files are (<service>/<deployment>).
RENDER_ALL_DIR ?= rendered
SECRETS_ROOT ?= secrets
SHOW_SECRETS ?=
# make cleanup on prod: the deployment's name, to confirm.
CONFIRM ?=
# make adopt: 1 to carry the takeover out (without it, a preview).
APPLY ?=
# make deploy/adopt: 1 to deploy although a TLS pair is expired or mismatched.
ALLOW_EXPIRED_CERTS ?=
# values.yml encrypted with ansible-vault: a file with the password, or 1 to be asked.
VAULT_PASSWORD_FILE ?=
ASK_VAULT_PASS ?=
# make import-config: the directory of the rendered app configuration (default: the secrets directory).
FROM ?=
# Anything else for ansible-playbook, e.g. EXTRA_ARGS="--check --diff" or "-e deploy_wait=false".
EXTRA_ARGS ?=
PYTEST_ARGS ?=

VENV ?= .venv
PYTHON := $(VENV)/bin/python
ANSIBLE_PLAYBOOK := $(VENV)/bin/ansible-playbook
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg

ANSIBLE_ARGS = -e service="$(SERVICE)" -e deployment="$(DEPLOYMENT)"
ifneq ($(LOCAL),)
ANSIBLE_ARGS += -e '{"config_extra_vars_files": ["$(LOCAL_CLUSTER_CACHE)/connection.yml"]}'
ifeq ($(wildcard vars/$(SERVICE)/$(DEPLOYMENT).yml),)
ANSIBLE_ARGS += -e config_vars_file="$(CURDIR)/vars/$(SERVICE)/$(DEPLOYMENT)_template.yml"
endif
endif
ifneq ($(SECRETS_DIR),)
ANSIBLE_ARGS += -e secrets_dir="$(abspath $(SECRETS_DIR))"
endif
ifneq ($(ALLOW_EXPIRED_CERTS),)
ANSIBLE_ARGS += -e deploy_allow_expired_certs=true
endif
# An ansible-vault encrypted values.yml (the app configuration's secret values): the password
# from a file, or asked for.
ifneq ($(VAULT_PASSWORD_FILE),)
ANSIBLE_ARGS += --vault-password-file "$(abspath $(VAULT_PASSWORD_FILE))"
endif
ifneq ($(ASK_VAULT_PASS),)
ANSIBLE_ARGS += --ask-vault-pass
endif
ANSIBLE_ARGS += $(EXTRA_ARGS)

require_deployment = @case "$(DEPLOYMENT)" in dev|stg|prod) ;; \
	"") echo "DEPLOYMENT is not set: one of dev, stg, prod (e.g. DEPLOYMENT=dev make $@)" >&2; exit 2 ;; \
	*) echo "DEPLOYMENT=$(DEPLOYMENT) is not one of dev, stg, prod" >&2; exit 2 ;; esac; \
	case "$(SERVICE)" in packit|stream) ;; \
	*) echo "SERVICE=$(SERVICE) is not one of packit, stream" >&2; exit 2 ;; esac

.PHONY: help
help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  %-24s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: setup
setup: $(VENV)/.installed ## Create the virtualenv with the pinned requirements

# The local cluster's Python package (local-cluster/localcluster) goes in editable, built by
# the pinned setuptools of requirements.txt: no build isolation, no dependencies of its own.
$(VENV)/.installed: requirements.txt local-cluster/pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e ./local-cluster
	touch $@

.PHONY: system-deps
system-deps: ## Install the pinned Debian packages the tests use (root)
	@scripts/install-debian-packages.sh requirements-debian.txt

.PHONY: deploy
deploy: setup ## Deploy SERVICE/DEPLOYMENT (TAGS=a,b for some components, LOCAL=1 for the local cluster)
	$(require_deployment)
	$(ANSIBLE_PLAYBOOK) playbooks/deploy.yml $(ANSIBLE_ARGS) -e deploy_tags="$(TAGS)"

.PHONY: adopt
adopt: setup ## Take over a project an upstream-made deployment runs in: preview; APPLY=1 keeps its data objects, replaces the rest, deploys
	$(require_deployment)
	$(ANSIBLE_PLAYBOOK) playbooks/deploy.yml $(ANSIBLE_ARGS) -e deploy_tags="$(TAGS)" \
		-e deploy_adopt=$(if $(APPLY),apply,preview)

.PHONY: render
render: setup ## Write the manifests deploy would apply to OUT (default rendered/SERVICE-DEPLOYMENT); SHOW_SECRETS=1 for real values
	$(require_deployment)
	$(ANSIBLE_PLAYBOOK) playbooks/deploy.yml $(ANSIBLE_ARGS) -e deploy_tags="$(TAGS)" \
		-e deploy_mode=render -e render_dir="$(abspath $(OUT))" -e render_show_secrets=$(if $(SHOW_SECRETS),true,false)

.PHONY: render-all
render-all: setup ## Write the manifests of all six service x deployment sets to RENDER_ALL_DIR/<service>-<deployment> in one run (SECRETS_ROOT/<service>/<deployment>, default secrets/)
	$(ANSIBLE_PLAYBOOK) playbooks/deploy.yml -i inventory/render-all.yml -e deploy_hosts=render_all \
		-e deploy_mode=render -e render_show_secrets=false -e deploy_tags="$(TAGS)" \
		-e render_all_dir="$(abspath $(RENDER_ALL_DIR))" -e render_all_secrets="$(abspath $(SECRETS_ROOT))" $(EXTRA_ARGS)

.PHONY: validate
validate: render ## Render and validate the manifests strictly against the pinned schemas and CRDs
	$(PYTHON) -m scripts.validate_manifests "$(abspath $(OUT))"

.PHONY: import-config
import-config: setup ## Take the secret values of a rendered app configuration (upstream's layout; FROM=dir, default the secrets directory) into values.yml, and list what config/ renders differently
	$(require_deployment)
	$(ANSIBLE_PLAYBOOK) playbooks/import-config.yml $(ANSIBLE_ARGS) $(if $(FROM),-e deploy_import_from="$(abspath $(FROM))")

.PHONY: check-contracts
check-contracts: setup ## Check every container SERVICE/DEPLOYMENT would run against its image's contract (contracts/)
	$(require_deployment)
	@mkdir -p -m 0700 rendered; out=$$(mktemp -d "$(CURDIR)/rendered/.contracts-XXXXXX"); \
	trap 'rm -rf "$$out"' EXIT; \
	$(ANSIBLE_PLAYBOOK) playbooks/deploy.yml $(ANSIBLE_ARGS) -e deploy_tags="$(TAGS)" -e deploy_mode=render \
		-e render_dir="$$out" -e render_show_secrets=true > "$$out.log" 2>&1 \
		|| { grep -m1 '^\[ERROR\]' "$$out.log" >&2; rm -f "$$out.log"; exit 2; }; rm -f "$$out.log"; \
	$(PYTHON) -m scripts.pod_contract "$$out" --service "$(SERVICE)" --deployment "$(DEPLOYMENT)"

.PHONY: cleanup
cleanup: setup ## Delete what deploy created for SERVICE/DEPLOYMENT (TAGS=a,b), keeping PVCs and their data; prod needs CONFIRM=prod
	$(require_deployment)
	$(ANSIBLE_PLAYBOOK) playbooks/deploy.yml $(ANSIBLE_ARGS) -e deploy_tags="$(TAGS)" -e deploy_mode=cleanup \
		-e cleanup_confirm="$(CONFIRM)"

.PHONY: tags
tags: setup ## List the tags: one per component
	@$(PYTHON) -m scripts.components

.PHONY: components
components: setup ## Table of components: tag, template, switch
	@$(PYTHON) -m scripts.components --table

.PHONY: lint
lint: setup ## yamllint, ansible-lint (production profile), ruff (pyflakes' checks, ruff.toml) and make sanity (ansible-test)
	$(VENV)/bin/yamllint --strict .
	$(VENV)/bin/ansible-lint --profile production
	$(VENV)/bin/ruff check .
	$(MAKE) --no-print-directory sanity

.PHONY: test
test: setup system-deps ## Run the whole test suite (builds and starts the local control plane on demand)
	tests/run.sh $(PYTEST_ARGS)

.PHONY: test-render
test-render: setup ## Offline tests only: render, validate, scripts (no control plane)
	$(VENV)/bin/pytest -m "not cluster and not system" $(PYTEST_ARGS)

.PHONY: benchmark
benchmark: setup ## Print render/deploy times and memory (starts the local cluster if needed)
	$(PYTHON) -m tests.benchmarks.benchmark

.PHONY: local-deploy
local-deploy: setup local-cluster ## Main job: local control plane, dev secrets, deploy the dev stack, show its status
	$(MAKE) generate-local-secrets SERVICE=$(SERVICE)
	$(MAKE) deploy LOCAL=1 DEPLOYMENT=dev SERVICE=$(SERVICE)
	$(MAKE) check LOCAL=1 DEPLOYMENT=dev SERVICE=$(SERVICE)
	$(LOCAL_CLUSTER) pods $(SERVICE)-dev

include $(sort $(wildcard mk/*.mk))

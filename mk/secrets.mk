# Secrets: Zuul encryption, certificate checks, local dev secrets.
# SECRETS_DIR (the Makefile's setting) points all three at another directory.

DAYS ?= 14
# FILES=a,b limits zuul-secrets to some files of the deployment.
FILES ?=
secrets_comma := ,

.PHONY: zuul-secrets
zuul-secrets: setup ## Encrypt secrets/$SERVICE/$DEPLOYMENT/* (FILES=a,b for some) for Zuul into zuul-secrets/$SERVICE-$DEPLOYMENT.yaml
	$(require_deployment)
	$(PYTHON) -m scripts.zuul_secrets --service "$(SERVICE)" --deployment "$(DEPLOYMENT)" \
	  $(if $(SECRETS_DIR),--secrets-dir "$(abspath $(SECRETS_DIR))") \
	  $(foreach f,$(subst $(secrets_comma), ,$(FILES)),--file "$(f)")

.PHONY: check-certs
check-certs: setup ## Show the TLS pairs of secrets/$SERVICE/$DEPLOYMENT and fail if expired, expiring within DAYS (14) or mismatched
	$(require_deployment)
	$(PYTHON) -m scripts.check_certs --service "$(SERVICE)" --deployment "$(DEPLOYMENT)" \
	  --days "$(DAYS)" $(if $(SECRETS_DIR),--dir "$(abspath $(SECRETS_DIR))")

.PHONY: generate-local-secrets
generate-local-secrets: setup ## Fill secrets/$SERVICE/dev with generated dev secrets (never overwrites a file)
	$(ANSIBLE_PLAYBOOK) playbooks/generate-local-secrets.yml -e service="$(SERVICE)" \
	  $(if $(SECRETS_DIR),-e secrets_dir="$(abspath $(SECRETS_DIR))")

# Secrets: Zuul encryption, certificate checks, local dev secrets.

DAYS ?= 14
# FILES=a,b limits zuul-secrets to some files of the deployment.
FILES ?=
secrets_comma := ,

.PHONY: zuul-secrets
zuul-secrets: setup ## Encrypt secrets/$SERVICE/$DEPLOYMENT/* (FILES=a,b for some) for Zuul into zuul-secrets/$SERVICE-$DEPLOYMENT.yaml
	@test -n "$(DEPLOYMENT)" || { echo "DEPLOYMENT is not set: run e.g. 'make zuul-secrets DEPLOYMENT=stg'" >&2; exit 2; }
	$(PYTHON) scripts/zuul_secrets.py --service "$(SERVICE)" --deployment "$(DEPLOYMENT)" \
	  $(foreach f,$(subst $(secrets_comma), ,$(FILES)),--file "$(f)")

.PHONY: check-certs
check-certs: setup ## Show the TLS pairs of secrets/$SERVICE/$DEPLOYMENT and fail if expired, expiring within DAYS (14) or mismatched
	@test -n "$(DEPLOYMENT)" || { echo "DEPLOYMENT is not set: run e.g. 'make check-certs DEPLOYMENT=prod'" >&2; exit 2; }
	$(PYTHON) scripts/check_certs.py --service "$(SERVICE)" --deployment "$(DEPLOYMENT)" --days "$(DAYS)"

.PHONY: generate-local-secrets
generate-local-secrets: setup ## Fill secrets/$SERVICE/dev with generated dev secrets (never overwrites a file)
	$(ANSIBLE_PLAYBOOK) playbooks/generate-local-secrets.yml -e service="$(SERVICE)"

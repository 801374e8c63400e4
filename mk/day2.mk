# Day-2 operations: moving stable branches, image imports, restarts,
# rollbacks and status. Everything cluster-side goes through the API
# (roles/day2); nothing here runs oc or kubectl.

MOVE_STABLE_ARGS ?=

.PHONY: move-stable
move-stable: ## Fast-forward `stable` to `main` in the SERVICE's repositories (MOVE_STABLE_ARGS="--dry-run", "REPO --commit SHA", "--yes")
	$(PYTHON) scripts/move_stable.py --service $(SERVICE) init
	$(PYTHON) scripts/move_stable.py --service $(SERVICE) move $(MOVE_STABLE_ARGS)

# Day-2 playbooks take the same ANSIBLE_ARGS as deploy (SERVICE, DEPLOYMENT, LOCAL=1,
# EXTRA_ARGS="--check"), defined in the Makefile.
IMAGES ?=
COMPONENT ?=
COMPONENTS ?=
REVISION ?= 0
day2_require_component = @test -n "$(COMPONENT)" || { echo "COMPONENT is not set: run e.g. 'make $@ DEPLOYMENT=stg COMPONENT=packit-service'" >&2; exit 2; }

.PHONY: import-images
import-images: setup ## Import the registry images into the deployment's ImageStreams now (IMAGES=a,b for some)
	$(require_deployment)
	$(ANSIBLE_PLAYBOOK) playbooks/import-images.yml $(ANSIBLE_ARGS) -e day2_images="$(IMAGES)"

.PHONY: history
history: setup ## Show the revisions of COMPONENT that rollback can go back to
	$(require_deployment)
	$(day2_require_component)
	$(ANSIBLE_PLAYBOOK) playbooks/history.yml $(ANSIBLE_ARGS) -e day2_component="$(COMPONENT)"

.PHONY: rollback
rollback: setup ## Roll COMPONENT back to REVISION (default the previous one); workers pin their stream tag
	$(require_deployment)
	$(day2_require_component)
	$(ANSIBLE_PLAYBOOK) playbooks/rollback.yml $(ANSIBLE_ARGS) -e day2_component="$(COMPONENT)" -e day2_revision="$(REVISION)"

.PHONY: unpin
unpin: setup ## Make a rolled-back COMPONENT follow its image stream (the registry) again
	$(require_deployment)
	$(day2_require_component)
	$(ANSIBLE_PLAYBOOK) playbooks/unpin.yml $(ANSIBLE_ARGS) -e day2_component="$(COMPONENT)"

.PHONY: restart
restart: setup ## Rolling restart of COMPONENTS=a,b and wait until they are ready
	$(require_deployment)
	@test -n "$(COMPONENTS)" || { echo "COMPONENTS is not set: run e.g. 'make restart DEPLOYMENT=stg COMPONENTS=packit-service,packit-worker'" >&2; exit 2; }
	$(ANSIBLE_PLAYBOOK) playbooks/restart.yml $(ANSIBLE_ARGS) -e day2_components="$(COMPONENTS)"

.PHONY: check
check: setup ## Status table of the deployment's workloads; fails if any is not ready
	$(require_deployment)
	$(ANSIBLE_PLAYBOOK) playbooks/check.yml $(ANSIBLE_ARGS)

# Day-2 operations: moving stable branches, image imports, restarts,
# rollbacks and status. Everything cluster-side goes through the API
# (roles/day2); nothing here runs oc or kubectl.

MOVE_STABLE_ARGS ?=

.PHONY: move-stable
move-stable: ## Fast-forward `stable` to `main` in the SERVICE's repositories (MOVE_STABLE_ARGS="--dry-run", "REPO --commit SHA", "--yes")
	$(PYTHON) scripts/move_stable.py --service $(SERVICE) init
	$(PYTHON) scripts/move_stable.py --service $(SERVICE) move $(MOVE_STABLE_ARGS)

# Day-2 playbooks take SERVICE and DEPLOYMENT like deploy; ANSIBLE_ARGS (e.g. the local
# cluster's connection vars) is passed through when the including Makefile sets it.
IMAGES ?=
COMPONENT ?=
COMPONENTS ?=
REVISION ?= 0
DAY2_ARGS = -e service="$(SERVICE)" -e deployment="$(DEPLOYMENT)" $(ANSIBLE_ARGS)
day2_require_deployment = @test -n "$(DEPLOYMENT)" || { echo "DEPLOYMENT is not set: run e.g. 'make $@ DEPLOYMENT=stg'" >&2; exit 2; }
day2_require_component = @test -n "$(COMPONENT)" || { echo "COMPONENT is not set: run e.g. 'make $@ DEPLOYMENT=stg COMPONENT=packit-service'" >&2; exit 2; }

.PHONY: import-images
import-images: setup ## Import the registry images into the deployment's ImageStreams now (IMAGES=a,b for some)
	$(day2_require_deployment)
	$(ANSIBLE_PLAYBOOK) playbooks/import-images.yml $(DAY2_ARGS) -e day2_images="$(IMAGES)"

.PHONY: history
history: setup ## Show the revisions of COMPONENT that rollback can go back to
	$(day2_require_deployment)
	$(day2_require_component)
	$(ANSIBLE_PLAYBOOK) playbooks/history.yml $(DAY2_ARGS) -e day2_component="$(COMPONENT)"

.PHONY: rollback
rollback: setup ## Roll COMPONENT back to REVISION (default the previous one); workers pin their stream tag
	$(day2_require_deployment)
	$(day2_require_component)
	$(ANSIBLE_PLAYBOOK) playbooks/rollback.yml $(DAY2_ARGS) -e day2_component="$(COMPONENT)" -e day2_revision="$(REVISION)"

.PHONY: unpin
unpin: setup ## Make a rolled-back COMPONENT follow its image stream (the registry) again
	$(day2_require_deployment)
	$(day2_require_component)
	$(ANSIBLE_PLAYBOOK) playbooks/unpin.yml $(DAY2_ARGS) -e day2_component="$(COMPONENT)"

.PHONY: restart
restart: setup ## Rolling restart of COMPONENTS=a,b and wait until they are ready
	$(day2_require_deployment)
	@test -n "$(COMPONENTS)" || { echo "COMPONENTS is not set: run e.g. 'make restart DEPLOYMENT=stg COMPONENTS=packit-service,packit-worker'" >&2; exit 2; }
	$(ANSIBLE_PLAYBOOK) playbooks/restart.yml $(DAY2_ARGS) -e day2_components="$(COMPONENTS)"

.PHONY: check
check: setup ## Status table of the deployment's workloads; fails if any is not ready
	$(day2_require_deployment)
	$(ANSIBLE_PLAYBOOK) playbooks/check.yml $(DAY2_ARGS)

# Day-2 operations: moving stable branches, image imports, restarts,
# rollbacks and status. Everything cluster-side goes through the API
# (roles/day2); nothing here runs oc or kubectl.

MOVE_STABLE_ARGS ?=

.PHONY: move-stable
move-stable: ## Fast-forward `stable` to `main` in the SERVICE's repositories (MOVE_STABLE_ARGS="--dry-run", "REPO --commit SHA", "--yes")
	$(PYTHON) -m scripts.move_stable --service $(SERVICE) init
	$(PYTHON) -m scripts.move_stable --service $(SERVICE) move $(MOVE_STABLE_ARGS)

# Day-2 playbooks take the same ANSIBLE_ARGS as deploy (SERVICE, DEPLOYMENT, LOCAL=1,
# EXTRA_ARGS="--check"), defined in the Makefile.
IMAGES ?=
# WORKLOAD(S): Deployment, StatefulSet or DeploymentConfig names. COMPONENT(S) is their older
# name, deprecated: it still works, with a warning that names the new one.
COMPONENT ?=
COMPONENTS ?=
WORKLOAD ?= $(COMPONENT)
WORKLOADS ?= $(COMPONENTS)
ifneq ($(COMPONENT),)
$(warning COMPONENT= is deprecated: use WORKLOAD=$(COMPONENT) (COMPONENT= will be removed))
endif
ifneq ($(COMPONENTS),)
$(warning COMPONENTS= is deprecated: use WORKLOADS=$(COMPONENTS) (COMPONENTS= will be removed))
endif
REVISION ?= 0
day2_require_workload = @test -n "$(WORKLOAD)" || { echo "WORKLOAD is not set: run e.g. 'make $@ DEPLOYMENT=stg WORKLOAD=packit-service'" >&2; exit 2; }

.PHONY: import-images
import-images: setup ## Import the registry images into the deployment's ImageStreams now (IMAGES=a,b for some)
	$(require_deployment)
	$(ANSIBLE_PLAYBOOK) playbooks/day2.yml $(ANSIBLE_ARGS) -e day2_action=import_images -e day2_images="$(IMAGES)"

.PHONY: history
history: setup ## Show the revisions of WORKLOAD that rollback can go back to
	$(require_deployment)
	$(day2_require_workload)
	$(ANSIBLE_PLAYBOOK) playbooks/day2.yml $(ANSIBLE_ARGS) -e day2_action=history -e day2_workload="$(WORKLOAD)"

.PHONY: rollback
rollback: setup ## Roll WORKLOAD back to REVISION (default the previous one); workers pin their stream tag
	$(require_deployment)
	$(day2_require_workload)
	$(ANSIBLE_PLAYBOOK) playbooks/day2.yml $(ANSIBLE_ARGS) -e day2_action=rollback -e day2_workload="$(WORKLOAD)" -e day2_revision="$(REVISION)"

.PHONY: unpin
unpin: setup ## Make a rolled-back WORKLOAD follow its image stream (the registry) again
	$(require_deployment)
	$(day2_require_workload)
	$(ANSIBLE_PLAYBOOK) playbooks/day2.yml $(ANSIBLE_ARGS) -e day2_action=unpin -e day2_workload="$(WORKLOAD)"

.PHONY: restart
restart: setup ## Rolling restart of WORKLOADS=a,b and the workloads of the components TAGS=c,d; waits until they are ready
	$(require_deployment)
	@test -n "$(WORKLOADS)$(TAGS)" || { echo "WORKLOADS and TAGS are not set: run e.g. 'make restart DEPLOYMENT=stg TAGS=packit-worker' or WORKLOADS=packit-service" >&2; exit 2; }
	$(ANSIBLE_PLAYBOOK) playbooks/day2.yml $(ANSIBLE_ARGS) -e day2_action=restart -e day2_workloads="$(WORKLOADS)" -e day2_tags="$(TAGS)"

.PHONY: check
check: setup ## Status table of the deployment's workloads; fails if any is not ready
	$(require_deployment)
	$(ANSIBLE_PLAYBOOK) playbooks/day2.yml $(ANSIBLE_ARGS) -e day2_action=check

# Day-2 operations: moving stable branches, image imports, restarts,
# rollbacks and status. Everything cluster-side goes through the API
# (roles/day2); nothing here runs oc or kubectl.

MOVE_STABLE_ARGS ?=

.PHONY: move-stable
move-stable: ## Fast-forward `stable` to `main` in the SERVICE's repositories (MOVE_STABLE_ARGS="--dry-run", "REPO --commit SHA", "--yes")
	$(PYTHON) scripts/move_stable.py --service $(SERVICE) init
	$(PYTHON) scripts/move_stable.py --service $(SERVICE) move $(MOVE_STABLE_ARGS)

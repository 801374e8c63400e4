# The broker's day-2 jobs (playbooks/day2.yml, roles/day2/tasks/{queues,purge_queues}.yml): Jobs
# in the project that run the broker's own image and CLI against its Service. Nothing here runs
# oc or kubectl.

QUEUES ?=

.PHONY: queues
queues: setup ## Report the broker's Celery queues (waiting, unacknowledged), its memory and the key groups that fill it; changes nothing
	$(require_deployment)
	$(ANSIBLE_PLAYBOOK) playbooks/day2.yml $(ANSIBLE_ARGS) -e day2_action=queues

.PHONY: purge-queues
purge-queues: setup ## Delete the waiting messages of QUEUES=a,b (CONFIRM=<deployment>); their workers stop meanwhile
	$(require_deployment)
	$(ANSIBLE_PLAYBOOK) playbooks/day2.yml $(ANSIBLE_ARGS) -e day2_action=purge_queues \
		-e day2_queues="$(QUEUES)" -e day2_purge_confirm="$(CONFIRM)"

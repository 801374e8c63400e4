# The database jobs (playbooks/day2.yml, roles/day2/tasks/db_*.yml): Jobs in the project that
# run the PostgreSQL image, with the dumps on the claim postgres-dump. Nothing here runs oc or kubectl.

DUMP ?=

.PHONY: db-dump
db-dump: setup ## Dump the database into a new file on claim postgres-dump (DUMP=name to choose it)
	$(require_deployment)
	$(ANSIBLE_PLAYBOOK) playbooks/day2.yml $(ANSIBLE_ARGS) -e day2_action=db_dump -e day2_db_file="$(DUMP)"

.PHONY: db-restore
db-restore: setup ## Replace the database's contents with DUMP (a file on postgres-dump); its apps stop meanwhile
	$(require_deployment)
	@test -n "$(DUMP)" || { echo "DUMP is not set: name the dump to restore, e.g. 'make db-restore DEPLOYMENT=stg DUMP=postgres-15-20260101-120000.dump' (make db-dump prints the names)" >&2; exit 2; }
	$(ANSIBLE_PLAYBOOK) playbooks/day2.yml $(ANSIBLE_ARGS) -e day2_action=db_restore -e day2_db_file="$(DUMP)"

.PHONY: db-upgrade
db-upgrade: setup ## Move the database to postgres_version: dump, new claim and PostgreSQL, restore; the old claim stays
	$(require_deployment)
	$(ANSIBLE_PLAYBOOK) playbooks/day2.yml $(ANSIBLE_ARGS) -e day2_action=db_upgrade

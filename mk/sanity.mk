# make sanity (part of make lint): ansible-test sanity of the packit.deployment collection, every
# test ansible-test runs by default (validate-modules, pylint, pep8, import, ansible-doc, yamllint,
# runtime-metadata, ...); tests/sanity/ignore-2.19.txt in the collection names each finding left
# and why.
#
# Where ansible-test runs: from the collection, in a collection root that also holds the
# collections it depends on. collections/ holds only ours; kubernetes.core is the pinned ansible
# package's. So a root of two symlinks in .cache/sanity - ansible_collections/packit/deployment
# (this repository's) and ansible_collections/kubernetes/core (the virtualenv's) - and
# ANSIBLE_TEST_CONTENT_ROOT, which keeps ansible-test on that path instead of the resolved one.
#
# What it installs: each sanity test runs in a virtualenv of ansible-test's own
# (~/.ansible/test/venv), with the requirements ansible-test pins for it, every version exact
# (ansible_test/_data/requirements/sanity.*.txt of the ansible-core in requirements.txt), from
# PyPI. It first bootstraps pip there with a script it downloads from ci-files.testing.ansible.com,
# which is not reachable here: that script's place in ansible-test's cache gets the collection's
# tests/sanity/get_pip.py, and beside it the wheel of the pip version ansible-test asks for
# (SANITY_PIP, that of ansible-core 2.19), from PyPI by its hash.
SANITY_COLLECTION := collections/ansible_collections/packit/deployment
SANITY_ROOT := $(CURDIR)/.cache/sanity/ansible_collections
SANITY_PIP := 24.2
SANITY_PIP_SHA256 := 2cd581cf58ab7fcfca4ce8efa6dcacd0de5bf8d0a3eb9ec927e07405f4d9e2a2
ANSIBLE_TEST_CACHE := $(HOME)/.ansible/test/cache
SANITY_PIP_WHEEL := $(ANSIBLE_TEST_CACHE)/pip-$(SANITY_PIP)-py3-none-any.whl

.PHONY: sanity
sanity: setup $(SANITY_PIP_WHEEL) ## ansible-test sanity of the packit.deployment collection (part of make lint)
	@install -m 0644 $(SANITY_COLLECTION)/tests/sanity/get_pip.py "$(ANSIBLE_TEST_CACHE)/get_pip_$(subst .,_,$(SANITY_PIP)).py"
	@mkdir -p "$(SANITY_ROOT)/packit" "$(SANITY_ROOT)/kubernetes"
	@ln -sfn "$(CURDIR)/$(SANITY_COLLECTION)" "$(SANITY_ROOT)/packit/deployment"
	@ln -sfn "$$($(PYTHON) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/ansible_collections/kubernetes/core" \
		"$(SANITY_ROOT)/kubernetes/core"
	python="$$($(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])')" && \
		cd "$(SANITY_ROOT)/packit/deployment" && ANSIBLE_TEST_CONTENT_ROOT="$(SANITY_ROOT)/packit/deployment" \
		"$(CURDIR)/$(VENV)/bin/ansible-test" sanity --color no --python "$$python"

$(SANITY_PIP_WHEEL): | setup
	@mkdir -p "$(ANSIBLE_TEST_CACHE)"
	@printf 'pip==%s --hash=sha256:%s\n' "$(SANITY_PIP)" "$(SANITY_PIP_SHA256)" > "$@.requirements"
	$(VENV)/bin/pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: --require-hashes \
		-r "$@.requirements" -d "$(ANSIBLE_TEST_CACHE)"
	@rm -f "$@.requirements"

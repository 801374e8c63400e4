#!/usr/bin/python
"""Check, before anything is applied, that the API server is reachable and the
token may do what a run needs (SelfSubjectReview + SelfSubjectAccessReview)."""

from __future__ import annotations

DOCUMENTATION = r"""
module: access_review
short_description: Check API reachability and the permissions a run needs
author: Packit team (@packit)
description:
  - Asks the API server who the token belongs to (SelfSubjectReview) and, for every
    API type and namespace in C(objects), whether it may perform each of C(verbs)
    (SelfSubjectAccessReview). Fails with one line naming every missing permission.
  - Only reads; never changes anything.
options:
  objects:
    description: List of dicts with apiVersion, kind and namespace (name is ignored).
    type: list
    elements: dict
    required: true
extends_documentation_fragment: [kubernetes.core.k8s_auth_options, packit.deployment.checks.access]
notes:
  - kubernetes.core.k8s can create one SelfSubjectAccessReview per task; a run needs one per
    verb, kind and namespace (about a hundred), which this module asks in one task and reports
    as one line.
"""

EXAMPLES = r"""
- name: Check that the token may create and patch what the deploy renders
  packit.deployment.access_review:
    objects: "{{ deploy_rendered_objects }}"
    verbs: [get, create, patch]
    settings_hint: vars/packit/stg.yml
"""

RETURN = r"""
user:
  description: The identity the token authenticates as.
  type: str
  returned: success
checked:
  description: Number of (verb, resource, namespace) checks made.
  type: int
  returned: success
"""

from ansible_collections.packit.deployment.plugins.module_utils.access import ACCESS_ARGS, connect_as, review_access
from ansible_collections.packit.deployment.plugins.module_utils.k8s import run


def review(module, _client) -> dict:
    p = module.params
    dyn = connect_as(p, p["settings_hint"])
    return dict(review_access(dyn, p["objects"], p["verbs"], p["settings_hint"]), changed=False)


def main() -> None:
    run(dict(objects=dict(type="list", elements="dict", required=True),
             **ACCESS_ARGS), review, connected=False)


if __name__ == "__main__":
    main()

#!/usr/bin/python
"""The checks of a deploy before anything is written, in one run on one client: the API server
and the permissions, objects another deployment made, and what the PostgreSQL guards read."""

from __future__ import annotations

DOCUMENTATION = r"""
module: preflight
short_description: Check the API server, the permissions and the project before a deploy writes
author: Packit team (@packit)
description:
  - Asks who the token belongs to and whether it may use each of C(verbs) on every API type and
    namespace of C(objects) (as M(packit.deployment.access_review)); fails with one line naming
    every missing permission, or the setting to fix when the server cannot be reached.
  - Finds the objects of the project that this repository did not make (as
    M(packit.deployment.takeover) in check mode) and returns the line that refuses them in
    C(foreign_refusal); the play decides when to fail with it.
  - With C(postgres), reads the claims of C(namespace) and the claims the running PostgreSQL
    workload mounts, and returns the guards' refusals - claims named after other PostgreSQL
    major versions and none after C(postgres.claim) (C(version_refusal)); a running PostgreSQL
    that mounts other claims than C(postgres.claim) (C(data_refusal)).
  - C(refusals) lists every reason not to deploy in the order the checks speak; the play
    decides when to fail with which.
  - Only reads; never changes anything. The reads go in parallel.
options:
  objects:
    description: The rendered objects (Secret values redacted).
    type: list
    elements: dict
    required: true
  namespace:
    description: The project.
    type: str
    required: true
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - packit.deployment.checks.access
  - packit.deployment.checks.foreign
  - packit.deployment.checks.postgres
notes:
  - One module run where the deploy made four (access review, two reads, the takeover check),
    each paying a Python start, the client's imports and the module's packaging.
"""

EXAMPLES = r"""
- name: Check the cluster, the permissions and the project
  packit.deployment.preflight:
    objects: "{{ rendered_objects }}"
    namespace: packit-stg
    settings_hint: vars/packit/stg.yml
    command_hint: make adopt SERVICE=packit DEPLOYMENT=stg
    postgres: {api_version: apps/v1, kind: Deployment, name: postgres, claim: postgres-16, version: "16"}
  register: preflight
"""

RETURN = r"""
user: {description: The identity the token authenticates as., type: str, returned: success}
checked:
  description: Number of (verb, resource, namespace) checks made.
  type: int
  returned: success
foreign:
  description: One entry per foreign object (kind, name, namespace, action keep or delete, why).
  type: list
  elements: dict
  returned: success
foreign_refusal:
  description: The line that refuses the foreign objects, empty when there are none.
  type: str
  returned: success
claims: {description: Names of the claims of the project (with postgres)., type: list, elements: str, returned: success}
postgres_claims:
  description: The claims the running PostgreSQL workload mounts; empty when it does not run (with postgres).
  type: list
  elements: str
  returned: success
version_refusal: {description: The line refusing a PostgreSQL version no claim has data of; empty if none., type: str, returned: success}
data_refusal: {description: The line refusing a claim the running PostgreSQL does not use; empty if none., type: str, returned: success}
refusals:
  description: Every refusal line, in the order the checks speak.
  type: list
  elements: str
  returned: success
"""

from ansible_collections.packit.deployment.plugins.module_utils.access import connect_as
from ansible_collections.packit.deployment.plugins.module_utils.k8s import run
from ansible_collections.packit.deployment.plugins.module_utils.preflight import (
    PREFLIGHT_OPTIONS, read, refusal_lines)

ARGUMENT_SPEC = {
    "objects": {"type": "list", "elements": "dict", "required": True},
    "namespace": {"type": "str", "required": True},
    **PREFLIGHT_OPTIONS,
}


def preflight(module, _client) -> dict:
    p = module.params
    found = read(connect_as(p, p["settings_hint"]), p, p["objects"], p["namespace"])
    return dict(found, changed=False, **refusal_lines(found, p["namespace"], p))


def main() -> None:
    run(ARGUMENT_SPEC, preflight, connected=False)


if __name__ == "__main__":
    main()

#!/usr/bin/python
"""The checks of a deploy before anything is written, in one run on one client: the API server
and the permissions, objects another deployment made, and what the PostgreSQL guards read."""

from __future__ import annotations

DOCUMENTATION = r"""
module: preflight
short_description: Check the API server, the permissions and the project before a deploy writes
description:
  - Asks who the token belongs to and whether it may use each of C(verbs) on every API type and
    namespace of C(objects) (as M(packit.deployment.access_review)); fails with one line naming
    every missing permission, or the setting to fix when the server cannot be reached.
  - Finds the objects of the project that this repository did not make (as
    M(packit.deployment.takeover) in check mode) and returns the line that refuses them in
    C(foreign_refusal); the play decides when to fail with it.
  - With C(postgres), reads the claims of C(namespace) and the claims the running PostgreSQL
    workload mounts, for the play's version guards.
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
  verbs:
    description: Verbs every object needs.
    type: list
    elements: str
    default: [get, create, patch]
  settings_hint:
    description: Where the user sets the connection (named in error messages).
    type: str
    default: the vars file
  managed_by:
    description: Value of app.kubernetes.io/managed-by on this repository's objects.
    type: str
    default: packit-deployment
  command_hint:
    description: The make command line that previews a takeover (named in C(foreign_refusal)).
    type: str
    default: make adopt
  postgres:
    description: The PostgreSQL workload whose claims to read (api_version, kind, name); none to skip the reads.
    type: dict
extends_documentation_fragment: [kubernetes.core.k8s_auth_options]
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
    postgres: {api_version: apps/v1, kind: Deployment, name: postgres}
  register: preflight
"""

RETURN = r"""
user: {description: The identity the token authenticates as., type: str, returned: success}
checked: {description: Number of (verb, resource, namespace) checks made., type: int, returned: success}
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
"""

from concurrent.futures import ThreadPoolExecutor

from ansible_collections.packit.deployment.plugins.module_utils.access import connect_as, review_access
from ansible_collections.packit.deployment.plugins.module_utils.foreign import (
    pod_claims, public, read_foreign, refuse_foreign)
from ansible_collections.packit.deployment.plugins.module_utils.k8s import K8sError, get, list_objects, resource, run

ARGUMENT_SPEC = {
    "objects": {"type": "list", "elements": "dict", "required": True},
    "namespace": {"type": "str", "required": True},
    "verbs": {"type": "list", "elements": "str", "default": ["get", "create", "patch"]},
    "settings_hint": {"type": "str", "default": "the vars file"},
    "managed_by": {"type": "str", "default": "packit-deployment"},
    "command_hint": {"type": "str", "default": "make adopt"},
    "postgres": {"type": "dict"},
}


def refs(objects: list[dict]) -> list[dict]:
    return [{"apiVersion": o.get("apiVersion", ""), "kind": o.get("kind", ""),
             "namespace": (o.get("metadata") or {}).get("namespace") or ""} for o in objects]


def preflight(module, _client) -> dict:
    p = module.params
    dyn = connect_as(p, p["settings_hint"])
    result = dict(review_access(dyn, refs(p["objects"]), p["verbs"], p["settings_hint"]), changed=False,
                  claims=[], postgres_claims=[])
    postgres = p["postgres"]
    if postgres:  # discovery before the threads: its cache is not shared safely between them
        resource(dyn, "v1", "PersistentVolumeClaim")
        resource(dyn, postgres["api_version"], postgres["kind"], required=False)
    with ThreadPoolExecutor(max_workers=3) as pool:
        if postgres:
            claims = pool.submit(list_objects, dyn, "v1", "PersistentVolumeClaim", p["namespace"])
            running = pool.submit(get, dyn, postgres["api_version"], postgres["kind"], p["namespace"], postgres["name"])
        _, foreign = read_foreign(p, p["objects"], p["managed_by"], dyn=dyn)
        if postgres:
            result["claims"] = [c["metadata"]["name"] for c in claims.result()]
            result["postgres_claims"] = sorted(pod_claims(running.result() or {}))
    try:
        refuse_foreign(foreign, p["command_hint"])
        result["foreign_refusal"] = ""
    except K8sError as refusal:
        result["foreign_refusal"] = str(refusal)
    result["foreign"] = public(foreign)
    return result


def main() -> None:
    run(ARGUMENT_SPEC, preflight, connected=False)


if __name__ == "__main__":
    main()

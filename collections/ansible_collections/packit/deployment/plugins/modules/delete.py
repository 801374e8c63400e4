#!/usr/bin/python
"""Delete a deployment's objects in one run on one client (make cleanup): the checks first,
then the deletes in the reverse order of the apply, the requests of each phase in parallel."""

from __future__ import annotations

DOCUMENTATION = r"""
module: delete
short_description: Delete the objects of some components in one run, keeping kinds that hold data
author: Packit team (@packit)
description:
  - Checks first, before anything is deleted - that the token may get and delete every object
    (as M(packit.deployment.access_review)), and that none of the names belongs to an object
    another deployment made (as M(packit.deployment.takeover) in check mode); fails with one
    line otherwise.
  - Deletes every object of C(objects) whose kind is not in C(keep_kinds), in the reverse
    order of M(packit.deployment.apply) - workloads, then bindings, then the rest - the
    requests of one phase in parallel, and waits until each object of a phase is gone before
    the next phase (as kubernetes.core.k8s C(state=absent) with C(wait=true) did object by
    object). An object that does not exist is left alone.
  - In check mode, reports what exists and would be deleted, and deletes nothing.
options:
  objects:
    description: The rendered objects of the components (Secret values redacted); their identities are deleted.
    type: list
    elements: dict
    required: true
  keep_kinds:
    description: Kinds never deleted (the data, and the namespaces with what they hold).
    type: list
    elements: str
    default: [PersistentVolumeClaim, Namespace, TenantNamespace]
  settings_hint:
    description: Where the user sets the connection (named in error messages).
    type: str
    default: the vars file
  timeout:
    description: Seconds the deleted objects get to be gone, all phases together.
    type: int
    default: 600
  parallel:
    description: Requests at a time within a phase.
    type: int
    default: 8
extends_documentation_fragment: [kubernetes.core.k8s_auth_options, packit.deployment.checks.foreign]
notes:
  - One module run where a loop of kubernetes.core.k8s made one per object, plus one each for
    the permissions and the foreign objects.
"""

EXAMPLES = r"""
- name: Delete the objects of redis, keeping its claim
  packit.deployment.delete:
    objects: "{{ rendered_objects }}"
    settings_hint: vars/packit/stg.yml
    command_hint: make adopt SERVICE=packit DEPLOYMENT=stg
"""

RETURN = r"""
deleted:
  description: The objects deleted (kind/name), or in check mode those that would be, in the order deleted.
  type: list
  elements: str
  returned: success
user: {description: The identity the token authenticates as., type: str, returned: success}
"""

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ansible_collections.packit.deployment.plugins.module_utils.access import connect_as, review_access
from ansible_collections.packit.deployment.plugins.module_utils.foreign import FOREIGN_ARGS, read_foreign, refuse_foreign
from ansible_collections.packit.deployment.plugins.module_utils.k8s import (
    CLUSTER_ERRORS, K8sError, api_message, get, resource, run, status_of)
from ansible_collections.packit.deployment.plugins.module_utils.manifests import phases, refs

ARGUMENT_SPEC = {
    "objects": {"type": "list", "elements": "dict", "required": True},
    "keep_kinds": {"type": "list", "elements": "str", "default": ["PersistentVolumeClaim", "Namespace", "TenantNamespace"]},
    "settings_hint": {"type": "str", "default": "the vars file"},
    **FOREIGN_ARGS,
    "timeout": {"type": "int", "default": 600},
    "parallel": {"type": "int", "default": 8},
}


def label(ref: dict[str, Any]) -> str:
    return f"{ref['kind']}/{ref['name']}"


def deletion_order(objects: list[dict[str, Any]], keep_kinds: list[str]) -> list[list[dict[str, Any]]]:
    """The identities to delete, grouped by phase in the reverse order of the apply."""
    targets = [r for r in refs(objects) if r["kind"] not in keep_kinds]
    return list(reversed(phases(targets)))


def exists(dyn, ref: dict[str, Any]) -> bool:
    return get(dyn, ref["apiVersion"], ref["kind"], ref["namespace"] or None, ref["name"]) is not None


def delete_one(dyn, ref: dict[str, Any], check_mode: bool) -> bool:
    """Whether the object existed (and, outside check mode, is being deleted)."""
    if check_mode:
        return exists(dyn, ref)
    try:
        resource(dyn, ref["apiVersion"], ref["kind"]).delete(name=ref["name"], namespace=ref["namespace"] or None)
        return True
    except CLUSTER_ERRORS as exc:  # "not found" is the answer; the rest is a failure
        if status_of(exc) == 404:
            return False
        where = f" in {ref['namespace']}" if ref["namespace"] else ""
        raise K8sError(f"{ref['kind']} {ref['name']}{where} was not deleted: {api_message(exc)}") from exc


def delete(module, _client) -> dict[str, Any]:
    p = module.params
    dyn = connect_as(p, p["settings_hint"])
    groups = deletion_order(p["objects"], p["keep_kinds"])
    checked = review_access(dyn, [r for group in groups for r in group], ["get", "delete"], p["settings_hint"])
    _dyn, foreign = read_foreign({}, p["objects"], p["managed_by"], dyn=dyn)
    refuse_foreign(foreign, p["command_hint"])
    for group in groups:  # discovery before the threads: its cache is not shared safely between them
        for ref in group:
            resource(dyn, ref["apiVersion"], ref["kind"])
    deadline = time.monotonic() + p["timeout"]
    deleted: list[str] = []
    with ThreadPoolExecutor(max_workers=max(1, p["parallel"])) as pool:
        for group in groups:
            gone = [ref for ref, did in zip(group, pool.map(lambda r: delete_one(dyn, r, module.check_mode), group))
                    if did]
            deleted += [label(ref) for ref in gone]
            # Each phase is gone before the next: the workloads before what their pods use.
            while gone and not module.check_mode:
                gone = [ref for ref, there in zip(gone, pool.map(lambda r: exists(dyn, r), gone)) if there]
                if gone and time.monotonic() > deadline:
                    raise K8sError(f"still there {p['timeout']}s after the delete: "
                                   + ", ".join(label(r) for r in gone), deleted=deleted)
                if gone:
                    time.sleep(0.5)
    return {"changed": bool(deleted), "deleted": deleted, "user": checked["user"]}


def main() -> None:
    run(ARGUMENT_SPEC, delete, connected=False)


if __name__ == "__main__":
    main()

#!/usr/bin/python
"""List the revisions a workload can go back to."""
from __future__ import annotations

DOCUMENTATION = r"""
module: workload_history
short_description: Revisions of a Deployment, StatefulSet or DeploymentConfig
author: Packit team (@packit)
description:
  - Deployment revisions come from its ReplicaSets (annotation deployment.kubernetes.io/revision),
    StatefulSet revisions from its ControllerRevisions, DeploymentConfig revisions from its
    ReplicationControllers. Also reports, per image trigger, the stream tag and whether it is pinned.
  - Only reads; never changed.
extends_documentation_fragment: [kubernetes.core.k8s_auth_options, packit.deployment.workload]
notes:
  - A module of its own because one list spans three kinds (ReplicaSets, ControllerRevisions,
    ReplicationControllers) and the pin record of workload_rollback.
"""

EXAMPLES = r"""
- name: Show the revisions packit-service can go back to
  packit.deployment.workload_history:
    namespace: packit-stg
    workload: packit-service
  register: history
"""

RETURN = r"""
kind: {description: Kind of the workload., type: str, returned: success, sample: StatefulSet}
revisions:
  description: Revisions, oldest first (revision, images by container, created, current, source).
  type: list
  elements: dict
  returned: success
triggers:
  description: Image triggers (stream, tag, container, automatic) with the image the tag resolves to and whether it is pinned.
  type: list
  elements: dict
  returned: success
lines: {description: The same as a table for people., type: list, elements: str, returned: success}
"""

from ansible_collections.packit.deployment.plugins.module_utils.images import PINNED_FROM, stream_tag
from ansible_collections.packit.deployment.plugins.module_utils.k8s import NAMESPACE_ARG, get, run
from ansible_collections.packit.deployment.plugins.module_utils.workloads import find_workload, history, image_triggers


def revisions_of(module, client) -> dict:
    p = module.params
    obj = find_workload(client, p["namespace"], p["workload"])
    revisions = history(client, obj)
    triggers = []
    for trigger in image_triggers(obj):
        stream = get(client, "image.openshift.io/v1", "ImageStream", p["namespace"], trigger["stream"]) or {}
        entry, image = stream_tag(stream, trigger["tag"]) if stream else (None, "")
        notes = (entry or {}).get("annotations") or {}
        triggers.append(dict(trigger, stream_image=image, pinned=PINNED_FROM in notes))
    lines = [f"{obj['kind']} {p['workload']}: {len(revisions)} revision(s)"]
    for rev in revisions:
        images = ", ".join(f"{c}={i}" for c, i in rev["images"].items())
        lines.append(f"{'*' if rev['current'] else ' '} {rev['revision']:>4}  {rev['created'] or '-':<20}  {images}")
    for t in triggers:
        state = "pinned" if t["pinned"] else ("following" if t["automatic"] else "trigger paused")
        lines.append(f"  trigger {t['stream']}:{t['tag']} -> container {t['container']} ({state}: {t['stream_image']})")
    return {"changed": False, "kind": obj["kind"], "revisions": revisions, "triggers": triggers, "lines": lines}


def main() -> None:
    run(dict(NAMESPACE_ARG, workload={"type": "str", "required": True, "aliases": ["component"]}), revisions_of)


if __name__ == "__main__":
    main()

#!/usr/bin/python
"""Return a rolled-back workload to following its image streams."""
from __future__ import annotations

DOCUMENTATION = r"""
module: image_unpin
short_description: Undo the pin that packit.deployment.workload_rollback put on a workload's stream tags
author: Packit team (@packit)
description:
  - For each image trigger of the workload, restores the stream tag's recorded C(from) and
    importPolicy (tag annotations packit.dev/pinned-*) and removes the record.
  - For a DeploymentConfig also turns the automatic flag of its ImageChange triggers back on.
  - A workload that is not pinned reports no change.
extends_documentation_fragment: [kubernetes.core.k8s_auth_options, packit.deployment.workload]
notes:
  - A module of its own because the pin is this collection's (workload_rollback records the
    followed reference in tag annotations); no kubernetes.core module knows that record.
"""

EXAMPLES = r"""
- name: Let packit-worker follow its image streams again
  packit.deployment.image_unpin:
    namespace: packit-stg
    workload: packit-worker
"""

RETURN = r"""
kind: {description: Kind of the workload., type: str, returned: success, sample: Deployment}
tags:
  description: One entry per stream tag of the workload's triggers (stream, tag, changed, following).
  type: list
  elements: dict
  returned: success
msg: {description: One line saying what each tag follows now., type: str, returned: success}
"""

import json

from ansible_collections.packit.deployment.plugins.module_utils.images import unpin_tag
from ansible_collections.packit.deployment.plugins.module_utils.k8s import NAMESPACE_ARG, patch, run
from ansible_collections.packit.deployment.plugins.module_utils.workloads import find_workload, image_triggers


def unpin(module, client) -> dict:
    p = module.params
    obj = find_workload(client, p["namespace"], p["workload"])
    seen, tags = set(), []
    for t in image_triggers(obj):
        if (t["stream"], t["tag"]) not in seen:
            seen.add((t["stream"], t["tag"]))
            tags.append(unpin_tag(client, p["namespace"], t["stream"], t["tag"], module.check_mode))
    changed = any(t["changed"] for t in tags)
    if obj["kind"] == "DeploymentConfig":
        triggers = json.loads(json.dumps(obj["spec"].get("triggers") or []))
        for trigger in triggers:
            if trigger.get("type") == "ImageChange":
                trigger.setdefault("imageChangeParams", {})["automatic"] = True
        if triggers != (obj["spec"].get("triggers") or []):
            changed = True
            if not module.check_mode:
                patch(client, obj, {"spec": {"triggers": triggers}})
    follows = ", ".join(f"{t['stream']}:{t['tag']} follows {t['following']}" for t in tags) or "no image triggers"
    return {"changed": changed, "kind": obj["kind"], "tags": tags, "msg": f"{obj['kind']} {p['workload']}: {follows}"}


def main() -> None:
    run(dict(NAMESPACE_ARG, workload={"type": "str", "required": True, "aliases": ["component"]}), unpin)


if __name__ == "__main__":
    main()

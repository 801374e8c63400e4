#!/usr/bin/python
"""Return a rolled-back workload to following its image streams."""
from __future__ import annotations

DOCUMENTATION = r"""
module: day2_unpin
short_description: Undo the pin that day2_rollback put on a workload's stream tags
description:
  - For each image trigger of the workload, restores the stream tag's recorded C(from) and
    importPolicy (tag annotations packit.dev/pinned-*) and removes the record.
  - For a DeploymentConfig also turns the automatic flag of its ImageChange triggers back on.
  - A workload that is not pinned reports no change.
options:
  namespace: {description: Namespace., type: str, required: true}
  component: {description: Workload name., type: str, required: true}
extends_documentation_fragment: [packit_k8s]
"""

import json

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.day2_k8s import (
    CONNECTION_ARGS, HAS_K8S, one_line, Day2Error, connect, find_workload, image_triggers, patch, unpin_tag,
)


def main() -> None:
    module = AnsibleModule(argument_spec=dict(CONNECTION_ARGS, component={"type": "str", "required": True}),
                           supports_check_mode=True)
    if not HAS_K8S:
        module.fail_json(msg=missing_required_lib("kubernetes"))
    p = module.params
    try:
        client = connect(p)
        obj = find_workload(client, p["namespace"], p["component"])
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
    except Exception as exc:  # noqa: BLE001 - every failure becomes one line
        module.fail_json(msg=one_line(exc))
    follows = ", ".join(f"{t['stream']}:{t['tag']} follows {t['following']}" for t in tags) or "no image triggers"
    module.exit_json(changed=changed, kind=obj["kind"], tags=tags, msg=f"{obj['kind']} {p['component']}: {follows}")


if __name__ == "__main__":
    main()

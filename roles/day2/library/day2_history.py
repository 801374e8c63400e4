#!/usr/bin/python
"""List the revisions a workload can go back to."""
from __future__ import annotations

DOCUMENTATION = r"""
module: day2_history
short_description: Revisions of a Deployment, StatefulSet or DeploymentConfig
description:
  - Deployment revisions come from its ReplicaSets (annotation deployment.kubernetes.io/revision),
    StatefulSet revisions from its ControllerRevisions, DeploymentConfig revisions from its
    ReplicationControllers. Also reports, per image trigger, the stream tag and whether it is pinned.
  - Only reads; never changed.
options:
  namespace: {description: Namespace., type: str, required: true}
  component: {description: Workload name., type: str, required: true}
extends_documentation_fragment: [packit_k8s]
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.day2_k8s import (
    CONNECTION_ARGS, HAS_K8S, one_line, PINNED_FROM, Day2Error, connect, find_workload, get, history, image_triggers, stream_tag,
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
        revisions = history(client, obj)
        triggers = []
        for trigger in image_triggers(obj):
            stream = get(client, "image.openshift.io/v1", "ImageStream", p["namespace"], trigger["stream"]) or {}
            entry, image = stream_tag(stream, trigger["tag"]) if stream else (None, "")
            notes = (entry or {}).get("annotations") or {}
            triggers.append(dict(trigger, stream_image=image, pinned=PINNED_FROM in notes))
    except Exception as exc:  # noqa: BLE001 - every failure becomes one line
        module.fail_json(msg=one_line(exc))
    lines = [f"{obj['kind']} {p['component']}: {len(revisions)} revision(s)"]
    for rev in revisions:
        images = ", ".join(f"{c}={i}" for c, i in rev["images"].items())
        lines.append(f"{'*' if rev['current'] else ' '} {rev['revision']:>4}  {rev['created'] or '-':<20}  {images}")
    for t in triggers:
        state = "pinned" if t["pinned"] else ("following" if t["automatic"] else "trigger paused")
        lines.append(f"  trigger {t['stream']}:{t['tag']} -> container {t['container']} ({state}: {t['stream_image']})")
    module.exit_json(changed=False, kind=obj["kind"], revisions=revisions, triggers=triggers, lines=lines)


if __name__ == "__main__":
    main()

#!/usr/bin/python
"""Roll a workload back to an earlier revision through the API."""
from __future__ import annotations

DOCUMENTATION = r"""
module: day2_rollback
short_description: Roll back a Deployment, StatefulSet or DeploymentConfig
description:
  - Deployment or StatefulSet with image triggers (the image.openshift.io/triggers annotation) - pins
    the stream tags of its triggers to the images of the earlier ReplicaSet or ControllerRevision
    (spec.tags from set to that image, importPolicy.scheduled false, the old values kept in tag
    annotations packit.dev/pinned-*), and sets those images on the pod template so the rollback
    happens now. Only the images go back. A rollback of the template alone would not last, as the
    image trigger controller sets the stream's current image again within a second.
    C(day2_unpin) returns the tags to following the registry.
  - Deployment without image triggers - replaces spec.template with the pod template of the
    ReplicaSet of I(revision) (default the one before the current), dropping only the
    pod-template-hash label.
  - DeploymentConfig - restores spec.template from the ReplicationController of I(revision)
    (its openshift.io/encoded-deployment-config annotation, else its template without the
    deployment's own labels) and turns the automatic flag of ImageChange triggers off, as the
    DeploymentConfig rollback API does; C(day2_unpin) turns them back on. Fails when no earlier
    ReplicationController is recorded.
  - Rolling back to the template already in place reports no change.
options:
  namespace: {description: Namespace., type: str, required: true}
  component: {description: Workload name., type: str, required: true}
  revision: {description: Revision to go back to; 0 means the one before the current., type: int, default: 0}
extends_documentation_fragment: [packit_k8s]
"""

import json

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.day2_k8s import (
    CONNECTION_ARGS, HAS_K8S, one_line, Day2Error, connect, dc_template_of, find_workload, history, image_triggers, patch,
    pin_tag, replica_sets, controller_revisions, dc_deployments, revision_of, REVISION_ANNOTATION, DC_VERSION_ANNOTATION,
)


def pick(revisions: list[dict], wanted: int, what: str) -> dict:
    """The revision asked for, or the newest one older than the current."""
    current = next((r["revision"] for r in revisions if r["current"]), max((r["revision"] for r in revisions), default=0))
    if wanted:
        found = next((r for r in revisions if r["revision"] == wanted), None)
        if found is None:
            known = ", ".join(str(r["revision"]) for r in revisions) or "none"
            raise Day2Error(f"{what}: no revision {wanted} (available: {known})")
        return found
    older = [r for r in revisions if r["revision"] < current]
    if not older:
        raise Day2Error(f"{what}: no revision before the current one ({current}) is recorded; nothing to roll back to")
    return older[-1]


def same(a: dict, b: dict) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def replace_template(client, obj: dict, template: dict, check_mode: bool, extra: list | None = None) -> None:
    ops = [{"op": "test", "path": "/metadata/resourceVersion", "value": obj["metadata"]["resourceVersion"]},
           {"op": "replace", "path": "/spec/template", "value": template}] + (extra or [])
    if not check_mode:
        patch(client, obj, ops, content_type="application/json-patch+json")


def rollback_deployment(client, obj: dict, revision: int, check_mode: bool) -> dict:
    if image_triggers(obj):
        return rollback_pinned(client, obj, revision, check_mode)
    what = f"Deployment {obj['metadata']['name']}"
    target = pick(history(client, obj), revision, what)
    rs = next(r for r in replica_sets(client, obj) if revision_of(r, REVISION_ANNOTATION) == target["revision"])
    template = json.loads(json.dumps(rs["spec"]["template"]))
    (template.get("metadata") or {}).get("labels", {}).pop("pod-template-hash", None)
    if same(template, obj["spec"]["template"]):
        return {"changed": False, "revision": target["revision"], "msg": f"{what} already runs the template of revision {target['revision']}"}
    replace_template(client, obj, template, check_mode)
    return {"changed": True, "revision": target["revision"], "images": target["images"],
            "msg": f"{what} rolled back to the template of revision {target['revision']}"}


def rollback_pinned(client, obj: dict, revision: int, check_mode: bool) -> dict:
    name = obj["metadata"]["name"]
    what = f"{obj['kind']} {name}"
    triggers = image_triggers(obj)
    if not triggers:
        raise Day2Error(f"{what}: no {'image.openshift.io/triggers'} annotation, so no stream tag to pin")
    revisions = history(client, obj)
    current_images = {c["name"]: c.get("image") for c in obj["spec"]["template"]["spec"]["containers"]}
    if revision:
        target = pick(revisions, revision, what)
    else:
        # the newest earlier revision whose triggered images differ from what runs now
        current = next((r["revision"] for r in revisions if r["current"]), 0)
        # Revisions from before the trigger resolved the stream (a tag reference, not a
        # digest) name no image to pin to.
        older = [r for r in revisions if r["revision"] < current
                 and all("@" in (r["images"].get(t["container"]) or "") for t in triggers)
                 and any(r["images"].get(t["container"]) != current_images.get(t["container"]) for t in triggers)]
        if not older:
            raise Day2Error(f"{what}: no earlier revision ran a different image; give REVISION (see make history)")
        target = older[-1]
    pins, template = [], json.loads(json.dumps(obj["spec"]["template"]))
    for t in triggers:
        image = target["images"].get(t["container"])
        if not image:
            raise Day2Error(f"{what}: revision {target['revision']} has no container {t['container']}")
        if "@" not in image:
            raise Day2Error(f"{what}: revision {target['revision']} ran {image}, not an image digest; "
                            "nothing to pin the stream to")
        pins.append(pin_tag(client, obj["metadata"]["namespace"], t["stream"], t["tag"], image, check_mode))
        for c in template["spec"]["containers"]:
            if c["name"] == t["container"]:
                c["image"] = image
    changed = any(p["changed"] for p in pins)
    if not same(template, obj["spec"]["template"]):
        replace_template(client, obj, template, check_mode)
        changed = True
    pinned = ", ".join(f"{p['stream']}:{p['tag']}={p['pinned_to']}" for p in pins)
    return {"changed": changed, "revision": target["revision"], "pins": pins, "images": target["images"],
            "msg": f"{what} pinned {pinned} (revision {target['revision']}); `make unpin COMPONENT={name}` follows the registry again"}


def rollback_deploymentconfig(client, obj: dict, revision: int, check_mode: bool) -> dict:
    name = obj["metadata"]["name"]
    what = f"DeploymentConfig {name}"
    revisions = history(client, obj)
    if not revisions:
        raise Day2Error(f"{what}: no ReplicationController records an earlier deployment; cannot roll back")
    target = pick(revisions, revision, what)
    rc = next(r for r in dc_deployments(client, obj) if revision_of(r, DC_VERSION_ANNOTATION) == target["revision"])
    template = dc_template_of(rc)
    triggers = json.loads(json.dumps(obj["spec"].get("triggers") or []))
    for trigger in triggers:
        if trigger.get("type") == "ImageChange":
            # automatic: false is the default, which the API server stores as an absent key
            trigger.setdefault("imageChangeParams", {}).pop("automatic", None)
    if same(template, obj["spec"]["template"]) and same(triggers, obj["spec"].get("triggers") or []):
        return {"changed": False, "revision": target["revision"], "msg": f"{what} already runs the template of revision {target['revision']}"}
    replace_template(client, obj, template, check_mode,
                     [{"op": "replace" if "triggers" in obj["spec"] else "add", "path": "/spec/triggers", "value": triggers}])
    return {"changed": True, "revision": target["revision"], "images": target["images"],
            "msg": f"{what} rolled back to revision {target['revision']}; image triggers paused until `make unpin COMPONENT={name}`"}


def main() -> None:
    spec = dict(CONNECTION_ARGS, component={"type": "str", "required": True}, revision={"type": "int", "default": 0})
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    if not HAS_K8S:
        module.fail_json(msg=missing_required_lib("kubernetes"))
    p = module.params
    try:
        client = connect(p)
        obj = find_workload(client, p["namespace"], p["component"])
        handler = {"Deployment": rollback_deployment, "StatefulSet": rollback_pinned,
                   "DeploymentConfig": rollback_deploymentconfig}[obj["kind"]]
        result = handler(client, obj, p["revision"], module.check_mode)
    except Exception as exc:  # noqa: BLE001 - every failure becomes one line
        module.fail_json(msg=one_line(exc))
    module.exit_json(kind=obj["kind"], **result)


if __name__ == "__main__":
    main()

#!/usr/bin/python
"""Roll a workload back to an earlier revision through the API."""
from __future__ import annotations

DOCUMENTATION = r"""
module: workload_rollback
short_description: Roll back a Deployment, StatefulSet or DeploymentConfig
author: Packit team (@packit)
description:
  - Deployment or StatefulSet with image triggers (the image.openshift.io/triggers annotation) - pins
    the stream tags of its triggers to the images of the earlier ReplicaSet or ControllerRevision
    (spec.tags from set to that image, importPolicy.scheduled false, the old values kept in tag
    annotations packit.dev/pinned-*), and sets those images on the pod template so the rollback
    happens now. Only the images go back. A rollback of the template alone would not last, as the
    image trigger controller sets the stream's current image again within a second.
    M(packit.deployment.image_unpin) returns the tags to following the registry.
  - Deployment without image triggers - replaces spec.template with the pod template of the
    ReplicaSet of I(revision) (default the one before the current), dropping only the
    pod-template-hash label.
  - DeploymentConfig - restores spec.template from the ReplicationController of I(revision)
    (its openshift.io/encoded-deployment-config annotation, else its template without the
    deployment's own labels) and turns the automatic flag of ImageChange triggers off, as the
    DeploymentConfig rollback API does; M(packit.deployment.image_unpin) turns them back on. Fails when no earlier
    ReplicationController is recorded.
  - Rolling back to the template already in place reports no change.
options:
  revision: {description: Revision to go back to; 0 means the one before the current., type: int, default: 0}
extends_documentation_fragment: [kubernetes.core.k8s_auth_options, packit.deployment.workload]
notes:
  - kubernetes.core.k8s_rollback rolls back a Deployment's template only; with image triggers the
    trigger controller would put the stream's image back within a second, so this module pins the
    stream tags too, and it covers StatefulSets and DeploymentConfigs.
"""

EXAMPLES = r"""
- name: Roll packit-service back to the revision before the current one
  packit.deployment.workload_rollback:
    namespace: packit-stg
    workload: packit-service

- name: Roll the dashboard back to revision 3 (see packit.deployment.workload_history)
  packit.deployment.workload_rollback:
    namespace: packit-stg
    workload: packit-dashboard
    revision: 3
"""

RETURN = r"""
kind: {description: Kind of the workload., type: str, returned: success, sample: Deployment}
revision: {description: The revision rolled back to., type: int, returned: success}
images: {description: Images of that revision by container., type: dict, returned: when changed}
pins:
  description: Stream tags pinned to those images (stream, tag, pinned_to, following, changed).
  type: list
  elements: dict
  returned: for workloads with image triggers
msg: {description: One line saying what happened and how to undo it., type: str, returned: success}
"""

import json
import time

from ansible_collections.packit.deployment.plugins.module_utils.images import pin_tag
from ansible_collections.packit.deployment.plugins.module_utils.k8s import (
    NAMESPACE_ARG, K8sError, get, patch, run, status_of,
)
from ansible_collections.packit.deployment.plugins.module_utils.workloads import (
    DC_VERSION_ANNOTATION, REVISION_ANNOTATION, dc_deployments, dc_template_of, find_workload, history, image_triggers,
    replica_sets, revision_of,
)


TEMPLATE_ATTEMPTS = 5


def pick(revisions: list[dict], wanted: int, what: str) -> dict:
    """The revision asked for, or the newest one older than the current."""
    current = next((r["revision"] for r in revisions if r["current"]), max((r["revision"] for r in revisions), default=0))
    if wanted:
        found = next((r for r in revisions if r["revision"] == wanted), None)
        if found is None:
            known = ", ".join(str(r["revision"]) for r in revisions) or "none"
            raise K8sError(f"{what}: no revision {wanted} (available: {known})")
        return found
    older = [r for r in revisions if r["revision"] < current]
    if not older:
        raise K8sError(f"{what}: no revision before the current one ({current}) is recorded; nothing to roll back to")
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


def pinnable(revision: dict, triggers: list[dict]) -> list[dict]:
    """The triggers a revision can pin: those whose container it ran, by image digest. A
    container the revision did not have (a sidecar added since) keeps following its stream."""
    return [t for t in triggers if "@" in (revision["images"].get(t["container"]) or "")]


def rollback_pinned(client, obj: dict, revision: int, check_mode: bool) -> dict:
    name = obj["metadata"]["name"]
    what = f"{obj['kind']} {name}"
    triggers = image_triggers(obj)
    if not triggers:
        raise K8sError(f"{what}: no {'image.openshift.io/triggers'} annotation, so no stream tag to pin")
    revisions = history(client, obj)
    current_images = {c["name"]: c.get("image") for c in obj["spec"]["template"]["spec"]["containers"]}
    if revision:
        target = pick(revisions, revision, what)
    else:
        # the newest earlier revision whose triggered images differ from what runs now
        current = next((r["revision"] for r in revisions if r["current"]), 0)
        # Revisions from before the trigger resolved the stream (a tag reference, not a
        # digest) name no image to pin to.
        older = [r for r in revisions if r["revision"] < current and pinnable(r, triggers)
                 and any(r["images"][t["container"]] != current_images.get(t["container"]) for t in pinnable(r, triggers))]
        if not older:
            raise K8sError(f"{what}: no earlier revision ran a different image; give REVISION (see make history)")
        target = older[-1]
    pins, images = [], {}
    ran = [t for t in triggers if target["images"].get(t["container"])]
    if not ran:
        raise K8sError(f"{what}: revision {target['revision']} ran none of the containers "
                       f"{', '.join(t['container'] for t in triggers)}")
    for t in ran:
        image = target["images"][t["container"]]
        if "@" not in image:
            raise K8sError(f"{what}: revision {target['revision']} ran {image}, not an image digest; "
                           "nothing to pin the stream to")
        pins.append(pin_tag(client, obj["metadata"]["namespace"], t["stream"], t["tag"], image, check_mode))
        images[t["container"]] = image
    changed = any(p["changed"] for p in pins)
    # The pin moves the stream tag, and the image trigger controller may write the workload
    # (with the same images) between our read and our patch: its resourceVersion test then
    # fails (422, or 409), and the patch is made again on the workload as it is now.
    for attempt in range(1, TEMPLATE_ATTEMPTS + 1):
        template = json.loads(json.dumps(obj["spec"]["template"]))
        for c in template["spec"]["containers"]:
            c["image"] = images.get(c["name"], c.get("image"))
        if same(template, obj["spec"]["template"]):
            break
        try:
            replace_template(client, obj, template, check_mode)
            changed = True
            break
        except K8sError as exc:
            if attempt == TEMPLATE_ATTEMPTS or status_of(exc.__cause__) not in (409, 422):
                raise
            time.sleep(0.5 * attempt)
            obj = get(client, obj["apiVersion"], obj["kind"], obj["metadata"]["namespace"], name) or obj
    pinned = ", ".join(f"{p['stream']}:{p['tag']}={p['pinned_to']}" for p in pins)
    return {"changed": changed, "revision": target["revision"], "pins": pins, "images": target["images"],
            "msg": f"{what} pinned {pinned} (revision {target['revision']}); `make unpin WORKLOAD={name}` follows the registry again"}


def rollback_deploymentconfig(client, obj: dict, revision: int, check_mode: bool) -> dict:
    name = obj["metadata"]["name"]
    what = f"DeploymentConfig {name}"
    revisions = history(client, obj)
    if not revisions:
        raise K8sError(f"{what}: no ReplicationController records an earlier deployment; cannot roll back")
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
            "msg": f"{what} rolled back to revision {target['revision']}; image triggers paused until `make unpin WORKLOAD={name}`"}


def rollback(module, client) -> dict:
    p = module.params
    obj = find_workload(client, p["namespace"], p["workload"])
    handler = {"Deployment": rollback_deployment, "StatefulSet": rollback_pinned,
               "DeploymentConfig": rollback_deploymentconfig}[obj["kind"]]
    return dict(handler(client, obj, p["revision"], module.check_mode), kind=obj["kind"])


def main() -> None:
    run(dict(NAMESPACE_ARG, workload={"type": "str", "required": True, "aliases": ["component"]},
             revision={"type": "int", "default": 0}), rollback)


if __name__ == "__main__":
    main()

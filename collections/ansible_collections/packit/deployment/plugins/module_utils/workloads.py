"""Workloads (Deployment, StatefulSet, DeploymentConfig): lookup, image triggers, revisions, and
the one definition of "rolled out" that both the deploy's wait and the status table use."""
from __future__ import annotations

import json
from typing import Any

from ansible_collections.packit.deployment.plugins.module_utils.k8s import K8sError, get, list_objects

TRIGGERS_ANNOTATION = "image.openshift.io/triggers"
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
REVISION_ANNOTATION = "deployment.kubernetes.io/revision"
DC_NAME_LABEL = "openshift.io/deployment-config.name"
DC_VERSION_ANNOTATION = "openshift.io/deployment-config.latest-version"
DC_ENCODED_ANNOTATION = "openshift.io/encoded-deployment-config"

WORKLOAD_KINDS = (
    ("apps/v1", "Deployment"),
    ("apps/v1", "StatefulSet"),
    ("apps.openshift.io/v1", "DeploymentConfig"),
)
# What a workload's revisions are kept in (replica_sets, controller_revisions, dc_deployments).
ROLLOUT_KINDS = (("apps/v1", "ReplicaSet"), ("apps/v1", "ControllerRevision"), ("v1", "ReplicationController"))


def list_workloads(client, namespace: str, selector: str = "") -> list[dict[str, Any]]:
    """The Deployments, StatefulSets and DeploymentConfigs (where the cluster serves them) of the
    namespace that match the label selector."""
    return [obj for api_version, kind in WORKLOAD_KINDS
            for obj in list_objects(client, api_version, kind, namespace, selector, required=kind != "DeploymentConfig")]


def rollout_state(obj: dict[str, Any]) -> tuple[int, int, bool]:
    """(ready, desired, rolled out) of a workload.

    Rolled out: the controller has observed the latest generation, and every replica runs that
    template and is ready (and available). Stricter than "available == replicas": during a
    Recreate rollout the old pod can still count as available while the new one is Pending, so
    the updated count is checked too. A DeploymentConfig with replicas also needs its
    Available condition.
    """
    meta, spec, status = obj.get("metadata") or {}, obj.get("spec") or {}, obj.get("status") or {}
    desired = int(spec["replicas"] if spec.get("replicas") is not None else 1)
    ready = int(status.get("readyReplicas") or 0)
    updated = int(status.get("updatedReplicas") or 0)
    available = int(status.get("availableReplicas") or 0)
    observed = int(status.get("observedGeneration") or 0) >= int(meta.get("generation") or 0)
    kind = obj.get("kind")
    if kind == "Deployment":
        done = (updated == desired and int(status.get("replicas") or 0) == desired and available == desired
                and ready == desired and not status.get("unavailableReplicas"))
    elif kind == "StatefulSet":
        done = ready == desired and updated == desired and status.get("currentRevision") == status.get("updateRevision")
    elif kind == "DeploymentConfig":
        condition = any(c.get("type") == "Available" and c.get("status") == "True"
                        for c in status.get("conditions") or [])
        done = (condition or desired == 0) and updated == desired and available == desired and ready == desired
    else:
        done = False
    return ready, desired, observed and done


def rolled_out(obj: dict[str, Any]) -> bool:
    return rollout_state(obj)[2]


def get_workload(client, namespace: str, name: str) -> dict[str, Any] | None:
    """The Deployment, StatefulSet or DeploymentConfig of that name, or None."""
    for api_version, kind in WORKLOAD_KINDS:
        obj = get(client, api_version, kind, namespace, name)
        if obj is not None:
            return obj
    return None


def find_workload(client, namespace: str, name: str) -> dict[str, Any]:
    obj = get_workload(client, namespace, name)
    if obj is not None:
        return obj
    raise K8sError(f"component {name}: no Deployment, StatefulSet or DeploymentConfig of that name in {namespace}")


def image_triggers(obj: dict[str, Any]) -> list[dict[str, str]]:
    """The workload's image triggers as [{stream, tag, container, automatic}]."""
    found = []
    if obj["kind"] == "DeploymentConfig":
        for trigger in obj.get("spec", {}).get("triggers") or []:
            params = trigger.get("imageChangeParams") or {}
            if trigger.get("type") != "ImageChange" or not params.get("from", {}).get("name"):
                continue
            stream, _colon, tag = params["from"]["name"].partition(":")
            for container in params.get("containerNames") or []:
                found.append(
                    {"stream": stream, "tag": tag or "latest", "container": container,
                     "automatic": bool(params.get("automatic", False))}
                )
        return found
    raw = (obj["metadata"].get("annotations") or {}).get(TRIGGERS_ANNOTATION)
    if not raw:
        return found
    try:
        triggers = json.loads(raw)
    except ValueError as exc:
        raise K8sError(f"{obj['kind']} {obj['metadata']['name']}: annotation {TRIGGERS_ANNOTATION} is not valid JSON") from exc
    for trigger in triggers:
        source = trigger.get("from") or {}
        if source.get("kind") != "ImageStreamTag":
            continue
        stream, _colon, tag = source.get("name", "").partition(":")
        field = trigger.get("fieldPath", "")
        container = field.split('==\\"', 1)[-1].split('\\"', 1)[0] if '==\\"' in field else ""
        if not container and '=="' in field:
            container = field.split('=="', 1)[1].split('"', 1)[0]
        found.append({"stream": stream, "tag": tag or "latest", "container": container,
                      "automatic": str(trigger.get("paused", "false")).lower() != "true"})
    return found


def container_images(template: dict[str, Any]) -> dict[str, str]:
    return {c["name"]: c.get("image", "") for c in (template.get("spec") or {}).get("containers") or []}


def owned_by(items: list[dict[str, Any]], owner: dict[str, Any]) -> list[dict[str, Any]]:
    uid = owner["metadata"]["uid"]
    return [i for i in items if any(r.get("uid") == uid for r in i["metadata"].get("ownerReferences") or [])]


def revision_of(obj: dict[str, Any], annotation: str) -> int:
    try:
        return int((obj["metadata"].get("annotations") or {}).get(annotation, "0"))
    except ValueError:
        return 0


def replica_sets(client, deploy: dict[str, Any]) -> list[dict[str, Any]]:
    items = owned_by(list_objects(client, "apps/v1", "ReplicaSet", deploy["metadata"]["namespace"]), deploy)
    return sorted(items, key=lambda rs: revision_of(rs, REVISION_ANNOTATION))


def controller_revisions(client, sts: dict[str, Any]) -> list[dict[str, Any]]:
    items = owned_by(list_objects(client, "apps/v1", "ControllerRevision", sts["metadata"]["namespace"]), sts)
    return sorted(items, key=lambda cr: int(cr.get("revision") or 0))


def dc_deployments(client, dc: dict[str, Any]) -> list[dict[str, Any]]:
    meta = dc["metadata"]
    items = list_objects(client, "v1", "ReplicationController", meta["namespace"], f"{DC_NAME_LABEL}={meta['name']}")
    return sorted(items, key=lambda rc: revision_of(rc, DC_VERSION_ANNOTATION))


def history(client, obj: dict[str, Any]) -> list[dict[str, Any]]:
    """Revisions of a workload, oldest first: [{revision, images, created, current, source}]."""
    kind = obj["kind"]
    revisions = []
    if kind == "Deployment":
        current = revision_of(obj, REVISION_ANNOTATION)
        for rs in replica_sets(client, obj):
            rev = revision_of(rs, REVISION_ANNOTATION)
            revisions.append({"revision": rev, "images": container_images(rs["spec"]["template"]),
                              "created": rs["metadata"].get("creationTimestamp"), "current": rev == current,
                              "source": f"ReplicaSet/{rs['metadata']['name']}"})
    elif kind == "StatefulSet":
        update = (obj.get("status") or {}).get("updateRevision")
        crs = controller_revisions(client, obj)
        for cr in crs:
            template = (cr.get("data") or {}).get("spec", {}).get("template", {})
            revisions.append({"revision": int(cr.get("revision") or 0), "images": container_images(template),
                              "created": cr["metadata"].get("creationTimestamp"),
                              "current": cr["metadata"]["name"] == update if update else cr is crs[-1],
                              "source": f"ControllerRevision/{cr['metadata']['name']}"})
    else:
        latest = int((obj.get("status") or {}).get("latestVersion") or 0)
        for rc in dc_deployments(client, obj):
            rev = revision_of(rc, DC_VERSION_ANNOTATION)
            revisions.append({"revision": rev, "images": container_images(dc_template_of(rc)),
                              "created": rc["metadata"].get("creationTimestamp"), "current": rev == latest,
                              "source": f"ReplicationController/{rc['metadata']['name']}"})
    return revisions


def dc_template_of(rc: dict[str, Any]) -> dict[str, Any]:
    """The DeploymentConfig pod template a ReplicationController was made from."""
    encoded = (rc["metadata"].get("annotations") or {}).get(DC_ENCODED_ANNOTATION)
    if encoded:
        try:
            return json.loads(encoded)["spec"]["template"]
        except (ValueError, KeyError, TypeError):
            pass
    template = json.loads(json.dumps(rc["spec"].get("template") or {}))
    meta = template.setdefault("metadata", {})
    (meta.get("labels") or {}).pop("deployment", None)
    for key in (DC_VERSION_ANNOTATION, DC_NAME_LABEL, "openshift.io/deployment.name"):
        (meta.get("annotations") or {}).pop(key, None)
    return template


def last_rollout(obj: dict[str, Any], listed: dict[str, list[dict[str, Any]]]) -> str:
    """When the workload's current revision was made, found among the ReplicaSets,
    ControllerRevisions and ReplicationControllers of its namespace (`listed`, by kind: one
    list of each for all workloads); its own creation when none is found."""
    kind = obj["kind"]
    if kind == "Deployment":
        current = revision_of(obj, REVISION_ANNOTATION)
        for rs in owned_by(listed.get("ReplicaSet") or [], obj):
            if revision_of(rs, REVISION_ANNOTATION) == current:
                return rs["metadata"].get("creationTimestamp") or ""
    elif kind == "StatefulSet":
        update = (obj.get("status") or {}).get("updateRevision")
        for cr in owned_by(listed.get("ControllerRevision") or [], obj):
            if cr["metadata"]["name"] == update:
                return cr["metadata"].get("creationTimestamp") or ""
    else:
        rcs = sorted((rc for rc in listed.get("ReplicationController") or []
                      if (rc["metadata"].get("labels") or {}).get(DC_NAME_LABEL) == obj["metadata"]["name"]),
                     key=lambda rc: revision_of(rc, DC_VERSION_ANNOTATION))
        if rcs:
            return rcs[-1]["metadata"].get("creationTimestamp") or ""
    return obj["metadata"].get("creationTimestamp") or ""

"""What the apply leaves to the cluster, so that a second apply changes nothing: what OpenShift's
image machinery owns, and existing claims (modules/apply.py).

Image triggers: once a workload follows an ImageStreamTag (the image.openshift.io/triggers annotation, or
an ImageChange trigger of a DeploymentConfig), the trigger controller writes the image the
tag resolves to into the pod template. Applying the rendered template again would put the
registry reference back, and the controller would then set the digest again: two rollouts
on every deploy, and a DeploymentConfig would even get a new version. So the apply keeps
the image the controller set on each triggered container of a workload that exists.

ImageStreams and DeploymentConfigs: openshift-apiserver writes them on every update, even
one that changes nothing (for a DeploymentConfig with a new generation), and adds fields of
its own (a tag's generation, a trigger's namespace). And a workload created with the
registry reference gets the digest from its trigger, so the next apply would rewrite its
last-applied record. An apply that would change nothing is therefore left out
(drop_unchanged).
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterator

FIELD_PATH = re.compile(r'^(?P<path>[A-Za-z.]+)\.containers\[\?\(@\.name=="(?P<name>[^"]+)"\)\]\.image$')
KINDS = ("Deployment", "StatefulSet", "CronJob", "DaemonSet", "DeploymentConfig")


def triggered_containers(obj: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(dotted path of the pod spec, container name) of every container a trigger manages."""
    if obj.get("kind") == "DeploymentConfig":
        for trigger in (obj.get("spec") or {}).get("triggers") or []:
            if trigger.get("type") == "ImageChange":
                for name in (trigger.get("imageChangeParams") or {}).get("containerNames") or []:
                    yield "spec.template.spec", name
        return
    raw = ((obj.get("metadata") or {}).get("annotations") or {}).get("image.openshift.io/triggers")
    if not raw:
        return
    try:
        triggers = json.loads(raw)
    except ValueError:
        return
    for trigger in triggers if isinstance(triggers, list) else []:
        match = FIELD_PATH.match(str((trigger or {}).get("fieldPath", "")))
        if match:
            yield match.group("path"), match.group("name")


def _containers(obj: dict[str, Any], path: str) -> list[dict[str, Any]]:
    node: Any = obj
    for part in path.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return (node or {}).get("containers") or [] if isinstance(node, dict) else []


def plain_copy(value: Any) -> Any:
    """A deep copy made of plain dicts, lists and strings. Ansible hands filters its tagged
    containers, which copy.deepcopy copies tag by tag: on a full deploy's live objects that
    took over a minute; a JSON round trip takes milliseconds."""
    return json.loads(json.dumps(value, default=str))


def _key(obj: dict[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    return f"{obj.get('kind')}/{meta.get('namespace', '')}/{meta.get('name')}"


def triggered_images(live: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
    """kind/namespace/name -> {path|container: image} of the live workloads' triggered containers."""
    found: dict[str, dict[str, str]] = {}
    for obj in live or []:
        if obj.get("kind") not in KINDS:
            continue
        images = {}
        for path, name in triggered_containers(obj):
            for container in _containers(obj, path):
                if container.get("name") == name and str(container.get("image", "")).strip():
                    images[f"{path}|{name}"] = container["image"]
        if images:
            found[_key(obj)] = images
    return found


def keep_triggered_images(objects: list[dict[str, Any]], live: dict[str, dict[str, str]],
                          namespace: str = "") -> list[dict[str, Any]]:
    """The objects, with each container that a trigger manages set to the image it has live."""
    kept = []
    for obj in objects or []:
        key = _key(obj) if (obj.get("metadata") or {}).get("namespace") else \
            f"{obj.get('kind')}/{namespace}/{(obj.get('metadata') or {}).get('name')}"
        images = (live or {}).get(key)
        if obj.get("kind") in KINDS and images:
            obj = plain_copy(obj)
            for path, name in triggered_containers(obj):
                for container in _containers(obj, path):
                    if container.get("name") == name and f"{path}|{name}" in images:
                        container["image"] = images[f"{path}|{name}"]
        kept.append(obj)
    return kept


LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
# Kinds whose apply is left out when it would change nothing: openshift-apiserver writes
# ImageStreams and DeploymentConfigs on every update (a new resourceVersion, and for a
# DeploymentConfig a new generation, as it compares before its own defaulting); and a
# workload whose trigger set its image would get its last-applied record rewritten.
SKIP_KINDS = ("ImageStream", *KINDS)


def _covered(want: Any, have: Any) -> bool:
    """Every value of `want` is in `have`; the API may add fields, and it drops the ones that
    hold their default (false, null, empty)."""
    if isinstance(want, dict):
        if have is None:
            have = {}
        return isinstance(have, dict) and all(_covered(v, have.get(k)) for k, v in want.items())
    if isinstance(want, list):
        return isinstance(have, list) and len(want) == len(have) and all(map(_covered, want, have))
    if want in (None, False, "") and have in (None, False, ""):
        return True
    return want == have or (not isinstance(want, bool) and str(want) == str(have)) or _same_quantity(want, have)


def _same_quantity(want: Any, have: Any) -> bool:
    """`0.5` and `500m`, `1` and `1000m`: the API returns quantities in canonical form."""
    if isinstance(want, bool) or isinstance(have, bool) or not isinstance(want, (str, int, float)) \
            or not isinstance(have, str):
        return False
    try:
        from kubernetes.utils.quantity import parse_quantity
    except ImportError:
        return False
    try:
        return parse_quantity(want) == parse_quantity(have)
    except ValueError:
        return False


def _without_triggered_images(obj: dict[str, Any]) -> dict[str, Any]:
    obj = plain_copy(obj)
    for path, name in list(triggered_containers(obj)):
        for container in _containers(obj, path):
            if container.get("name") == name:
                container["image"] = ""
    return obj


def drop_unchanged(objects: list[dict[str, Any]], live: list[dict[str, Any]],
                   namespace: str = "") -> list[dict[str, Any]]:
    """The objects without the ImageStreams and workloads that need no apply: what was applied
    last time is what is rendered now (images a trigger manages aside), and the live object
    still has all of it."""
    current = {(o.get("kind"), (o.get("metadata") or {}).get("name")): o for o in live or []}
    kept = []
    for obj in objects or []:
        meta = obj.get("metadata") or {}
        have = current.get((obj.get("kind"), meta.get("name")))
        if obj.get("kind") in SKIP_KINDS and meta.get("namespace", namespace) == namespace and have is not None:
            try:
                applied = json.loads(((have.get("metadata") or {}).get("annotations") or {}).get(LAST_APPLIED, "null"))
            except ValueError:
                applied = None
            mine = {"metadata": {"labels": meta.get("labels") or {}, "annotations": meta.get("annotations") or {}},
                    "spec": obj.get("spec")}
            before = applied and {"metadata": {"labels": (applied.get("metadata") or {}).get("labels") or {},
                                               "annotations": (applied.get("metadata") or {}).get("annotations") or {}},
                                  "spec": applied.get("spec")}
            if before and json.dumps(_without_triggered_images(dict(before, kind=obj["kind"])), sort_keys=True) \
                    == json.dumps(_without_triggered_images(dict(mine, kind=obj["kind"])), sort_keys=True) \
                    and _covered(mine, have):
                continue
        kept.append(obj)
    return kept


def _claim_key(obj: dict) -> tuple:
    meta = obj.get("metadata") or {}
    return meta.get("namespace", ""), meta.get("name", "")


def _claim_size(claim: dict) -> Any:
    return (((claim.get("spec") or {}).get("resources") or {}).get("requests") or {}).get("storage")


def drop_live_claims(objects: list[dict[str, Any]], live: list[dict[str, Any]]) -> list[dict]:
    """The objects without the PersistentVolumeClaims that exist: a claim is created once and
    never patched (its spec is immutable but for a size that only grows where the storage
    class allows it, and a claim taken over from another deployment has that one's sizes)."""
    have = {_claim_key(c) for c in _objects(live)}
    return [o for o in _objects(objects) if o.get("kind") != "PersistentVolumeClaim" or _claim_key(o) not in have]


def claim_drift(objects: list[dict[str, Any]], live: list[dict[str, Any]]) -> list[str]:
    """One line per existing claim whose size differs from the rendered one."""
    have = {_claim_key(c): c for c in _objects(live)}
    lines = []
    for obj in _objects(objects):
        claim = have.get(_claim_key(obj)) if obj.get("kind") == "PersistentVolumeClaim" else None
        if claim is None:
            continue
        if str(_claim_size(obj)) != str(_claim_size(claim)):
            namespace, name = _claim_key(obj)
            lines.append(f"claim {name} in {namespace} keeps {_claim_size(claim)} (the vars ask for {_claim_size(obj)}): "
                         "deploy never changes an existing claim; resize it yourself where the storage class allows")
    return lines


def _objects(objects: Any) -> list[dict[str, Any]]:
    return [o for o in (objects or []) if isinstance(o, dict) and o]

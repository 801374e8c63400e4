"""Shared code of the day2 modules: connection, lookups, triggers, rollout state.

Everything goes through the cluster API with the kubernetes Python client;
errors become one-line messages that name the object to look at.
"""
from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from typing import Any

try:
    import kubernetes
    from kubernetes.dynamic import DynamicClient
    from kubernetes.dynamic.exceptions import DynamicApiError, ResourceNotFoundError

    HAS_K8S = True
except ImportError:  # reported by the module through missing_required_lib
    HAS_K8S = False

TRIGGERS_ANNOTATION = "image.openshift.io/triggers"
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
REVISION_ANNOTATION = "deployment.kubernetes.io/revision"
DC_NAME_LABEL = "openshift.io/deployment-config.name"
DC_VERSION_ANNOTATION = "openshift.io/deployment-config.latest-version"
DC_ENCODED_ANNOTATION = "openshift.io/encoded-deployment-config"
PINNED_FROM = "packit.dev/pinned-from"
PINNED_IMPORT_POLICY = "packit.dev/pinned-import-policy"
PINNED_AT = "packit.dev/pinned-at"

CONNECTION_ARGS: dict[str, dict[str, Any]] = {
    "host": {"type": "str"},
    "api_key": {"type": "str", "no_log": True},
    "ca_cert": {"type": "path"},
    "validate_certs": {"type": "bool", "default": True},
    "kubeconfig": {"type": "path"},
    "context": {"type": "str"},
    "namespace": {"type": "str", "required": True},
}

WORKLOAD_KINDS = (
    ("apps/v1", "Deployment"),
    ("apps/v1", "StatefulSet"),
    ("apps.openshift.io/v1", "DeploymentConfig"),
)


class Day2Error(Exception):
    """A failure with the one line the user sees."""


def api_message(exc: Exception) -> str:
    """The server's own message of a failed API call (or the client's error), on one line."""
    body = getattr(exc, "body", None)
    if isinstance(body, bytes):
        body = body.decode(errors="replace")
    if isinstance(body, str) and body:
        try:
            return " ".join(str(json.loads(body).get("message", body)).split())
        except (ValueError, AttributeError):
            return " ".join(body.split())
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) < 300 else text[:297] + "..."


def status_of(exc: Exception) -> int:
    return int(getattr(exc, "status", 0) or 0)


def connect(params: dict[str, Any]) -> "DynamicClient":
    """A dynamic client from host/api_key/ca_cert/validate_certs, a kubeconfig, or the pod's service account."""
    cfg = kubernetes.client.Configuration()
    if params.get("host"):
        cfg.host = params["host"]
        if params.get("api_key"):
            cfg.api_key = {"authorization": "Bearer " + params["api_key"]}
        cfg.verify_ssl = bool(params.get("validate_certs", True))
        if params.get("ca_cert"):
            cfg.ssl_ca_cert = params["ca_cert"]
    elif params.get("kubeconfig") or params.get("context"):
        kubernetes.config.load_kube_config(
            config_file=params.get("kubeconfig"), context=params.get("context"), client_configuration=cfg
        )
    elif os.environ.get("KUBERNETES_SERVICE_HOST"):
        kubernetes.config.load_incluster_config(client_configuration=cfg)
    else:
        kubernetes.config.load_kube_config(client_configuration=cfg)
    try:
        return DynamicClient(kubernetes.client.ApiClient(cfg))
    except Exception as exc:  # discovery failed: unreachable server, bad token, bad CA
        raise Day2Error(f"cannot reach the cluster API at {cfg.host}: {api_message(exc)}") from exc


def resource(client: "DynamicClient", api_version: str, kind: str, required: bool = True):
    try:
        return client.resources.get(api_version=api_version, kind=kind)
    except ResourceNotFoundError as exc:
        if required:
            raise Day2Error(f"the cluster does not serve {kind} ({api_version})") from exc
        return None


def get(client: "DynamicClient", api_version: str, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
    res = resource(client, api_version, kind, required=False)
    if res is None:
        return None
    try:
        return res.get(name=name, namespace=namespace).to_dict()
    except DynamicApiError as exc:
        if status_of(exc) == 404:
            return None
        raise Day2Error(f"{kind} {namespace}/{name}: {api_message(exc)}") from exc


def list_objects(
    client: "DynamicClient", api_version: str, kind: str, namespace: str, selector: str = "", required: bool = True
) -> list[dict[str, Any]]:
    res = resource(client, api_version, kind, required=required)
    if res is None:
        return []
    try:
        return res.get(namespace=namespace, label_selector=selector).to_dict().get("items") or []
    except DynamicApiError as exc:
        raise Day2Error(f"cannot list {kind} in {namespace}: {api_message(exc)}") from exc


def patch(
    client: "DynamicClient", obj: dict[str, Any], body: Any, content_type: str = "application/merge-patch+json"
) -> dict[str, Any]:
    res = resource(client, obj["apiVersion"], obj["kind"])
    meta = obj["metadata"]
    try:
        return res.patch(body=body, name=meta["name"], namespace=meta["namespace"], content_type=content_type).to_dict()
    except DynamicApiError as exc:
        raise Day2Error(f"{obj['kind']} {meta['namespace']}/{meta['name']}: {api_message(exc)}") from exc


def find_workload(client: "DynamicClient", namespace: str, name: str) -> dict[str, Any]:
    for api_version, kind in WORKLOAD_KINDS:
        obj = get(client, api_version, kind, namespace, name)
        if obj is not None:
            return obj
    raise Day2Error(f"component {name}: no Deployment, StatefulSet or DeploymentConfig of that name in {namespace}")


def image_triggers(obj: dict[str, Any]) -> list[dict[str, str]]:
    """The workload's image triggers as [{stream, tag, container, automatic}]."""
    found = []
    if obj["kind"] == "DeploymentConfig":
        for trigger in obj.get("spec", {}).get("triggers") or []:
            params = trigger.get("imageChangeParams") or {}
            if trigger.get("type") != "ImageChange" or not params.get("from", {}).get("name"):
                continue
            stream, _, tag = params["from"]["name"].partition(":")
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
        raise Day2Error(f"{obj['kind']} {obj['metadata']['name']}: annotation {TRIGGERS_ANNOTATION} is not valid JSON") from exc
    for trigger in triggers:
        source = trigger.get("from") or {}
        if source.get("kind") != "ImageStreamTag":
            continue
        stream, _, tag = source.get("name", "").partition(":")
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


def replica_sets(client: "DynamicClient", deploy: dict[str, Any]) -> list[dict[str, Any]]:
    items = owned_by(list_objects(client, "apps/v1", "ReplicaSet", deploy["metadata"]["namespace"]), deploy)
    return sorted(items, key=lambda rs: revision_of(rs, REVISION_ANNOTATION))


def controller_revisions(client: "DynamicClient", sts: dict[str, Any]) -> list[dict[str, Any]]:
    items = owned_by(list_objects(client, "apps/v1", "ControllerRevision", sts["metadata"]["namespace"]), sts)
    return sorted(items, key=lambda cr: int(cr.get("revision") or 0))


def dc_deployments(client: "DynamicClient", dc: dict[str, Any]) -> list[dict[str, Any]]:
    meta = dc["metadata"]
    items = list_objects(client, "v1", "ReplicationController", meta["namespace"], f"{DC_NAME_LABEL}={meta['name']}")
    return sorted(items, key=lambda rc: revision_of(rc, DC_VERSION_ANNOTATION))


def history(client: "DynamicClient", obj: dict[str, Any]) -> list[dict[str, Any]]:
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


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def rollout_state(client: "DynamicClient", obj: dict[str, Any]) -> tuple[int, int, bool]:
    """(ready, desired, rolled_out) of a workload."""
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    desired = int(spec.get("replicas", 1) if spec.get("replicas") is not None else 1)
    ready = int(status.get("readyReplicas") or 0)
    observed = int(status.get("observedGeneration") or 0) >= int(obj["metadata"].get("generation") or 0)
    if obj["kind"] == "Deployment":
        done = (observed and int(status.get("updatedReplicas") or 0) == desired
                and int(status.get("replicas") or 0) == desired
                and int(status.get("availableReplicas") or 0) == desired and ready == desired)
    elif obj["kind"] == "StatefulSet":
        done = (observed and ready == desired and int(status.get("updatedReplicas") or 0) == desired
                and status.get("currentRevision") == status.get("updateRevision"))
    else:
        done = observed and ready == desired and int(status.get("updatedReplicas", ready) or 0) == desired
    return ready, desired, done


def last_rollout(client: "DynamicClient", obj: dict[str, Any]) -> str:
    kind = obj["kind"]
    if kind == "Deployment":
        current = revision_of(obj, REVISION_ANNOTATION)
        for rs in replica_sets(client, obj):
            if revision_of(rs, REVISION_ANNOTATION) == current:
                return rs["metadata"].get("creationTimestamp") or ""
    elif kind == "StatefulSet":
        update = (obj.get("status") or {}).get("updateRevision")
        for cr in controller_revisions(client, obj):
            if cr["metadata"]["name"] == update:
                return cr["metadata"].get("creationTimestamp") or ""
    else:
        rcs = dc_deployments(client, obj)
        if rcs:
            return rcs[-1]["metadata"].get("creationTimestamp") or ""
    return obj["metadata"].get("creationTimestamp") or ""


def stream_tag(stream: dict[str, Any], tag: str) -> tuple[dict[str, Any] | None, str]:
    """(spec tag entry, the image the tag currently resolves to or follows)."""
    entry = next((t for t in (stream.get("spec") or {}).get("tags") or [] if t.get("name") == tag), None)
    for status_tag in (stream.get("status") or {}).get("tags") or []:
        if status_tag.get("tag") == tag and status_tag.get("items"):
            return entry, status_tag["items"][0].get("dockerImageReference") or status_tag["items"][0].get("image", "")
    return entry, ((entry or {}).get("from") or {}).get("name", "")


def _tags_patch(stream: dict[str, Any], tags: list[dict[str, Any]]) -> dict[str, Any]:
    # spec.tags is replaced as a whole; resourceVersion makes a concurrent edit fail instead of being lost.
    return {"metadata": {"resourceVersion": stream["metadata"]["resourceVersion"]}, "spec": {"tags": tags}}


def _without_pin_time(entry: dict[str, Any]) -> str:
    notes = {k: v for k, v in (entry.get("annotations") or {}).items() if k != PINNED_AT}
    return json.dumps(dict(entry, annotations=notes), sort_keys=True)


def pin_tag(client: "DynamicClient", namespace: str, stream_name: str, tag: str, image: str,
            check_mode: bool) -> dict[str, Any]:
    """Point <stream>:<tag> at `image` and stop its scheduled import, recording how to undo it."""
    stream = get(client, "image.openshift.io/v1", "ImageStream", namespace, stream_name)
    if stream is None:
        raise Day2Error(f"ImageStream {namespace}/{stream_name}: not found, cannot pin tag {tag}")
    tags = json.loads(json.dumps((stream.get("spec") or {}).get("tags") or []))
    entry = next((t for t in tags if t.get("name") == tag), None)
    if entry is None:
        raise Day2Error(f"ImageStream {stream_name}: no tag {tag!r} in spec.tags to pin")
    before = json.dumps(entry, sort_keys=True)
    notes = entry.get("annotations") or {}
    if PINNED_FROM not in notes:
        notes[PINNED_FROM] = json.dumps(entry.get("from") or {}, sort_keys=True)
        notes[PINNED_IMPORT_POLICY] = json.dumps(entry.get("importPolicy") or {}, sort_keys=True)
        notes[PINNED_AT] = now()
    entry["annotations"] = notes
    entry["from"] = {"kind": "DockerImage", "name": image}
    # scheduled: false is the default, which the API server stores as an absent key
    entry["importPolicy"] = {k: v for k, v in (entry.get("importPolicy") or {}).items() if k != "scheduled"}
    if _without_pin_time(entry) == _without_pin_time(json.loads(before)):
        return {"stream": stream_name, "tag": tag, "pinned_to": image, "changed": False,
                "following": json.loads(notes[PINNED_FROM]).get("name", "")}
    if not check_mode:
        patch(client, stream, _tags_patch(stream, tags))
    return {"stream": stream_name, "tag": tag, "pinned_to": image, "changed": True,
            "following": json.loads(notes[PINNED_FROM]).get("name", "")}


def unpin_tag(client: "DynamicClient", namespace: str, stream_name: str, tag: str, check_mode: bool) -> dict[str, Any]:
    """Undo pin_tag: restore the recorded `from` and importPolicy of <stream>:<tag>."""
    stream = get(client, "image.openshift.io/v1", "ImageStream", namespace, stream_name)
    if stream is None:
        raise Day2Error(f"ImageStream {namespace}/{stream_name}: not found, cannot unpin tag {tag}")
    tags = json.loads(json.dumps((stream.get("spec") or {}).get("tags") or []))
    entry = next((t for t in tags if t.get("name") == tag), None)
    notes = (entry or {}).get("annotations") or {}
    if entry is None or PINNED_FROM not in notes:
        return {"stream": stream_name, "tag": tag, "changed": False, "following": ((entry or {}).get("from") or {}).get("name", "")}
    try:
        entry["from"] = json.loads(notes.pop(PINNED_FROM))
        entry["importPolicy"] = json.loads(notes.pop(PINNED_IMPORT_POLICY, "{}"))
    except ValueError as exc:
        raise Day2Error(f"ImageStream {stream_name}: tag {tag} pin annotations are not valid JSON; fix spec.tags by hand") from exc
    notes.pop(PINNED_AT, None)
    if notes:
        entry["annotations"] = notes
    else:
        entry.pop("annotations", None)
    if not check_mode:
        patch(client, stream, _tags_patch(stream, tags))
    return {"stream": stream_name, "tag": tag, "changed": True, "following": entry["from"].get("name", "")}


def build_import(stream: dict[str, Any], deployment: str, source: str = "") -> tuple[dict[str, Any], dict[str, Any]]:
    """(ImageStreamImport body, its image entry) that imports into the tag `deployment` the
    tag's own `from` reference, or `source` when given, keeping the tag's import and
    reference policies."""
    name = stream["metadata"]["name"]
    tag, _ = stream_tag(stream, deployment)
    if tag is None:
        raise Day2Error(f"ImageStream {name}: no tag {deployment!r} in spec.tags to import")
    origin = tag.get("from") or {}
    if not source and (origin.get("kind") != "DockerImage" or not origin.get("name")):
        raise Day2Error(f"ImageStream {name}: tag {deployment} does not come from a DockerImage (from.kind={origin.get('kind')})")
    image = {
        "from": {"kind": "DockerImage", "name": source or origin["name"]},
        "to": {"name": deployment},
        "importPolicy": dict(tag.get("importPolicy") or {}),
        "referencePolicy": dict(tag.get("referencePolicy") or {"type": "Source"}),
    }
    body = {
        "apiVersion": "image.openshift.io/v1",
        "kind": "ImageStreamImport",
        "metadata": {"name": name, "namespace": stream["metadata"]["namespace"]},
        "spec": {"import": True, "images": [image]},
    }
    return body, image


IMPORT_CONFLICT_ATTEMPTS = 5


def post_import(client: "DynamicClient", body: dict[str, Any]) -> dict[str, Any]:
    """POST an ImageStreamImport; the server imports before it answers (nothing is stored).
    The server answers 409 when the stream changed while it imported (the image stream
    controller writes the same stream): that import is posted again, a few times."""
    import time

    res = resource(client, "image.openshift.io/v1", "ImageStreamImport")
    meta = body["metadata"]
    for attempt in range(1, IMPORT_CONFLICT_ATTEMPTS + 1):
        try:
            return res.create(body=body, namespace=meta["namespace"]).to_dict()
        except DynamicApiError as exc:
            if status_of(exc) != 409 or attempt == IMPORT_CONFLICT_ATTEMPTS:
                raise Day2Error(f"ImageStream {meta['name']}: the API refused the import: {api_message(exc)}") from exc
            time.sleep(0.5 * attempt)
    raise AssertionError("unreachable")


def imported_reference(answer: dict[str, Any], stream: str, source: str) -> str:
    """The image reference an ImageStreamImport's answer reports, or the import's failure as a Day2Error."""
    results = (answer.get("status") or {}).get("images") or []
    if not results:
        raise Day2Error(f"ImageStream {stream}: the API answered the import without a result")
    outcome = results[0].get("status") or {}
    if outcome.get("status") == "Failure":
        raise Day2Error(f"ImageStream {stream}: import of {source} failed: "
                        f"{outcome.get('message', outcome.get('reason', 'no reason given'))}")
    return (results[0].get("image") or {}).get("dockerImageReference", "")


def one_line(exc: Exception) -> str:
    """The message a module fails with: ours as it is, anything else (e.g. connection refused) shortened."""
    if isinstance(exc, Day2Error):
        return str(exc)
    return f"cluster API call failed: {api_message(exc)}"

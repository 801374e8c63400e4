"""Objects of the project that this repository did not make (an upstream-made deployment), and
taking them over (modules/takeover.py; modules/preflight.py refuses them)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.packit.deployment.plugins.module_utils.k8s import CLUSTER_ERRORS, K8sError, connect, reason

try:
    from kubernetes import client
    from kubernetes.client.rest import ApiException
    from kubernetes.dynamic.exceptions import ResourceNotFoundError
except ImportError:  # reported by run() through missing_required_lib
    pass

MANAGED_BY = "app.kubernetes.io/managed-by"
# A TenantNamespace owns its namespace: deleting it would delete the sandbox and its claims.
KEPT_KINDS = ("PersistentVolumeClaim", "Secret", "ConfigMap", "TenantNamespace")
IGNORED_KINDS = ("Namespace",)
# The options of the foreign-object check (documented by the doc fragment packit.deployment.checks.foreign).
FOREIGN_ARGS: dict = {
    "managed_by": {"type": "str", "default": "packit-deployment"},
    "command_hint": {"type": "str", "default": "make adopt"},
}
MOUNTING_KINDS = (("apps/v1", "Deployment"), ("apps/v1", "StatefulSet"), ("apps.openshift.io/v1", "DeploymentConfig"))


def _meta(obj: dict) -> dict:
    return obj.get("metadata") or {}


def pod_claims(obj: dict) -> set[str]:
    """Claims the pod template of a workload mounts."""
    template = (obj.get("spec") or {}).get("template") or {}
    volumes = (template.get("spec") or {}).get("volumes") or []
    return {v["persistentVolumeClaim"]["claimName"] for v in volumes if v.get("persistentVolumeClaim")}


def label_of(what: dict) -> str:
    return f"{what['kind']}/{what['name']}"


def find_foreign(dyn, objects: list[dict], managed_by: str) -> list[dict]:
    """The plan: foreign objects with the action the takeover takes for each."""
    rendered = rendered_keys(objects)
    namespaces = sorted({ns for (_api, _kind, ns, _name) in rendered if ns})

    # Every list the plan needs, asked in parallel once discovery has resolved the kinds (its
    # cache is not shared safely between threads).
    wanted = list(dict.fromkeys((api_version, kind, namespace) for api_version, kind, namespace, _name in rendered))
    for api_version, kind, _namespace in wanted:
        dyn.resources.get(api_version=api_version, kind=kind)
    mounting = []
    for namespace in namespaces:
        for api_version, kind in MOUNTING_KINDS:
            try:
                dyn.resources.get(api_version=api_version, kind=kind)
            except ResourceNotFoundError:
                continue  # not served (DeploymentConfig on plain Kubernetes)
            mounting.append((api_version, kind, namespace))

    def items(read: tuple) -> list[dict]:
        resource = dyn.resources.get(api_version=read[0], kind=read[1])
        return resource.get(namespace=read[2] or None).to_dict().get("items") or []

    with ThreadPoolExecutor(max_workers=8) as pool:
        found = list(pool.map(items, wanted + mounting))
    return foreign_plan(rendered, dict(zip(wanted, found)), dict(zip(mounting, found[len(wanted):])), managed_by)


def rendered_keys(objects: list[dict]) -> dict[tuple, dict]:
    """(apiVersion, kind, namespace, name) -> the rendered object, Namespaces left out."""
    rendered: dict[tuple, dict] = {}
    for obj in objects:
        if obj.get("kind") in IGNORED_KINDS:
            continue
        rendered[(obj.get("apiVersion"), obj.get("kind"), _meta(obj).get("namespace") or "", _meta(obj).get("name"))] = obj
    return rendered


def foreign_plan(rendered: dict[tuple, dict], listed: dict[tuple, list[dict]], mounting: dict[tuple, list[dict]],
                 managed_by: str) -> list[dict]:
    """The plan of find_foreign, from what it read: `listed` are the live objects of each
    (apiVersion, kind, namespace) of the rendered ones, `mounting` those of each kind of
    workload that may mount a claim. A live object with a rendered name that is not labelled
    managed-by `managed_by` is kept (a kind that holds data) or deleted; a workload of another
    name that mounts a rendered claim is deleted."""
    live: dict[tuple, dict] = {}
    for (api_version, kind, namespace), items in listed.items():
        for item in items:
            live[(api_version, kind, namespace, _meta(item).get("name"))] = item
    claims = {(ns, name) for (_api, kind, ns, name) in rendered if kind == "PersistentVolumeClaim"}

    foreign = []
    for key, obj in rendered.items():
        have = live.get(key)
        if have is None or (_meta(have).get("labels") or {}).get(MANAGED_BY) == managed_by:
            continue
        kept = key[1] in KEPT_KINDS
        foreign.append({"apiVersion": key[0], "kind": key[1], "namespace": key[2], "name": key[3],
                        "action": "keep" if kept else "delete",
                        "why": "holds data: labelled as this repository's" if kept
                        else "this repository makes it: deleted, then created as rendered",
                        "labels": _meta(obj).get("labels") or {}})
    named = {(f["kind"], f["namespace"], f["name"]) for f in foreign}
    for (api_version, kind, namespace), items in mounting.items():
        for item in items:
            meta = _meta(item)
            if (meta.get("labels") or {}).get(MANAGED_BY) == managed_by or (kind, namespace, meta["name"]) in named:
                continue
            mounted = sorted(name for name in pod_claims(item) if (namespace, name) in claims)
            if mounted:
                foreign.append({"apiVersion": api_version, "kind": kind, "namespace": namespace,
                                "name": meta["name"], "action": "delete",
                                "why": f"mounts claim {', '.join(mounted)}: deleted before the new workload mounts it",
                                "mounts": mounted, "labels": {}})
    return foreign


def denied(api, dyn, foreign: list[dict]) -> list[str]:
    """The permissions the takeover needs and the token lacks."""
    authz = client.AuthorizationV1Api(api)
    missing = []
    wanted = {(f["apiVersion"], f["kind"], f["namespace"], "patch" if f["action"] == "keep" else verb)
              for f in foreign for verb in (("patch", "delete") if f["kind"] == "StatefulSet" else ("delete",))}
    # A StatefulSet's claims are released from it before it is deleted (release_claims).
    wanted |= {("v1", "PersistentVolumeClaim", f["namespace"], verb)
               for f in foreign if f["kind"] == "StatefulSet" for verb in ("list", "patch")}
    for api_version, kind, namespace, verb in sorted(wanted):
        resource = dyn.resources.get(api_version=api_version, kind=kind)
        review = client.V1SelfSubjectAccessReview(spec=client.V1SelfSubjectAccessReviewSpec(
            resource_attributes=client.V1ResourceAttributes(group=resource.group or "", resource=resource.name,
                                                            verb=verb, namespace=namespace or None)))
        if not authz.create_self_subject_access_review(review).status.allowed:
            plural = f"{resource.name}.{resource.group}" if resource.group else resource.name
            missing.append(f"{verb} {plural} in namespace {namespace}")
    return missing


def observed(resource, obj: dict, timeout: float) -> bool:
    """Wait until the controller has observed the object's generation (False at the timeout)."""
    meta = _meta(obj)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        have = resource.get(name=meta["name"], namespace=meta["namespace"]).to_dict()
        if ((have.get("status") or {}).get("observedGeneration") or 0) >= (meta.get("generation") or 0):
            return True
        time.sleep(0.2)
    return False


def release_claims(dyn, sts: dict) -> list[str]:
    """Take a StatefulSet off the owners of its claims; the names of the claims released.

    With whenDeleted: Delete the StatefulSet controller makes the StatefulSet an owner of each
    claim. Switching the policy to Retain has the controller remove that only later, and a
    delete in between lets the garbage collector delete the claims, data and all.
    """
    uid, namespace = sts["metadata"]["uid"], sts["metadata"]["namespace"]
    claims = dyn.resources.get(api_version="v1", kind="PersistentVolumeClaim")
    released = []
    for claim in claims.get(namespace=namespace).to_dict().get("items") or []:
        meta = _meta(claim)
        owners = meta.get("ownerReferences") or []
        others = [o for o in owners if o.get("uid") != uid]
        if len(others) != len(owners):
            # The resourceVersion makes the patch fail rather than drop an owner added meanwhile.
            claims.patch(name=meta["name"], namespace=namespace, content_type="application/merge-patch+json",
                         body={"metadata": {"ownerReferences": others or None,
                                            "resourceVersion": meta["resourceVersion"]}})
            released.append(meta["name"])
    return released


def retain_claims(dyn, sts: dict, timeout: float) -> list[str]:
    """Make a StatefulSet that is to be deleted leave its claims alone: a retention policy that
    deletes them is switched to Retain (and waited for until the controller has seen it), and
    the StatefulSet is taken off the claims' owners. The names of the claims released."""
    meta = sts["metadata"]
    resource = dyn.resources.get(api_version="apps/v1", kind="StatefulSet")
    policy = (sts.get("spec") or {}).get("persistentVolumeClaimRetentionPolicy") or {}
    if "Delete" in policy.values():
        patched = resource.patch(name=meta["name"], namespace=meta["namespace"],
                                 body={"spec": {"persistentVolumeClaimRetentionPolicy":
                                                {"whenDeleted": "Retain", "whenScaled": "Retain"}}},
                                 content_type="application/merge-patch+json").to_dict()
        # Once the controller has seen Retain it no longer makes itself the claims' owner.
        observed(resource, patched, min(timeout, 60))
    return release_claims(dyn, sts)


def read_foreign(params: dict, objects: list[dict], managed_by: str, dyn=None) -> tuple[object, list[dict]]:
    """(client, foreign objects): find_foreign on `dyn` or a client for the connection options,
    failing with one line."""
    return read_project(params, lambda client: find_foreign(client, objects, managed_by), dyn)


def read_project(params: dict, read, dyn=None) -> tuple[object, object]:
    """(client, read(client)) on `dyn` or a client for the connection options; a failure to
    connect or read is one line."""
    try:
        dyn = dyn or connect(params)
        return dyn, read(dyn)
    except ApiException as exc:
        raise K8sError(f"reading the project's objects failed: HTTP {exc.status} {exc.reason}") from exc
    except K8sError:
        raise
    except CLUSTER_ERRORS as exc:  # connection problems
        raise K8sError(f"reading the project's objects failed: {reason(getattr(exc, 'cause', exc))}") from exc


def public(foreign: list[dict]) -> list[dict]:
    """The plan as returned: without the labels the takeover copies."""
    return [{k: v for k, v in f.items() if k != "labels"} for f in foreign]


def refuse_foreign(foreign: list[dict], command_hint: str) -> None:
    """Fail with the one line that names the foreign objects and the command that previews their takeover."""
    if not foreign:
        return
    where = ", ".join(sorted({f["namespace"] for f in foreign}))
    names = "; ".join(f"{label_of(f)} (mounts claim {', '.join(f['mounts'])})" if f.get("mounts")
                      else label_of(f) for f in foreign)
    raise K8sError(f"{where} holds objects this repository did not make (an upstream-made deployment?): "
                   f"{names}: preview the takeover with `{command_hint}`, "
                   f"then run it with APPLY=1", foreign=public(foreign))

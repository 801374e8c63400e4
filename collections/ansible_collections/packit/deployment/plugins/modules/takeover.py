#!/usr/bin/python
"""Find, and on request take over, the objects of the project that this repository did not
make: a deployment made by the upstream repository, whose data must not be left behind."""

from __future__ import annotations

DOCUMENTATION = r"""
module: takeover
short_description: Find and take over objects another deployment made
description:
  - An object is this repository's when it carries the label
    C(app.kubernetes.io/managed-by=<managed_by>). Foreign objects that matter are those with
    the kind and name of a rendered object (Namespaces excepted), and workloads (Deployment,
    StatefulSet, DeploymentConfig) of any name that mount a rendered PersistentVolumeClaim
    (the latter would hold the same volume as the new workload).
  - Rendered kinds that hold data (PersistentVolumeClaim, Secret, ConfigMap) are kept and
    labelled as this repository's; every other foreign object is deleted (foreground, waiting
    until it and its pods are gone) so that the deploy creates it as rendered. A StatefulSet
    whose claim retention policy deletes claims is switched to Retain before it is deleted.
  - I(mode=check) fails with one line naming the objects and the command to run;
    I(mode=preview) returns the plan; I(mode=apply) checks every permission it needs first,
    then carries the plan out (only reports in check mode).
options:
  objects:
    description: The rendered objects (Secret values redacted); identity, labels and claims are read.
    type: list
    elements: dict
    required: true
  mode:
    description: check, preview or apply.
    type: str
    choices: [check, preview, apply]
    default: check
  managed_by:
    description: Value of app.kubernetes.io/managed-by on this repository's objects.
    type: str
    default: packit-deployment
  timeout:
    description: Seconds to wait for deleted objects to be gone.
    type: int
    default: 300
  command_hint:
    description: The make command line that previews the takeover (named in the check message).
    type: str
    default: make adopt
extends_documentation_fragment: [kubernetes.core.k8s_auth_options]
notes:
  - A module of its own because finding the objects is a join (rendered names, the managed-by
    label, the claims each foreign workload mounts) and applying the plan must check every
    permission before the first delete.
"""

EXAMPLES = r"""
- name: Refuse to deploy over objects another deployment made
  packit.deployment.takeover:
    objects: "{{ deploy_rendered_objects }}"
    mode: check

- name: Take them over (make adopt APPLY=1)
  packit.deployment.takeover:
    objects: "{{ deploy_rendered_objects }}"
    mode: apply
"""

RETURN = r"""
foreign:
  description: One entry per foreign object (kind, name, namespace, action keep or delete, why).
  type: list
  elements: dict
  returned: always
"""

import time

from ansible_collections.packit.deployment.plugins.module_utils.k8s import K8sError, connect, reason, run

try:
    from kubernetes import client
    from kubernetes.client.rest import ApiException
    from kubernetes.dynamic.exceptions import NotFoundError, ResourceNotFoundError
except ImportError:  # reported by run() through missing_required_lib
    pass

MANAGED_BY = "app.kubernetes.io/managed-by"
KEPT_KINDS = ("PersistentVolumeClaim", "Secret", "ConfigMap")
IGNORED_KINDS = ("Namespace",)
MOUNTING_KINDS = (("apps/v1", "Deployment"), ("apps/v1", "StatefulSet"), ("apps.openshift.io/v1", "DeploymentConfig"))


def _meta(obj: dict) -> dict:
    return obj.get("metadata") or {}


def pod_claims(obj: dict) -> set[str]:
    """Claims the pod template of a workload mounts."""
    template = (obj.get("spec") or {}).get("template") or {}
    volumes = (template.get("spec") or {}).get("volumes") or []
    return {v["persistentVolumeClaim"]["claimName"] for v in volumes if v.get("persistentVolumeClaim")}


def _label(what: dict) -> str:
    return f"{what['kind']}/{what['name']}"


def find_foreign(dyn, objects: list[dict], managed_by: str) -> list[dict]:
    """The plan: foreign objects with the action the takeover takes for each."""
    rendered: dict[tuple, dict] = {}
    for obj in objects:
        if obj.get("kind") in IGNORED_KINDS:
            continue
        rendered[(obj.get("apiVersion"), obj.get("kind"), _meta(obj).get("namespace") or "", _meta(obj).get("name"))] = obj
    claims = {(ns, name) for (_, kind, ns, name) in rendered if kind == "PersistentVolumeClaim"}
    namespaces = sorted({ns for (_, _, ns, _) in rendered if ns})

    live: dict[tuple, dict] = {}
    listed: set[tuple] = set()
    for api_version, kind, namespace, _ in rendered:
        if (api_version, kind, namespace) in listed:
            continue
        listed.add((api_version, kind, namespace))
        resource = dyn.resources.get(api_version=api_version, kind=kind)
        for item in resource.get(namespace=namespace or None).to_dict().get("items") or []:
            live[(api_version, kind, namespace, _meta(item).get("name"))] = item

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
    for namespace in namespaces:
        for api_version, kind in MOUNTING_KINDS:
            try:
                resource = dyn.resources.get(api_version=api_version, kind=kind)
            except ResourceNotFoundError:
                continue  # not served (DeploymentConfig on plain Kubernetes)
            for item in resource.get(namespace=namespace).to_dict().get("items") or []:
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
    for api_version, kind, namespace, verb in sorted(wanted):
        resource = dyn.resources.get(api_version=api_version, kind=kind)
        review = client.V1SelfSubjectAccessReview(spec=client.V1SelfSubjectAccessReviewSpec(
            resource_attributes=client.V1ResourceAttributes(group=resource.group or "", resource=resource.name,
                                                            verb=verb, namespace=namespace or None)))
        if not authz.create_self_subject_access_review(review).status.allowed:
            plural = f"{resource.name}.{resource.group}" if resource.group else resource.name
            missing.append(f"{verb} {plural} in namespace {namespace}")
    return missing


def take_over(dyn, foreign: list[dict], timeout: int) -> None:
    deleted = []
    for f in foreign:
        resource = dyn.resources.get(api_version=f["apiVersion"], kind=f["kind"])
        if f["action"] == "keep":
            resource.patch(name=f["name"], namespace=f["namespace"] or None,
                           body={"metadata": {"labels": f["labels"]}}, content_type="application/merge-patch+json")
            continue
        if f["kind"] == "StatefulSet":
            have = resource.get(name=f["name"], namespace=f["namespace"]).to_dict()
            policy = (have.get("spec") or {}).get("persistentVolumeClaimRetentionPolicy") or {}
            if "Delete" in policy.values():
                resource.patch(name=f["name"], namespace=f["namespace"],
                               body={"spec": {"persistentVolumeClaimRetentionPolicy":
                                              {"whenDeleted": "Retain", "whenScaled": "Retain"}}},
                               content_type="application/merge-patch+json")
        try:
            resource.delete(name=f["name"], namespace=f["namespace"] or None,
                            body={"propagationPolicy": "Foreground"})
        except NotFoundError:
            continue
        deleted.append((resource, f))
    deadline = time.monotonic() + timeout
    for resource, f in deleted:
        while True:
            try:
                resource.get(name=f["name"], namespace=f["namespace"] or None)
            except NotFoundError:
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"{_label(f)} in {f['namespace']} is still there after {timeout}s")
            time.sleep(1)


def takeover(module, _client) -> dict:
    p = module.params
    try:
        dyn = connect(p)
        foreign = find_foreign(dyn, p["objects"], p["managed_by"])
    except ApiException as exc:
        raise K8sError(f"reading the project's objects failed: HTTP {exc.status} {exc.reason}") from exc
    except Exception as exc:  # noqa: BLE001 - connection problems
        raise K8sError(f"reading the project's objects failed: {reason(getattr(exc, 'cause', exc))}") from exc
    plan = [{k: v for k, v in f.items() if k != "labels"} for f in foreign]
    if p["mode"] == "check":
        if foreign:
            where = ", ".join(sorted({f["namespace"] for f in foreign}))
            names = "; ".join(f"{_label(f)} (mounts claim {', '.join(f['mounts'])})" if f.get("mounts")
                              else _label(f) for f in foreign)
            raise K8sError(f"{where} holds objects this repository did not make (an upstream-made deployment?): "
                           f"{names}: preview the takeover with `{p['command_hint']}`, "
                           f"then run it with APPLY=1", foreign=plan)
        return {"changed": False, "foreign": plan}
    if p["mode"] == "preview" or not foreign or module.check_mode:
        return {"changed": bool(foreign) and p["mode"] == "apply", "foreign": plan}
    try:
        missing = denied(dyn.client, dyn, foreign)
        if missing:
            raise K8sError(f"the takeover needs the right to {'; '.join(missing)}: grant it or use another api_key; "
                           "nothing was changed", foreign=plan)
        take_over(dyn, foreign, p["timeout"])
    except ApiException as exc:
        raise K8sError(f"the takeover failed: HTTP {exc.status} {exc.reason}", foreign=plan) from exc
    except TimeoutError as exc:
        raise K8sError(f"the takeover failed: {exc}", foreign=plan) from exc
    return {"changed": True, "foreign": plan}


def main() -> None:
    run(dict(objects=dict(type="list", elements="dict", required=True),
             mode=dict(type="str", choices=["check", "preview", "apply"], default="check"),
             managed_by=dict(type="str", default="packit-deployment"),
             timeout=dict(type="int", default=300),
             command_hint=dict(type="str", default="make adopt")), takeover, connected=False)


if __name__ == "__main__":
    main()

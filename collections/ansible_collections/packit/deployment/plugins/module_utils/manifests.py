"""Plain-Python helpers over rendered manifests (lists of Kubernetes objects), shared by the
filters and the render action."""

from __future__ import annotations

from typing import Any

REDACTED = "PHJlZGFjdGVkPg=="  # base64 of "<redacted>"
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DeploymentConfig")


def docs(objects: Any) -> list[dict]:
    return [o for o in (objects or []) if isinstance(o, dict) and o]


def refs(objects: Any) -> list[dict]:
    """Identity of each object: apiVersion, kind, namespace, name (no content)."""
    return [
        {
            "apiVersion": o.get("apiVersion", ""),
            "kind": o.get("kind", ""),
            "namespace": (o.get("metadata") or {}).get("namespace", ""),
            "name": (o.get("metadata") or {}).get("name", ""),
        }
        for o in docs(objects)
    ]


def pod_specs(obj: dict) -> list[dict]:
    """The pod specs of a workload, CronJob, Job or Pod (none for other kinds)."""
    spec = obj.get("spec") or {}
    if obj.get("kind") == "Pod":
        return [spec]
    if obj.get("kind") == "CronJob":
        spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    template = (spec.get("template") or {}).get("spec")
    return [template] if isinstance(template, dict) else []


def missing_secret_keys(objects: list[dict]) -> list[dict]:
    """[{secret, key, reader, variable}]: each environment variable a container reads from a
    key (secretKeyRef, not optional) of a Secret among the objects that lacks that key."""
    keys = {((o.get("metadata") or {}).get("namespace", ""), (o.get("metadata") or {}).get("name")):
            set(o.get("data") or {}) | set(o.get("stringData") or {})
            for o in docs(objects) if o.get("kind") == "Secret"}
    found = []
    for obj in docs(objects):
        meta = obj.get("metadata") or {}
        for pod in pod_specs(obj):
            for container in (pod.get("initContainers") or []) + (pod.get("containers") or []):
                for env in container.get("env") or []:
                    ref = (env.get("valueFrom") or {}).get("secretKeyRef") or {}
                    have = keys.get((meta.get("namespace", ""), ref.get("name")))
                    if have is not None and not ref.get("optional") and ref.get("key") not in have:
                        found.append({"secret": ref["name"], "key": ref.get("key"), "variable": env.get("name"),
                                      "reader": f"{obj['kind']} {meta.get('name')} container {container.get('name')}"})
    return found


def redact(objects: Any) -> list[dict]:
    """Copies of the objects with every Secret value replaced by a marker."""
    out = []
    for o in docs(objects):
        if o.get("kind") == "Secret":
            o = plain(o)  # a plain copy: deepcopy of Ansible's tagged containers is slow
            o["data"] = {k: REDACTED for k in (o.get("data") or {})}
            if "stringData" in o:
                o["stringData"] = {k: "<redacted>" for k in o["stringData"]}
        out.append(o)
    return out


def plain(value: Any) -> Any:
    """Strip Ansible's tagged/lazy containers down to plain Python types."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return str(value)


# Apply order between kinds (a delete goes the other way); kinds not named here go with phase 1.
PHASES = {"Namespace": 0, "TenantNamespace": 0, "RoleBinding": 2, "ClusterRoleBinding": 2,
          "Deployment": 3, "StatefulSet": 3, "DeploymentConfig": 3, "DaemonSet": 3, "CronJob": 3, "Job": 3}


def phases(objects: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The objects grouped by phase, each group in the order given."""
    groups: dict[int, list[dict[str, Any]]] = {}
    for obj in objects:
        groups.setdefault(PHASES.get(obj.get("kind", ""), 1), []).append(obj)
    return [groups[p] for p in sorted(groups)]


def tenant_namespace(obj: dict[str, Any]) -> str:
    """The namespace an MP+ TenantNamespace makes: <tenant>--<name>, the tenant being the one
    whose <tenant>--config namespace holds the object."""
    meta = obj.get("metadata") or {}
    tenant = (meta.get("namespace") or "").removesuffix("--config")
    return f"{tenant}--{meta.get('name')}"


def created_namespaces(objects: list[dict[str, Any]]) -> list[str]:
    """The namespaces the objects create: each Namespace, and the namespace of each TenantNamespace."""
    names = [(o.get("metadata") or {}).get("name", "") if o.get("kind") == "Namespace" else tenant_namespace(o)
             for o in objects if o.get("kind") in ("Namespace", "TenantNamespace")]
    return list(dict.fromkeys(n for n in names if n))

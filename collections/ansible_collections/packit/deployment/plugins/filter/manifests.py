"""Filters over rendered manifests (lists of Kubernetes objects)."""

from __future__ import annotations

from typing import Any

REDACTED = "PHJlZGFjdGVkPg=="  # base64 of "<redacted>"
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DeploymentConfig")


def _docs(objects: Any) -> list[dict]:
    return [o for o in (objects or []) if isinstance(o, dict) and o]


def k8s_refs(objects: Any) -> list[dict]:
    """Identity of each object: apiVersion, kind, namespace, name (no content)."""
    return [
        {
            "apiVersion": o.get("apiVersion", ""),
            "kind": o.get("kind", ""),
            "namespace": (o.get("metadata") or {}).get("namespace", ""),
            "name": (o.get("metadata") or {}).get("name", ""),
        }
        for o in _docs(objects)
    ]


def k8s_redact(objects: Any) -> list[dict]:
    """Copies of the objects with every Secret value replaced by a marker."""
    out = []
    for o in _docs(objects):
        if o.get("kind") == "Secret":
            o = _plain(o)  # a plain copy: deepcopy of Ansible's tagged containers is slow
            o["data"] = {k: REDACTED for k in (o.get("data") or {})}
            if "stringData" in o:
                o["stringData"] = {k: "<redacted>" for k in o["stringData"]}
        out.append(o)
    return out


def k8s_secrets(objects: Any) -> list[dict]:
    return [o for o in _docs(objects) if o.get("kind") == "Secret"]


def k8s_not_secrets(objects: Any) -> list[dict]:
    return [o for o in _docs(objects) if o.get("kind") != "Secret"]


def k8s_workloads(refs: Any) -> list[dict]:
    return [r for r in (refs or []) if r.get("kind") in WORKLOAD_KINDS]


def k8s_dump_all(objects: Any) -> str:
    """Objects as one multi-document YAML text, keys in the order written."""
    import yaml

    class _Dumper(yaml.SafeDumper):
        pass

    def _str(dumper: yaml.SafeDumper, data: str) -> Any:
        style = "|" if "\n" in data else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)

    _Dumper.add_representer(str, _str)
    plain = [_plain(o) for o in _docs(objects)]
    return yaml.dump_all(plain, Dumper=_Dumper, sort_keys=False, default_flow_style=False, explicit_start=True)


def _plain(value: Any) -> Any:
    """Strip Ansible's tagged/lazy containers down to plain Python types."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return str(value)


def _claim_key(obj: dict) -> tuple:
    meta = obj.get("metadata") or {}
    return meta.get("namespace", ""), meta.get("name", "")


def _claim_size(claim: dict) -> Any:
    return (((claim.get("spec") or {}).get("resources") or {}).get("requests") or {}).get("storage")


def deploy_drop_live_claims(objects: Any, live: Any) -> list[dict]:
    """The objects without the PersistentVolumeClaims that exist: a claim is created once and
    never patched (its spec is immutable but for a size that only grows where the storage
    class allows it, and a claim taken over from another deployment has that one's sizes)."""
    have = {_claim_key(c) for c in _docs(live)}
    return [o for o in _docs(objects) if o.get("kind") != "PersistentVolumeClaim" or _claim_key(o) not in have]


def deploy_claim_drift(objects: Any, live: Any) -> list[str]:
    """One line per existing claim whose size differs from the rendered one."""
    have = {_claim_key(c): c for c in _docs(live)}
    lines = []
    for obj in _docs(objects):
        claim = have.get(_claim_key(obj)) if obj.get("kind") == "PersistentVolumeClaim" else None
        if claim is None:
            continue
        if str(_claim_size(obj)) != str(_claim_size(claim)):
            namespace, name = _claim_key(obj)
            lines.append(f"claim {name} in {namespace} keeps {_claim_size(claim)} (the vars ask for {_claim_size(obj)}): "
                         "deploy never changes an existing claim; resize it yourself where the storage class allows")
    return lines


def deploy_takeover_line(entry: dict) -> str:
    """One line of the takeover plan (k8s_takeover's foreign list)."""
    return f"{entry['action']} {entry['kind']}/{entry['name']} in {entry['namespace']}: {entry['why']}"


class FilterModule:
    def filters(self) -> dict:
        return {
            "k8s_refs": k8s_refs,
            "k8s_redact": k8s_redact,
            "k8s_secrets": k8s_secrets,
            "k8s_not_secrets": k8s_not_secrets,
            "k8s_workloads": k8s_workloads,
            "k8s_dump_all": k8s_dump_all,
            "drop_live_claims": deploy_drop_live_claims,
            "claim_drift": deploy_claim_drift,
            "takeover_line": deploy_takeover_line,
        }

"""Filters over rendered manifests (lists of Kubernetes objects)."""

from __future__ import annotations

import copy
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
            o = copy.deepcopy(o)
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


class FilterModule:
    def filters(self) -> dict:
        return {
            "k8s_refs": k8s_refs,
            "k8s_redact": k8s_redact,
            "k8s_secrets": k8s_secrets,
            "k8s_not_secrets": k8s_not_secrets,
            "k8s_workloads": k8s_workloads,
            "k8s_dump_all": k8s_dump_all,
        }

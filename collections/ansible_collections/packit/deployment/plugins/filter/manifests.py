"""Filters over rendered manifests (lists of Kubernetes objects)."""

from __future__ import annotations

from typing import Any

from ansible_collections.packit.deployment.plugins.module_utils.manifests import docs as _docs
from ansible_collections.packit.deployment.plugins.module_utils.manifests import plain as _plain
from ansible_collections.packit.deployment.plugins.module_utils.manifests import redact as k8s_redact


def k8s_secrets(objects: Any) -> list[dict]:
    return [o for o in _docs(objects) if o.get("kind") == "Secret"]


def k8s_not_secrets(objects: Any) -> list[dict]:
    return [o for o in _docs(objects) if o.get("kind") != "Secret"]


def k8s_dump_all(objects: Any) -> str:
    """Objects as one multi-document YAML text, keys in the order written."""
    import yaml

    class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # libyaml's emitter: the same text, faster
        pass

    def _str(dumper: yaml.SafeDumper, data: str) -> Any:
        style = "|" if "\n" in data else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)

    _Dumper.add_representer(str, _str)
    plain = [_plain(o) for o in _docs(objects)]
    return yaml.dump_all(plain, Dumper=_Dumper, sort_keys=False, default_flow_style=False, explicit_start=True)


def deploy_takeover_line(entry: dict) -> str:
    """One line of the takeover plan (k8s_takeover's foreign list)."""
    return f"{entry['action']} {entry['kind']}/{entry['name']} in {entry['namespace']}: {entry['why']}"


class FilterModule:
    def filters(self) -> dict:
        return {
            "k8s_redact": k8s_redact,
            "k8s_secrets": k8s_secrets,
            "k8s_not_secrets": k8s_not_secrets,
            "k8s_dump_all": k8s_dump_all,
            "takeover_line": deploy_takeover_line,
        }

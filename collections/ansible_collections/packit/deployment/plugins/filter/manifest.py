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
    """One line of the takeover plan (packit.deployment.takeover's foreign list)."""
    return f"{entry['action']} {entry['kind']}/{entry['name']} in {entry['namespace']}: {entry['why']}"


def deploy_takeover_hosts(entries: list[dict]) -> list[str]:
    """One line per public host of the plan: the Route that serves it after the switch, and how."""
    lines = []
    for e in entries:
        if e["kind"] == "Route" and e.get("host") and e["action"] in ("create", "adopt", "ours"):
            before = next((f"Route/{o['name']}" for o in entries if o["kind"] == "Route" and o.get("host") == e["host"]
                           and o["action"] == "delete"), "")
            how = (f"moves from {before} to Route/{e['name']}" if before else
                   f"stays on Route/{e['name']}, taken over in place" if e["action"] == "adopt" else
                   f"served by Route/{e['name']}")
            lines.append(f"host {e['host']}: {how}")
    return lines


def deploy_takeover_gap(item: dict) -> str:
    """One line of the switch's measurement: a host or Service and its seconds without a ready backend."""
    if item["key"].startswith(("host ", "Service ")):
        return f"{item['key']}: {item['value']:.2f}s without a ready backend"
    return f"{item['key']}: stopped {item['value']:.2f}s before its successor was ready"


class FilterModule:
    def filters(self) -> dict:
        return {
            "k8s_redact": k8s_redact,
            "k8s_secrets": k8s_secrets,
            "k8s_not_secrets": k8s_not_secrets,
            "k8s_dump_all": k8s_dump_all,
            "takeover_line": deploy_takeover_line,
            "takeover_hosts": deploy_takeover_hosts,
            "takeover_gap": deploy_takeover_gap,
        }

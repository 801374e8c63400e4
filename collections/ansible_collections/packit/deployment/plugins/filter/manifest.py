"""Filters over rendered manifests (lists of Kubernetes objects): packit.deployment.manifest_*."""

from __future__ import annotations

from typing import Any

from ansible_collections.packit.deployment.plugins.module_utils.manifests import docs, plain


def manifest_without_secrets(objects: Any) -> list[dict]:
    """The objects that are not Secrets, in order."""
    return [o for o in docs(objects) if o.get("kind") != "Secret"]


def manifest_yaml(objects: Any) -> str:
    """Objects as one multi-document YAML text, keys in the order written."""
    import yaml

    class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # libyaml's emitter: the same text, faster
        pass

    def _str(dumper: yaml.SafeDumper, data: str) -> Any:
        style = "|" if "\n" in data else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)

    _Dumper.add_representer(str, _str)
    return yaml.dump_all([plain(o) for o in docs(objects)], Dumper=_Dumper, sort_keys=False,
                         default_flow_style=False, explicit_start=True)


class FilterModule:
    def filters(self) -> dict:
        return {
            "manifest_without_secrets": manifest_without_secrets,
            "manifest_yaml": manifest_yaml,
        }

"""The apps' configuration as reviewed templates (config/ of the repository) and their secret
values (values.yml in the deployment's secrets directory): where a template is found, the
values shown by name for review, keys set twice, and the values masked in a text."""

from __future__ import annotations

import os
from typing import Any

try:
    import yaml
except ImportError:  # pragma: no cover - PyYAML comes with ansible-core
    yaml = None


def find_config(dirs: list[str], name: str) -> str:
    """The template of app configuration `name`: <dir>/<name>.j2 of the first of `dirs` that has
    it (config/<service>/<deployment>, config/<service>, config)."""
    for directory in dirs:
        path = os.path.join(directory, f"{name}.j2")
        if os.path.isfile(path):
            return path
    raise ValueError(f"no template {name}.j2 in {', '.join(dirs)}")


def placeholders(values: Any, path: str = "") -> Any:
    """The values with each leaf replaced by its name (`<values.yml: a.b>`), so that a template
    rendered with them shows what it takes from the values file and nothing of it."""
    if isinstance(values, dict):
        return {k: placeholders(v, f"{path}.{k}" if path else str(k)) for k, v in values.items()}
    if isinstance(values, list):
        return [placeholders(v, f"{path}[{n}]") for n, v in enumerate(values)]
    return f"<values.yml: {path}>"


def leaves(values: Any) -> list[str]:
    """Every scalar of the values as text (what must not be shown)."""
    if isinstance(values, dict):
        return [x for v in values.values() for x in leaves(v)]
    if isinstance(values, list):
        return [x for v in values for x in leaves(v)]
    if values is None or isinstance(values, bool):
        return []
    return [str(values)]


def secret_leaves(values: Any) -> list[str]:
    """The values to mask where a text is shown: every value of the file but the addresses and
    mounted paths it holds, which say nothing secret and would mask half a configuration."""
    return [v for v in leaves(values) if not v.startswith(("https://", "http://", "/"))]


def masked_diff(before: str, after: str, secrets: list[str], label: str) -> str:
    """A unified diff of two texts with the secrets masked in both ("" when they are the same)."""
    import difflib

    a, b = mask(before, secrets).splitlines(), mask(after, secrets).splitlines()
    return "\n".join(difflib.unified_diff(a, b, f"{label} (live)", f"{label} (new)", lineterm=""))


def mask(text: str, secrets: list[str], marker: str = "<secret>") -> str:
    """The text with every secret of at least four characters replaced by the marker, the
    longest first (a secret may contain another)."""
    for secret in sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, marker)
    return text


def duplicate_keys(text: str) -> list[str]:
    """The keys a YAML text sets twice in one mapping (the last would win silently), as
    dotted paths; [] for text that is not YAML (the app's own loader will say why)."""
    if yaml is None:
        return []
    try:
        root = yaml.compose(str(text).encode(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        return []
    found: list[str] = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key, value in node.value:
                name = str(key.value)
                where = f"{path}.{name}" if path else name
                if name in seen and where not in found:
                    found.append(where)
                seen.add(name)
                walk(value, where)
        elif isinstance(node, yaml.SequenceNode):
            for n, item in enumerate(node.value):
                walk(item, f"{path}[{n}]")

    walk(root, "")
    return found

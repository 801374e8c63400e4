"""Filters that pick components and the secret files they need."""

from __future__ import annotations

import os
from typing import Any


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on", "y")
    return bool(value)


def deploy_switch_names(components: list[str]) -> list[str]:
    """The with_<name> switch of each component."""
    return ["with_" + c.replace("-", "_") for c in components]


def deploy_pick_enabled(components: list[str], switch_values: list[Any]) -> list[str]:
    """Components whose switch (same order) is on."""
    return [c for c, v in zip(components, switch_values) if _truthy(v)]


def _secret_rendered(secret: dict, enabled: list[str]) -> bool:
    if secret["component"] != "secrets":
        return secret["component"] in enabled
    return any(c in enabled for c in secret.get("used_by", []))


def deploy_rendered_secrets(secrets: list[dict], component: str, enabled: list[str]) -> list[dict]:
    """The Secrets a component renders, given the enabled components."""
    return [s for s in secrets if s["component"] == component and _secret_rendered(s, enabled)]


def deploy_used_secrets(secrets: list[dict], component: str) -> list[dict]:
    """The Secrets a component's pods use."""
    return [s for s in secrets if component in s.get("used_by", [])]


def deploy_needed_secret_files(secrets: list[dict], selected: list[str], enabled: list[str]) -> list[dict]:
    """[{file, components}] for every secret file the selected components read."""
    needed: dict[str, list[str]] = {}
    for component in selected:
        for s in deploy_rendered_secrets(secrets, component, enabled) + deploy_used_secrets(secrets, component):
            for f in s["files"]:
                users = needed.setdefault(f, [])
                if component not in users:
                    users.append(component)
    return [{"file": f, "components": c} for f, c in needed.items()]


def deploy_missing_files(needed: list[dict], directory: str) -> list[dict]:
    """The entries of deploy_needed_secret_files whose file is not in directory.

    The secret files are read on the controller (lookup), so they are looked for there.
    """
    return [n for n in needed if not os.path.isfile(os.path.join(directory, n["file"]))]


class FilterModule:
    def filters(self) -> dict:
        return {
            "deploy_switch_names": deploy_switch_names,
            "deploy_pick_enabled": deploy_pick_enabled,
            "deploy_rendered_secrets": deploy_rendered_secrets,
            "deploy_used_secrets": deploy_used_secrets,
            "deploy_needed_secret_files": deploy_needed_secret_files,
            "deploy_missing_files": deploy_missing_files,
        }

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


def _secret_rendered(secret: dict, enabled: list[str], service: str = "") -> bool:
    if service and not secret.get("mapping") and not deploy_secret_keys(secret, service, enabled):
        return False  # none of its keys is this service's
    if secret["component"] != "secrets":
        return secret["component"] in enabled
    return any(c in enabled for c in secret.get("used_by", {}))


# The file in secrets_dir with the secret values the app configuration templates use.
VALUES_FILE = "values.yml"


def deploy_secret_keys(secret: dict, service: str, enabled: list[str]) -> list[dict]:
    """[{key, file, config, strip}] of a file-backed Secret in this service with these
    components enabled.

    A key may be limited to some services (`services`) or be needed only while one of some
    components is enabled (`components`); its file defaults to the key's name, except for a
    key rendered from the app configuration template `config` (config/), which needs the
    values file; `strip` drops trailing whitespace (one-line values read through the
    environment).
    """
    keys = []
    for entry in secret.get("keys", []):
        if "services" in entry and service not in entry["services"]:
            continue
        if "components" in entry and not any(c in enabled for c in entry["components"]):
            continue
        config = entry.get("config", "")
        keys.append({"key": entry["key"], "file": VALUES_FILE if config else entry.get("file", entry["key"]),
                     "config": config, "strip": bool(entry.get("strip", False))})
    return keys


def deploy_config_keys(secrets: list[dict], service: str, enabled: list[str]) -> dict[str, list[str]]:
    """Secret name -> its keys rendered from the app configuration (config/): what --diff
    shows as text, with the values of values.yml masked."""
    found = {s["name"]: [k["key"] for k in deploy_secret_keys(s, service, enabled) if k["config"]]
             for s in secrets if not s.get("mapping")}
    return {name: keys for name, keys in found.items() if keys}


def deploy_config_names(secrets: list[dict], service: str, enabled: list[str], selected: list[str]) -> list[str]:
    """The app configurations (config/) the selected components render into a Secret or
    whose pods use them (for the checksum that rolls them out)."""
    names = [k["config"] for s in secrets if _secret_rendered(s, enabled, service)
             and (s["component"] in selected or any(c in selected for c in s.get("used_by", {})))
             for k in deploy_secret_keys(s, service, enabled) if k["config"]]
    return list(dict.fromkeys(names))


def deploy_secret_files(secret: dict, service: str, enabled: list[str]) -> list[str]:
    """The files in secrets_dir a Secret is made of."""
    if secret.get("mapping"):
        return [secret["mapping"]]
    return list(dict.fromkeys(k["file"] for k in deploy_secret_keys(secret, service, enabled)))


def deploy_rendered_secrets(secrets: list[dict], component: str, enabled: list[str], service: str = "") -> list[dict]:
    """The Secrets a component renders, given the enabled components (and the service: a
    Secret none of whose keys is the service's is not rendered)."""
    return [s for s in secrets if s["component"] == component and _secret_rendered(s, enabled, service)]


def deploy_used_secrets(secrets: list[dict], component: str) -> list[dict]:
    """The Secrets a component's pods use."""
    return [s for s in secrets if component in s.get("used_by", {})]


def deploy_pod_secrets(secrets: list[dict], component: str, service: str, enabled: list[str]) -> list[dict]:
    """What a component's pods take from each Secret they use.

    [{name, mount, sub_path, items, all_keys, files, configs}]: `items` are the keys the pods
    mount (as [{key, path}]) at `mount` (none for Secrets read through the environment only;
    with `sub_path` each key is mounted as the file <mount>/<key>); `files` are the secret
    files and `configs` the app configurations behind what they use, for the pod template's
    checksum.
    """
    result = []
    for s in deploy_used_secrets(secrets, component):
        if s.get("while_enabled") and s["component"] not in enabled:
            continue  # a sidecar's Secret: used only while the sidecar's component is on
        wanted = s["used_by"][component]
        if s.get("mapping"):
            result.append({"name": s["name"], "mount": None, "items": [], "all_keys": True,
                           "files": [s["mapping"]], "configs": []})
            continue
        keys = deploy_secret_keys(s, service, enabled)
        used = keys if wanted == "all" else [k for k in keys if k["key"] in wanted]
        if not used:
            continue
        result.append({
            "name": s["name"],
            "mount": s.get("mount"),
            "sub_path": bool(s.get("sub_path", False)),
            "items": [{"key": k["key"], "path": k["key"]} for k in used],
            "all_keys": len(used) == len(keys),
            "files": list(dict.fromkeys(k["file"] for k in used if not k["config"])),
            "configs": [k["config"] for k in used if k["config"]],
        })
    return result


def deploy_needed_secret_files(secrets: list[dict], selected: list[str], enabled: list[str],
                               service: str) -> list[dict]:
    """[{file, components}] for every secret file the selected components read."""
    needed: dict[str, list[str]] = {}
    for component in selected:
        files = [f for s in deploy_rendered_secrets(secrets, component, enabled, service)
                 for f in deploy_secret_files(s, service, enabled)]
        files += [f for s in deploy_pod_secrets(secrets, component, service, enabled)
                  for f in s["files"] + ([VALUES_FILE] if s["configs"] else [])]
        for f in files:
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
            "switch_names": deploy_switch_names,
            "pick_enabled": deploy_pick_enabled,
            "rendered_secrets": deploy_rendered_secrets,
            "used_secrets": deploy_used_secrets,
            "secret_keys": deploy_secret_keys,
            "config_names": deploy_config_names,
            "config_keys": deploy_config_keys,
            "secret_files": deploy_secret_files,
            "pod_secrets": deploy_pod_secrets,
            "needed_secret_files": deploy_needed_secret_files,
            "missing_files": deploy_missing_files,
        }

"""Filters over the roles' table of Secrets (entries with name, component, keys or mapping, used_by,
mount): what a service renders, the keys and files each Secret is made of, and what the pods
of a component take from them: packit.deployment.secret_*."""

from __future__ import annotations

import os


def _secret_rendered(secret: dict, enabled: list[str], service: str = "") -> bool:
    if service and not secret.get("mapping") and not secret_keys(secret, service, enabled):
        return False  # none of its keys is this service's
    if secret["component"] != "secrets":
        return secret["component"] in enabled
    return any(c in enabled for c in secret.get("used_by", {}))


# The file in secrets_dir with the secret values the app configuration templates use.
VALUES_FILE = "values.yml"


def secret_keys(secret: dict, service: str, enabled: list[str]) -> list[dict]:
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


def secret_config_keys(secrets: list[dict], service: str, enabled: list[str]) -> dict[str, list[str]]:
    """Secret name -> its keys rendered from the app configuration (config/): what --diff
    shows as text, with the values of values.yml masked."""
    found = {s["name"]: [k["key"] for k in secret_keys(s, service, enabled) if k["config"]]
             for s in secrets if not s.get("mapping")}
    return {name: keys for name, keys in found.items() if keys}


def secret_config_names(secrets: list[dict], service: str, enabled: list[str], selected: list[str]) -> list[str]:
    """The app configurations (config/) the selected components render into a Secret or
    whose pods use them (for the checksum that rolls them out)."""
    names = [k["config"] for s in secrets if _secret_rendered(s, enabled, service)
             and (s["component"] in selected or any(c in selected for c in s.get("used_by", {})))
             for k in secret_keys(s, service, enabled) if k["config"]]
    return list(dict.fromkeys(names))


def secret_files(secret: dict, service: str, enabled: list[str]) -> list[str]:
    """The files in secrets_dir a Secret is made of."""
    if secret.get("mapping"):
        return [secret["mapping"]]
    return list(dict.fromkeys(k["file"] for k in secret_keys(secret, service, enabled)))


def secret_rendered(secrets: list[dict], component: str, enabled: list[str], service: str = "") -> list[dict]:
    """The Secrets a component renders, given the enabled components (and the service: a
    Secret none of whose keys is the service's is not rendered)."""
    return [s for s in secrets if s["component"] == component and _secret_rendered(s, enabled, service)]


def secret_used(secrets: list[dict], component: str, service: str, enabled: list[str]) -> list[dict]:
    """What a component's pods take from each Secret they use.

    [{name, mount, sub_path, items, all_keys, files, configs}]: `items` are the keys the pods
    mount (as [{key, path}]) at `mount` (none for Secrets read through the environment only;
    with `sub_path` each key is mounted as the file <mount>/<key>); `files` are the secret
    files and `configs` the app configurations behind what they use, for the pod template's
    checksum.
    """
    result = []
    for s in secrets:
        if component not in s.get("used_by", {}):
            continue
        if s.get("while_enabled") and s["component"] not in enabled:
            continue  # a sidecar's Secret: used only while the sidecar's component is on
        wanted = s["used_by"][component]
        if s.get("mapping"):
            result.append({"name": s["name"], "mount": None, "items": [], "all_keys": True,
                           "files": [s["mapping"]], "configs": []})
            continue
        keys = secret_keys(s, service, enabled)
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


def secret_needed_files(secrets: list[dict], selected: list[str], enabled: list[str], service: str) -> list[dict]:
    """[{file, components}] for every secret file the selected components read."""
    needed: dict[str, list[str]] = {}
    for component in selected:
        files = [f for s in secret_rendered(secrets, component, enabled, service)
                 for f in secret_files(s, service, enabled)]
        files += [f for s in secret_used(secrets, component, service, enabled)
                  for f in s["files"] + ([VALUES_FILE] if s["configs"] else [])]
        for f in files:
            users = needed.setdefault(f, [])
            if component not in users:
                users.append(component)
    return [{"file": f, "components": c} for f, c in needed.items()]


def secret_missing_files(needed: list[dict], directory: str) -> list[dict]:
    """The entries of secret_needed_files whose file is not in directory.

    The secret files are read on the controller (lookup), so they are looked for there.
    """
    return [n for n in needed if not os.path.isfile(os.path.join(directory, n["file"]))]


class FilterModule:
    def filters(self) -> dict:
        return {
            "secret_rendered": secret_rendered,
            "secret_keys": secret_keys,
            "secret_files": secret_files,
            "secret_config_names": secret_config_names,
            "secret_config_keys": secret_config_keys,
            "secret_used": secret_used,
            "secret_needed_files": secret_needed_files,
            "secret_missing_files": secret_missing_files,
        }

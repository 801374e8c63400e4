"""Filters that build the repeated parts of pod specs (the environment, the Secrets' volumes and
mounts) and name pods: packit.deployment.pod_*."""

from __future__ import annotations

from typing import Any


def pod_secret_volumes(used: list[dict]) -> list[dict]:
    """A volume per mounted Secret of packit.deployment.secret_used (only the keys the pods use)."""
    volumes = []
    for s in used:
        if not s["mount"]:
            continue
        secret: dict[str, Any] = {"secretName": s["name"]}
        if not s["all_keys"]:
            secret["items"] = s["items"]
        volumes.append({"name": s["name"], "secret": secret})
    return volumes


def pod_secret_mounts(used: list[dict]) -> list[dict]:
    """Read-only mounts of pod_secret_volumes at each Secret's mount path; a `sub_path`
    Secret as one file per key in that directory, which keeps the image's other files."""
    mounts = []
    for s in used:
        if not s["mount"]:
            continue
        if s.get("sub_path"):
            mounts += [{"name": s["name"], "mountPath": f"{s['mount'].rstrip('/')}/{item['path']}",
                        "subPath": item["path"], "readOnly": True} for item in s["items"]]
        else:
            mounts.append({"name": s["name"], "mountPath": s["mount"], "readOnly": True})
    return mounts


def pod_with_config_map(volumes: list[dict], volume: str, config_map: str, items: dict[str, str]) -> list[dict]:
    """The volumes, with the Secret volume `volume` turned into a projected volume that holds
    the ConfigMap's `items` (key -> path in the volume) beside the Secret's files."""
    result = []
    for v in volumes:
        if v["name"] == volume:
            secret = {"name": v["secret"]["secretName"]}
            if "items" in v["secret"]:
                secret["items"] = v["secret"]["items"]
            v = {"name": volume, "projected": {"sources": [
                {"secret": secret},
                {"configMap": {"name": config_map,
                               "items": [{"key": key, "path": path} for key, path in items.items()]}}]}}
        result.append(v)
    return result


def pod_env(mapping: dict[str, Any], keep_empty: list[str] | None = None) -> list[dict]:
    """A container env list from a mapping; values that are dicts are valueFrom sources.

    Empty values are left out (the image's default applies), except for the names in
    `keep_empty`: those are set to the empty string, which some images read as "off"
    (PUSHGATEWAY_ADDRESS) where leaving them out means their default. Such a variable is
    written without `value`, as the API server stores it.
    """
    env = []
    for name, value in mapping.items():
        if isinstance(value, dict):
            env.append({"name": name, "valueFrom": value})
        elif value is not None and str(value) != "":
            env.append({"name": name, "value": str(value)})
        elif value is not None and name in (keep_empty or []):
            env.append({"name": name})
    return env


def pod_secret_ref(secret: str, key: str) -> dict:
    """The valueFrom source of an environment variable that reads `key` of Secret `secret`."""
    return {"secretKeyRef": {"name": secret, "key": key}}


def pod_long_running_names(pools: dict[str, dict], names: dict[str, str]) -> list[str]:
    """The pods of the pools that serve the long-running queue (<statefulset>-<ordinal>)."""
    return [
        f"{names[pool]}-{i}"
        for pool, cfg in pools.items()
        if "long-running" in cfg["queues"]
        for i in range(int(cfg["replicas"]))
    ]


class FilterModule:
    def filters(self) -> dict:
        return {
            "pod_env": pod_env,
            "pod_secret_ref": pod_secret_ref,
            "pod_secret_volumes": pod_secret_volumes,
            "pod_secret_mounts": pod_secret_mounts,
            "pod_with_config_map": pod_with_config_map,
            "pod_long_running_names": pod_long_running_names,
        }

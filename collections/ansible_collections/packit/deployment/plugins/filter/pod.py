"""Filters that build the repeated parts of pod specs from the Secrets table."""

from __future__ import annotations

import json
from typing import Any


def deploy_secret_volumes(pod_secrets: list[dict]) -> list[dict]:
    """A volume per mounted Secret of deploy_pod_secrets (only the keys the pods use)."""
    volumes = []
    for s in pod_secrets:
        if not s["mount"]:
            continue
        secret: dict[str, Any] = {"secretName": s["name"]}
        if not s["all_keys"]:
            secret["items"] = s["items"]
        volumes.append({"name": s["name"], "secret": secret})
    return volumes


def deploy_secret_mounts(pod_secrets: list[dict]) -> list[dict]:
    """Read-only mounts of deploy_secret_volumes at each Secret's mount path; a `sub_path`
    Secret as one file per key in that directory, which keeps the image's other files."""
    mounts = []
    for s in pod_secrets:
        if not s["mount"]:
            continue
        if s.get("sub_path"):
            mounts += [{"name": s["name"], "mountPath": f"{s['mount'].rstrip('/')}/{item['path']}",
                        "subPath": item["path"], "readOnly": True} for item in s["items"]]
        else:
            mounts.append({"name": s["name"], "mountPath": s["mount"], "readOnly": True})
    return mounts


def deploy_with_config_map(volumes: list[dict], volume: str, config_map: str, items: dict[str, str]) -> list[dict]:
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


def deploy_mirror_images(images: dict[str, str], mirror: str) -> dict[str, str]:
    """The image references as pulled through `mirror`, a registry that holds every source
    under its full name (`<mirror>/quay.io/packit/x:tag`); unchanged when mirror is empty."""
    mirror = (mirror or "").strip().rstrip("/")
    if not mirror:
        return dict(images)
    if "://" in mirror or " " in mirror:
        raise ValueError(f"image_registry_mirror must be host[:port][/path] without a scheme, not {mirror!r}")
    return {name: f"{mirror}/{reference}" for name, reference in images.items()}


def deploy_env(mapping: dict[str, Any], keep_empty: list[str] | None = None) -> list[dict]:
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


def deploy_secret_ref(secret: str, key: str) -> dict:
    return {"secretKeyRef": {"name": secret, "key": key}}


def deploy_image_trigger(stream_tag: str, container: str, sidecars: dict[str, str] | None = None,
                         tag: str = "") -> str:
    """The image.openshift.io/triggers annotation value: the container follows stream_tag, each
    sidecar container (name -> stream) follows <stream>:<tag>."""
    follows = {container: stream_tag} | {name: f"{stream}:{tag}" for name, stream in (sidecars or {}).items()}
    return json.dumps(
        [
            {
                "from": {"kind": "ImageStreamTag", "name": followed},
                "fieldPath": f'spec.template.spec.containers[?(@.name=="{name}")].image',
            }
            for name, followed in follows.items()
        ],
        separators=(",", ":"),
    )


def deploy_cache_pods(pools: dict[str, dict], names: dict[str, str]) -> list[str]:
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
            "secret_volumes": deploy_secret_volumes,
            "secret_mounts": deploy_secret_mounts,
            "with_config_map": deploy_with_config_map,
            "env": deploy_env,
            "mirror_images": deploy_mirror_images,
            "secret_ref": deploy_secret_ref,
            "image_trigger": deploy_image_trigger,
            "cache_pods": deploy_cache_pods,
        }

"""Filters that build the repeated parts of pod specs from the Secrets table."""

from __future__ import annotations

import json
from typing import Any


def deploy_secret_volumes(secrets: list[dict]) -> list[dict]:
    """A volume per file-backed Secret (mapping Secrets are read through env)."""
    return [{"name": s["name"], "secret": {"secretName": s["name"]}} for s in secrets if not s.get("mapping")]


def deploy_secret_mounts(secrets: list[dict], root: str = "/secrets") -> list[dict]:
    """Read-only mounts of deploy_secret_volumes at <root>/<secret name>."""
    return [
        {"name": s["name"], "mountPath": f"{root}/{s['name']}", "readOnly": True}
        for s in secrets
        if not s.get("mapping")
    ]


def deploy_env(mapping: dict[str, Any]) -> list[dict]:
    """A container env list from a mapping; values that are dicts are valueFrom sources.

    Empty values are left out: the API server drops them anyway, and an absent variable
    says "not configured" more plainly than an empty one.
    """
    env = []
    for name, value in mapping.items():
        if isinstance(value, dict):
            env.append({"name": name, "valueFrom": value})
        elif value is not None and str(value) != "":
            env.append({"name": name, "value": str(value)})
    return env


def deploy_secret_ref(secret: str, key: str) -> dict:
    return {"secretKeyRef": {"name": secret, "key": key}}


def deploy_image_trigger(stream_tag: str, container: str) -> str:
    """The image.openshift.io/triggers annotation value for one container."""
    return json.dumps(
        [
            {
                "from": {"kind": "ImageStreamTag", "name": stream_tag},
                "fieldPath": f'spec.template.spec.containers[?(@.name=="{container}")].image',
            }
        ],
        separators=(",", ":"),
    )


class FilterModule:
    def filters(self) -> dict:
        return {
            "deploy_secret_volumes": deploy_secret_volumes,
            "deploy_secret_mounts": deploy_secret_mounts,
            "deploy_env": deploy_env,
            "deploy_secret_ref": deploy_secret_ref,
            "deploy_image_trigger": deploy_image_trigger,
        }

"""Filters over container images: the image trigger annotation of a workload and the references
pulled through a registry mirror: packit.deployment.image_*."""

from __future__ import annotations

import json


def image_trigger(stream_tag: str, container: str, sidecars: dict[str, str] | None = None, tag: str = "") -> str:
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


def image_mirrored(images: dict[str, str], mirror: str) -> dict[str, str]:
    """The image references as pulled through `mirror`, a registry that holds every source
    under its full name (`<mirror>/quay.io/packit/x:tag`); unchanged when mirror is empty."""
    mirror = (mirror or "").strip().rstrip("/")
    if not mirror:
        return dict(images)
    if "://" in mirror or " " in mirror:
        raise ValueError(f"image_registry_mirror must be host[:port][/path] without a scheme, not {mirror!r}")
    return {name: f"{mirror}/{reference}" for name, reference in images.items()}


class FilterModule:
    def filters(self) -> dict:
        return {
            "image_trigger": image_trigger,
            "image_mirrored": image_mirrored,
        }

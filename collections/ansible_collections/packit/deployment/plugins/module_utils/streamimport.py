"""The ImageStreamImport of one stream tag (what `oc import-image` posts) and what its answer
says. Plain Python with no imports beyond the standard library: make import-images
(module_utils/images.py) and the import CronJob's script (cron-jobs/import-images/, which
runs it in a pod of a published image) share it."""

from __future__ import annotations

from typing import Any


class StreamImportError(ValueError):
    """The stream cannot be imported, or the import failed: the one line to show."""


def build_import(stream: dict[str, Any], tag_name: str, source: str = "") -> tuple[dict[str, Any], dict[str, Any]]:
    """(ImageStreamImport body, its image entry) that imports into `tag_name` the tag's own
    `from` reference, or `source` when given, keeping the tag's import and reference policies."""
    name = stream["metadata"]["name"]
    tag = next((t for t in (stream.get("spec") or {}).get("tags") or [] if t.get("name") == tag_name), None)
    if tag is None:
        raise StreamImportError(f"ImageStream {name}: no tag {tag_name!r} in spec.tags to import")
    origin = tag.get("from") or {}
    if not source and (origin.get("kind") != "DockerImage" or not origin.get("name")):
        raise StreamImportError(f"ImageStream {name}: tag {tag_name} does not come from a DockerImage "
                                f"(from.kind={origin.get('kind')})")
    image = {
        "from": {"kind": "DockerImage", "name": source or origin["name"]},
        "to": {"name": tag_name},
        "importPolicy": dict(tag.get("importPolicy") or {}),
        "referencePolicy": dict(tag.get("referencePolicy") or {"type": "Source"}),
    }
    body = {
        "apiVersion": "image.openshift.io/v1",
        "kind": "ImageStreamImport",
        "metadata": {"name": name, "namespace": stream["metadata"]["namespace"]},
        "spec": {"import": True, "images": [image]},
    }
    return body, image


def imported_reference(answer: dict[str, Any], stream: str, source: str) -> str:
    """The image reference an ImageStreamImport's answer reports; StreamImportError when the
    import failed."""
    results = (answer.get("status") or {}).get("images") or []
    if not results:
        raise StreamImportError(f"ImageStream {stream}: the API answered the import without a result")
    outcome = results[0].get("status") or {}
    if outcome.get("status") == "Failure":
        raise StreamImportError(f"ImageStream {stream}: import of {source} failed: "
                                f"{outcome.get('message', outcome.get('reason', 'no reason given'))}")
    return (results[0].get("image") or {}).get("dockerImageReference", "")

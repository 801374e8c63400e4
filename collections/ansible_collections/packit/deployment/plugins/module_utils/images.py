"""ImageStream tags: what a tag resolves to, pinning a tag to one image and undoing it, and
ImageStreamImports (what `oc import-image` posts)."""
from __future__ import annotations

import json
import time
from typing import Any

from ansible_collections.packit.deployment.plugins.module_utils import streamimport
from ansible_collections.packit.deployment.plugins.module_utils.k8s import (
    K8sError, api_message, get, now, patch, resource, status_of,
)

try:
    from kubernetes.dynamic.exceptions import DynamicApiError
except ImportError:  # reported by the module through missing_required_lib
    DynamicApiError = Exception

PINNED_FROM = "packit.dev/pinned-from"
PINNED_IMPORT_POLICY = "packit.dev/pinned-import-policy"
PINNED_AT = "packit.dev/pinned-at"


def stream_tag(stream: dict[str, Any], tag: str) -> tuple[dict[str, Any] | None, str]:
    """(spec tag entry, the image the tag currently resolves to or follows)."""
    entry = next((t for t in (stream.get("spec") or {}).get("tags") or [] if t.get("name") == tag), None)
    for status_tag in (stream.get("status") or {}).get("tags") or []:
        if status_tag.get("tag") == tag and status_tag.get("items"):
            return entry, status_tag["items"][0].get("dockerImageReference") or status_tag["items"][0].get("image", "")
    return entry, ((entry or {}).get("from") or {}).get("name", "")


def digest(ref: str) -> str:
    """The digest of an image reference (sha256:...), empty for a reference by tag."""
    return ref.rsplit("@", 1)[1] if "@" in ref else ""


def same_image(running: str, wanted: str) -> bool:
    """Whether a container runs the image a stream tag resolves to. The image trigger writes the
    stream's own pull spec in the internal registry (reference policy Local) or the source
    registry's (Source), so references by digest are compared by their digest."""
    if digest(running) and digest(wanted):
        return digest(running) == digest(wanted)
    return running == wanted


def source_reference(stream: dict[str, Any], tag: str, image: str) -> str:
    """The source registry's reference of an image the stream imported: a workload runs the
    internal registry's pull spec (reference policy Local), and a pin to that would make the
    stream import from itself. Found by digest in the tag's history (then any tag's); the
    reference as given when the stream no longer records it."""
    wanted = digest(image)
    tags = sorted((stream.get("status") or {}).get("tags") or [], key=lambda t: t.get("tag") != tag)
    for status_tag in tags if wanted else []:
        for item in status_tag.get("items") or []:
            if item.get("image") == wanted and item.get("dockerImageReference"):
                return item["dockerImageReference"]
    return image


def _tags_patch(stream: dict[str, Any], tags: list[dict[str, Any]]) -> dict[str, Any]:
    # spec.tags is replaced as a whole; resourceVersion makes a concurrent edit fail instead of being lost.
    return {"metadata": {"resourceVersion": stream["metadata"]["resourceVersion"]}, "spec": {"tags": tags}}


def _without_pin_time(entry: dict[str, Any]) -> str:
    notes = {k: v for k, v in (entry.get("annotations") or {}).items() if k != PINNED_AT}
    return json.dumps(dict(entry, annotations=notes), sort_keys=True)


def pin_tag(client, namespace: str, stream_name: str, tag: str, image: str,
            check_mode: bool) -> dict[str, Any]:
    """Point <stream>:<tag> at `image` and stop its scheduled import, recording how to undo it."""
    stream = get(client, "image.openshift.io/v1", "ImageStream", namespace, stream_name)
    if stream is None:
        raise K8sError(f"ImageStream {namespace}/{stream_name}: not found, cannot pin tag {tag}")
    tags = json.loads(json.dumps((stream.get("spec") or {}).get("tags") or []))
    entry = next((t for t in tags if t.get("name") == tag), None)
    if entry is None:
        raise K8sError(f"ImageStream {stream_name}: no tag {tag!r} in spec.tags to pin")
    before = json.dumps(entry, sort_keys=True)
    notes = entry.get("annotations") or {}
    if PINNED_FROM not in notes:
        notes[PINNED_FROM] = json.dumps(entry.get("from") or {}, sort_keys=True)
        notes[PINNED_IMPORT_POLICY] = json.dumps(entry.get("importPolicy") or {}, sort_keys=True)
        notes[PINNED_AT] = now()
    entry["annotations"] = notes
    image = source_reference(stream, tag, image)
    entry["from"] = {"kind": "DockerImage", "name": image}
    # scheduled: false is the default, which the API server stores as an absent key
    entry["importPolicy"] = {k: v for k, v in (entry.get("importPolicy") or {}).items() if k != "scheduled"}
    if _without_pin_time(entry) == _without_pin_time(json.loads(before)):
        return {"stream": stream_name, "tag": tag, "pinned_to": image, "changed": False,
                "following": json.loads(notes[PINNED_FROM]).get("name", "")}
    if not check_mode:
        patch(client, stream, _tags_patch(stream, tags))
    return {"stream": stream_name, "tag": tag, "pinned_to": image, "changed": True,
            "following": json.loads(notes[PINNED_FROM]).get("name", "")}


def unpin_tag(client, namespace: str, stream_name: str, tag: str, check_mode: bool) -> dict[str, Any]:
    """Undo pin_tag: restore the recorded `from` and importPolicy of <stream>:<tag>."""
    stream = get(client, "image.openshift.io/v1", "ImageStream", namespace, stream_name)
    if stream is None:
        raise K8sError(f"ImageStream {namespace}/{stream_name}: not found, cannot unpin tag {tag}")
    tags = json.loads(json.dumps((stream.get("spec") or {}).get("tags") or []))
    entry = next((t for t in tags if t.get("name") == tag), None)
    notes = (entry or {}).get("annotations") or {}
    if entry is None or PINNED_FROM not in notes:
        return {"stream": stream_name, "tag": tag, "changed": False, "following": ((entry or {}).get("from") or {}).get("name", "")}
    try:
        entry["from"] = json.loads(notes.pop(PINNED_FROM))
        entry["importPolicy"] = json.loads(notes.pop(PINNED_IMPORT_POLICY, "{}"))
    except ValueError as exc:
        raise K8sError(f"ImageStream {stream_name}: tag {tag} pin annotations are not valid JSON; fix spec.tags by hand") from exc
    notes.pop(PINNED_AT, None)
    if notes:
        entry["annotations"] = notes
    else:
        entry.pop("annotations", None)
    if not check_mode:
        patch(client, stream, _tags_patch(stream, tags))
    return {"stream": stream_name, "tag": tag, "changed": True, "following": entry["from"].get("name", "")}


def build_import(stream: dict[str, Any], deployment: str, source: str = "") -> tuple[dict[str, Any], dict[str, Any]]:
    """(ImageStreamImport body, its image entry) of the tag `deployment` (module_utils/streamimport.py)."""
    try:
        return streamimport.build_import(stream, deployment, source)
    except streamimport.StreamImportError as exc:
        raise K8sError(str(exc)) from exc


IMPORT_CONFLICT_ATTEMPTS = 5


def post_import(client, body: dict[str, Any]) -> dict[str, Any]:
    """POST an ImageStreamImport; the server imports before it answers (nothing is stored).
    The server answers 409 when the stream changed while it imported (the image stream
    controller writes the same stream): that import is posted again, a few times."""
    res = resource(client, "image.openshift.io/v1", "ImageStreamImport")
    meta = body["metadata"]
    for attempt in range(1, IMPORT_CONFLICT_ATTEMPTS + 1):
        try:
            return res.create(body=body, namespace=meta["namespace"]).to_dict()
        except DynamicApiError as exc:
            if status_of(exc) != 409 or attempt == IMPORT_CONFLICT_ATTEMPTS:
                raise K8sError(f"ImageStream {meta['name']}: the API refused the import: {api_message(exc)}") from exc
            time.sleep(0.5 * attempt)
    raise AssertionError("unreachable")


def imported_reference(answer: dict[str, Any], stream: str, source: str) -> str:
    """The image reference an ImageStreamImport's answer reports, or the import's failure as a K8sError."""
    try:
        return streamimport.imported_reference(answer, stream, source)
    except streamimport.StreamImportError as exc:
        raise K8sError(str(exc)) from exc

"""The status table of a deployment's workloads (modules/workload_status.py, and
modules/rollout_wait.py after its wait)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from ansible_collections.packit.deployment.plugins.module_utils.images import same_image, stream_tag
from ansible_collections.packit.deployment.plugins.module_utils.k8s import list_objects, resource
from ansible_collections.packit.deployment.plugins.module_utils.workloads import (
    ROLLOUT_KINDS, WORKLOAD_KINDS, container_images, image_triggers, last_rollout, rollout_state,
)


def short(ref: str) -> str:
    """Registry refs are long; keep the name and the tag or the digest's first 12 characters."""
    name = ref.rsplit("/", 1)[-1]
    if "@sha256:" in name:
        base, digest = name.split("@sha256:", 1)
        return f"{base}@{digest[:12]}"
    return name


def status_table(client, namespace: str, service: str, deployment: str) -> dict:
    """The state of every workload of the instance: rows, the table's lines, what is not ready."""
    selector = f"app.kubernetes.io/instance={service}-{deployment}"
    kinds = [("image.openshift.io/v1", "ImageStream"), *WORKLOAD_KINDS]
    # Discovery first, one kind after the other: its cache is not shared safely between threads.
    for api_version, kind in [*kinds, *ROLLOUT_KINDS]:
        resource(client, api_version, kind, required=False)
    # The instance's streams and workloads, and the revisions of the namespace (one list of each
    # kind for all workloads), asked in parallel on one client.
    reads = [(api_version, kind, selector) for api_version, kind in kinds] + \
        [(api_version, kind, "") for api_version, kind in ROLLOUT_KINDS]
    with ThreadPoolExecutor(max_workers=len(reads)) as pool:
        found = list(pool.map(lambda read: list_objects(client, read[0], read[1], namespace, read[2], required=False),
                              reads))
    streams = {s["metadata"]["name"]: s for s in found[0]}
    workloads = [obj for objects in found[1:len(kinds)] for obj in objects]
    listed = {kind: items for (_api, kind), items in zip(ROLLOUT_KINDS, found[len(kinds):])}
    rollouts = [last_rollout(obj, listed) for obj in workloads]
    rows = []
    for obj, rollout in zip(workloads, rollouts):
        kind = obj["kind"]
        ready, desired, done = rollout_state(obj)
        running = container_images(obj["spec"]["template"])
        images = []
        for t in image_triggers(obj):
            _tag, tag_image = stream_tag(streams.get(t["stream"], {}), t["tag"]) if t["stream"] in streams else (None, "")
            images.append({"container": t["container"], "running": running.get(t["container"], ""),
                           "stream_tag": f"{t['stream']}:{t['tag']}", "stream_image": tag_image,
                           "current": same_image(running.get(t["container"], ""), tag_image)})
        if not images:
            images = [{"container": c, "running": i, "stream_tag": "", "stream_image": "", "current": None}
                      for c, i in running.items()]
        rows.append({"component": obj["metadata"]["name"], "kind": kind, "ready": ready, "desired": desired,
                     "healthy": done, "images": images, "last_rollout": rollout})
    rows.sort(key=lambda r: r["component"])
    header = f"{'COMPONENT':<28} {'KIND':<16} {'READY':<7} {'STATUS':<11} {'LAST ROLLOUT':<21} IMAGE (running | stream tag)"
    lines = [header]
    for r in rows:
        image_text = "; ".join(
            f"{i['container']}: {short(i['running'])}" + (
                "" if not i["stream_tag"] else
                (" = " if i["current"] else " != ") + f"{i['stream_tag']} {short(i['stream_image']) or '(no stream)'}")
            for i in r["images"])
        lines.append(f"{r['component']:<28} {r['kind']:<16} {str(r['ready']) + '/' + str(r['desired']):<7} "
                     f"{'ok' if r['healthy'] else 'NOT READY':<11} {r['last_rollout'] or '-':<21} {image_text}")
    not_ready = [r["component"] for r in rows if not r["healthy"]]
    return {"rows": rows, "lines": lines, "not_ready": not_ready, "healthy": bool(rows) and not not_ready}

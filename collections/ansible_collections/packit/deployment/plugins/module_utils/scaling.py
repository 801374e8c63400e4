"""Stopping workloads for a day-2 job and starting them again: each is scaled to zero with the
replicas it had kept in an annotation on it, and scaled back from that annotation, so an
interrupted run is finished by the next one."""
from __future__ import annotations

import time
from typing import Any

from ansible_collections.packit.deployment.plugins.module_utils.k8s import K8sError, get, patch
from ansible_collections.packit.deployment.plugins.module_utils.workloads import list_workloads


def stop(module, client, namespace: str, workloads: list[dict[str, Any]], annotation: str, timeout: int,
         unfinished: str) -> tuple[bool, list[dict[str, Any]]]:
    """Scale `workloads` to zero, keeping their replicas in `annotation`, and wait until their pods
    are gone. `unfinished` ends the timeout's message (what was not done). Check mode changes
    nothing and returns what would be stopped."""
    stopped, changed = [], False
    for obj in workloads:
        meta = obj["metadata"]
        replicas = obj["spec"].get("replicas", 1)
        kept = (meta.get("annotations") or {}).get(annotation)
        # Already stopped by an earlier run that did not finish: its annotation is the truth.
        before = int(kept) if kept is not None and replicas == 0 else replicas
        stopped.append({"apiVersion": obj["apiVersion"], "kind": obj["kind"], "name": meta["name"], "replicas": before})
        if replicas == 0 and kept is not None:
            continue
        changed = True
        if not module.check_mode:
            patch(client, obj, {"metadata": {"annotations": {annotation: str(before)}}, "spec": {"replicas": 0}})
    if module.check_mode:
        return changed, stopped
    deadline = time.monotonic() + timeout
    for entry in stopped:
        while True:
            obj = get(client, entry["apiVersion"], entry["kind"], namespace, entry["name"])
            running = int(((obj or {}).get("status") or {}).get("replicas") or 0)
            if running == 0:
                break
            if time.monotonic() > deadline:
                raise K8sError(f"{entry['kind']} {entry['name']} still has {running} pods {timeout}s after "
                               f"it was scaled to 0; {unfinished}")
            time.sleep(1)
    return changed, stopped


def start(module, client, namespace: str, annotation: str) -> tuple[bool, list[dict[str, Any]]]:
    """Scale every workload of the namespace with `annotation` back to the replicas it keeps, and
    remove it."""
    started = []
    for obj in list_workloads(client, namespace):
        kept = (obj["metadata"].get("annotations") or {}).get(annotation)
        if kept is None:
            continue
        started.append({"kind": obj["kind"], "name": obj["metadata"]["name"], "replicas": int(kept)})
        if not module.check_mode:
            patch(client, obj, {"metadata": {"annotations": {annotation: None}}, "spec": {"replicas": int(kept)}})
    return bool(started), started

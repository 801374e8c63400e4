"""One-off Jobs of the day-2 operations (the database's dump and restore, the broker's report
and purge): create, wait, and the pods' termination messages as their result or their error."""
from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any

from ansible_collections.packit.deployment.plugins.module_utils.k8s import (
    CLUSTER_ERRORS, K8sError, api_message, get, list_objects, resource,
)

# Finished Jobs stay a week for their status and logs, then the TTL controller removes them.
JOB_TTL_SECONDS = 7 * 24 * 3600


def job_name(prefix: str) -> str:
    """<prefix>-<UTC time>: one name a run, sorted by time."""
    return f"{prefix}-{datetime.now(timezone.utc).strftime('%Y%m%d-%H%M%S')}"


def joined(messages: list[str]) -> str:
    """Messages on one line."""
    return "; ".join(" ".join(text.split()) for text in messages)


def pod_messages(client, namespace: str, job: str) -> str:
    """The termination messages (or waiting reasons) of the Job's pods, on one line."""
    return joined(termination_messages(client, namespace, job))


def termination_messages(client, namespace: str, job: str) -> list[str]:
    """The termination messages (or waiting reasons, or why a pod is Pending) of the Job's pods, as written."""
    found = []
    for pod in list_objects(client, "v1", "Pod", namespace, selector=f"batch.kubernetes.io/job-name={job}"):
        status = pod.get("status") or {}
        for container in status.get("containerStatuses") or []:
            state = container.get("state") or {}
            text = ((state.get("terminated") or {}).get("message") or (state.get("waiting") or {}).get("reason")
                    or (state.get("waiting") or {}).get("message"))
            if text:
                found.append(str(text))
        if not found and status.get("phase") == "Pending":
            reasons = [c.get("message") or c.get("reason") for c in status.get("conditions") or []
                       if c.get("status") == "False"]
            found.append(f"pod {pod['metadata']['name']} is Pending" + (f" ({reasons[0]})" if reasons else ""))
    return found


def run_job(client, body: dict[str, Any], what: str, timeout: int) -> list[str]:
    """Create the Job `body`, wait until it completes and return its pods' termination messages;
    fail with them (one line) when it fails or does not finish within `timeout` seconds.
    `what` says what the Job does, for the messages."""
    name, namespace = body["metadata"]["name"], body["metadata"]["namespace"]
    try:
        resource(client, "batch/v1", "Job").create(body=body, namespace=namespace)
    except CLUSTER_ERRORS as exc:
        raise K8sError(f"cannot create Job {name} in {namespace}: {api_message(exc)}") from exc
    deadline = time.monotonic() + timeout
    while True:
        job = get(client, "batch/v1", "Job", namespace, name) or {}
        status = job.get("status") or {}
        conditions = {c.get("type"): c for c in status.get("conditions") or [] if c.get("status") == "True"}
        if "Complete" in conditions or int(status.get("succeeded") or 0) > 0 and "Failed" not in conditions:
            return termination_messages(client, namespace, name)
        if "Failed" in conditions:
            reason = pod_messages(client, namespace, name) or conditions["Failed"].get("message") or "no message"
            raise K8sError(f"Job {name} ({what}) failed: {reason}")
        if time.monotonic() > deadline:
            state = pod_messages(client, namespace, name) or "no pod has finished"
            raise K8sError(f"Job {name} ({what}) did not finish within {timeout}s: {state}")
        time.sleep(1)


def delete_job(client, namespace: str, name: str) -> None:
    """Delete the Job and its pods (a Job whose result has been read)."""
    try:
        resource(client, "batch/v1", "Job").delete(name=name, namespace=namespace,
                                                   body={"propagationPolicy": "Background"})
    except CLUSTER_ERRORS as exc:
        if getattr(exc, "status", None) != 404:
            raise K8sError(f"cannot delete Job {name} in {namespace}: {api_message(exc)}") from exc

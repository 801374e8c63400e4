"""The wait for workloads to be rolled out, against one deadline (modules/rollout_wait.py,
modules/apply.py)."""

from __future__ import annotations

import time

from ansible_collections.packit.deployment.plugins.module_utils.k8s import K8sError, api_message, status_of
from ansible_collections.packit.deployment.plugins.module_utils.workloads import rolled_out

try:
    import urllib3
    from kubernetes.client.rest import ApiException
except ImportError:  # reported by run() through missing_required_lib
    pass


def wait_rolled_out(dyn, workloads: list[dict], timeout: int, sleep: float = 2) -> dict:
    """Poll the workloads (dicts with apiVersion, kind, name, namespace) until each is rolled
    out, against one deadline; {ready, not_ready, waited}, or K8sError naming those not ready."""
    def read(w: dict) -> dict | None:
        resource = dyn.resources.get(api_version=w["apiVersion"], kind=w["kind"])
        try:
            return resource.get(name=w["name"], namespace=w.get("namespace") or None).to_dict()
        except ApiException as exc:
            if status_of(exc) != 404:
                raise
            return None

    return poll_rolled_out(read, workloads, timeout, sleep)


def poll_rolled_out(read, workloads: list[dict], timeout: float, sleep: float = 2) -> dict:
    """wait_rolled_out with read(workload) giving the live object (None while it does not exist):
    each workload is read until it is rolled out, all against one deadline; a failed read is
    one line."""
    started = time.monotonic()
    pending = {f"{w['kind']}/{w['name']}": w for w in workloads}
    ready: list[str] = []
    try:
        while True:
            for label, w in list(pending.items()):
                obj = read(w)
                if obj is not None and rolled_out(obj):
                    ready.append(label)
                    del pending[label]
            if not pending or time.monotonic() - started >= timeout:
                break
            time.sleep(sleep)
    except ApiException as exc:
        raise K8sError(f"reading the workloads failed: HTTP {exc.status} {exc.reason}") from exc
    except urllib3.exceptions.HTTPError as exc:
        raise K8sError(f"lost the API server while waiting: {api_message(exc)}") from exc
    waited = round(time.monotonic() - started, 1)
    if pending:
        names = ", ".join(label.split("/", 1)[1] for label in pending)
        raise K8sError(f"not ready after {timeout}s: {names} (inspect with make check; raise "
                       "deploy_wait_timeout for slow clusters)", ready=ready, not_ready=list(pending), waited=waited)
    return {"ready": ready, "not_ready": [], "waited": waited}

#!/usr/bin/python
"""Wait until workloads have rolled out their current template and all their pods are ready."""

from __future__ import annotations

DOCUMENTATION = r"""
module: rollout_wait
short_description: Wait for Deployments, StatefulSets and DeploymentConfigs to be rolled out
description:
  - Polls every workload in C(workloads) until each has observed its latest generation and
    runs that template on all its replicas, all ready; one shared deadline for all of them.
  - Fails with one line naming every workload still not ready at the deadline.
  - Only reads.
options:
  workloads:
    description: List of dicts with apiVersion, kind, name, namespace.
    type: list
    elements: dict
    required: true
  timeout: {description: Seconds to wait in all., type: int, default: 600}
  sleep: {description: Seconds between polls., type: int, default: 2}
extends_documentation_fragment: [kubernetes.core.k8s_auth_options]
notes:
  - kubernetes.core.k8s waits per object with its own timeout and knows no DeploymentConfig;
    this module waits for all of them against one deadline, with the collection's one
    definition of rolled out (module_utils/workloads.py), the one the status table shows.
"""

EXAMPLES = r"""
- name: Wait for the deployed workloads
  packit.deployment.rollout_wait:
    workloads:
      - {apiVersion: apps/v1, kind: Deployment, name: packit-service, namespace: packit-stg}
      - {apiVersion: apps/v1, kind: StatefulSet, name: packit-worker, namespace: packit-stg}
    timeout: 600
"""

RETURN = r"""
ready: {description: Workloads that are rolled out (kind/name)., type: list, elements: str, returned: always}
not_ready: {description: Workloads that are not (kind/name)., type: list, elements: str, returned: always}
waited: {description: Seconds waited., type: float, returned: always}
"""

import time

from ansible_collections.packit.deployment.plugins.module_utils.k8s import K8sError, api_message, run, status_of
from ansible_collections.packit.deployment.plugins.module_utils.workloads import rolled_out

try:
    import urllib3
    from kubernetes.client.rest import ApiException
except ImportError:  # reported by run() through missing_required_lib
    pass


def wait(module, dyn) -> dict:
    p = module.params
    started = time.monotonic()
    pending = {f"{w['kind']}/{w['name']}": w for w in p["workloads"]}
    ready: list[str] = []
    try:
        while True:
            for label, w in list(pending.items()):
                resource = dyn.resources.get(api_version=w["apiVersion"], kind=w["kind"])
                try:
                    obj = resource.get(name=w["name"], namespace=w.get("namespace") or None).to_dict()
                except ApiException as exc:
                    if status_of(exc) != 404:
                        raise
                    continue
                if rolled_out(obj):
                    ready.append(label)
                    del pending[label]
            if not pending or time.monotonic() - started >= p["timeout"]:
                break
            time.sleep(p["sleep"])
    except ApiException as exc:
        raise K8sError(f"reading the workloads failed: HTTP {exc.status} {exc.reason}") from exc
    except urllib3.exceptions.HTTPError as exc:
        raise K8sError(f"lost the API server while waiting: {api_message(exc)}") from exc
    waited = round(time.monotonic() - started, 1)
    if pending:
        names = ", ".join(label.split("/", 1)[1] for label in pending)
        raise K8sError(f"not ready after {p['timeout']}s: {names} (inspect with make check; raise "
                       "deploy_wait_timeout for slow clusters)", ready=ready, not_ready=list(pending), waited=waited)
    return {"changed": False, "ready": ready, "not_ready": [], "waited": waited}


def main() -> None:
    run(dict(workloads=dict(type="list", elements="dict", required=True), timeout=dict(type="int", default=600),
             sleep=dict(type="int", default=2)), wait)


if __name__ == "__main__":
    main()

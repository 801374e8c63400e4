#!/usr/bin/python
"""Wait until workloads have rolled out their current template and all their pods are ready."""

from __future__ import annotations

DOCUMENTATION = r"""
module: rollout_wait
short_description: Wait for Deployments, StatefulSets and DeploymentConfigs to be rolled out
author: Packit team (@packit)
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
  - The deploy waits within its M(packit.deployment.apply) run (the same module_utils/rollout.py);
    this module is the wait on its own, for plays that apply by other means.
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

from ansible_collections.packit.deployment.plugins.module_utils.k8s import run
from ansible_collections.packit.deployment.plugins.module_utils.rollout import wait_rolled_out


def wait(module, dyn) -> dict:
    p = module.params
    return dict(wait_rolled_out(dyn, p["workloads"], p["timeout"], p["sleep"]), changed=False)


def main() -> None:
    run(dict(workloads=dict(type="list", elements="dict", required=True), timeout=dict(type="int", default=600),
             sleep=dict(type="int", default=2)), wait)


if __name__ == "__main__":
    main()

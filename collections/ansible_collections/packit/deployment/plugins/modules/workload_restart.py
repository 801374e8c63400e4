#!/usr/bin/python
"""Rolling restart of workloads through the API."""
from __future__ import annotations

DOCUMENTATION = r"""
module: workload_restart
short_description: Rolling restart of Deployments, StatefulSets and DeploymentConfigs
author: Packit team (@packit)
description:
  - Sets the pod template annotation kubectl.kubernetes.io/restartedAt to the current time on each
    workload named in I(workloads) and each matching I(selector), which makes its controller
    replace the pods one by one.
  - With I(wait), waits until each Deployment and StatefulSet has rolled out and is ready again.
    DeploymentConfigs are not awaited (their rollout is the OpenShift controller's business).
  - A restart is an action, so it always reports changed (check mode reports what it would restart).
options:
  namespace: {description: Namespace., type: str, required: true}
  workloads: {description: Workload names., type: list, elements: str, default: [], aliases: [components]}
  selector:
    description: >-
      Label selector; every Deployment, StatefulSet and DeploymentConfig it matches is restarted
      too (the day2 role selects a component's workloads by app.kubernetes.io/component).
    type: str
    default: ''
  wait: {description: Wait for the new rollout to be ready., type: bool, default: true}
  wait_timeout: {description: Seconds to wait per component., type: int, default: 300}
extends_documentation_fragment: [kubernetes.core.k8s_auth_options]
notes:
  - The patch is what kubernetes.core.k8s (state patched) would send; a module of its own because
    the components are named without their kind (any of three), and the wait is the collection's
    one definition of rolled out (module_utils/workloads.py).
"""

EXAMPLES = r"""
- name: Restart the workers one pod at a time and wait for them
  packit.deployment.workload_restart:
    namespace: packit-stg
    workloads: [packit-worker-short-running, packit-worker-long-running]
    wait_timeout: 600

- name: Restart every workload of the redis and flower components
  packit.deployment.workload_restart:
    namespace: packit-stg
    selector: app.kubernetes.io/instance=packit-stg,app.kubernetes.io/component in (redis,flower)
"""

RETURN = r"""
restarted:
  description: One entry per workload (name, kind, restartedAt, generation, and after the wait rolled_out, ready, desired).
  type: list
  elements: dict
  returned: always
restartedAt: {description: The time written into the pod templates., type: str, returned: success}
"""

import time

from ansible_collections.packit.deployment.plugins.module_utils.k8s import (
    CLUSTER_ERRORS, NAMESPACE_ARG, K8sError, now, one_line, patch, run,
)
from ansible_collections.packit.deployment.plugins.module_utils.workloads import (
    RESTARTED_AT, find_workload, list_workloads, rollout_state,
)


def restart(module, client) -> dict:
    p = module.params
    names = [c for c in p["workloads"] if c]
    if not names and not p["selector"]:
        raise K8sError("nothing to restart: name the workloads (WORKLOADS=a,b) or the components (TAGS=a,b)")
    stamp = now()
    restarted: list[dict] = []
    try:
        workloads = [find_workload(client, p["namespace"], name) for name in names]
        if p["selector"]:
            selected = list_workloads(client, p["namespace"], p["selector"])
            if not selected:
                raise K8sError(f"no Deployment, StatefulSet or DeploymentConfig in {p['namespace']} matches "
                               f"{p['selector']}: these components have no workloads there")
            workloads += [obj for obj in selected if obj["metadata"]["name"] not in names]
        for obj in workloads:
            if not module.check_mode:
                body = {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: stamp}}}}}
                obj.update(patch(client, obj, body))
            restarted.append({"name": obj["metadata"]["name"], "kind": obj["kind"], "restartedAt": stamp,
                              "generation": obj["metadata"].get("generation")})
        if p["wait"] and not module.check_mode:
            for entry in restarted:
                if entry["kind"] == "DeploymentConfig":
                    entry["rolled_out"] = None
                    continue
                wait_for(client, p, entry)
    except CLUSTER_ERRORS as exc:  # the answer says what was restarted before the failure
        raise K8sError(one_line(exc), restarted=restarted) from exc
    return {"changed": True, "restarted": restarted, "restartedAt": stamp}


def wait_for(client, p: dict, entry: dict) -> None:
    deadline = time.monotonic() + p["wait_timeout"]
    while True:
        ready, desired, done = rollout_state(find_workload(client, p["namespace"], entry["name"]))
        if done:
            entry.update(rolled_out=True, ready=ready, desired=desired)
            return
        if time.monotonic() > deadline:
            raise K8sError(f"{entry['kind']} {entry['name']}: restart not rolled out after "
                           f"{p['wait_timeout']}s ({ready}/{desired} ready)")
        time.sleep(1)


def main() -> None:
    run(dict(NAMESPACE_ARG, workloads={"type": "list", "elements": "str", "default": [], "aliases": ["components"]},
             selector={"type": "str", "default": ""},
             wait={"type": "bool", "default": True}, wait_timeout={"type": "int", "default": 300}), restart)


if __name__ == "__main__":
    main()

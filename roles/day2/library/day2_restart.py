#!/usr/bin/python
"""Rolling restart of workloads through the API."""
from __future__ import annotations

DOCUMENTATION = r"""
module: day2_restart
short_description: Rolling restart of Deployments, StatefulSets and DeploymentConfigs
description:
  - Sets the pod template annotation kubectl.kubernetes.io/restartedAt to the current time on each
    component, which makes its controller replace the pods one by one.
  - With I(wait), waits until each Deployment and StatefulSet has rolled out and is ready again.
    DeploymentConfigs are not awaited (their rollout is the OpenShift controller's business).
  - A restart is an action, so it always reports changed (check mode reports what it would restart).
options:
  namespace: {description: Namespace., type: str, required: true}
  components: {description: Workload names., type: list, elements: str, required: true}
  wait: {description: Wait for the new rollout to be ready., type: bool, default: true}
  wait_timeout: {description: Seconds to wait per component., type: int, default: 300}
extends_documentation_fragment: [packit_k8s]
"""

import time

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.day2_k8s import (
    CONNECTION_ARGS, HAS_K8S, one_line, RESTARTED_AT, Day2Error, connect, find_workload, now, patch, rollout_state,
)


def main() -> None:
    spec = dict(CONNECTION_ARGS, components={"type": "list", "elements": "str", "required": True},
                wait={"type": "bool", "default": True}, wait_timeout={"type": "int", "default": 300})
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    if not HAS_K8S:
        module.fail_json(msg=missing_required_lib("kubernetes"))
    p = module.params
    names = [c for c in p["components"] if c]
    if not names:
        module.fail_json(msg="components is empty: name the workloads to restart (COMPONENTS=a,b)")
    stamp = now()
    restarted = []
    try:
        client = connect(p)
        workloads = [find_workload(client, p["namespace"], name) for name in names]
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
                deadline = time.monotonic() + p["wait_timeout"]
                while True:
                    obj = find_workload(client, p["namespace"], entry["name"])
                    ready, desired, done = rollout_state(client, obj)
                    if done:
                        entry.update(rolled_out=True, ready=ready, desired=desired)
                        break
                    if time.monotonic() > deadline:
                        raise Day2Error(f"{entry['kind']} {entry['name']}: restart not rolled out after "
                                        f"{p['wait_timeout']}s ({ready}/{desired} ready)")
                    time.sleep(1)
    except Exception as exc:  # noqa: BLE001 - every failure becomes one line
        module.fail_json(msg=one_line(exc), restarted=restarted)
    module.exit_json(changed=True, restarted=restarted, restartedAt=stamp)


if __name__ == "__main__":
    main()

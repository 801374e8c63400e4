#!/usr/bin/python
"""Status table of a service deployment's workloads."""
from __future__ import annotations

DOCUMENTATION = r"""
module: workload_status
short_description: Ready state, images and last rollout of a deployment's workloads
author: Packit team (@packit)
description:
  - Lists the Deployments, StatefulSets and DeploymentConfigs labelled
    app.kubernetes.io/instance=I(service)-I(deployment) and reports for each its ready/desired
    replicas, the image its template runs against the image its stream tag resolves to (status, or
    spec from when the stream has no status), and when it last rolled out.
  - Only reads; never changed and never fails on unhealthy workloads (the result says which are
    not ready, the playbook decides).
options:
  namespace: {description: Namespace., type: str, required: true}
  service: {description: packit or stream., type: str, required: true}
  deployment:
    description: dev, stg or prod.
    type: str
    required: true
extends_documentation_fragment: [kubernetes.core.k8s_auth_options]
notes:
  - Healthy means rolled out as the deploy's wait (M(packit.deployment.apply),
    M(packit.deployment.rollout_wait)) means it, one definition in module_utils/workloads.py. kubernetes.core.k8s_info could read the same
    objects but would leave the comparison of running and stream images to templating.
"""

EXAMPLES = r"""
- name: Show the status table of packit stg
  packit.deployment.workload_status:
    namespace: packit-stg
    service: packit
    deployment: stg
  register: status

- name: Print it
  ansible.builtin.debug:
    msg: "{{ status.lines }}"
"""

RETURN = r"""
rows:
  description: One entry per workload (component, kind, ready, desired, healthy, images, last_rollout).
  type: list
  elements: dict
  returned: success
lines:
  description: The table for people, header first.
  type: list
  elements: str
  returned: success
not_ready: {description: Names of the workloads that are not rolled out., type: list, elements: str, returned: success}
healthy: {description: True when there are workloads and all are rolled out., type: bool, returned: success}
"""

from ansible_collections.packit.deployment.plugins.module_utils.k8s import NAMESPACE_ARG, run
from ansible_collections.packit.deployment.plugins.module_utils.status import status_table


def status(module, client) -> dict:
    p = module.params
    return dict(status_table(client, p["namespace"], p["service"], p["deployment"]), changed=False)


def main() -> None:
    run(dict(NAMESPACE_ARG, service={"type": "str", "required": True}, deployment={"type": "str", "required": True}),
        status)


if __name__ == "__main__":
    main()

#!/usr/bin/python
"""Wait until workloads have rolled out their current template and all their pods are ready."""

from __future__ import annotations

DOCUMENTATION = r"""
module: k8s_rollout_wait
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
extends_documentation_fragment: [packit_k8s]
"""

RETURN = r"""
ready: {description: Workloads that are rolled out (kind/name)., type: list, returned: always}
not_ready: {description: Workloads that are not (kind/name)., type: list, returned: always}
waited: {description: Seconds waited., type: float, returned: always}
"""

import time

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.deploy_k8s import CONNECTION_ARGS, api_client, reason, rolled_out

try:
    import urllib3
    from kubernetes.client.rest import ApiException
    from kubernetes.dynamic import DynamicClient

    HAS_K8S = True
except ImportError:  # pragma: no cover
    HAS_K8S = False


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            workloads=dict(type="list", elements="dict", required=True),
            timeout=dict(type="int", default=600),
            sleep=dict(type="int", default=2),
            **CONNECTION_ARGS,
        ),
        supports_check_mode=True,
    )
    if not HAS_K8S:
        module.fail_json(msg=missing_required_lib("kubernetes"))
    p = module.params
    started = time.monotonic()
    pending = {f"{w['kind']}/{w['name']}": w for w in p["workloads"]}
    ready: list[str] = []
    try:
        dyn = DynamicClient(api_client(p))
        while True:
            for label, w in list(pending.items()):
                resource = dyn.resources.get(api_version=w["apiVersion"], kind=w["kind"])
                try:
                    obj = resource.get(name=w["name"], namespace=w.get("namespace") or None).to_dict()
                except ApiException as exc:
                    if exc.status != 404:
                        raise
                    continue
                if rolled_out(obj):
                    ready.append(label)
                    del pending[label]
            if not pending or time.monotonic() - started >= p["timeout"]:
                break
            time.sleep(p["sleep"])
    except ApiException as exc:
        module.fail_json(msg=f"reading the workloads failed: HTTP {exc.status} {exc.reason}")
    except urllib3.exceptions.HTTPError as exc:
        module.fail_json(msg=f"lost the API server while waiting: {reason(exc)}")
    waited = round(time.monotonic() - started, 1)
    not_ready = list(pending)
    if not_ready:
        names = ", ".join(label.split("/", 1)[1] for label in not_ready)
        module.fail_json(
            msg=f"not ready after {p['timeout']}s: {names} (inspect with make check; raise deploy_wait_timeout for slow clusters)",
            ready=ready, not_ready=not_ready, waited=waited,
        )
    module.exit_json(changed=False, ready=ready, not_ready=[], waited=waited)


if __name__ == "__main__":
    main()

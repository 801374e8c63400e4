#!/usr/bin/python
"""Status table of a service deployment's workloads."""
from __future__ import annotations

DOCUMENTATION = r"""
module: workload_status
short_description: Ready state, images and last rollout of a deployment's workloads
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
  deployment: {description: dev, stg or prod., type: str, required: true}
extends_documentation_fragment: [kubernetes.core.k8s_auth_options]
notes:
  - Healthy means rolled out as the deploy's wait (M(packit.deployment.rollout_wait)) means it,
    one definition in module_utils/workloads.py. kubernetes.core.k8s_info could read the same
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
lines: {description: The table for people, header first., type: list, elements: str, returned: success}
not_ready: {description: Names of the workloads that are not rolled out., type: list, elements: str, returned: success}
healthy: {description: True when there are workloads and all are rolled out., type: bool, returned: success}
"""

from ansible_collections.packit.deployment.plugins.module_utils.images import stream_tag
from ansible_collections.packit.deployment.plugins.module_utils.k8s import NAMESPACE_ARG, list_objects, run
from ansible_collections.packit.deployment.plugins.module_utils.workloads import (
    WORKLOAD_KINDS, container_images, image_triggers, last_rollout, rollout_state,
)


def short(ref: str) -> str:
    """Registry refs are long; keep the name and the tag or the digest's first 12 characters."""
    name = ref.rsplit("/", 1)[-1]
    if "@sha256:" in name:
        base, digest = name.split("@sha256:", 1)
        return f"{base}@{digest[:12]}"
    return name


def status(module, client) -> dict:
    p = module.params
    selector = f"app.kubernetes.io/instance={p['service']}-{p['deployment']}"
    rows = []
    streams = {s["metadata"]["name"]: s for s in list_objects(client, "image.openshift.io/v1", "ImageStream",
                                                                p["namespace"], selector, required=False)}
    for api_version, kind in WORKLOAD_KINDS:
        for obj in list_objects(client, api_version, kind, p["namespace"], selector, required=False):
            ready, desired, done = rollout_state(obj)
            running = container_images(obj["spec"]["template"])
            images = []
            for t in image_triggers(obj):
                _, tag_image = stream_tag(streams.get(t["stream"], {}), t["tag"]) if t["stream"] in streams else (None, "")
                images.append({"container": t["container"], "running": running.get(t["container"], ""),
                               "stream_tag": f"{t['stream']}:{t['tag']}", "stream_image": tag_image,
                               "current": running.get(t["container"], "") == tag_image})
            if not images:
                images = [{"container": c, "running": i, "stream_tag": "", "stream_image": "", "current": None}
                          for c, i in running.items()]
            rows.append({"component": obj["metadata"]["name"], "kind": kind, "ready": ready, "desired": desired,
                         "healthy": done, "images": images, "last_rollout": last_rollout(client, obj)})
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
    return {"changed": False, "rows": rows, "lines": lines, "not_ready": not_ready, "healthy": bool(rows) and not not_ready}


def main() -> None:
    run(dict(NAMESPACE_ARG, service={"type": "str", "required": True}, deployment={"type": "str", "required": True}),
        status)


if __name__ == "__main__":
    main()

#!/usr/bin/python
"""Status table of a service deployment's workloads."""
from __future__ import annotations

DOCUMENTATION = r"""
module: day2_check
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
extends_documentation_fragment: [packit_k8s]
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.day2_k8s import (
    CONNECTION_ARGS, HAS_K8S, one_line, WORKLOAD_KINDS, Day2Error, connect, container_images, image_triggers, last_rollout,
    list_objects, rollout_state, stream_tag,
)


def short(ref: str) -> str:
    """Registry refs are long; keep the name and the tag or the digest's first 12 characters."""
    name = ref.rsplit("/", 1)[-1]
    if "@sha256:" in name:
        base, digest = name.split("@sha256:", 1)
        return f"{base}@{digest[:12]}"
    return name


def main() -> None:
    spec = dict(CONNECTION_ARGS, service={"type": "str", "required": True}, deployment={"type": "str", "required": True})
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    if not HAS_K8S:
        module.fail_json(msg=missing_required_lib("kubernetes"))
    p = module.params
    selector = f"app.kubernetes.io/instance={p['service']}-{p['deployment']}"
    rows = []
    try:
        client = connect(p)
        streams = {s["metadata"]["name"]: s for s in list_objects(client, "image.openshift.io/v1", "ImageStream",
                                                                    p["namespace"], selector, required=False)}
        for api_version, kind in WORKLOAD_KINDS:
            for obj in list_objects(client, api_version, kind, p["namespace"], selector, required=False):
                ready, desired, done = rollout_state(client, obj)
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
    except Exception as exc:  # noqa: BLE001 - every failure becomes one line
        module.fail_json(msg=one_line(exc))
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
    module.exit_json(changed=False, rows=rows, lines=lines, not_ready=not_ready, healthy=bool(rows) and not not_ready)


if __name__ == "__main__":
    main()

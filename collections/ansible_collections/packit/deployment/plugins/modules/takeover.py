#!/usr/bin/python
"""Find, and on request take over, the objects of the project that this repository did not
make: a deployment made by the upstream repository, whose data must not be left behind."""

from __future__ import annotations

DOCUMENTATION = r"""
module: takeover
short_description: Plan and carry out the switch from objects another deployment made
author: Packit team (@packit)
description:
  - An object is this repository's when it carries the label
    C(app.kubernetes.io/managed-by=<managed_by>). I(mode=check) fails with one line naming the
    objects of another deployment in the way - those with the kind and name of a rendered
    object (Namespaces excepted), and workloads of any name that mount a rendered claim.
  - I(mode=preview) returns the plan (module_utils/switch.py) - every object of the project and
    the sandbox with what happens to it (create, ours, keep, adopt, replace, delete, leave) and
    why, each public host with the Route that will serve it, and the objects another deployment
    leaves running whose behaviour changes (an ImageStream they follow is taken over, a Service
    they use, a ConfigMap they mount) - and changes nothing.
  - I(mode=prepare) checks every permission the switch needs (fails before any change naming
    those the token lacks), labels the kept objects (claims, Secrets, ConfigMaps,
    TenantNamespaces) as this repository's, and returns in C(held) the rendered objects the
    apply must leave for the swap; the apply then creates everything else.
  - I(mode=switch) swaps the held objects component by component (stateless first, then the
    StatefulSets, then the data) and returns the seconds each public host and each Service
    taken over had no ready backend (C(gaps)) and a timed line per step (C(steps)).
  - Every mode reads the cluster again, so a run interrupted at any step is finished by the next.
options:
  objects:
    description: The rendered objects (Secret values redacted); identity, labels, claims, hosts are read.
    type: list
    elements: dict
    required: true
  mode:
    description: check, preview, prepare or switch.
    type: str
    choices: [check, preview, prepare, switch]
    default: check
  namespaces:
    description: The namespaces the plan lists (the project and the sandbox); default those of the objects.
    type: list
    elements: str
    default: []
  timeout:
    description: Seconds to wait for deleted objects to be gone and new workloads to be ready, per step.
    type: int
    default: 300
extends_documentation_fragment: [kubernetes.core.k8s_auth_options, packit.deployment.checks.foreign]
notes:
  - A module of its own because the plan is a join over the whole project (rendered names, the
    managed-by label, claims, hosts, selectors, image triggers) and the switch interleaves
    deletes, creates and waits that the apply's phases cannot express.
"""

EXAMPLES = r"""
- name: Refuse to deploy over objects another deployment made
  packit.deployment.takeover:
    objects: "{{ deploy_rendered_objects }}"
    mode: check

- name: Preview the switch (make adopt)
  packit.deployment.takeover:
    objects: "{{ deploy_rendered_objects }}"
    mode: preview
"""

RETURN = r"""
foreign:
  description: The plan, one entry per object (kind, name, namespace, action, why, component; host for Routes).
  type: list
  elements: dict
  returned: always
held:
  description: The rendered objects (kind, namespace, name) the apply leaves for the swap.
  type: list
  elements: dict
  returned: with prepare
gaps:
  description: >-
    Per public host and per Service taken over, the seconds without a ready backend during the
    switch; per workload stopped before its successor started, the seconds until that was ready.
  type: dict
  returned: with switch
steps:
  description: A line per step of the switch, with the seconds since its component's swap began.
  type: list
  elements: str
  returned: with switch
"""

from ansible_collections.packit.deployment.plugins.module_utils.foreign import (
    FOREIGN_ARGS, denied, read_foreign, read_project, refuse_foreign)
from ansible_collections.packit.deployment.plugins.module_utils.k8s import K8sError, run
from ansible_collections.packit.deployment.plugins.module_utils.switch import (
    Monitor, label_kept, make_plan, public_hosts, read_live, rendered_index, swap)

try:
    from kubernetes.client.rest import ApiException
except ImportError:  # reported by run() through missing_required_lib
    pass


def takeover(module, _client) -> dict:
    p = module.params
    objects = p["objects"]
    if p["mode"] == "check":
        _dyn, foreign = read_foreign(p, objects, p["managed_by"])
        refuse_foreign(foreign, p["command_hint"])
        return {"changed": False, "foreign": []}
    namespaces = p["namespaces"] or sorted({(o.get("metadata") or {}).get("namespace") for o in objects
                                            if (o.get("metadata") or {}).get("namespace")})
    dyn, live = read_project(p, lambda client: read_live(client, namespaces))
    plan = make_plan(objects, live, p["managed_by"])
    entries = plan["entries"]
    acting = [e for e in entries if e["action"] in ("keep", "adopt", "replace", "delete")]
    public = [{k: v for k, v in e.items() if k != "labels"} for e in entries]
    result = {"changed": False, "foreign": public,
              "held": [{"kind": k, "namespace": ns, "name": n} for k, ns, n in plan["held"]]}
    if p["mode"] == "preview" or module.check_mode or not acting:
        return dict(result, changed=bool(acting) and p["mode"] != "preview")
    rendered = rendered_index(objects)
    try:
        if p["mode"] == "prepare":
            missing = denied(dyn.client, dyn, [dict(e, action="keep" if e["action"] in ("keep", "adopt") else "delete")
                                               for e in acting])
            if missing:
                raise K8sError(f"the takeover needs the right to {'; '.join(missing)}: grant it or use another "
                               "api_key; nothing was changed", foreign=public)
            label_kept(dyn, entries, rendered)
            return dict(result, changed=any(e["action"] == "keep" for e in entries))
        steps: list[str] = []
        stopped: dict[str, float] = {}
        services = [n for (k, _ns, n) in plan["held"] if k == "Service"]
        with Monitor(dyn, p["namespaces"][0] if p["namespaces"] else namespaces[0],
                     public_hosts(objects), services) as monitor:
            for group in plan["groups"]:
                swap(dyn, group, entries, rendered, live, p["timeout"], steps, stopped)
        gaps = {k: round(v, 2) for k, v in ({} if monitor.error else monitor.down).items()} | \
            {k: round(v, 2) for k, v in stopped.items()}
        if monitor.error:
            steps.append(f"the hosts and Services were not measured: reading Routes and EndpointSlices failed: "
                         f"{monitor.error}")
        return dict(result, changed=True, steps=steps, gaps=gaps)
    except ApiException as exc:
        raise K8sError(f"the takeover failed: HTTP {exc.status} {exc.reason}", foreign=public) from exc
    except TimeoutError as exc:
        raise K8sError(f"the takeover failed: {exc}", foreign=public) from exc


def main() -> None:
    run(dict(objects=dict(type="list", elements="dict", required=True),
             mode=dict(type="str", choices=["check", "preview", "prepare", "switch"], default="check"),
             namespaces=dict(type="list", elements="str", default=[]),
             timeout=dict(type="int", default=300), **FOREIGN_ARGS), takeover, connected=False)


if __name__ == "__main__":
    main()

#!/usr/bin/python
"""Find, and on request take over, the objects of the project that this repository did not
make: a deployment made by the upstream repository, whose data must not be left behind."""

from __future__ import annotations

DOCUMENTATION = r"""
module: takeover
short_description: Find and take over objects another deployment made
description:
  - An object is this repository's when it carries the label
    C(app.kubernetes.io/managed-by=<managed_by>). Foreign objects that matter are those with
    the kind and name of a rendered object (Namespaces excepted), and workloads (Deployment,
    StatefulSet, DeploymentConfig) of any name that mount a rendered PersistentVolumeClaim
    (the latter would hold the same volume as the new workload).
  - Rendered kinds that hold data (PersistentVolumeClaim, Secret, ConfigMap; and TenantNamespace,
    which owns its namespace) are kept and labelled as this repository's; every other foreign object is deleted (foreground, waiting
    until it and its pods are gone) so that the deploy creates it as rendered. A StatefulSet
    whose claim retention policy deletes claims is switched to Retain before it is deleted.
  - I(mode=check) fails with one line naming the objects and the command to run;
    I(mode=preview) returns the plan; I(mode=apply) checks every permission it needs first,
    then carries the plan out (only reports in check mode).
options:
  objects:
    description: The rendered objects (Secret values redacted); identity, labels and claims are read.
    type: list
    elements: dict
    required: true
  mode:
    description: check, preview or apply.
    type: str
    choices: [check, preview, apply]
    default: check
  timeout:
    description: Seconds to wait for deleted objects to be gone.
    type: int
    default: 300
extends_documentation_fragment: [kubernetes.core.k8s_auth_options, packit.deployment.checks.foreign]
notes:
  - A module of its own because finding the objects is a join (rendered names, the managed-by
    label, the claims each foreign workload mounts) and applying the plan must check every
    permission before the first delete.
"""

EXAMPLES = r"""
- name: Refuse to deploy over objects another deployment made
  packit.deployment.takeover:
    objects: "{{ deploy_rendered_objects }}"
    mode: check

- name: Take them over (make adopt APPLY=1)
  packit.deployment.takeover:
    objects: "{{ deploy_rendered_objects }}"
    mode: apply
"""

RETURN = r"""
foreign:
  description: One entry per foreign object (kind, name, namespace, action keep or delete, why).
  type: list
  elements: dict
  returned: always
"""

from ansible_collections.packit.deployment.plugins.module_utils.foreign import (
    FOREIGN_ARGS, denied, public, read_foreign, refuse_foreign, take_over)
from ansible_collections.packit.deployment.plugins.module_utils.k8s import K8sError, run

try:
    from kubernetes.client.rest import ApiException
except ImportError:  # reported by run() through missing_required_lib
    pass


def takeover(module, _client) -> dict:
    p = module.params
    dyn, foreign = read_foreign(p, p["objects"], p["managed_by"])
    plan = public(foreign)
    if p["mode"] == "check":
        refuse_foreign(foreign, p["command_hint"])
        return {"changed": False, "foreign": plan}
    if p["mode"] == "preview" or not foreign or module.check_mode:
        return {"changed": bool(foreign) and p["mode"] == "apply", "foreign": plan}
    try:
        missing = denied(dyn.client, dyn, foreign)
        if missing:
            raise K8sError(f"the takeover needs the right to {'; '.join(missing)}: grant it or use another api_key; "
                           "nothing was changed", foreign=plan)
        take_over(dyn, foreign, p["timeout"])
    except ApiException as exc:
        raise K8sError(f"the takeover failed: HTTP {exc.status} {exc.reason}", foreign=plan) from exc
    except TimeoutError as exc:
        raise K8sError(f"the takeover failed: {exc}", foreign=plan) from exc
    return {"changed": True, "foreign": plan}


def main() -> None:
    run(dict(objects=dict(type="list", elements="dict", required=True),
             mode=dict(type="str", choices=["check", "preview", "apply"], default="check"),
             timeout=dict(type="int", default=300), **FOREIGN_ARGS), takeover, connected=False)


if __name__ == "__main__":
    main()

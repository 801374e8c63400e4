#!/usr/bin/python
"""Apply the rendered objects of a run with one client: live reads, what to leave out, then
client-side apply in dependency phases, the requests of a phase in parallel."""

from __future__ import annotations

DOCUMENTATION = r"""
module: apply
short_description: Apply a deploy's rendered objects in one run, as kubectl apply does
author: Packit team (@packit)
description:
  - With C(preflight), first checks what M(packit.deployment.preflight) checks, on the same
    client - the API server, the permissions for every object, objects another deployment
    made, the PostgreSQL guards - and fails with the first refusal before anything is written.
  - Reads, with one client and in parallel, the live workloads, image streams and claims of the
    instance (label C(selector)) that the objects name.
  - Leaves out what the cluster owns, so that a second run changes nothing
    (module_utils/live.py) - the image a trigger set on a container, a claim that exists (it is
    created once and never patched; a size that differs is reported in C(drift)), and an
    ImageStream or workload whose last apply equals the render.
  - Applies the rest client-side (the last-applied annotation and three-way merge of
    kubernetes.core.k8s C(apply=true), so the same objects end in the same state) in phases -
    Namespaces and TenantNamespaces (waiting, within the C(wait) timeout, until the platform has
    made the namespace of each TenantNamespace); then accounts, Roles, Secrets, ConfigMaps,
    claims, Services, ImageStreams and the rest; then bindings; then the workloads. The requests
    of one phase go in parallel; a failure stops before the next phase.
  - In check mode, sends each write as a server-side dry run (as kubernetes.core.k8s does), so
    the server validates it and nothing changes; objects in a namespace the run creates and that
    is not there yet are reported as changes without being sent. In diff mode, returns the
    difference of each changed object but Secrets in C(differences), and of a Secret only its
    app configurations (C(config_keys)) as text diffs with C(masked) masked.
options:
  objects:
    description: The objects to apply (no Secrets), in apply order.
    type: list
    elements: dict
    default: []
  secrets:
    description:
      - The Secrets to apply. Give the task C(no_log); a failure's message has the Secret's values
        taken out, so that it can be shown.
    type: list
    elements: dict
    default: []
  namespace:
    description: The project; objects without a namespace of a namespaced kind go there.
    type: str
    required: true
  selector:
    description: Label selector of the instance's live objects (app.kubernetes.io/instance=...).
    type: str
    required: true
  parallel:
    description: Requests at a time within a phase.
    type: int
    default: 8
  wait:
    description:
      - After the apply, wait until each of C(workloads) is rolled out and ready, against one
        deadline of C(timeout) seconds (as M(packit.deployment.rollout_wait)); fails naming those
        that are not. Not in check mode.
    type: dict
    suboptions:
      workloads:
        description: The workloads (dicts with apiVersion, kind, name, namespace).
        type: list
        elements: dict
        default: []
      timeout: {description: Seconds for all of them together., type: int, default: 600}
  config_keys:
    description:
      - Secret name to its keys that hold an app configuration (config/). In diff mode their
        change is returned in C(differences) as text diffs with C(masked) masked; other Secret
        keys are never shown.
    type: dict
    default: {}
  masked:
    description: The values to mask in those diffs (the values file's; give the task C(no_log)).
    type: list
    elements: str
    default: []
  hold:
    description:
      - Objects (C(kind), C(namespace), C(name)) to leave out of this apply and its wait - those a
        takeover swaps later (M(packit.deployment.takeover) I(mode=prepare) returns them).
    type: list
    elements: dict
    default: []
  status:
    description:
      - Return the status table of the deployment's workloads in C(namespace) after the apply (and
        the wait), as M(packit.deployment.workload_status). Not in check mode.
    type: dict
    suboptions:
      service: {description: The service (packit or stream)., type: str, required: true}
      deployment:
        description: The deployment (dev, stg or prod).
        type: str
        required: true
extends_documentation_fragment: [kubernetes.core.k8s_auth_options, packit.deployment.checks.preflight]
notes:
  - One module run and one client for all objects of a deploy, where C(kubernetes.core.k8s) with
    a list applies one object after another, and its live reads need a C(k8s_info) run per kind;
    the apply itself is kubernetes.core's (module_utils/apply.py). The wait and the status
    table come from the same run, as each module run costs a Python start, the client's
    imports and the module's packaging (about a second).
"""

EXAMPLES = r"""
- name: Apply the objects of the run
  packit.deployment.apply:
    objects: "{{ rendered_objects }}"
    secrets: "{{ rendered_secrets }}"
    namespace: packit-dev
    selector: app.kubernetes.io/instance=packit-dev
  register: applied
  no_log: true
"""

RETURN = r"""
preflight:
  description: What the preflight found (user, checked, foreign, claims, postgres_claims), with C(preflight).
  type: dict
  returned: with preflight
changes:
  description: Kind/name of each object that was (or in check mode would be) created or changed, in apply order.
  type: list
  elements: str
  returned: always
differences:
  description: (diff mode) Per changed object but Secrets, its kind/name and the fields before and after.
  type: list
  elements: dict
  returned: always
drift:
  description: One line per existing claim whose size differs from the rendered one.
  type: list
  elements: str
  returned: always
sent:
  description: How many objects were sent to the API (the others were left out as unchanged or owned by the cluster).
  type: int
  returned: always
ready: {description: The workloads that are rolled out (kind/name)., type: list, elements: str, returned: with wait}
waited: {description: Seconds waited., type: float, returned: with wait}
status:
  description: The status table (rows, lines, not_ready, healthy) as workload_status returns it.
  type: dict
  returned: with status, not in check mode
"""

import base64
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ansible_collections.packit.deployment.plugins.module_utils.access import connect_as
from ansible_collections.packit.deployment.plugins.module_utils.appconfig import masked_diff
from ansible_collections.packit.deployment.plugins.module_utils.k8s import (
    K8sError, api_message, client_side_apply, connect, list_objects, resource, run)
from ansible_collections.packit.deployment.plugins.module_utils.manifests import phases, tenant_namespace
from ansible_collections.packit.deployment.plugins.module_utils.preflight import (
    PREFLIGHT_OPTIONS, namespace_visible, pending_namespaces, read, refusals)
from ansible_collections.packit.deployment.plugins.module_utils.live import (
    SKIP_KINDS, claim_drift, drop_live_claims, drop_unchanged, keep_triggered_images, triggered_images)
from ansible_collections.packit.deployment.plugins.module_utils.rollout import wait_rolled_out
from ansible_collections.packit.deployment.plugins.module_utils.status import status_table

try:
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.service import diff_objects
    from kubernetes.dynamic.exceptions import DynamicApiError
except ImportError:  # reported by run() through missing_required_lib
    pass

ARGUMENT_SPEC = {
    "objects": {"type": "list", "elements": "dict", "default": []},
    # Not no_log here: Ansible would then hide every string of the Secrets (their names and
    # namespaces too) in every message. The task runs under no_log, and a failure message
    # has the Secret's values taken out (censored()), so that a rescue can show it.
    "secrets": {"type": "list", "elements": "dict", "default": [], "no_log": False},
    "namespace": {"type": "str", "required": True},
    "selector": {"type": "str", "required": True},
    "preflight": {"type": "dict", "options": PREFLIGHT_OPTIONS},
    "parallel": {"type": "int", "default": 8},
    "wait": {"type": "dict", "options": {
        "workloads": {"type": "list", "elements": "dict", "default": []},
        "timeout": {"type": "int", "default": 600},
    }},
    "status": {"type": "dict", "options": {
        "service": {"type": "str", "required": True},
        "deployment": {"type": "str", "required": True},
    }},
    # Secret names to key names, no values.
    "config_keys": {"type": "dict", "default": {}, "no_log": False},
    "hold": {"type": "list", "elements": "dict", "default": []},
    # Not no_log: Ansible would mask every one of them (short ones too) in all output. The task
    # runs under no_log, and what is shown of a Secret has them masked (masked_diff).
    "masked": {"type": "list", "elements": "str", "default": [], "no_log": False},
}


def label(obj: dict[str, Any]) -> str:
    return f"{obj.get('kind')}/{(obj.get('metadata') or {}).get('name')}"


def live_kinds(objects: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(apiVersion, kind) of each kind whose live objects the apply compares with."""
    seen: dict[str, str] = {}
    for obj in objects:
        if obj.get("kind") in SKIP_KINDS:
            seen.setdefault(obj["kind"], obj.get("apiVersion", ""))
    return [(api, kind) for kind, api in seen.items()]


def config_difference(obj: dict[str, Any], existing: dict[str, Any] | None, keys: list[str],
                      masked: list[str]) -> dict[str, Any] | None:
    """What changes in the app configurations a Secret holds (`keys`), as text diffs with the
    values of values.yml masked; None when none changes."""
    def text(data: dict[str, Any] | None, key: str) -> str:
        value = (data or {}).get(key)
        return base64.b64decode(value).decode(errors="replace") if value else ""

    changed = {key: masked_diff(text((existing or {}).get("data"), key), text(obj.get("data"), key), masked, key)
               for key in keys}
    changed = {key: d for key, d in changed.items() if d}
    return {"object": label(obj), "config": changed} if changed else None


def apply_one(client, obj: dict[str, Any], check_mode: bool, diff: bool,
              config: tuple[list[str], list[str]] = ([], [])) -> tuple[bool, dict[str, Any] | None]:
    """Apply one object as kubernetes.core.k8s apply=true does (in check mode as a server-side
    dry run): (changed, the difference when asked for: of an object that is not a Secret, or
    of the app configurations a Secret holds, `config` = (its keys, the values to mask))."""
    res = resource(client, obj["apiVersion"], obj["kind"])
    meta = obj["metadata"]
    show = diff and obj["kind"] != "Secret"
    # Of a Secret, only the app configurations it holds are shown, as masked text.
    show_config = diff and obj["kind"] == "Secret" and bool(config[0])
    try:
        existing, after = client_side_apply(res, obj, dry_run=check_mode)
        if existing is None:
            return True, ({"object": label(obj), "before": {}, "after": after} if show else
                          config_difference(obj, None, *config) if show_config else None)
        if after is None:
            return False, None
        same, difference = diff_objects(existing, after)
        if same:
            return False, None
        return True, (dict(difference, object=label(obj)) if show else
                      config_difference(obj, existing, *config) if show_config else None)
    except DynamicApiError as exc:
        where = f" in {meta['namespace']}" if meta.get("namespace") else ""
        raise K8sError(f"{obj['kind']} {meta['name']}{where} was not applied: {censored(api_message(exc), obj)}") from exc


def wait_namespaces(client, names: list[str], timeout: float) -> None:
    """Wait until the namespaces that TenantNamespaces of the run asked for are there: the
    platform's tenant operator makes them, and grants the tenant its rights in them."""
    deadline = time.monotonic() + timeout
    waiting = list(names)
    while waiting:
        waiting = [name for name in waiting if not namespace_visible(client, name)]
        if not waiting:
            return
        if time.monotonic() > deadline:
            raise K8sError(f"namespace {', '.join(waiting)} did not appear within {timeout:.0f}s of its "
                           "TenantNamespace: the platform's tenant operator makes it (see the TenantNamespace's "
                           "status, or ask the platform's support)")
        time.sleep(1)


def censored(message: str, obj: dict[str, Any]) -> str:
    """The message without any value of the object if it is a Secret (as given and decoded)."""
    if obj.get("kind") != "Secret":
        return message
    values = [str(v) for v in (obj.get("stringData") or {}).values()]
    for value in (obj.get("data") or {}).values():
        values.append(str(value))
        try:
            values.append(base64.b64decode(str(value), validate=True).decode())
        except (ValueError, UnicodeDecodeError):
            pass
    for value in sorted((v for v in values if v), key=len, reverse=True):
        message = message.replace(value, "********")
    return message


def action(module, _client) -> dict[str, Any]:
    p = module.params
    namespace, selector, checks = p["namespace"], p["selector"], p["preflight"]
    held = {(h.get("kind"), h.get("namespace") or namespace, h.get("name")) for h in p["hold"]}

    def is_held(o: dict[str, Any]) -> bool:  # an object, or a workload reference of `wait`
        meta = o.get("metadata") or o
        return (o.get("kind"), meta.get("namespace") or namespace, meta.get("name")) in held

    objects = [dict(o, metadata=dict(o.get("metadata") or {})) for o in p["objects"] if not is_held(o)]
    secrets = [dict(o, metadata=dict(o.get("metadata") or {})) for o in p["secrets"]]
    for obj in objects + secrets:
        if not obj.get("apiVersion") or not obj.get("kind") or not obj["metadata"].get("name"):
            raise K8sError(f"apply: an object without apiVersion, kind or metadata.name: {label(obj)}")
    preflight: dict[str, Any] = {}
    if checks:
        # Nothing is written before every check has passed.
        client = connect_as(p, checks["settings_hint"])
        preflight = read(client, checks, secrets + objects, namespace)
        refused = refusals(preflight, namespace, checks)
        if refused:
            raise K8sError(refused[0], preflight=preflight)
        pending = preflight["pending"]
    else:
        client = connect(p)
        pending = pending_namespaces(client, objects)
    timeout = int((p["wait"] or {}).get("timeout", 600))
    # Resolve every kind once, before the threads: discovery is not shared safely between them.
    for obj in objects + secrets:
        resource(client, obj["apiVersion"], obj["kind"])
    # A namespace the run creates has no claims yet (and no rights to read it before it exists).
    claim_namespaces = sorted({o["metadata"].get("namespace") or namespace
                               for o in objects if o["kind"] == "PersistentVolumeClaim"} - set(pending))
    reads = [(api, kind, namespace) for api, kind in live_kinds(objects)] + \
        [("v1", "PersistentVolumeClaim", ns) for ns in claim_namespaces]
    with ThreadPoolExecutor(max_workers=max(1, p["parallel"])) as pool:
        found = list(pool.map(lambda read: list_objects(client, *read, selector), reads))
        live = [o for (_api, kind, _ns), items in zip(reads, found) if kind != "PersistentVolumeClaim" for o in items]
        claims = [o for (_api, kind, _ns), items in zip(reads, found) if kind == "PersistentVolumeClaim" for o in items]
        to_apply = drop_unchanged(
            drop_live_claims(keep_triggered_images(objects, triggered_images(live), namespace), claims),
            live, namespace)
        ordered = secrets + to_apply
        changed: set[int] = set()
        diffs: dict[int, dict[str, Any]] = {}
        for group in phases(ordered):
            if module.check_mode:
                # A dry run in a namespace that is not there yet fails: such objects would be created.
                held = {id(obj) for obj in group if obj["metadata"].get("namespace") in pending}
                changed.update(held)
                group = [obj for obj in group if id(obj) not in held]
            results = list(pool.map(lambda obj: apply_one(
                client, obj, module.check_mode, module._diff,
                (p["config_keys"].get(obj["metadata"]["name"], []) if obj["kind"] == "Secret" else [], p["masked"])),
                group))
            changed.update(id(obj) for obj, (did, _difference) in zip(group, results) if did)
            diffs.update((id(obj), difference) for obj, (_did, difference) in zip(group, results) if difference)
            asked = [tenant_namespace(obj) for obj in group if obj["kind"] == "TenantNamespace"]
            if not module.check_mode and any(name in pending for name in asked):
                wait_namespaces(client, [name for name in asked if name in pending], timeout)
    changes = [label(obj) for obj in ordered if id(obj) in changed]
    result = {"changed": bool(changes), "changes": changes, "drift": claim_drift(objects, claims), "sent": len(ordered),
              "differences": [diffs[id(obj)] for obj in ordered if id(obj) in diffs]}
    if checks:
        result["preflight"] = preflight
    if module.check_mode:
        return result
    workloads = [w for w in (p["wait"] or {}).get("workloads") or [] if not is_held(w)]
    started = time.monotonic()
    try:
        if workloads:
            result.update(wait_rolled_out(client, workloads, timeout))
        if p["status"]:
            result["status"] = status_table(client, namespace, p["status"]["service"], p["status"]["deployment"])
            # A workload of the run can start another rollout just after the wait: the image
            # trigger of a stream whose source the apply changed fires once the stream has
            # imported. Wait for those too, within the same deadline, and read the table again.
            late = [w for w in workloads if w["name"] in result["status"]["not_ready"]]
            if late:
                left = max(1, int(timeout - (time.monotonic() - started)))
                wait_rolled_out(client, late, left)
                result["waited"] = round(time.monotonic() - started, 1)
                result["status"] = status_table(client, namespace, p["status"]["service"], p["status"]["deployment"])
    except K8sError as exc:  # what was applied is part of the answer
        exc.result.update(result)
        raise
    return result


def main() -> None:
    run(ARGUMENT_SPEC, action, connected=False)


if __name__ == "__main__":
    main()

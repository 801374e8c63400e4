"""The switch from a deployment another repository made (upstream packit/deployment) to this
repository's, as short as the API allows (modules/takeover.py).

The plan names every object of the project and the sandbox with what happens to it:

  create   rendered, not there: the apply creates it (before anything is deleted, unless it
           must wait for its component's swap: `held`)
  ours     rendered and already this repository's
  keep     another's claim, Secret, ConfigMap or TenantNamespace under a rendered name: it
           holds data or is read by the pods; labelled as this repository's, the apply gives it
           this repository's content
  adopt    another's Route, Service, ImageStream, ServiceAccount, Role or CronJob under a
           rendered name: taken over in place (its name, cluster IP, host stay) at its
           component's swap
  replace  another's workload or RoleBinding under a rendered name (selector, roleRef are
           immutable): deleted and created again at its component's swap
  delete   another's object that is not rendered and is in the way: a workload that mounts a
           rendered claim, a Route holding a rendered host, the Service and workloads behind
           such a Route once the host has moved, a ReplicaSet an interrupted switch left
  leave    everything else; the line says what changes for it (an ImageStream it follows, a
           Service it uses, a ConfigMap it mounts)

The swap goes one component at a time, the stateless ones first, then the StatefulSets, then
the data: ImageStreams taken over; the old workloads stopped (a Deployment behind a Service is
deleted with its pods left running, which keep serving until the new pods are ready and the
Service selects them; a workload on a claim is stopped first, so that two servers never hold
one volume); the new workloads created and waited for; the Services and Routes taken over in
place, or a host's Route swapped (the old one deleted, the new one created right after); then
the old pods and whatever served a moved host deleted. A monitor measures, for each public
host and each Service taken over, how long it had no ready backend.
"""

from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ansible_collections.packit.deployment.plugins.module_utils.foreign import MANAGED_BY, pod_claims, retain_claims
from ansible_collections.packit.deployment.plugins.module_utils.k8s import (
    K8sError, api_message, client_side_apply, resource)
from ansible_collections.packit.deployment.plugins.module_utils.manifests import pod_specs
from ansible_collections.packit.deployment.plugins.module_utils.rollout import wait_rolled_out
from ansible_collections.packit.deployment.plugins.module_utils.workloads import image_triggers

try:
    from kubernetes.dynamic.exceptions import DynamicApiError, NotFoundError
except ImportError:  # reported by run() through missing_required_lib
    pass

# What the plan lists in each namespace (owned ReplicaSets and pods go with their owners).
LISTED = (("apps/v1", "Deployment"), ("apps/v1", "StatefulSet"), ("apps.openshift.io/v1", "DeploymentConfig"),
          ("apps/v1", "ReplicaSet"), ("batch/v1", "CronJob"), ("v1", "Service"), ("route.openshift.io/v1", "Route"),
          ("image.openshift.io/v1", "ImageStream"), ("v1", "Secret"), ("v1", "ConfigMap"), ("v1", "ServiceAccount"),
          ("rbac.authorization.k8s.io/v1", "Role"), ("rbac.authorization.k8s.io/v1", "RoleBinding"),
          ("v1", "PersistentVolumeClaim"))
WORKLOADS = ("Deployment", "StatefulSet", "DeploymentConfig")
KEPT = ("PersistentVolumeClaim", "Secret", "ConfigMap", "TenantNamespace")
ADOPTED = ("Route", "Service", "ImageStream", "ServiceAccount", "Role", "CronJob")
# What the cluster puts into every namespace: not a deployment's.
PRESET = {"ConfigMap": ("kube-root-ca.crt", "openshift-service-ca.crt"),
          "ServiceAccount": ("default", "builder", "deployer")}
PRESET_SECRET_TYPES = ("kubernetes.io/service-account-token", "kubernetes.io/dockercfg")
# Marks, before a host moves, the other's Service and workloads that served it, so that a run
# interrupted after the move still deletes them.
REPLACED_BY = "packit.dev/replaced-by"


def _meta(obj: dict) -> dict:
    return obj.get("metadata") or {}


def _labels(obj: dict) -> dict:
    return _meta(obj).get("labels") or {}


def _key(obj: dict) -> tuple[str, str, str]:
    return (obj.get("kind", ""), _meta(obj).get("namespace") or "", _meta(obj).get("name", ""))


def _pod_spec(obj: dict) -> dict:
    return next(iter(pod_specs(obj)), {})


def _preset(obj: dict) -> bool:
    kind, name = obj.get("kind"), _meta(obj).get("name", "")
    if name in PRESET.get(kind, ()):
        return True
    if kind == "Secret" and obj.get("type") in PRESET_SECRET_TYPES:
        return True
    if kind == "RoleBinding" and (name.startswith("system:") or name == "deployer-admin"):
        return True
    return kind == "ReplicaSet" and bool(_meta(obj).get("ownerReferences"))


def followed_streams(obj: dict) -> list[str]:
    """The ImageStreams a workload's image triggers follow (none when its annotation is not JSON:
    the plan names what it can)."""
    try:
        return [t["stream"] for t in image_triggers(obj)]
    except K8sError:
        return []


def used_services(obj: dict, services: list[str]) -> list[str]:
    """The Services of `services` a workload's environment or a ConfigMap's data names as a
    host (http://<name>, <name>:<port>)."""
    if obj.get("kind") == "ConfigMap":
        texts = [str(v) for v in (obj.get("data") or {}).values()]
    else:
        texts = [str(e.get("value", "")) for c in _pod_spec(obj).get("containers") or [] for e in c.get("env") or []]
    text = "\n".join(texts)
    return [s for s in services if re.search(rf"(//|^|[\s=]){re.escape(s)}([:/\s;]|$)", text, re.M)]


def mounted_config_maps(obj: dict) -> list[str]:
    return [v["configMap"]["name"] for v in _pod_spec(obj).get("volumes") or [] if v.get("configMap")]


def read_live(dyn, namespaces: list[str]) -> dict[tuple, dict]:
    """Every listed object of the namespaces, by (kind, namespace, name)."""
    reads = []
    for namespace in namespaces:
        for api_version, kind in LISTED:
            if resource(dyn, api_version, kind, required=False) is not None:
                reads.append((api_version, kind, namespace))

    def items(read: tuple) -> list[dict]:
        res = dyn.resources.get(api_version=read[0], kind=read[1])
        try:
            return res.get(namespace=read[2]).to_dict().get("items") or []
        except NotFoundError:
            return []

    with ThreadPoolExecutor(max_workers=8) as pool:
        found = list(pool.map(items, reads))
    live = {}
    for (api_version, kind, _namespace), listed in zip(reads, found):
        for item in listed:
            item.setdefault("apiVersion", api_version)
            item.setdefault("kind", kind)
            live[_key(item)] = item
    return live


def _component(obj: dict) -> str:
    return _labels(obj).get("app.kubernetes.io/component", "")


def make_plan(rendered: list[dict], live: dict[tuple, dict], managed_by: str) -> dict[str, Any]:
    """{entries, held, groups}: a line per object (see the module docstring), the rendered
    objects the first apply leaves for their component's swap, and the swap groups in order."""
    def ours(obj: dict) -> bool:
        return _labels(obj).get(MANAGED_BY) == managed_by

    rendered = [o for o in rendered if o.get("kind") not in ("Namespace",)]
    by_key = {_key(o): o for o in rendered}
    claims = {(ns, name) for kind, ns, name in by_key if kind == "PersistentVolumeClaim"}
    # The claims the StatefulSets make from their templates (<template>-<statefulset>-<ordinal>).
    sts_claims = {}
    for o in rendered:
        if o["kind"] == "StatefulSet":
            for t in (o.get("spec") or {}).get("volumeClaimTemplates") or []:
                for i in range(int((o.get("spec") or {}).get("replicas", 1))):
                    sts_claims[(_meta(o).get("namespace") or "", f"{_meta(t)['name']}-{_meta(o)['name']}-{i}")] = o
    entries: list[dict] = []
    held: set[tuple] = set()
    group_of: dict[tuple, str] = {}   # foreign object to delete -> component whose swap deletes it

    def entry(obj: dict, action: str, why: str, component: str = "", **extra: Any) -> None:
        entries.append({"apiVersion": obj.get("apiVersion", ""), "kind": obj["kind"],
                        "namespace": _meta(obj).get("namespace") or "", "name": _meta(obj).get("name", ""),
                        "action": action, "why": why, "component": component, **extra})

    # Another's workloads that mount a rendered claim: stopped before the new one mounts it.
    mounting: dict[tuple, list[str]] = {}
    for key, obj in live.items():
        if obj["kind"] in WORKLOADS and not ours(obj):
            mounted = sorted(c for c in pod_claims(obj) if (key[1], c) in claims)
            if mounted:
                mounting[key] = mounted
    claim_users = {(key[1], c): key for key, cs in mounting.items() for c in cs}

    for key, obj in by_key.items():
        have = live.get(key)
        component = _component(obj)
        if have is None:
            # A workload whose claim another's workload holds waits for that one to stop.
            blocked = sorted(c for c in pod_claims(obj) if (key[1], c) in claim_users and claim_users[(key[1], c)] != key)
            taken = [h for h in [(obj.get("spec") or {}).get("host")] if obj["kind"] == "Route" and h]
            holder = next((k for k, o in live.items() if k[0] == "Route" and k[1] == key[1] and not ours(o)
                           and (o.get("spec") or {}).get("host") in taken and k != key), None)
            if blocked:
                held.add(key)
                entry(obj, "create", f"after {', '.join(f'{claim_users[(key[1], c)][0]}/{claim_users[(key[1], c)][2]}' for c in blocked)} "
                      f"stopped (claim {', '.join(blocked)})", component)
            elif holder:
                held.add(key)
                group_of[holder] = component
                entry(obj, "create", f"serves host {taken[0]} once Route/{holder[2]} is deleted", component, host=taken[0])
            else:
                entry(obj, "create", "made by the apply before anything is deleted", component,
                      **({"host": (obj.get("spec") or {}).get("host")} if obj["kind"] == "Route" else {}))
            continue
        if ours(have):
            entry(obj, "ours", "this repository's already", component)
            continue
        if key[0] in KEPT:
            entry(obj, "keep", "holds data or is read by the pods: labelled as this repository's, "
                  "its content the apply's", component)
        elif key[0] in ADOPTED:
            held.add(key)
            why = {"Route": f"taken over in place: host {(obj.get('spec') or {}).get('host')} keeps its Route",
                   "Service": "taken over in place (its cluster IP stays): selects the new pods once they are ready",
                   "ImageStream": "taken over in place at its component's swap"}.get(key[0], "taken over in place")
            entry(obj, "adopt", why, component,
                  **({"host": (obj.get("spec") or {}).get("host")} if key[0] == "Route" else {}))
        else:
            held.add(key)
            entry(obj, "replace", "deleted and created as rendered at its component's swap" +
                  ("; the old pods serve until the new ones are ready" if key[0] == "Deployment" and key not in mounting
                   and any(k[0] == "Service" and by_key[k].get("spec", {}).get("selector") and
                           _component(by_key[k]) == component for k in by_key) else ""), component)
    # The claims of the StatefulSets' templates.
    for (ns, name), sts in sts_claims.items():
        have = live.get(("PersistentVolumeClaim", ns, name))
        if have is None:
            entries.append({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "namespace": ns, "name": name,
                            "action": "create", "why": f"by StatefulSet {_meta(sts)['name']} from its claim template",
                            "component": _component(sts)})
        else:
            action = "ours" if ours(have) else "keep"
            entries.append({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "namespace": ns, "name": name,
                            "action": action, "why": f"StatefulSet {_meta(sts)['name']} mounts it again (claim template)",
                            "component": _component(sts), "labels": _labels(sts)})
    known = set(by_key) | {("PersistentVolumeClaim", ns, n) for ns, n in sts_claims}
    # Another's objects under names this repository does not render.
    swapped_streams = {k[2] for k in held if k[0] == "ImageStream"}
    adopted_services = {k[2]: by_key[k] for k in by_key if k[0] == "Service" and k in held}
    moved_routes = list(group_of)
    superseded: dict[tuple, str] = {}
    for key in moved_routes:
        route = live[key]
        service = ((route.get("spec") or {}).get("to") or {}).get("name")
        svc = live.get(("Service", key[1], service))
        if svc is not None and not ours(svc) and ("Service", key[1], service) not in by_key:
            superseded[("Service", key[1], service)] = group_of[key]
            selector = (svc.get("spec") or {}).get("selector") or {}
            for k, o in live.items():
                pod_labels = (((o.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels") or {}
                if k[0] in WORKLOADS and k[1] == key[1] and not ours(o) and k not in by_key and selector and \
                        all(pod_labels.get(a) == b for a, b in selector.items()):
                    superseded[k] = group_of[key]
    for key, obj in sorted(live.items()):
        if key in known or ours(obj) or _preset(obj):
            continue
        if key in mounting:
            user = next((by_key[k] for k in by_key if k[0] in WORKLOADS and set(mounting[key]) & pod_claims(by_key[k])), None)
            group_of[key] = _component(user) if user else ""
            entry(obj, "delete", f"mounts claim {', '.join(mounting[key])}: stopped before the new workload mounts it",
                  group_of[key], mounts=mounting[key])
        elif key in group_of:
            entry(obj, "delete", f"holds host {(obj.get('spec') or {}).get('host')}: deleted, and the new Route created "
                  "right after it", group_of[key], host=(obj.get("spec") or {}).get("host"))
        elif key in superseded or REPLACED_BY in (_meta(obj).get("annotations") or {}):
            group_of[key] = superseded.get(key) or _meta(obj)["annotations"][REPLACED_BY]
            entry(obj, "delete", "served a host that moves: deleted once the new Route serves it", group_of[key])
        elif key[0] == "ReplicaSet":
            owner = next((k for k in by_key if k[0] == "Deployment" and k[1] == key[1] and key[2].startswith(k[2] + "-")), None)
            group_of[key] = _component(by_key[owner]) if owner else ""
            entry(obj, "delete", "pods of a Deployment an interrupted switch deleted: deleted once the new pods serve",
                  group_of[key])
        else:
            notes = []
            if obj["kind"] in WORKLOADS or obj["kind"] == "CronJob":
                for stream in followed_streams(obj):
                    if stream in swapped_streams:
                        notes.append(f"follows ImageStream {stream}, which is taken over: rolls out onto "
                                     f"{_stream_source(by_key[('ImageStream', key[1], stream)])}")
                for cm in mounted_config_maps(obj):
                    if ("ConfigMap", key[1], cm) in by_key:
                        notes.append(f"mounts ConfigMap {cm}, which gets this repository's content")
            if obj["kind"] in WORKLOADS or obj["kind"] == "ConfigMap":
                for name in used_services(obj, list(adopted_services)):
                    ports = [p.get("port") for p in (adopted_services[name].get("spec") or {}).get("ports") or []]
                    old = [p.get("port") for p in ((live.get(("Service", key[1], name)) or {}).get("spec") or {}).get("ports") or []]
                    notes.append(f"uses Service {name} (port {', '.join(map(str, old))}"
                                 + ("" if set(old) <= set(ports) else f"; after the takeover only {', '.join(map(str, ports))}")
                                 + ")")
            entry(obj, "leave", "; ".join(notes) if notes else "not this repository's: left as it is (delete it by name "
                  "when you no longer need it)")
    groups = _groups(rendered, held, group_of)
    return {"entries": entries, "held": sorted(held), "groups": groups}


def _stream_source(stream: dict) -> str:
    tags = (stream.get("spec") or {}).get("tags") or []
    return ((tags[0].get("from") or {}).get("name")) if tags else "?"


def _groups(rendered: list[dict], held: set[tuple], group_of: dict[tuple, str]) -> list[dict]:
    """The swap groups in order: per component its held rendered objects and the other's
    objects its swap deletes; stateless components first, then StatefulSets, then the data."""
    order = list(dict.fromkeys(_component(o) for o in rendered))
    groups: dict[str, dict] = {}
    for o in rendered:
        if _key(o) in held:
            groups.setdefault(_component(o), {"component": _component(o), "held": [], "delete": []})["held"].append(_key(o))
    for key, component in group_of.items():
        groups.setdefault(component, {"component": component, "held": [], "delete": []})["delete"].append(key)
    by_component: dict[str, list[dict]] = {}
    for o in rendered:
        by_component.setdefault(_component(o), []).append(o)

    def rank(component: str) -> tuple[int, int]:
        objs = by_component.get(component, [])
        if any(o["kind"] == "StatefulSet" for o in objs):
            level = 1
        elif any(o["kind"] in WORKLOADS and pod_claims(o) for o in objs):
            level = 2  # the data: a workload on a claim
        else:
            level = 0
        return (level, order.index(component) if component in order else len(order))

    return [groups[c] for c in sorted(groups, key=rank)]


class Monitor:
    """Polls, until stopped, whether each public host has a Route whose Service has a ready
    endpoint, and whether each watched Service has one; sums the seconds each had none."""

    def __init__(self, dyn, namespace: str, hosts: list[str], services: list[str], every: float = 0.1) -> None:
        self.dyn, self.namespace, self.every = dyn, namespace, every
        self.down = {f"host {h}": 0.0 for h in hosts} | {f"Service {s}": 0.0 for s in services}
        self.hosts, self.services = hosts, services
        self.error = ""  # why the measuring stopped, if it did
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._routes = dyn.resources.get(api_version="route.openshift.io/v1", kind="Route")
        self._slices = dyn.resources.get(api_version="discovery.k8s.io/v1", kind="EndpointSlice")

    def _ready(self) -> set[str]:
        ready = set()
        for sl in self._slices.get(namespace=self.namespace).to_dict().get("items") or []:
            if any((e.get("conditions") or {}).get("ready") for e in sl.get("endpoints") or []):
                ready.add(_labels(sl).get("kubernetes.io/service-name", ""))
        return ready

    def _sample(self) -> set[str]:
        ready = self._ready()
        up = {f"Service {s}" for s in self.services if s in ready}
        for route in self._routes.get(namespace=self.namespace).to_dict().get("items") or []:
            spec = route.get("spec") or {}
            if spec.get("host") in self.hosts and ((spec.get("to") or {}).get("name")) in ready:
                up.add(f"host {spec['host']}")
        return up

    def _run(self) -> None:
        last = time.monotonic()
        while not self._stop.is_set():
            try:
                up = self._sample()
            except Exception as exc:  # noqa: BLE001 - no figure rather than a wrong one
                self.error = api_message(exc)
                return
            now = time.monotonic()
            for name in self.down:
                if name not in up:
                    self.down[name] += now - last
            last = now
            self._stop.wait(self.every)

    def __enter__(self) -> "Monitor":
        self._thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def put(dyn, obj: dict) -> dict:
    """Apply one object as the apply module does (kubernetes.core's client-side apply)."""
    res = resource(dyn, obj["apiVersion"], obj["kind"])
    meta = obj["metadata"]
    try:
        existing, after = client_side_apply(res, obj)
        return after or existing
    except DynamicApiError as exc:
        raise K8sError(f"{obj['kind']} {meta['name']} in {meta.get('namespace')} was not applied: {api_message(exc)}") from exc


def delete(dyn, key: tuple, api_version: str, propagation: str = "Foreground", timeout: float = 300) -> None:
    """Delete and wait until the object is gone (with Foreground: its pods too)."""
    res = resource(dyn, api_version, key[0])
    try:
        res.delete(name=key[2], namespace=key[1], body={"propagationPolicy": propagation})
    except NotFoundError:
        return
    deadline = time.monotonic() + timeout
    while True:
        try:
            res.get(name=key[2], namespace=key[1])
        except NotFoundError:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{key[0]}/{key[2]} in {key[1]} is still there after {timeout:.0f}s")
        time.sleep(0.2)


def label(dyn, entry: dict, labels: dict) -> None:
    res = resource(dyn, entry["apiVersion"], entry["kind"])
    res.patch(name=entry["name"], namespace=entry["namespace"] or None, body={"metadata": {"labels": labels}},
              content_type="application/merge-patch+json")


def swap(dyn, group: dict, plan_entries: list[dict], rendered: dict[tuple, dict], live: dict[tuple, dict],
         timeout: int, log: list[str], down: dict[str, float] | None = None) -> None:
    """One component's swap (see the module docstring); `down` gets, per workload stopped before
    its successor could start, the seconds until the successor was ready."""
    started = time.monotonic()

    def stamp(text: str) -> None:
        log.append(f"{time.monotonic() - started:6.2f}s {group['component']}: {text}")

    held = [rendered[k] for k in group["held"] if k in rendered]
    deleting = [live[k] for k in group["delete"] if k in live]
    services = [o for o in held if o["kind"] == "Service"]
    # A stream is taken over once the old workloads that follow it are stopped (else they would
    # roll out onto the new image while they still serve), before the new ones start on it; one
    # that an old workload serving a moving host follows, once that one is deleted.
    serving = {s for o in deleting if o["kind"] in WORKLOADS for s in followed_streams(o)}
    streams = [o for o in held if o["kind"] == "ImageStream"]
    late = [o for o in streams if _meta(o)["name"] in serving]
    # The other's workloads under the new names, and those on the new workloads' claims.
    old = [live[k] for k in group["held"] if k[0] in WORKLOADS and k in live and
           _labels(live[k]).get(MANAGED_BY) != _labels(rendered[k]).get(MANAGED_BY)]
    old += [o for o in deleting if o["kind"] in WORKLOADS and _key(o) not in _superseded_keys(plan_entries)]
    orphaned: list[dict] = []
    stopped: list[tuple[str, float]] = []
    for obj in old:
        key = _key(obj)
        overlap = obj["kind"] == "Deployment" and not pod_claims(obj) and services
        if obj["kind"] == "StatefulSet":
            retain_claims(dyn, obj, timeout)
        if overlap:
            delete(dyn, key, obj["apiVersion"], "Orphan", timeout)
            orphaned.append(obj)
            stamp(f"{key[0]} {key[2]} deleted, its pods left serving")
        else:
            stopped.append((f"{key[0]} {key[2]}", time.monotonic()))
            delete(dyn, key, obj["apiVersion"], "Foreground", timeout)
            stamp(f"{key[0]} {key[2]} stopped")
    for stream in [o for o in streams if o not in late]:
        put(dyn, stream)
        stamp(f"ImageStream {_meta(stream)['name']} taken over")
    others = [o for o in held if o["kind"] not in ("ImageStream", "Service", "Route")]
    for obj in others:
        key = _key(obj)
        have = live.get(key)
        if key[0] == "RoleBinding" and have is not None and _labels(have).get(MANAGED_BY) != _labels(obj).get(MANAGED_BY):
            delete(dyn, key, obj["apiVersion"], "Background", timeout)
        put(dyn, obj)
    workloads = [{"apiVersion": o["apiVersion"], "kind": o["kind"], "name": _meta(o)["name"],
                  "namespace": _meta(o)["namespace"]} for o in others if o["kind"] in WORKLOADS]
    if workloads:
        wait_rolled_out(dyn, workloads, timeout, sleep=0.25)
        stamp(f"{', '.join(w['kind'] + ' ' + w['name'] for w in workloads)} ready")
    if down is not None:
        down.update({what: time.monotonic() - since for what, since in stopped})
    for svc in services:
        after = put(dyn, svc)
        want = svc.get("spec") or {}
        if (after.get("spec") or {}).get("selector") != want.get("selector") or \
                [(p.get("port"), p.get("targetPort")) for p in (after.get("spec") or {}).get("ports") or []] != \
                [(p.get("port"), p.get("targetPort")) for p in want.get("ports") or []]:
            resource(dyn, "v1", "Service").patch(
                name=_meta(svc)["name"], namespace=_meta(svc)["namespace"], content_type="application/json-patch+json",
                body=[{"op": "replace", "path": "/spec/selector", "value": want.get("selector")},
                      {"op": "replace", "path": "/spec/ports", "value": want.get("ports")}])
        stamp(f"Service {_meta(svc)['name']} selects the new pods")
    for key in _superseded_keys(plan_entries) & set(group["delete"]):
        if key in live:
            resource(dyn, live[key]["apiVersion"], key[0]).patch(
                name=key[2], namespace=key[1], content_type="application/merge-patch+json",
                body={"metadata": {"annotations": {REPLACED_BY: group["component"]}}})
    for route in [o for o in held if o["kind"] == "Route"]:
        host = (route.get("spec") or {}).get("host")
        holders = [live[k] for k in group["delete"] if k[0] == "Route" and k in live
                   and (live[k].get("spec") or {}).get("host") == host]
        for holder in holders:
            delete(dyn, _key(holder), holder["apiVersion"], "Background", timeout)
        put(dyn, route)
        how = (f" (Route {', '.join(_meta(h)['name'] for h in holders)} deleted just before)" if holders
               else " (taken over in place)")
        stamp(f"Route {_meta(route)['name']} serves {host}{how}")
    for obj in orphaned:
        _delete_orphaned_pods(dyn, obj, timeout)
        stamp(f"the old pods of {obj['kind']} {_meta(obj)['name']} deleted")
    for key in group["delete"]:
        obj = live.get(key)
        if obj is None or obj["kind"] == "Route" or obj in old:
            continue
        delete(dyn, key, obj["apiVersion"], "Foreground", timeout)
        stamp(f"{key[0]} {key[2]} deleted")
    for stream in late:
        put(dyn, stream)
        stamp(f"ImageStream {_meta(stream)['name']} taken over")


def _superseded_keys(entries: list[dict]) -> set[tuple]:
    return {(e["kind"], e["namespace"], e["name"]) for e in entries
            if e["action"] == "delete" and e["why"].startswith("served a host")}


def _delete_orphaned_pods(dyn, deployment: dict, timeout: int) -> None:
    """Delete the ReplicaSets a Deployment deleted with propagation Orphan left (by its selector)."""
    selector = ((deployment.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    if not selector:
        return
    namespace = _meta(deployment)["namespace"]
    res = resource(dyn, "apps/v1", "ReplicaSet")
    for rs in res.get(namespace=namespace, label_selector=",".join(f"{k}={v}" for k, v in selector.items())).to_dict().get("items") or []:
        if not _meta(rs).get("ownerReferences"):
            delete(dyn, _key(dict(rs, kind="ReplicaSet")), "apps/v1", "Foreground", timeout)


def label_kept(dyn, entries: list[dict], rendered: dict[tuple, dict]) -> None:
    """Label the kept objects as this repository's (a StatefulSet's claim with its StatefulSet's labels)."""
    for e in entries:
        if e["action"] == "keep":
            key = (e["kind"], e["namespace"], e["name"])
            label(dyn, e, _labels(rendered[key]) if key in rendered else e.get("labels") or {})


def rendered_index(objects: list[dict]) -> dict[tuple, dict]:
    return {_key(o): o for o in objects}


def public_hosts(objects: list[dict]) -> list[str]:
    return sorted({(o.get("spec") or {}).get("host") for o in objects if o.get("kind") == "Route"
                   and (o.get("spec") or {}).get("host")})

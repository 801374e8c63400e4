"""module_utils/switch.py: the plan of a takeover, what happens to every object of the project."""

from __future__ import annotations

from tests.support.moduletools import load

switch = load("module_utils", "switch")


OURS = {"app.kubernetes.io/managed-by": "packit-deployment"}


def _obj(kind: str, name: str, api: str = "v1", labels=None, spec=None, annotations=None, **extra) -> dict:
    meta = {"name": name, "namespace": "p", "labels": labels if labels is not None else {"component": name}}
    if annotations:
        meta["annotations"] = annotations
    return {"apiVersion": api, "kind": kind, "metadata": meta, "spec": spec or {}, **extra}


def _ours(kind: str, name: str, component: str, api: str = "v1", spec=None) -> dict:
    return _obj(kind, name, api, dict(OURS, **{"app.kubernetes.io/component": component}), spec)


def _pod(claim: str = "", labels=None) -> dict:
    spec = {"containers": [{"name": "c"}]}
    if claim:
        spec["volumes"] = [{"name": "d", "persistentVolumeClaim": {"claimName": claim}}]
    return {"template": {"metadata": {"labels": labels or {}}, "spec": spec}, "selector": {"matchLabels": labels or {}}}


def _plan(rendered: list[dict], live: list[dict]) -> dict:
    return switch.make_plan(rendered, {switch._key(o): o for o in live}, "packit-deployment")


def test_the_switch_plan_names_what_happens_to_every_object():
    trigger = {"image.openshift.io/triggers": '[{"from":{"kind":"ImageStreamTag","name":"web:stg"}}]'}
    rendered = [
        _ours("PersistentVolumeClaim", "postgres-15", "postgres"),
        _ours("Deployment", "postgres", "postgres", "apps/v1", _pod("postgres-15", {"app": "pg"})),
        _ours("Service", "postgres", "postgres", spec={"selector": {"app": "pg"}}),
        _ours("ImageStream", "web", "web", "image.openshift.io/v1"),
        _ours("Deployment", "web", "web", "apps/v1", _pod(labels={"app": "web"})),
        _ours("Route", "web-new", "web", "route.openshift.io/v1", {"host": "web.example"}),
        _ours("StatefulSet", "worker", "worker", "apps/v1",
              dict(_pod(labels={"app": "w"}), replicas=1, volumeClaimTemplates=[{"metadata": {"name": "cache"}}])),
    ]
    live = [
        _obj("PersistentVolumeClaim", "postgres-15"),
        _obj("Deployment", "postgres-15", "apps/v1", spec=_pod("postgres-15", {"component": "postgres-15"})),
        _obj("Service", "postgres", spec={"selector": {"component": "postgres-15"}}),
        _obj("ImageStream", "web", "image.openshift.io/v1"),
        _obj("Deployment", "web", "apps/v1", spec=_pod(labels={"component": "web"})),
        _obj("Route", "web-old", "route.openshift.io/v1", spec={"host": "web.example", "to": {"name": "web-old"}}),
        _obj("Service", "web-old", spec={"selector": {"component": "web-old"}}),
        _obj("Deployment", "web-old", "apps/v1", spec=_pod(labels={"component": "web-old"})),
        _obj("Deployment", "beat", "apps/v1", spec=_pod(labels={"component": "beat"}), annotations=trigger),
        _obj("PersistentVolumeClaim", "cache-worker-0"),
        _obj("ConfigMap", "kube-root-ca.crt", labels={}),
    ]
    plan = _plan(rendered, live)
    got = {(e["kind"], e["name"]): e["action"] for e in plan["entries"]}
    assert got == {
        ("PersistentVolumeClaim", "postgres-15"): "keep", ("Deployment", "postgres"): "create",
        ("Service", "postgres"): "adopt", ("ImageStream", "web"): "adopt", ("Deployment", "web"): "replace",
        ("Route", "web-new"): "create", ("StatefulSet", "worker"): "create",
        ("PersistentVolumeClaim", "cache-worker-0"): "keep",
        ("Deployment", "postgres-15"): "delete", ("Route", "web-old"): "delete", ("Service", "web-old"): "delete",
        ("Deployment", "web-old"): "delete", ("Deployment", "beat"): "leave"}
    why = {(e["kind"], e["name"]): e["why"] for e in plan["entries"]}
    assert why[("Deployment", "postgres")] == "after Deployment/postgres-15 stopped (claim postgres-15)"
    assert why[("Route", "web-new")] == "serves host web.example once Route/web-old is deleted"
    assert why[("Deployment", "beat")].startswith("follows ImageStream web, which is taken over")
    # Held for the swaps: what conflicts; the stateless component swaps before the data.
    assert set(plan["held"]) == {("Deployment", "p", "postgres"), ("Service", "p", "postgres"),
                                 ("ImageStream", "p", "web"), ("Deployment", "p", "web"), ("Route", "p", "web-new")}
    assert [g["component"] for g in plan["groups"]] == ["web", "postgres"]


def test_the_switch_plan_of_a_project_that_is_already_ours_changes_nothing():
    rendered = [_ours("Service", "web", "web", spec={"selector": {"app": "web"}})]
    plan = _plan(rendered, [dict(rendered[0])])
    assert [(e["action"]) for e in plan["entries"]] == ["ours"]
    assert plan["held"] == [] and plan["groups"] == []


def test_the_switch_plan_names_a_service_port_an_object_left_running_uses():
    rendered = [_ours("Service", "pushgateway", "pushgateway", spec={"selector": {"a": "b"}, "ports": [{"port": 9091}]})]
    live = [_obj("Service", "pushgateway", spec={"ports": [{"port": 80}]}),
            _obj("ConfigMap", "nginx-config", data={"nginx.conf": "proxy_pass http://pushgateway;"})]
    why = {e["name"]: e["why"] for e in _plan(rendered, live)["entries"]}
    assert why["nginx-config"] == "uses Service pushgateway (port 80; after the takeover only 9091)"

"""What keeps a second apply from fighting OpenShift's image machinery (module_utils/live.py, which the
apply module uses), and the claims a deploy never patches.

Pure functions, tested offline; the cluster tests prove the effect on the real controllers
(tests/cluster/test_deploy_cluster.py: zero changes on a second run, DeploymentConfig mode included).
"""

from __future__ import annotations

import copy
import json

import pytest

from tests.support.moduletools import load

live_utils = load("module_utils", "live")


TRIGGER = json.dumps([{"from": {"kind": "ImageStreamTag", "name": "api:dev"},
                       "fieldPath": 'spec.template.spec.containers[?(@.name=="api")].image'}])


CRON_TRIGGER = json.dumps([{"from": {"kind": "ImageStreamTag", "name": "jobs:dev"},
                            "fieldPath": 'spec.jobTemplate.spec.template.spec.containers[?(@.name=="run")].image'}])


def deployment(image: str, trigger: str | None = TRIGGER) -> dict:
    meta = {"name": "api", "namespace": "ns"}
    if trigger:
        meta["annotations"] = {"image.openshift.io/triggers": trigger}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta,
            "spec": {"template": {"spec": {"containers": [{"name": "api", "image": image},
                                                          {"name": "sidecar", "image": "nginx:1"}]}}}}


def cronjob(image: str) -> dict:
    return {"apiVersion": "batch/v1", "kind": "CronJob",
            "metadata": {"name": "jobs", "namespace": "ns", "annotations": {"image.openshift.io/triggers": CRON_TRIGGER}},
            "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "run", "image": image}]}}}}}}


def dc(image: str, automatic: bool = True) -> dict:
    return {"apiVersion": "apps.openshift.io/v1", "kind": "DeploymentConfig", "metadata": {"name": "web", "namespace": "ns"},
            "spec": {"triggers": [{"type": "ConfigChange"},
                                  {"type": "ImageChange", "imageChangeParams": {
                                      "automatic": automatic, "containerNames": ["web"],
                                      "from": {"kind": "ImageStreamTag", "name": "web:dev"}}}],
                     "template": {"spec": {"containers": [{"name": "web", "image": image}]}}}}


def test_live_triggered_images_replace_the_rendered_ones():
    live = live_utils.triggered_images([deployment("reg/api@sha256:1"), cronjob("reg/jobs@sha256:2"),
                                           dc("reg/web@sha256:3"), deployment("reg/other:1", trigger=None)])
    assert live == {
        "Deployment/ns/api": {"spec.template.spec|api": "reg/api@sha256:1"},
        "CronJob/ns/jobs": {"spec.jobTemplate.spec.template.spec|run": "reg/jobs@sha256:2"},
        "DeploymentConfig/ns/web": {"spec.template.spec|web": "reg/web@sha256:3"},
    }
    rendered = [deployment("reg/api:stg"), cronjob("reg/jobs:latest"), dc("reg/web:stg"),
                {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "api"}}]
    before = copy.deepcopy(rendered)
    kept = live_utils.keep_triggered_images(rendered, live, "ns")
    assert rendered == before, "the input is not modified"
    assert kept[0]["spec"]["template"]["spec"]["containers"] == [{"name": "api", "image": "reg/api@sha256:1"},
                                                                 {"name": "sidecar", "image": "nginx:1"}]
    assert kept[1]["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["image"] == "reg/jobs@sha256:2"
    assert kept[2]["spec"]["template"]["spec"]["containers"][0]["image"] == "reg/web@sha256:3"
    assert kept[3] == before[3]


def test_new_workloads_and_untriggered_containers_keep_the_rendered_image():
    live = live_utils.triggered_images([deployment("reg/api@sha256:1")])
    other_namespace = deployment("reg/api:stg")
    other_namespace["metadata"]["namespace"] = "elsewhere"
    untriggered = deployment("reg/api:stg", trigger=None)
    assert live_utils.keep_triggered_images([other_namespace, untriggered], live, "ns") == [other_namespace, untriggered]
    # a blank image (the trigger has not resolved yet) is not kept
    assert live_utils.triggered_images([deployment(" ")]) == {}
    # a malformed annotation is ignored, not an error
    assert live_utils.triggered_images([deployment("x", trigger="not json")]) == {}


def stream(scheduled: bool = True, labels: dict | None = None) -> dict:
    return {"apiVersion": "image.openshift.io/v1", "kind": "ImageStream",
            "metadata": {"name": "api", "namespace": "ns", "labels": labels or {"app": "api"}},
            "spec": {"lookupPolicy": {"local": True},
                     "tags": [{"name": "dev", "from": {"kind": "DockerImage", "name": "reg/api:stg"},
                               "importPolicy": {"scheduled": scheduled, "importMode": "Legacy"},
                               "referencePolicy": {"type": "Local"}}]}}


def as_live(obj: dict, **server_fields) -> dict:
    """What the API returns after an apply of `obj`: last-applied, plus the server's own fields."""
    live = copy.deepcopy(obj)
    live["metadata"].setdefault("annotations", {})["kubectl.kubernetes.io/last-applied-configuration"] = json.dumps(obj)
    for tag in (live["spec"].get("tags") or []):
        tag["generation"] = 3
        if not tag["importPolicy"].get("scheduled"):
            tag["importPolicy"].pop("scheduled")
    for trigger in (live["spec"].get("triggers") or []):
        params = trigger.get("imageChangeParams")
        if params:
            params["from"]["namespace"] = "ns"
            if not params.get("automatic"):
                params.pop("automatic")
    live["spec"].update(server_fields)
    return live


@pytest.mark.parametrize("make", [lambda: stream(), lambda: stream(scheduled=False), lambda: dc("reg/web@sha256:3"),
                                  lambda: dc("reg/web@sha256:3", automatic=False)])
def test_unchanged_openshift_objects_are_left_out(make):
    obj = make()
    assert live_utils.drop_unchanged([obj], [as_live(obj, extra={"defaulted": 1})], "ns") == []


def test_changed_or_new_openshift_objects_are_applied():
    obj = stream()
    live = as_live(obj)
    changed = stream(scheduled=False)
    assert live_utils.drop_unchanged([changed], [live], "ns") == [changed]
    relabelled = stream(labels={"app": "api", "new": "label"})
    assert live_utils.drop_unchanged([relabelled], [live], "ns") == [relabelled]
    assert live_utils.drop_unchanged([obj], [], "ns") == [obj], "not live yet"
    drifted = as_live(obj)
    drifted["spec"]["tags"][0]["from"]["name"] = "reg/api:pinned"  # changed by hand on the cluster
    assert live_utils.drop_unchanged([obj], [drifted], "ns") == [obj]
    no_record = as_live(obj)
    del no_record["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
    assert live_utils.drop_unchanged([obj], [no_record], "ns") == [obj]
    # a key removed from the render is applied (the live object still has it)
    before = dc("reg/web@sha256:3")
    before["spec"]["template"]["spec"]["containers"][0]["resources"] = {"limits": {"cpu": "1"}}
    after = dc("reg/web@sha256:3")
    assert live_utils.drop_unchanged([after], [as_live(before)], "ns") == [after]
    # other kinds are always applied
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "api"}, "spec": {}}
    assert live_utils.drop_unchanged([service], [as_live(service)], "ns") == [service]


def test_a_triggered_image_change_alone_is_not_a_change():
    applied = dc("reg/web@sha256:3")
    live = as_live(applied)
    live["spec"]["template"]["spec"]["containers"][0]["image"] = "reg/web@sha256:4"  # the trigger moved on
    rendered = dc("reg/web@sha256:4")  # what keep_triggered_images makes of the render
    assert live_utils.drop_unchanged([rendered], [live], "ns") == []


def test_a_workload_whose_trigger_resolved_after_creation_is_left_out():
    """Created with the registry reference, then given the digest by its trigger: the next
    apply would only rewrite its last-applied record."""
    applied = deployment("reg/api:stg")
    live = as_live(applied)
    live["spec"]["template"]["spec"]["containers"][0]["image"] = "reg/api@sha256:1"
    rendered = live_utils.keep_triggered_images([deployment("reg/api:stg")],
                                                   live_utils.triggered_images([live]), "ns")
    assert live_utils.drop_unchanged(rendered, [live], "ns") == []
    resized = deployment("reg/api:stg")
    resized["spec"]["replicas"] = 3
    assert live_utils.drop_unchanged([resized], [live], "ns") == [resized]


def test_quantities_and_numbers_in_canonical_form_are_covered():
    """The API returns `500m` for `0.5`, `1` for `1000m`, and numbers where the render has strings."""
    assert live_utils._covered({"cpu": "0.5", "memory": "1024Mi", "port": "8080"}, {"cpu": "500m", "memory": "1Gi", "port": 8080})
    assert live_utils._covered({"cpu": 1}, {"cpu": "1000m"})
    assert not live_utils._covered({"cpu": "1"}, {"cpu": "2"})
    assert not live_utils._covered({"on": True}, {"on": "True"})


def claim(name: str, size: str, namespace: str = "p") -> dict:
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name, "namespace": namespace},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}}}


def test_existing_claims_are_never_applied_again():
    rendered = [claim("postgres-15", "10Gi"), claim("redis-pvc", "1Gi"), claim("postgres-15", "10Gi", "other"),
                {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "postgres-15", "namespace": "p"}}]
    live = [claim("postgres-15", "2Gi")]
    kept = live_utils.drop_live_claims(rendered, live)
    assert [(o["kind"], o["metadata"]["namespace"], o["metadata"]["name"]) for o in kept] == [
        ("PersistentVolumeClaim", "p", "redis-pvc"), ("PersistentVolumeClaim", "other", "postgres-15"),
        ("Service", "p", "postgres-15")]


def test_claim_size_drift_is_reported_per_claim():
    rendered = [claim("postgres-15", "10Gi"), claim("redis-pvc", "1Gi"), claim("new", "1Gi")]
    live = [claim("postgres-15", "2Gi"), claim("redis-pvc", "1Gi")]
    assert live_utils.claim_drift(rendered, live) == [
        "claim postgres-15 in p keeps 2Gi (the vars ask for 10Gi): deploy never changes an existing claim; "
        "resize it yourself where the storage class allows"]

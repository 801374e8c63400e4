"""module_utils/workloads.py: the one definition of rolled out, and the image triggers of each workload kind."""

from __future__ import annotations

import pytest

from tests.support.moduletools import load

k8s = load("module_utils", "k8s")
workloads = load("module_utils", "workloads")


def dc(replicas=1, ready=1, updated=1, available=1, condition="True", generation=2, observed=2) -> dict:
    return {"kind": "DeploymentConfig", "metadata": {"generation": generation},
            "spec": {"replicas": replicas},
            "status": {"observedGeneration": observed, "readyReplicas": ready, "updatedReplicas": updated,
                       "availableReplicas": available, "conditions": [{"type": "Available", "status": condition}]}}


def deployment(**status) -> dict:
    return {"kind": "Deployment", "metadata": {"generation": 3}, "spec": {"replicas": 2},
            "status": dict({"observedGeneration": 3, "replicas": 2, "updatedReplicas": 2, "readyReplicas": 2,
                            "availableReplicas": 2}, **status)}


def statefulset(**status) -> dict:
    return {"kind": "StatefulSet", "metadata": {"generation": 1}, "spec": {"replicas": 1},
            "status": dict({"observedGeneration": 1, "replicas": 1, "updatedReplicas": 1, "readyReplicas": 1,
                            "currentRevision": "w-1", "updateRevision": "w-1"}, **status)}


@pytest.mark.parametrize(("obj", "state"), [
    (deployment(), (2, 2, True)),
    # a Recreate rollout: the old pod still counts as available, the new one is not updated yet
    (deployment(updatedReplicas=1), (2, 2, False)),
    (deployment(unavailableReplicas=1, readyReplicas=1), (1, 2, False)),
    (deployment(observedGeneration=2), (2, 2, False)),
    (deployment(replicas=3), (2, 2, False)),
    (statefulset(), (1, 1, True)),
    (statefulset(updateRevision="w-2"), (1, 1, False)),
    (statefulset(readyReplicas=0), (0, 1, False)),
    (dc(), (1, 1, True)),
    (dc(condition="False"), (1, 1, False)),
    (dc(replicas=0, ready=0, updated=0, available=0, condition="False"), (0, 0, True)),
    (dc(observed=1), (1, 1, False)),
    ({"kind": "ReplicaSet", "metadata": {}, "spec": {}, "status": {}}, (0, 1, False)),
    # replicas absent means 1, as the API server defaults it
    ({"kind": "Deployment", "metadata": {"generation": 1}, "spec": {},
      "status": {"observedGeneration": 1, "replicas": 1, "updatedReplicas": 1, "readyReplicas": 1,
                 "availableReplicas": 1}}, (1, 1, True)),
])
def test_rolled_out_is_one_definition_per_kind(obj, state):
    """The deploy's wait (rollout_wait) and the status table (workload_status) both use it."""
    assert workloads.rollout_state(obj) == state
    assert workloads.rolled_out(obj) is state[2]


@pytest.mark.parametrize(("obj", "triggers"), [
    ({"kind": "Deployment", "metadata": {"name": "w", "annotations": {
        "image.openshift.io/triggers": '[{"from": {"kind": "ImageStreamTag", "name": "packit-service:prod"}, '
                                       '"fieldPath": "spec.template.spec.containers[?(@.name==\\"api\\")].image"}]'}}},
     [{"stream": "packit-service", "tag": "prod", "container": "api", "automatic": True}]),
    ({"kind": "StatefulSet", "metadata": {"name": "w", "annotations": {
        "image.openshift.io/triggers": '[{"from": {"kind": "ImageStreamTag", "name": "worker"}, "paused": "true", '
                                       '"fieldPath": "spec.template.spec.containers[?(@.name==\\"w\\")].image"},'
                                       '{"from": {"kind": "DockerImage", "name": "x"}}]'}}},
     [{"stream": "worker", "tag": "latest", "container": "w", "automatic": False}]),
    ({"kind": "DeploymentConfig", "metadata": {"name": "d"}, "spec": {"triggers": [
        {"type": "ConfigChange"},
        {"type": "ImageChange", "imageChangeParams": {"from": {"name": "dash:stg"}, "containerNames": ["a", "b"],
                                                      "automatic": True}}]}},
     [{"stream": "dash", "tag": "stg", "container": "a", "automatic": True},
      {"stream": "dash", "tag": "stg", "container": "b", "automatic": True}]),
    ({"kind": "Deployment", "metadata": {"name": "w"}}, []),
])
def test_image_triggers_of_each_kind(obj, triggers):
    assert workloads.image_triggers(obj) == triggers


def test_a_broken_trigger_annotation_names_the_workload():
    obj = {"kind": "Deployment", "metadata": {"name": "w", "annotations": {"image.openshift.io/triggers": "[{"}}}
    with pytest.raises(k8s.K8sError, match="^Deployment w: annotation image.openshift.io/triggers is not valid JSON$"):
        workloads.image_triggers(obj)

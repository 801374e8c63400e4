"""module_utils/rollout.py: the wait for workloads to be rolled out, against one deadline.

wait_rolled_out reads each workload through the API; its loop, poll_rolled_out, takes the read
as a function: here the test's own, answering with workloads as the API returns them (not
there yet, rolling out, rolled out) or raising the kubernetes client's exceptions.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import MaxRetryError, NewConnectionError

from tests.support.moduletools import load

rollout = load("module_utils", "rollout")
k8s = load("module_utils", "k8s")

WEB = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "namespace": "p"}
WORKER = {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "worker", "namespace": "p"}


def deployment(updated: int) -> dict:
    """Deployment web with 2 replicas, `updated` of them running the latest template."""
    return {"kind": "Deployment", "metadata": {"generation": 2}, "spec": {"replicas": 2},
            "status": {"observedGeneration": 2, "replicas": 2, "updatedReplicas": updated, "readyReplicas": 2,
                       "availableReplicas": 2}}


STATEFULSET = {"kind": "StatefulSet", "metadata": {"generation": 1}, "spec": {"replicas": 1},
               "status": {"observedGeneration": 1, "replicas": 1, "updatedReplicas": 1, "readyReplicas": 1,
                          "currentRevision": "w-1", "updateRevision": "w-1"}}


def answers(**by_name: list) -> Callable[[dict], dict | None]:
    """A read that answers each workload (by name) with its next object, the last one again once
    they run out, and records the names it was asked for."""
    asked = []

    def read(workload: dict):
        asked.append(workload["name"])
        found = by_name[workload["name"]]
        return found.pop(0) if len(found) > 1 else found[0]

    read.asked = asked
    return read


def test_each_workload_is_read_until_it_is_rolled_out():
    read = answers(web=[None, deployment(updated=1), deployment(updated=2)], worker=[STATEFULSET])
    result = rollout.poll_rolled_out(read, [WEB, WORKER], timeout=30, sleep=0)
    assert (result["ready"], result["not_ready"]) == (["StatefulSet/worker", "Deployment/web"], [])
    assert read.asked == ["web", "worker", "web", "web"]
    assert 0 <= result["waited"] < 30


def test_nothing_to_wait_for_reads_nothing():
    assert rollout.wait_rolled_out(None, [], timeout=600) == {"ready": [], "not_ready": [], "waited": 0.0}


def test_the_deadline_names_the_workloads_not_ready_and_returns_the_ready_ones():
    read = answers(web=[deployment(updated=1)], worker=[STATEFULSET])
    with pytest.raises(k8s.K8sError) as raised:
        rollout.poll_rolled_out(read, [WEB, WORKER], timeout=0, sleep=0)
    assert str(raised.value) == ("not ready after 0s: web (inspect with make check; raise deploy_wait_timeout for slow "
                                 "clusters)")
    assert {k: v for k, v in raised.value.result.items() if k != "waited"} == {
        "ready": ["StatefulSet/worker"], "not_ready": ["Deployment/web"]}


@pytest.mark.parametrize(("exc", "line"), [
    (ApiException(status=500, reason="Internal Server Error"), "reading the workloads failed: HTTP 500 Internal Server Error"),
    (MaxRetryError(None, "/apis/apps/v1/namespaces/p/deployments/web",
                   NewConnectionError(None, "Failed to establish a new connection: [Errno 111] Connection refused")),
     "lost the API server while waiting: Connection refused"),
])
def test_a_failed_read_is_one_line(exc, line):
    def read(_workload):
        raise exc

    with pytest.raises(k8s.K8sError) as raised:
        rollout.poll_rolled_out(read, [WEB], timeout=30, sleep=0)
    assert str(raised.value) == line

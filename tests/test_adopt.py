"""Taking over a project that the upstream repository deployed (make adopt), on the local
control plane.

The upstream-made objects are created the way the upstream repository makes them (its
names, bare `component` selectors, no managed-by label); kwok runs their pods. The tests run
in file order on the namespaces packit-adopt and packit-adopt-sandbox, which they empty first.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from kubernetes.dynamic.exceptions import NotFoundError

from deploytools import empty_project_namespaces, make_in_project, project_objects

pytestmark = pytest.mark.cluster
PROJECT, SANDBOX = "packit-adopt", "packit-adopt-sandbox"
EMPTIED_AFTER = (PROJECT, SANDBOX)  # conftest
MARKER = {"example.com/data": "written by the upstream deployment"}


@pytest.fixture(scope="module")
def secrets(secrets_dir) -> Path:
    """Every secret file a component reads (conftest)."""
    return secrets_dir


def make(local_cluster, target: str, secrets: Path, extra: str = "", **variables: str):
    return make_in_project(local_cluster, target, secrets, PROJECT, SANDBOX, extra, **variables)


def objects(admin) -> dict[tuple, tuple]:
    return project_objects(admin, (PROJECT, SANDBOX))


def empty_namespaces(admin, local_cluster) -> None:
    empty_project_namespaces(admin, local_cluster, (PROJECT, SANDBOX))


def upstream_objects(local_cluster) -> list[dict]:
    """A slice of what the upstream repository deploys into a project, as it names it."""
    def meta(name: str, component: str) -> dict:
        return {"name": name, "namespace": PROJECT, "labels": {"component": component}}

    def deployment(name: str, claim: str | None = None, mount: str = "/data") -> dict:
        pod = {"containers": [{"name": name, "image": local_cluster.mirror("quay.io/packit/packit-service:stg")}]}
        if claim:
            pod["containers"][0]["volumeMounts"] = [{"name": "data", "mountPath": mount}]
            pod["volumes"] = [{"name": "data", "persistentVolumeClaim": {"claimName": claim}}]
        return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta(name, name),
                "spec": {"replicas": 1, "selector": {"matchLabels": {"component": name}},
                         "strategy": {"type": "Recreate"},
                         "template": {"metadata": {"labels": {"component": name}}, "spec": pod}}}

    def claim(name: str, size: str) -> dict:
        return {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                "metadata": dict(meta(name, name), annotations=MARKER),
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}}}

    worker = {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": meta("packit-worker", "packit-worker"),
              "spec": {"replicas": 1, "serviceName": "packit-worker", "podManagementPolicy": "OrderedReady",
                       "selector": {"matchLabels": {"component": "packit-worker"}},
                       # The claims would go with the StatefulSet: the takeover must switch this off.
                       "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Delete", "whenScaled": "Retain"},
                       "template": {"metadata": {"labels": {"component": "packit-worker"}},
                                    "spec": {"containers": [{
                                        "name": "packit-worker", "image": "quay.io/packit/packit-worker:stg",
                                        "volumeMounts": [{"name": "packit-worker-repository-cache",
                                                          "mountPath": "/repository-cache"}]}]}},
                       "volumeClaimTemplates": [{"metadata": {"name": "packit-worker-repository-cache",
                                                              "annotations": MARKER},
                                                 "spec": {"accessModes": ["ReadWriteOnce"],
                                                          "resources": {"requests": {"storage": "4Gi"}}}}]}}
    return [
        claim("postgres-15", "2Gi"), deployment("postgres-15", "postgres-15", "/var/lib/pgsql/data"),
        {"apiVersion": "v1", "kind": "Service", "metadata": meta("postgres", "postgres-15"),
         "spec": {"selector": {"component": "postgres-15"}, "ports": [{"name": "postgres-port", "port": 5432}]}},
        {"apiVersion": "v1", "kind": "Secret", "metadata": meta("postgres-secret", "postgres"), "type": "Opaque",
         "stringData": {"database-user": "packit", "database-password": "old", "database-host": "postgres",
                        "database-name": "packit"}},
        claim("redis-pvc", "1Gi"), deployment("redis", "redis-pvc"),
        deployment("packit-service"), worker,
    ]


def ready(admin, obj: dict) -> bool:
    have = admin.resources.get(api_version=obj["apiVersion"], kind=obj["kind"]).get(
        name=obj["metadata"]["name"], namespace=obj["metadata"]["namespace"]).to_dict()
    return (have.get("status") or {}).get("readyReplicas") == have["spec"]["replicas"]


def get(admin, api_version: str, kind: str, name: str, namespace: str = PROJECT) -> dict:
    return admin.resources.get(api_version=api_version, kind=kind).get(name=name, namespace=namespace).to_dict()


CLAIMS = ("postgres-15", "redis-pvc", "packit-worker-repository-cache-packit-worker-0")


@pytest.fixture(scope="module")
def upstream(admin, local_cluster) -> dict[str, tuple[str, str]]:
    """The upstream-made deployment, running; returns claim -> (uid, volume)."""
    empty_namespaces(admin, local_cluster)
    made = upstream_objects(local_cluster)
    for obj in made:
        admin.resources.get(api_version=obj["apiVersion"], kind=obj["kind"]).create(
            body=obj, namespace=obj["metadata"]["namespace"])
    deadline = time.monotonic() + 120
    workloads = [o for o in made if o["kind"] in ("Deployment", "StatefulSet")]
    while not all(ready(admin, w) for w in workloads):
        assert time.monotonic() < deadline, "the upstream-made workloads did not become ready"
        time.sleep(1)
    claims = {name: get(admin, "v1", "PersistentVolumeClaim", name) for name in CLAIMS}
    assert all(c["status"]["phase"] == "Bound" for c in claims.values())
    return {name: (c["metadata"]["uid"], c["spec"]["volumeName"]) for name, c in claims.items()}


def test_deploy_over_an_upstream_deployment_stops_and_changes_nothing(admin, local_cluster, secrets, upstream):
    before = objects(admin)
    result = make(local_cluster, "deploy", secrets)
    assert result.returncode != 0
    line = next(l for l in result.stdout.splitlines() if "did not make" in l)
    for named in ("PersistentVolumeClaim/postgres-15", "Deployment/postgres-15 (mounts claim postgres-15)",
                  "PersistentVolumeClaim/redis-pvc", "Deployment/redis", "Service/postgres",
                  "Secret/postgres-secret", "Deployment/packit-service", "StatefulSet/packit-worker",
                  "make adopt SERVICE=packit DEPLOYMENT=dev"):
        assert named in line, line
    assert objects(admin) == before


def test_adopt_previews_and_changes_nothing(admin, local_cluster, secrets, upstream):
    before = objects(admin)
    result = make(local_cluster, "adopt", secrets)
    assert result.returncode == 0, result.stdout[-3000:]
    plan = set(re.findall(r"(keep|delete) (\S+/\S+) in (\S+):", result.stdout))
    assert {("keep", "PersistentVolumeClaim/postgres-15", PROJECT), ("keep", "PersistentVolumeClaim/redis-pvc", PROJECT),
            ("keep", "Secret/postgres-secret", PROJECT), ("delete", "Deployment/postgres-15", PROJECT),
            ("delete", "Deployment/redis", PROJECT), ("delete", "Service/postgres", PROJECT),
            ("delete", "Deployment/packit-service", PROJECT), ("delete", "StatefulSet/packit-worker", PROJECT)} == plan
    assert "Takeover (preview)" in result.stdout
    assert objects(admin) == before


def test_adopt_onto_another_postgres_major_version_is_refused_before_the_takeover(
        admin, local_cluster, secrets, upstream):
    """Upstream's data is on postgres-15. A takeover with postgres_version 16 would delete the
    upstream workload postgres-15 and start an empty PostgreSQL 16: refused before anything changes."""
    before = objects(admin)
    result = make(local_cluster, "adopt", secrets, extra="-e postgres_version=16", APPLY="1")
    assert result.returncode != 0
    assert (f"{PROJECT} keeps PostgreSQL data on claim postgres-15 and has no claim postgres-16"
            in result.stdout), result.stdout[-3000:]
    assert "Takeover (done)" not in result.stdout
    assert objects(admin) == before


def test_adopt_keeps_every_claim_and_the_new_workloads_mount_them(admin, local_cluster, secrets, upstream):
    result = make(local_cluster, "adopt", secrets, APPLY="1")
    assert result.returncode == 0, result.stdout[-3000:]
    assert "Takeover (done)" in result.stdout
    for name, (uid, volume) in upstream.items():
        claim = get(admin, "v1", "PersistentVolumeClaim", name)
        assert (claim["metadata"]["uid"], claim["spec"]["volumeName"]) == (uid, volume), name
        assert claim["metadata"]["annotations"]["example.com/data"] == MARKER["example.com/data"]
    postgres = get(admin, "apps/v1", "Deployment", "postgres")
    volumes = postgres["spec"]["template"]["spec"]["volumes"]
    assert {"name": "postgres-data", "persistentVolumeClaim": {"claimName": "postgres-15"}} in volumes
    assert postgres["status"]["readyReplicas"] == 1
    redis = get(admin, "apps/v1", "Deployment", "redis")
    assert "redis-pvc" in str(redis["spec"]["template"]["spec"]["volumes"])
    assert redis["spec"]["selector"]["matchLabels"].get("component") is None
    worker = get(admin, "apps/v1", "StatefulSet", "packit-worker")
    assert worker["status"]["readyReplicas"] == 1
    service = get(admin, "v1", "Service", "postgres")
    assert "component" not in service["spec"]["selector"]
    with pytest.raises(NotFoundError):
        get(admin, "apps/v1", "Deployment", "postgres-15")


def test_deploy_after_the_takeover_changes_nothing(admin, local_cluster, secrets, upstream):
    before = objects(admin)
    result = make(local_cluster, "deploy", secrets)
    assert result.returncode == 0, result.stdout[-3000:]
    assert re.search(r"localhost\s+:\s+ok=\d+\s+changed=0\s", result.stdout), result.stdout[-3000:]
    assert objects(admin) == before
    # The claims kept their upstream sizes; the run says so instead of resizing them.
    assert "claim postgres-15 in packit-adopt keeps 2Gi (the vars ask for 10Gi)" in result.stdout


def test_another_postgres_major_version_is_refused(admin, local_cluster, secrets, upstream):
    """The data is on postgres-15: postgres_version 16 would start an empty database on a new
    claim postgres-16. The deploy stops before anything changes."""
    before = objects(admin)
    result = make(local_cluster, "deploy", secrets, extra="-e postgres_version=16")
    assert result.returncode != 0
    assert (f"{PROJECT} keeps PostgreSQL data on claim postgres-15 and has no claim postgres-16: this deploy would "
            "start PostgreSQL 16 on an empty one. Deploy with postgres_version 15, then move the data with make "
            "db-upgrade") in result.stdout, result.stdout[-3000:]
    assert objects(admin) == before

"""Taking over a project that the upstream repository deployed (make adopt), on the local
control plane.

The upstream-made objects are created the way the upstream repository makes them (its
names, bare `component` selectors, no managed-by label); kwok runs their pods. The tests run
in file order on the namespaces packit-adopt and packit-adopt-sandbox, which they empty first.
"""

from __future__ import annotations

import contextlib
import re
import time
from pathlib import Path

import pytest
from kubernetes import dynamic
from kubernetes.dynamic.exceptions import NotFoundError

from deploytools import REPO, run_make, write_secret_files

pytestmark = pytest.mark.cluster
PROJECT, SANDBOX = "packit-adopt", "packit-adopt-sandbox"
MARKER = {"example.com/data": "written by the upstream deployment"}
# Kinds a deployment of either repository puts into the namespaces (emptied before the tests).
KINDS = (("apps/v1", "Deployment"), ("apps/v1", "StatefulSet"), ("batch/v1", "CronJob"), ("v1", "Service"),
         ("route.openshift.io/v1", "Route"), ("image.openshift.io/v1", "ImageStream"), ("v1", "Secret"),
         ("v1", "ConfigMap"), ("v1", "ServiceAccount"), ("rbac.authorization.k8s.io/v1", "RoleBinding"),
         ("rbac.authorization.k8s.io/v1", "Role"), ("v1", "PersistentVolumeClaim"), ("v1", "Pod"))
PRESET = {"ConfigMap": ("kube-root-ca.crt", "openshift-service-ca.crt"),
          "ServiceAccount": ("default", "builder", "deployer"), "RoleBinding": ("deployer-admin",)}


@pytest.fixture(scope="module")
def admin(local_cluster) -> dynamic.DynamicClient:
    return dynamic.DynamicClient(local_cluster.admin_client())


@pytest.fixture(scope="module")
def secrets(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("adopt-secrets")
    write_secret_files(path)
    return path


def make(local_cluster, target: str, secrets: Path, **variables: str):
    """make <target> LOCAL=1 for packit dev, aimed at the takeover namespaces."""
    return run_make(target, timeout=1200, LOCAL="1", DEPLOYMENT="dev", SERVICE="packit", SECRETS_DIR=str(secrets),
                    LOCAL_CLUSTER_CACHE=str(local_cluster.cache_dir),
                    EXTRA_ARGS=f"-e config_vars_file={REPO}/vars/packit/dev_template.yml "
                               f"-e project={PROJECT} -e sandbox_namespace={SANDBOX}", **variables)


def objects(admin) -> dict[tuple, tuple]:
    """(kind, namespace, name) -> what a change would alter: the uid of everything; the spec
    generation and labels of workloads (their controllers keep writing status); the
    resourceVersion of the rest. Pods by uid only."""
    found = {}
    for api_version, kind in KINDS:
        resource = admin.resources.get(api_version=api_version, kind=kind)
        for namespace in (PROJECT, SANDBOX):
            for item in resource.get(namespace=namespace).items:
                meta = item.metadata
                state = ((meta.generation, str(meta.labels)) if kind in ("Deployment", "StatefulSet", "CronJob")
                         else () if kind == "Pod" else (meta.resourceVersion,))
                found[(kind, namespace, meta.name)] = (meta.uid, *state)
    return found


def empty_namespaces(admin, local_cluster) -> None:
    """Delete what an earlier run left (claims too: this is the tests' own data), then let the
    released volumes be bound again."""
    def left() -> list[tuple]:
        found = []
        for api_version, kind in KINDS:
            resource = admin.resources.get(api_version=api_version, kind=kind)
            for namespace in (PROJECT, SANDBOX):
                found += [(resource, namespace, item) for item in resource.get(namespace=namespace).items
                          if item.metadata.name not in PRESET.get(kind, ())
                          and not (kind == "Secret" and item.type != "Opaque")]
        return found

    for resource, namespace, item in left():
        if not item.metadata.deletionTimestamp:
            with contextlib.suppress(NotFoundError):  # gone with its owner meanwhile
                resource.delete(name=item.metadata.name, namespace=namespace,
                                body={"propagationPolicy": "Foreground", "gracePeriodSeconds": 0})
    # Foreground deletion finishes in the garbage collector: wait until every object is gone.
    deadline = time.monotonic() + 120
    while remaining := left():
        assert time.monotonic() < deadline, [(r.kind, ns, i.metadata.name) for r, ns, i in remaining]
        time.sleep(1)
    local_cluster.recycle_volumes()


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
    result = run_make("deploy", timeout=600, LOCAL="1", DEPLOYMENT="dev", SERVICE="packit", SECRETS_DIR=str(secrets),
                      LOCAL_CLUSTER_CACHE=str(local_cluster.cache_dir),
                      EXTRA_ARGS=f"-e config_vars_file={REPO}/vars/packit/dev_template.yml "
                                 f"-e project={PROJECT} -e sandbox_namespace={SANDBOX} -e postgres_version=16")
    assert result.returncode != 0
    assert (f"Deployment postgres in {PROJECT} keeps its data on claim postgres-15; this deploy would start "
            "PostgreSQL 16 on a new, empty claim postgres-16: move the data first") in result.stdout, result.stdout[-3000:]
    assert objects(admin) == before

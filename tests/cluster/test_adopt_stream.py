"""Taking over upstream's Stream (make adopt SERVICE=stream) on the local control plane: its
broker in Redict on claim redict-pvc and its PostgreSQL 13 on claim postgres-13, then the move
to PostgreSQL 15 with make db-upgrade.

The upstream-made objects are created as upstream's templates make them (names, `component`
selectors, claims, the redis-like-config ConfigMap); kwok runs the pods, so what is proven is
the plan, the objects and the Jobs, not that Redict 7 or PostgreSQL 13 read the kept data
(tests/system/test_postgres_db.py runs the database script against Debian's PostgreSQL 15, the only
version Debian packages)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from kubernetes.dynamic.exceptions import NotFoundError

from tests.support.deploytools import (
    REPO, SWITCH_REPORT, claims_kept, empty_project_namespaces, project_objects, run_make, source_image, task_messages)

pytestmark = pytest.mark.cluster
PROJECT = "stream-adopt"
EMPTIED_AFTER = (PROJECT,)  # conftest
MARKER = {"example.com/data": "written by upstream's Stream"}
UPSTREAM = "-e kv_database=redict -e postgres_version=13"


@pytest.fixture(scope="module")
def secrets(secrets_dir) -> Path:
    return secrets_dir


def make(local_cluster, target: str, secrets: Path, extra: str = "", **variables: str):
    return run_make(target, timeout=1200, LOCAL="1", DEPLOYMENT="dev", SERVICE="stream", SECRETS_DIR=str(secrets),
                    LOCAL_CLUSTER_CACHE=str(local_cluster.cache_dir),
                    EXTRA_ARGS=f"-e config_vars_file={REPO}/vars/stream/dev_template.yml -e project={PROJECT} "
                               f"-e sandbox_namespace={PROJECT}-sandbox {extra}", **variables)


def get(admin, api_version: str, kind: str, name: str) -> dict:
    return admin.resources.get(api_version=api_version, kind=kind).get(name=name, namespace=PROJECT).to_dict()


def upstream_objects(local_cluster) -> list[dict]:
    def meta(name: str, component: str) -> dict:
        return {"name": name, "namespace": PROJECT, "labels": {"component": component}}

    def claim(name: str, size: str) -> dict:
        return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": dict(meta(name, name), annotations=MARKER),
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}}}

    def deployment(name: str, image: str, volumes: dict[str, str], args: list[str] | None = None) -> dict:
        container = {"name": name, "image": local_cluster.mirror(image),
                     "volumeMounts": [{"name": v, "mountPath": path} for v, path in volumes.items()]}
        if args:
            container["args"] = args
        sources = {"data": {"persistentVolumeClaim": {"claimName": "redict-pvc" if name == "redict" else "postgres-13"}},
                   "redis-like-config": {"configMap": {"name": "redis-like-config"}}}
        return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta(name, name),
                "spec": {"replicas": 1, "selector": {"matchLabels": {"component": name}}, "strategy": {"type": "Recreate"},
                         "template": {"metadata": {"labels": {"component": name}},
                                      "spec": {"containers": [container],
                                               "volumes": [dict(sources[v], name=v) for v in volumes]}}}}

    def service(name: str, selects: str, port: int) -> dict:
        return {"apiVersion": "v1", "kind": "Service", "metadata": meta(name, selects),
                "spec": {"selector": {"component": selects}, "ports": [{"name": str(port), "port": port, "targetPort": port}]}}

    return [
        claim("postgres-13", "2Gi"),
        deployment("postgres-13", "quay.io/sclorg/postgresql-13-c9s:c9s", {"data": "/var/lib/pgsql/data"}),
        service("postgres", "postgres-13", 5432),
        {"apiVersion": "v1", "kind": "Secret", "metadata": meta("postgres-secret", "postgres"), "type": "Opaque",
         "stringData": {"database-user": "hardly", "database-password": "old", "database-name": "hardly"}},
        claim("redict-pvc", "1Gi"),
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta("redis-like-config", "redict"),
         "data": {"redis.conf": "timeout 600\nmaxmemory-policy volatile-lru\n"}},
        deployment("redict", "registry.redict.io/redict:7", {"data": "/data", "redis-like-config": "/etc/redislike"},
                   ["/etc/redislike/redis.conf"]),
        service("redict", "redict", 6379),
    ]


@pytest.fixture(scope="module")
def upstream(admin, local_cluster) -> dict[str, tuple[str, str]]:
    """Upstream's Stream data tier, running; claim -> (uid, volume)."""
    empty_project_namespaces(admin, local_cluster, (PROJECT,))
    made = upstream_objects(local_cluster)
    for obj in made:
        admin.resources.get(api_version=obj["apiVersion"], kind=obj["kind"]).create(body=obj, namespace=PROJECT)
    deadline = time.monotonic() + 120
    while not all((get(admin, "apps/v1", "Deployment", n).get("status") or {}).get("readyReplicas") == 1
                  for n in ("postgres-13", "redict")):
        assert time.monotonic() < deadline, "the upstream-made workloads did not become ready"
        time.sleep(1)
    claims = {name: get(admin, "v1", "PersistentVolumeClaim", name) for name in ("postgres-13", "redict-pvc")}
    assert all(c["status"]["phase"] == "Bound" for c in claims.values())
    return {name: (c["metadata"]["uid"], c["spec"]["volumeName"]) for name, c in claims.items()}


def plan_of(stdout: str) -> dict[str, tuple[str, str]]:
    lines = [re.fullmatch(r"(\w+) (\S+/\S+) in (\S+): (.*)", line) for line in task_messages(stdout, "Takeover | Show the plan")]
    return {m[2]: (m[1], m[4]) for m in lines if m and m[3] == PROJECT}


def test_the_preview_keeps_redict_and_postgres_13_claims(admin, local_cluster, secrets, upstream):
    before = project_objects(admin, (PROJECT,))
    result = make(local_cluster, "adopt", secrets, UPSTREAM)
    assert result.returncode == 0, result.stdout[-3000:]
    plan = plan_of(result.stdout)
    assert {name: plan[name][0] for name in (
        "PersistentVolumeClaim/postgres-13", "PersistentVolumeClaim/redict-pvc", "ConfigMap/redis-like-config",
        "Secret/postgres-secret", "Deployment/redict", "Service/redict", "Service/postgres", "Deployment/postgres-13",
        "Deployment/postgres")} == {
        "PersistentVolumeClaim/postgres-13": "keep", "PersistentVolumeClaim/redict-pvc": "keep",
        "ConfigMap/redis-like-config": "keep", "Secret/postgres-secret": "keep", "Deployment/redict": "replace",
        "Service/redict": "adopt", "Service/postgres": "adopt", "Deployment/postgres-13": "delete",
        "Deployment/postgres": "create"}
    assert plan["Deployment/postgres"][1] == "after Deployment/postgres-13 stopped (claim postgres-13)"
    assert project_objects(admin, (PROJECT,)) == before


def test_the_takeover_runs_redict_and_postgres_13_on_their_claims(admin, local_cluster, secrets, upstream):
    result = make(local_cluster, "adopt", secrets, UPSTREAM, APPLY="1")
    assert result.returncode == 0, result.stdout[-3000:]
    print("\n".join(task_messages(result.stdout, SWITCH_REPORT)))
    claims_kept(admin, PROJECT, upstream, MARKER)
    redict = get(admin, "apps/v1", "Deployment", "redict")
    pod = redict["spec"]["template"]["spec"]
    assert pod["containers"][0]["args"] == ["/etc/redislike/redis.conf"]
    assert {"name": "data", "mountPath": "/data"} in pod["containers"][0]["volumeMounts"]
    assert {"name": "data", "persistentVolumeClaim": {"claimName": "redict-pvc"}} in pod["volumes"]
    assert "registry.redict.io/redict" in source_image(admin, PROJECT, pod["containers"][0]["image"])
    postgres = get(admin, "apps/v1", "Deployment", "postgres")
    assert {"name": "postgres-data", "persistentVolumeClaim": {"claimName": "postgres-13"}} in \
        postgres["spec"]["template"]["spec"]["volumes"]
    assert "postgresql-13-c9s" in source_image(admin, PROJECT, postgres["spec"]["template"]["spec"]["containers"][0]["image"])
    # The apps find the broker under its Service name.
    service = get(admin, "apps/v1", "Deployment", "packit-service")
    env = {e["name"]: e.get("value") for e in service["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["REDIS_SERVICE_HOST"] == "redict"
    for name in ("redict", "postgres"):
        assert "component" not in get(admin, "v1", "Service", name)["spec"]["selector"], name
    with pytest.raises(NotFoundError):
        get(admin, "apps/v1", "Deployment", "postgres-13")


def test_db_upgrade_moves_stream_from_postgres_13_to_15(admin, local_cluster, secrets, upstream):
    """The db-upgrade path from upstream's 13: the preview (in a project without a dump claim
    yet: the dump step would make it), then the Jobs (dump with 15's pg_dump, restore into 15
    on a new claim), the old claim kept."""
    before = project_objects(admin, (PROJECT,))
    preview = make(local_cluster, "db-upgrade", secrets, "-e kv_database=redict -e postgres_version=15 --check")
    assert preview.returncode == 0, preview.stdout[-3000:]
    assert (f"would move the database of {PROJECT} from claim postgres-13 to PostgreSQL 15 on claim postgres-15"
            in " ".join(preview.stdout.split()))
    assert project_objects(admin, (PROJECT,)) == before
    result = make(local_cluster, "db-upgrade", secrets, "-e kv_database=redict -e postgres_version=15")
    assert result.returncode == 0, result.stdout[-3000:]
    jobs = sorted(admin.resources.get(api_version="batch/v1", kind="Job").get(namespace=PROJECT).to_dict()["items"],
                  key=lambda j: j["metadata"]["name"])
    assert [j["metadata"]["name"].split("-")[1] for j in jobs] == ["dump", "restore"]
    file = jobs[0]["metadata"]["annotations"]["packit.dev/dump-file"]
    assert re.fullmatch(r"postgres-13-to-15-\d{8}-\d{6}\.dump", file), file
    assert "postgresql-15-c9s" in jobs[0]["spec"]["template"]["spec"]["containers"][0]["image"]
    postgres = get(admin, "apps/v1", "Deployment", "postgres")["spec"]["template"]["spec"]
    assert {"name": "postgres-data", "persistentVolumeClaim": {"claimName": "postgres-15"}} in postgres["volumes"]
    assert "postgresql-15-c9s" in source_image(admin, PROJECT, postgres["containers"][0]["image"])
    kept = get(admin, "v1", "PersistentVolumeClaim", "postgres-13")
    assert (kept["metadata"]["uid"], kept["spec"]["volumeName"]) == upstream["postgres-13"]

"""The postgres module's pure parts: which workloads write to the database, and the Job of a dump or restore."""

from __future__ import annotations

import pytest

from tests.support.moduletools import load

postgres = load("modules", "postgres")


def template(env=(), env_from=(), volumes=()) -> dict:
    return {"spec": {"containers": [{"name": "c", "env": list(env), "envFrom": list(env_from)}],
                     "volumes": list(volumes)}}


@pytest.mark.parametrize(("pod", "reads"), [
    (template(env=[{"name": "P", "valueFrom": {"secretKeyRef": {"name": "postgres-secret", "key": "k"}}}]), True),
    (template(env_from=[{"secretRef": {"name": "postgres-secret"}}]), True),
    (template(volumes=[{"name": "v", "secret": {"secretName": "postgres-secret"}}]), True),
    (template(env=[{"name": "P", "valueFrom": {"secretKeyRef": {"name": "sentry", "key": "k"}}}],
              volumes=[{"name": "v", "persistentVolumeClaim": {"claimName": "postgres-secret"}}]), False),
    ({"spec": {"containers": [{"name": "c"}]}}, False),
])
def test_the_writers_are_the_workloads_that_read_the_database_secret(pod, reads):
    assert postgres.reads_secret(pod, "postgres-secret") is reads


def test_the_job_runs_the_script_with_the_secret_and_the_dump_claim():
    params = {"namespace": "ns", "step": "restore", "file": "a.dump", "image": "img", "script": "echo",
              "workload": "postgres", "secret": "postgres-secret", "claim": "dumps", "labels": {"x": "y"},
              "timeout": 60}
    job = postgres.job_body(params, "db-restore-1")
    pod = job["spec"]["template"]["spec"]
    assert (job["spec"]["backoffLimit"], job["spec"]["activeDeadlineSeconds"], pod["restartPolicy"]) == (0, 60, "Never")
    assert pod["containers"][0]["command"] == ["bash", "-c", "echo", "postgres-db.sh", "restore", "a.dump"]
    env = {e["name"]: e.get("value", e.get("valueFrom")) for e in pod["containers"][0]["env"]}
    assert env["PGHOST"] == "postgres" and env["PGPASSWORD"] == {
        "secretKeyRef": {"name": "postgres-secret", "key": "database-password"}}
    assert pod["volumes"] == [{"name": "dump", "persistentVolumeClaim": {"claimName": "dumps"}}]
    assert job["metadata"]["labels"] == {"x": "y", "app.kubernetes.io/name": "db-restore"}

"""Unit tests of the modules' pure functions (no cluster, no Ansible run)."""

from __future__ import annotations

from pathlib import Path

import pytest

from moduletools import load

db = load("day2", "library", "day2_db")
day2_k8s = load("day2", "module_utils", "day2_k8s")
vars_file = load("config", "library", "config_vars_file")
ROLES = Path(__file__).resolve().parent.parent / "roles"


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
    assert db.reads_secret(pod, "postgres-secret") is reads


def test_the_job_runs_the_script_with_the_secret_and_the_dump_claim():
    params = {"namespace": "ns", "step": "restore", "file": "a.dump", "image": "img", "script": "echo",
              "workload": "postgres", "secret": "postgres-secret", "claim": "dumps", "labels": {"x": "y"},
              "timeout": 60}
    job = db.job_body(params, "db-restore-1")
    pod = job["spec"]["template"]["spec"]
    assert (job["spec"]["backoffLimit"], job["spec"]["activeDeadlineSeconds"], pod["restartPolicy"]) == (0, 60, "Never")
    assert pod["containers"][0]["command"] == ["bash", "-c", "echo", "postgres-db.sh", "restore", "a.dump"]
    env = {e["name"]: e.get("value", e.get("valueFrom")) for e in pod["containers"][0]["env"]}
    assert env["PGHOST"] == "postgres" and env["PGPASSWORD"] == {
        "secretKeyRef": {"name": "postgres-secret", "key": "database-password"}}
    assert pod["volumes"] == [{"name": "dump", "persistentVolumeClaim": {"claimName": "dumps"}}]
    assert job["metadata"]["labels"] == {"x": "y", "app.kubernetes.io/name": "db-restore"}


def test_an_import_failure_is_one_line_naming_stream_and_source():
    answer = {"status": {"images": [{"status": {"status": "Failure", "message": "manifest unknown"}}]}}
    with pytest.raises(day2_k8s.Day2Error, match="^ImageStream postgres: import of q/p:16 failed: manifest unknown$"):
        day2_k8s.imported_reference(answer, "postgres", "q/p:16")
    ok = {"status": {"images": [{"status": {"status": "Success"}, "image": {"dockerImageReference": "r@sha256:1"}}]}}
    assert day2_k8s.imported_reference(ok, "postgres", "q/p:16") == "r@sha256:1"


@pytest.mark.parametrize(("text", "error"), [
    ("a: 1\nb: [1\n", "v.yml line 3, column 1: not valid YAML: expected ',' or ']', but got '<stream end>' "
                      "(while parsing a flow sequence that starts at line 2, column 4); nothing was changed"),
    ("- a\n- b\n", "v.yml: must be a mapping of variable names to values, not a list; nothing was changed"),
    ("with_flowr: true\n", "v.yml: unknown variable with_flowr (did you mean with_flower?): no role reads it, so it "
                           "would be ignored; fix or remove it (the README lists every variable); nothing was changed"),
    ("api_key: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  6162\nwith_flower: true\n", ""),
    ("", ""),
])
def test_the_vars_file_check(tmp_path, text, error):
    path = tmp_path / "v.yml"
    path.write_text(text)
    assert vars_file.check(path, "v.yml", ROLES)[1] == error


def test_ansible_doc_shows_every_module():
    """Every module's DOCUMENTATION parses (three did not), and the connection options come
    from one doc fragment (doc_fragments/packit_k8s.py) for the modules that take them."""
    import json
    import subprocess
    import sys

    from deploytools import REPO, env

    modules = {p.stem: p.parent for p in sorted(REPO.glob("roles/*/library/*.py"))}
    paths = ":".join(sorted({str(d) for d in modules.values()}))
    result = subprocess.run([str(Path(sys.executable).with_name("ansible-doc")), "-M", paths, "--json", *modules],
                            cwd=REPO, env=env(), capture_output=True, text=True)
    assert result.returncode == 0 and "ERROR" not in result.stderr, result.stderr
    docs = json.loads(result.stdout)
    assert sorted(docs) == sorted(modules)
    for name, doc in docs.items():
        source = (modules[name] / f"{name}.py").read_text()
        if "CONNECTION_ARGS" in source:
            assert {"host", "api_key", "ca_cert", "validate_certs", "kubeconfig", "context"} <= set(
                doc["doc"]["options"]), name
            assert "host: {description" not in source, f"{name}: the connection options belong to the fragment"

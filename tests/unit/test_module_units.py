"""Unit tests of the modules' pure functions (no cluster, no Ansible run)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.moduletools import load

db = load("modules", "postgres")
images = load("module_utils", "images")
k8s = load("module_utils", "k8s")
workloads = load("module_utils", "workloads")
vars_file = load("modules", "vars_file")
apply = load("modules", "apply")
ROLES = Path(__file__).resolve().parents[2] / "roles"


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
    with pytest.raises(k8s.K8sError, match="^ImageStream postgres: import of q/p:16 failed: manifest unknown$"):
        images.imported_reference(answer, "postgres", "q/p:16")
    ok = {"status": {"images": [{"status": {"status": "Success"}, "image": {"dockerImageReference": "r@sha256:1"}}]}}
    assert images.imported_reference(ok, "postgres", "q/p:16") == "r@sha256:1"


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


def _documentation(path: Path) -> str:
    """The DOCUMENTATION string of a module file, read without importing it."""
    import ast

    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "DOCUMENTATION":
            return node.value.value
    raise AssertionError(f"{path.name}: no DOCUMENTATION")


def test_ansible_doc_shows_every_module():
    """`ansible-doc` shows every module of the collection with its examples and return values;
    the modules that talk to the cluster (those built on module_utils/k8s.py's run()) are the
    action group packit.deployment.k8s, and take kubernetes.core's connection options through
    its k8s_auth_options fragment, never their own copy."""
    import json
    import subprocess
    import sys

    import yaml

    from tests.support.deploytools import REPO, env

    collection = REPO / "collections/ansible_collections/packit/deployment"
    modules = {p.stem: p for p in sorted((collection / "plugins/modules").glob("*.py"))}
    names = [f"packit.deployment.{m}" for m in modules]
    result = subprocess.run([str(Path(sys.executable).with_name("ansible-doc")), "--json", *names],
                            cwd=REPO, env=env(), capture_output=True, text=True)
    assert result.returncode == 0 and "ERROR" not in result.stderr and "WARNING" not in result.stderr, result.stderr
    docs = json.loads(result.stdout)
    assert sorted(docs) == sorted(names)
    group = [m for m in yaml.safe_load((collection / "meta/runtime.yml").read_text())["action_groups"]["k8s"]
             if isinstance(m, str)]
    cluster_modules = sorted(m for m, path in modules.items() if "module_utils.k8s import" in path.read_text()
                             and " run" in path.read_text())
    assert sorted(group) == cluster_modules
    for name, doc in docs.items():
        short = name.rsplit(".", 1)[1]
        assert doc["examples"].strip(), f"{name}: no EXAMPLES"
        assert doc["return"], f"{name}: no RETURN"
        assert all(v.get("description") and v.get("returned") for v in doc["return"].values()), name
        assert doc["doc"]["module"] == short, name
        if short in group:
            fragments = yaml.safe_load(_documentation(modules[short]))["extends_documentation_fragment"]
            assert "kubernetes.core.k8s_auth_options" in fragments, name
            assert {"host", "api_key", "ca_cert", "validate_certs", "kubeconfig", "context"} <= set(
                doc["doc"]["options"]), name
            assert "host: {description" not in modules[short].read_text(), name

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


@pytest.mark.parametrize(("exc", "line"), [
    (type("E", (Exception,), {"body": b'{"message": "pods \\"x\\" is forbidden:\\n  no"}'})(), 'pods "x" is forbidden: no'),
    (type("E", (Exception,), {"reason": "Max retries exceeded ([Errno 111] Connection refused)"})(),
     "Connection refused"),
    (ValueError("x" * 400), "x" * 297 + "..."),
    (ValueError(""), "ValueError"),
])
def test_errors_become_one_line(exc, line):
    assert k8s.api_message(exc) == line
    assert k8s.one_line(exc) == f"cluster API call failed: {line}"
    assert k8s.one_line(k8s.K8sError("ours")) == "ours"


def test_the_apply_sends_namespaces_first_and_workloads_last_keeping_the_order_within_a_phase():
    objects = [{"kind": k, "metadata": {"name": f"{k.lower()}-{i}"}} for i, k in enumerate(
        ["Deployment", "ConfigMap", "Namespace", "RoleBinding", "Secret", "StatefulSet", "Service", "Role",
         "CronJob", "ServiceAccount"])]
    phases = [[o["kind"] for o in group] for group in apply.phases(objects)]
    assert phases == [["Namespace"], ["ConfigMap", "Secret", "Service", "Role", "ServiceAccount"], ["RoleBinding"],
                      ["Deployment", "StatefulSet", "CronJob"]]
    assert apply.phases([]) == []


def test_a_failed_secret_apply_names_the_secret_but_not_its_values():
    secret = {"kind": "Secret", "metadata": {"name": "postgres-secret"},
              "data": {"database-password": "c2VjcmV0LXZhbHVl"}, "stringData": {"token": "tok-123"}}
    message = 'Secret "postgres-secret" is invalid: c2VjcmV0LXZhbHVl secret-value tok-123'
    assert apply.censored(message, secret) == 'Secret "postgres-secret" is invalid: ******** ******** ********'
    service = {"kind": "Service", "metadata": {"name": "redis"}}
    assert apply.censored("port 6379 is taken", service) == "port 6379 is taken"


def test_the_apply_compares_only_the_kinds_the_cluster_rewrites():
    objects = [{"apiVersion": "apps/v1", "kind": "Deployment"}, {"apiVersion": "v1", "kind": "Service"},
               {"apiVersion": "image.openshift.io/v1", "kind": "ImageStream"},
               {"apiVersion": "apps/v1", "kind": "Deployment"}]
    assert apply.live_kinds(objects) == [("apps/v1", "Deployment"), ("image.openshift.io/v1", "ImageStream")]


# --- private_files (module_utils/files.py keep_private) ----------------------------------

files = load("module_utils", "files")


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o7777


def test_keep_private_creates_only_missing_files_and_restricts_every_listed_one(tmp_path):
    target = tmp_path / "secrets"
    target.mkdir(mode=0o755)
    (target / "mine.yml").write_text("keep me\n")
    (target / "mine.yml").chmod(0o644)
    (target / "key.pem").write_text("old key\n")
    (target / "key.pem").chmod(0o600)
    created, restricted = files.keep_private(str(target), {"mine.yml": "generated\n", "new.yml": "new\n"},
                                             ["mine.yml", "key.pem", "new.yml"], 0o600, 0o700, False)
    assert created == ["new.yml"]
    assert restricted == [".", "mine.yml"]
    assert (target / "mine.yml").read_text() == "keep me\n"
    assert (target / "new.yml").read_text() == "new\n"
    assert {p.name: _mode(p) for p in target.iterdir()} == {"mine.yml": 0o600, "key.pem": 0o600, "new.yml": 0o600}
    assert _mode(target) == 0o700
    # a second call has nothing to do
    assert files.keep_private(str(target), {"new.yml": "other\n"}, ["mine.yml", "key.pem", "new.yml"],
                              0o600, 0o700, False) == ([], [])
    assert (target / "new.yml").read_text() == "new\n"


def test_keep_private_refuses_a_missing_listed_file_and_writes_nothing(tmp_path):
    target = tmp_path / "secrets"
    with pytest.raises(ValueError, match=r"secrets/fullchain.pem does not exist \(nor privkey.pem\)"):
        files.keep_private(str(target), {"postgres.yml": "x\n"}, ["fullchain.pem", "privkey.pem", "postgres.yml"],
                           0o600, 0o700, False)
    assert not target.exists()
    with pytest.raises(ValueError, match="bad file name '../escape'"):
        files.keep_private(str(tmp_path), {"../escape": "x"}, [], 0o600, 0o700, False)
    assert not (tmp_path.parent / "escape").exists()


def test_keep_private_in_check_mode_reports_and_writes_nothing(tmp_path):
    target = tmp_path / "secrets"
    assert files.keep_private(str(target), {"a.yml": "a\n"}, ["a.yml"], 0o600, 0o700, True) == (["a.yml"], ["."])
    assert not target.exists()
    target.mkdir(mode=0o700)
    (target / "b.yml").write_text("b\n")
    (target / "b.yml").chmod(0o640)
    assert files.keep_private(str(target), {}, ["b.yml"], 0o600, 0o700, True) == ([], ["b.yml"])
    assert _mode(target / "b.yml") == 0o640


# --- the preflight's refusals (module_utils/preflight.py) --------------------------------

preflight = load("module_utils", "preflight")
POSTGRES = {"api_version": "apps/v1", "kind": "Deployment", "name": "postgres", "claim": "postgres-16", "version": "16"}


def test_refusals_speak_in_the_order_of_the_checks():
    found = {"claims": ["postgres-15", "repository-cache"], "postgres_claims": ["postgres-15"],
             "foreign_refusal": "p holds objects this repository did not make"}
    reasons = preflight.refusals(found, "p", {"postgres": POSTGRES})
    assert reasons == [
        "p keeps PostgreSQL data on claim postgres-15 and has no claim postgres-16: this deploy would start "
        "PostgreSQL 16 on an empty one. Deploy with postgres_version 15, then move the data with make db-upgrade "
        "(README, Database); nothing was changed",
        "p holds objects this repository did not make",
        "Deployment postgres in p keeps its data on claim postgres-15; this deploy would start PostgreSQL 16 on "
        "claim postgres-16 instead: move the data with make db-upgrade (README, Database) or set postgres_version "
        "to the running version; nothing was changed",
    ]
    # make adopt: the takeover deals with the foreign objects
    assert len(preflight.refusals(found, "p", {"postgres": POSTGRES, "adopting": True})) == 2


@pytest.mark.parametrize(("found", "postgres"), [
    ({"claims": ["postgres-16", "postgres-15"], "postgres_claims": ["postgres-16"]}, POSTGRES),  # data is here
    ({"claims": ["postgres-data"], "postgres_claims": []}, POSTGRES),  # no claim named after a version
    ({"claims": [], "postgres_claims": []}, POSTGRES),  # a new project
    ({"claims": ["postgres-15"], "postgres_claims": ["postgres-15"]}, None),  # postgres not in this run
])
def test_no_refusal_where_the_data_is_where_the_deploy_looks(found, postgres):
    assert preflight.refusals(dict(found, foreign_refusal=""), "p", {"postgres": postgres}) == []


# --- delete (make cleanup) ------------------------------------------------------------------

delete = load("modules", "delete")


def test_delete_goes_the_other_way_of_the_apply_and_keeps_the_data():
    def obj(kind, name, api="v1"):
        return {"apiVersion": api, "kind": kind, "metadata": {"name": name, "namespace": "p"}}

    objects = [obj("Namespace", "p"), obj("Secret", "s"), obj("PersistentVolumeClaim", "data"),
               obj("RoleBinding", "b", "rbac.authorization.k8s.io/v1"), obj("Service", "svc"),
               obj("Deployment", "web", "apps/v1"), obj("StatefulSet", "worker", "apps/v1")]
    groups = delete.deletion_order(objects, ["PersistentVolumeClaim", "Namespace"])
    assert [[delete.label(r) for r in g] for g in groups] == [
        ["Deployment/web", "StatefulSet/worker"], ["RoleBinding/b"], ["Secret/s", "Service/svc"]]


manifests = load("module_utils", "manifests")


def _secret(name: str, *keys: str, namespace: str = "p") -> dict:
    return {"kind": "Secret", "metadata": {"name": name, "namespace": namespace}, "data": {k: "eA==" for k in keys}}


def _reader(kind: str, refs: list[tuple[str, str, bool]], namespace: str = "p") -> dict:
    pod = {"containers": [{"name": "app", "env": [
        {"name": f"V{i}", "valueFrom": {"secretKeyRef": {"name": s, "key": k, **({"optional": True} if o else {})}}}
        for i, (s, k, o) in enumerate(refs)]}]}
    spec = {"jobTemplate": {"spec": {"template": {"spec": pod}}}} if kind == "CronJob" else \
        pod if kind == "Pod" else {"template": {"spec": pod}}
    return {"kind": kind, "metadata": {"name": "w", "namespace": namespace}, "spec": spec}


@pytest.mark.parametrize("kind", ["Deployment", "StatefulSet", "DeploymentConfig", "CronJob", "Pod"])
def test_missing_secret_keys_names_each_key_a_container_reads_and_the_secret_lacks(kind):
    objects = [_secret("splunk", "hec-host"), _reader(kind, [("splunk", "hec-host", False), ("splunk", "hec-token", False)])]
    assert manifests.missing_secret_keys(objects) == [
        {"secret": "splunk", "key": "hec-token", "variable": "V1", "reader": f"{kind} w container app"}]


def test_missing_secret_keys_leaves_optional_refs_and_secrets_not_rendered_alone():
    objects = [_secret("splunk", "hec-host"),
               _reader("Deployment", [("splunk", "hec-token", True), ("elsewhere", "x", False)]),
               _reader("Deployment", [("splunk", "hec-token", False)], namespace="other")]
    assert manifests.missing_secret_keys(objects) == []


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


def _run_module(action, capsys) -> dict:
    """k8s.run() with an action, as a module run: its JSON answer."""
    import json as _json

    from ansible.module_utils.testing import patch_module_args

    with patch_module_args({}), pytest.raises(SystemExit):
        k8s.run({}, action, connected=False)
    return _json.loads(capsys.readouterr().out)


def test_a_bug_in_a_module_fails_with_one_line_and_keeps_its_traceback(capsys, monkeypatch):
    from ansible.module_utils._internal import _traceback

    def action(module, _client):
        return {"value": {}["missing"]}

    answer = _run_module(action, capsys)
    assert answer["failed"] is True
    assert answer["msg"].startswith("internal error KeyError: 'missing' at test_module_units.py:")
    assert answer["msg"].endswith("a bug of packit.deployment; ANSIBLE_DISPLAY_TRACEBACK=error shows its traceback")
    assert "exception" not in answer  # tracebacks off: ansible-core's default
    # With tracebacks on (ANSIBLE_DISPLAY_TRACEBACK=error hands the module _ansible_tracebacks_for).
    monkeypatch.setattr(_traceback, "_is_traceback_enabled", lambda event: True)
    answer = _run_module(action, capsys)
    assert "Traceback (most recent call last)" in answer["exception"] and "KeyError" in answer["exception"]


def test_a_cluster_error_fails_with_its_one_line_and_no_traceback(capsys):
    from kubernetes.client.exceptions import ApiException

    def action(module, _client):
        raise ApiException(status=403, reason="Forbidden")

    answer = _run_module(action, capsys)
    assert answer["msg"] == "cluster API call failed: Forbidden"
    assert "exception" not in answer


rollback = load("modules", "workload_rollback")


def test_a_revision_from_before_a_sidecar_pins_only_the_containers_it_ran():
    triggers = [{"stream": "packit-service", "tag": "prod", "container": "packit-service"},
                {"stream": "fluentd", "tag": "prod", "container": "fluentd-sidecar"}]
    before_sidecar = {"revision": 3, "images": {"packit-service": "registry/p/packit-service@sha256:aa"}}
    with_sidecar = {"revision": 4, "images": {"packit-service": "registry/p/packit-service@sha256:bb",
                                              "fluentd-sidecar": "registry/p/fluentd@sha256:cc"}}
    unresolved = {"revision": 1, "images": {"packit-service": "packit-service:prod"}}
    assert [t["container"] for t in rollback.pinnable(before_sidecar, triggers)] == ["packit-service"]
    assert [t["container"] for t in rollback.pinnable(with_sidecar, triggers)] == ["packit-service", "fluentd-sidecar"]
    assert rollback.pinnable(unresolved, triggers) == []

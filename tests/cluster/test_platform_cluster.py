"""Red Hat's managed platform (MP+) on the local control plane: a deploy with platform mpp into
a tenant's project (packit--mpp), the sandbox asked for as a TenantNamespace in
packit--config, claims of the aws-ebs class (a pool of that class: local-cluster/localcluster/bootstrap.py).

The platform's tenant operator, which makes the namespace of a TenantNamespace and makes the
tenant admin in it, does not exist outside MP+: a thread of this test stands in for it (it
creates the namespace <tenant>--<name> and binds the deployer to admin there, as the
operator binds the tenant's admins). Everything else is the real API server and the real
playbooks. The sandbox's name is new in every run, since a namespace cannot be deleted on
the local cluster (its namespace controller gets no answer to deletecollection from
openshift-apiserver).
"""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path

import pytest
import yaml
from kubernetes.dynamic.exceptions import ConflictError, NotFoundError

from tests.support.deploytools import REPO, SECRET_FILES, make_in_project, project_objects

pytestmark = pytest.mark.cluster
TENANT = "packit"
PROJECT, CONFIG = f"{TENANT}--mpp", f"{TENANT}--config"
NAME = f"mpp-{uuid.uuid4().hex[:6]}-sandbox"   # the TenantNamespace's name
SANDBOX = f"{TENANT}--{NAME}"                  # the namespace the platform makes for it
EMPTIED_AFTER = (PROJECT,)  # conftest
MPP_LABELS = {"app-code": "PCKT-002", "service-phase": "lab", "cost-center": "700", "paas.redhat.com/appcode": "PCKT-002"}


class TenantOperator(threading.Thread):
    """Stands in for MP+'s tenant operator: for each TenantNamespace in the tenant's config
    namespace, the namespace <tenant>--<name>, with the deployer as its admin."""

    def __init__(self, admin) -> None:
        super().__init__(daemon=True)
        self.admin, self.stop, self.made = admin, threading.Event(), {}

    def run(self) -> None:
        tenants = self.admin.resources.get(api_version="tenant.paas.redhat.com/v1alpha1", kind="TenantNamespace")
        namespaces = self.admin.resources.get(api_version="v1", kind="Namespace")
        bindings = self.admin.resources.get(api_version="rbac.authorization.k8s.io/v1", kind="RoleBinding")
        while not self.stop.wait(0.5):
            for item in tenants.get(namespace=CONFIG).items:
                name = f"{TENANT}--{item.metadata.name}"
                if name in self.made:
                    continue
                try:
                    namespaces.get(name=name)
                except NotFoundError:
                    namespaces.create(body={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
                try:
                    bindings.create(namespace=name, body={
                        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                        "metadata": {"name": "tenant-admin", "namespace": name},
                        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "admin"},
                        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "deployer"}]})
                except ConflictError:
                    pass  # made for an earlier run's TenantNamespace of that name
                self.made[name] = time.monotonic()


@pytest.fixture(scope="module")
def operator(admin, local_cluster):
    thread = TenantOperator(admin)
    thread.start()
    yield thread
    thread.stop.set()
    thread.join()
    tenants = admin.resources.get(api_version="tenant.paas.redhat.com/v1alpha1", kind="TenantNamespace")
    for item in tenants.get(namespace=CONFIG).items:
        tenants.delete(name=item.metadata.name, namespace=CONFIG)
    # The sandbox stays (a namespace cannot be deleted here); its claims go, and their volumes
    # back into the aws-ebs pool, which later runs of this module need.
    claims = admin.resources.get(api_version="v1", kind="PersistentVolumeClaim")
    for name in thread.made:
        for claim in claims.get(namespace=name).items:
            claims.delete(name=claim.metadata.name, namespace=name)
    deadline = time.monotonic() + 60
    while any(claims.get(namespace=name).items for name in thread.made) and time.monotonic() < deadline:
        time.sleep(0.5)
    local_cluster.recycle_volumes()


def make(local_cluster, target: str, secrets: Path, extra: str = "", **variables: str):
    return make_in_project(local_cluster, target, secrets, PROJECT, SANDBOX,
                           f"-e platform=mpp -e tenant={TENANT} {extra}", **variables)


def _items(admin, api_version: str, kind: str, namespace: str) -> list:
    return admin.resources.get(api_version=api_version, kind=kind).get(namespace=namespace).items


def test_deploy_on_mpp_asks_for_the_sandbox_and_marks_everything(local_cluster, admin, secrets_dir, operator):
    started = time.monotonic()
    result = make(local_cluster, "deploy", secrets_dir)
    assert result.returncode == 0, result.stdout[-4000:]
    # The sandbox did not exist before the run: the deploy asked for it and waited for it.
    assert operator.made.get(SANDBOX, 0) > started
    [tenant_ns] = [t for t in _items(admin, "tenant.paas.redhat.com/v1alpha1", "TenantNamespace", CONFIG)
                   if t.metadata.name == NAME]
    assert tenant_ns.spec.type == "runtime" and tenant_ns.spec.network["security-zone"] == "internal"
    assert {k: tenant_ns.metadata.labels[k] for k in MPP_LABELS} == MPP_LABELS
    bindings = [b for b in _items(admin, "rbac.authorization.k8s.io/v1", "RoleBinding", SANDBOX)
                if b.metadata.name == "packit-worker-sandbox-edit"]
    assert len(bindings) == 1 and bindings[0].subjects[0].namespace == PROJECT

    live = [o for kind in (("apps/v1", "Deployment"), ("apps/v1", "StatefulSet"), ("v1", "Service"),
                           ("route.openshift.io/v1", "Route"), ("image.openshift.io/v1", "ImageStream"),
                           ("v1", "ConfigMap"), ("v1", "Secret"), ("v1", "PersistentVolumeClaim"))
            for o in _items(admin, *kind, PROJECT)
            if (o.metadata.labels or {}).get("app.kubernetes.io/managed-by") == "packit-deployment"]
    assert len(live) > 30
    for o in live:
        assert {k: o.metadata.labels.get(k) for k in MPP_LABELS} == MPP_LABELS, f"{o.kind}/{o.metadata.name}"
        if o.kind in ("Deployment", "StatefulSet"):
            pod_labels = o.spec.template.metadata.labels
            assert {k: pod_labels.get(k) for k in MPP_LABELS} == MPP_LABELS, f"pods of {o.metadata.name}"
            assert o.status.readyReplicas == o.spec.replicas, o.metadata.name
    routes = [o for o in live if o.kind == "Route"]
    assert {r.metadata.name for r in routes} == {"packit-service", "dashboard", "pushgateway-nginx"}
    assert all(r.metadata.labels["shard"] == "external" for r in routes)
    claims = [o for o in live if o.kind == "PersistentVolumeClaim"]
    assert {c.metadata.name: (c.spec.storageClassName, c.status.phase) for c in claims} == {
        "postgres-15": ("aws-ebs", "Bound"), "redis-pvc": ("aws-ebs", "Bound")}
    pods = _items(admin, "v1", "Pod", PROJECT)
    assert pods and all(p.metadata.labels.get("paas.redhat.com/appcode") == "PCKT-002" for p in pods)


def test_second_run_changes_nothing_and_prints_no_secret_at_vvv(local_cluster, admin, secrets_dir, operator):
    """The second run, at -vvv: nothing changes, and neither the API token nor any value of
    the secret files is in the output."""
    before = project_objects(admin, (PROJECT, SANDBOX))
    result = make(local_cluster, "deploy", secrets_dir, extra="-vvv")
    assert result.returncode == 0, result.stdout[-4000:]
    assert project_objects(admin, (PROJECT, SANDBOX)) == before
    assert "nothing changed" in result.stdout
    output = result.stdout + result.stderr
    # -vvv was in effect: every task says where it is, and the connection is shown.
    assert output.count("task path:") > 15 and "ESTABLISH LOCAL CONNECTION" in output
    # The token, the passwords and tokens of the secret files (deploytools.SECRET_FILES), the
    # Sentry DSN, and a line of each private key's body.
    secrets = {"api_key": local_cluster.deployer_token, "database-password": "s3cret-pg",
               "redis-commander http-password": "s3cret-rc", "flower basic-auth": "s3cret-flower",
               "centpkg-sig token": "s3cret-gitlab", "sentry dsn": "key@sentry.example"}
    for name, content in SECRET_FILES.items():
        lines = content.splitlines()
        for n, line in enumerate(lines[:-1]):
            if "BEGIN" in line and "PRIVATE KEY" in line:
                secrets[f"{name} (key body)"] = lines[n + 1]
    assert all(value in "".join(SECRET_FILES.values()) for name, value in secrets.items() if name != "api_key")
    assert len(secrets) >= 10
    assert [name for name, value in secrets.items() if value in output] == []


def test_check_diff_shows_a_config_change_with_the_values_masked(local_cluster, admin, secrets_dir, operator,
                                                                 tmp_path):
    """A change to an app configuration template, previewed: --check --diff shows the changed
    line of packit-service.yaml and nothing of values.yml, and changes nothing."""
    import shutil

    config = tmp_path / "config"
    shutil.copytree(REPO / "config", config)
    template = config / "packit" / "dev" / "packit-service.yaml.j2"
    template.write_text(template.read_text().replace("debug: true", "debug: false"))
    before = project_objects(admin, (PROJECT, SANDBOX))
    result = make(local_cluster, "deploy", secrets_dir, extra=f"--check --diff -e deploy_config_dir={config}")
    assert result.returncode == 0, result.stdout[-4000:]
    assert project_objects(admin, (PROJECT, SANDBOX)) == before
    lines = [line.strip().strip("'\"") for line in result.stdout.splitlines()]
    assert "-debug: true" in lines and "+debug: false" in lines
    values = yaml.safe_load(SECRET_FILES["values.yml"])
    shown = [v for v in ("s3cret-webhook", "s3cret-fas", "s3cret-github", values["fedora_messaging"]["queue"])
             if v in result.stdout]
    assert shown == []


def test_cleanup_keeps_the_tenant_namespace_and_the_claims(local_cluster, admin, secrets_dir, operator):
    result = make(local_cluster, "cleanup", secrets_dir)
    assert result.returncode == 0, result.stdout[-4000:]
    assert NAME in {t.metadata.name for t in _items(admin, "tenant.paas.redhat.com/v1alpha1", "TenantNamespace", CONFIG)}
    assert {c.metadata.name for c in _items(admin, "v1", "PersistentVolumeClaim", PROJECT)} >= {"postgres-15", "redis-pvc"}
    assert not _items(admin, "apps/v1", "Deployment", PROJECT)

"""module_utils/manifests.py: the keys a container reads that its Secret lacks, and the namespaces a run creates."""

from __future__ import annotations

import pytest

from tests.support.moduletools import load

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


def test_the_namespaces_a_run_creates():
    tenant_ns = {"kind": "TenantNamespace", "metadata": {"name": "stg-sandbox", "namespace": "packit--config"}}
    assert manifests.tenant_namespace(tenant_ns) == "packit--stg-sandbox"
    objects = [{"kind": "Namespace", "metadata": {"name": "packit-dev-sandbox"}}, tenant_ns,
               {"kind": "Secret", "metadata": {"name": "x", "namespace": "packit-dev"}}, dict(tenant_ns)]
    assert manifests.created_namespaces(objects) == ["packit-dev-sandbox", "packit--stg-sandbox"]
    assert [[o["kind"] for o in group] for group in manifests.phases(objects)] == [
        ["Namespace", "TenantNamespace", "TenantNamespace"], ["Secret"]]

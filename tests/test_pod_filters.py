"""Unit tests of the filters and helpers that shape pods and namespaces: empty variables that
mean "off", files mounted one by one (subPath), a ConfigMap projected into a Secret's
volume, the Secrets a service renders, and the namespaces a run creates."""

from __future__ import annotations

from moduletools import load

pods = load("filter", "pods")
selection = load("filter", "selection")
manifests = load("module_utils", "manifests")


def test_empty_values_are_left_out_unless_empty_means_off():
    mapping = {"A": "x", "B": "", "C": None, "PUSHGATEWAY_ADDRESS": "", "S": {"secretKeyRef": {"name": "s", "key": "k"}}}
    assert pods.deploy_env(mapping) == [
        {"name": "A", "value": "x"}, {"name": "S", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]
    assert pods.deploy_env(mapping, ["PUSHGATEWAY_ADDRESS", "C"]) == [
        {"name": "A", "value": "x"}, {"name": "PUSHGATEWAY_ADDRESS", "value": ""},
        {"name": "S", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]


def test_a_sub_path_secret_is_mounted_file_by_file():
    used = [{"name": "centpkg-sig", "mount": "/etc/rpkg", "sub_path": True,
             "items": [{"key": "centpkg-sig.conf", "path": "centpkg-sig.conf"}]},
            {"name": "packit-config", "mount": "/home/packit/.config", "sub_path": False, "items": []},
            {"name": "postgres-secret", "mount": None, "items": []}]
    assert pods.deploy_secret_mounts(used) == [
        {"name": "centpkg-sig", "mountPath": "/etc/rpkg/centpkg-sig.conf", "subPath": "centpkg-sig.conf",
         "readOnly": True},
        {"name": "packit-config", "mountPath": "/home/packit/.config", "readOnly": True}]


def test_a_config_map_is_projected_beside_the_secret_files():
    volumes = [{"name": "packit-config", "secret": {"secretName": "packit-config",
                                                     "items": [{"key": "copr", "path": "copr"}]}},
               {"name": "other", "secret": {"secretName": "other"}}]
    assert pods.deploy_with_config_map(volumes, "packit-config", "osh-config", {"client.conf": "osh/client.conf"}) == [
        {"name": "packit-config", "projected": {"sources": [
            {"secret": {"name": "packit-config", "items": [{"key": "copr", "path": "copr"}]}},
            {"configMap": {"name": "osh-config", "items": [{"key": "client.conf", "path": "osh/client.conf"}]}}]}},
        {"name": "other", "secret": {"secretName": "other"}}]


def test_a_secret_with_no_key_of_the_service_is_not_rendered():
    table = [{"name": "centpkg-sig", "component": "secrets", "keys": [{"key": "c", "services": ["packit"]}],
              "used_by": {"packit-worker": "all"}},
             {"name": "aws", "component": "secrets", "mapping": "aws.yml", "used_by": {"packit-worker": "all"}}]
    names = {s: [x["name"] for x in selection.deploy_rendered_secrets(table, "secrets", ["packit-worker"], s)]
             for s in ("packit", "stream", "")}
    assert names == {"packit": ["centpkg-sig", "aws"], "stream": ["aws"], "": ["centpkg-sig", "aws"]}
    needed = selection.deploy_needed_secret_files(table, ["secrets"], ["packit-worker"], "stream")
    assert needed == [{"file": "aws.yml", "components": ["secrets"]}]


def test_the_namespaces_a_run_creates():
    tenant_ns = {"kind": "TenantNamespace", "metadata": {"name": "stg-sandbox", "namespace": "packit--config"}}
    assert manifests.tenant_namespace(tenant_ns) == "packit--stg-sandbox"
    objects = [{"kind": "Namespace", "metadata": {"name": "packit-dev-sandbox"}}, tenant_ns,
               {"kind": "Secret", "metadata": {"name": "x", "namespace": "packit-dev"}}, dict(tenant_ns)]
    assert manifests.created_namespaces(objects) == ["packit-dev-sandbox", "packit--stg-sandbox"]
    assert [[o["kind"] for o in group] for group in manifests.phases(objects)] == [
        ["Namespace", "TenantNamespace", "TenantNamespace"], ["Secret"]]

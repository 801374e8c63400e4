"""Unit tests of the filters and helpers that shape pods and namespaces: empty variables that
mean "off", files mounted one by one (subPath), a ConfigMap projected into a Secret's
volume, the Secrets a service renders, and the namespaces a run creates."""

from __future__ import annotations

import pytest

from tests.support.moduletools import load

pods = load("filter", "pods")
selection = load("filter", "selection")
manifests = load("module_utils", "manifests")


def test_empty_values_are_left_out_unless_empty_means_off():
    mapping = {"A": "x", "B": "", "C": None, "PUSHGATEWAY_ADDRESS": "", "S": {"secretKeyRef": {"name": "s", "key": "k"}}}
    assert pods.deploy_env(mapping) == [
        {"name": "A", "value": "x"}, {"name": "S", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]
    assert pods.deploy_env(mapping, ["PUSHGATEWAY_ADDRESS", "C"]) == [
        {"name": "A", "value": "x"}, {"name": "PUSHGATEWAY_ADDRESS"},
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


appconfig = load("module_utils", "appconfig")


def test_values_are_named_for_review_and_masked_in_text():
    values = {"packit_service": {"token": "abcdef", "list": ["x1234"]}, "n": 7, "flag": True}
    assert appconfig.placeholders(values) == {
        "packit_service": {"token": "<values.yml: packit_service.token>",
                           "list": ["<values.yml: packit_service.list[0]>"]},
        "n": "<values.yml: n>", "flag": "<values.yml: flag>"}
    assert sorted(appconfig.leaves(values)) == ["7", "abcdef", "x1234"]
    assert appconfig.mask("a abcdef x1234 7", appconfig.leaves(values)) == "a <secret> <secret> 7"


def test_keys_set_twice_are_found_at_any_depth():
    assert appconfig.duplicate_keys("a: 1\nb: {c: 1, c: 2}\na: 3\n") == ["b.c", "a"]
    assert appconfig.duplicate_keys("a: [{x: 1}, {x: 2}]\n") == []
    assert appconfig.duplicate_keys("a: [\n") == []


def test_a_configuration_is_found_where_it_is_most_specific(tmp_path):
    for d in ("top", "top/packit", "top/packit/dev"):
        (tmp_path / d).mkdir(exist_ok=True)
    (tmp_path / "top/fedora.toml.j2").write_text("")
    (tmp_path / "top/packit/dev/packit-service.yaml.j2").write_text("")
    (tmp_path / "top/packit/packit-service.yaml.j2").write_text("")
    dirs = [str(tmp_path / d) for d in ("top/packit/dev", "top/packit", "top")]
    assert appconfig.find_config(dirs, "packit-service.yaml") == str(tmp_path / "top/packit/dev/packit-service.yaml.j2")
    assert appconfig.find_config(dirs, "fedora.toml") == str(tmp_path / "top/fedora.toml.j2")
    with pytest.raises(ValueError, match="no template ssh_config.j2"):
        appconfig.find_config(dirs, "ssh_config")


importconfig = load("module_utils", "importconfig")


def test_the_values_of_a_rendered_configuration():
    files = {"packit-service.yaml": {"deployment": "dev", "fas_user": "me", "admins": ["a"], "webhook_secret": "w",
                                     "authentication": {"github.com": {"token": "t"}}, "debug": True},
             "fedora.toml": {"bindings": [{"queue": "q-1"}]},
             "centpkg-sig.conf": {"centpkg-sig.distgit": {"token": "g"}}}
    assert importconfig.values_from(files, "dev") == {
        "packit_service": {"authentication": {"github.com": {"token": "t"}}, "webhook_secret": "w"},
        "developer": {"fas_user": "me", "admins": ["a"]},
        "fedora_messaging": {"queue": "q-1"}, "centpkg_sig": {"token": "g"}}
    assert "developer" not in importconfig.values_from(files, "prod")
    with pytest.raises(importconfig.ConfigImportError, match="no token"):
        importconfig.values_from({"centpkg-sig.conf": {}}, "stg")


def test_the_differences_of_two_configurations_hide_the_secrets():
    theirs = {"a": 1, "b": {"c": "s3cret-x"}, "l": [{"x": 1}], "only": "mine"}
    ours = {"a": 2, "b": {"c": "s3cret-y"}, "l": [{"x": 1}], "new": True}
    assert importconfig.differences("f", theirs, ours, ["s3cret-x", "s3cret-y"]) == [
        "f: a: yours 1, ours 2", "f: b.c: yours <secret>, ours <secret>", "f: only ours: new = True",
        "f: only yours: only = mine"]
    assert importconfig.differences("ssh", ["Host x", "User a"], ["Host x", "User b"], []) == [
        "ssh: only yours: User a", "ssh: only ours: User b"]
    assert importconfig.parse("ssh_config", "# c\nHost  x\n\n  User a\n") == ["Host x", "User a"]


def test_a_masked_diff_shows_the_change_and_no_value():
    before = "debug: true\nwebhook_secret: s3cret-w\nurl: https://x.example\n"
    after = "debug: false\nwebhook_secret: s3cret-w2\nurl: https://x.example\n"
    secrets = appconfig.secret_leaves({"w": "s3cret-w", "w2": "s3cret-w2", "u": "https://x.example", "p": "/a/b"})
    assert secrets == ["s3cret-w", "s3cret-w2"]
    diff = appconfig.masked_diff(before, after, secrets, "packit-service.yaml").splitlines()
    assert diff[:2] == ["--- packit-service.yaml (live)", "+++ packit-service.yaml (new)"]
    assert "-debug: true" in diff and "+debug: false" in diff
    assert "s3cret" not in "\n".join(diff) and " url: https://x.example" in diff
    assert appconfig.masked_diff(before, before, secrets, "x") == ""

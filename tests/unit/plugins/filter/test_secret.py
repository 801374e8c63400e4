"""The secret_* filters: the Secrets a service renders and the files they are made of."""

from __future__ import annotations

from tests.support.moduletools import load

secret = load("filter", "secret")


def test_a_secret_with_no_key_of_the_service_is_not_rendered():
    table = [{"name": "centpkg-sig", "component": "secrets", "keys": [{"key": "c", "services": ["packit"]}],
              "used_by": {"packit-worker": "all"}},
             {"name": "aws", "component": "secrets", "mapping": "aws.yml", "used_by": {"packit-worker": "all"}}]
    names = {s: [x["name"] for x in secret.secret_rendered(table, "secrets", ["packit-worker"], s)]
             for s in ("packit", "stream", "")}
    assert names == {"packit": ["centpkg-sig", "aws"], "stream": ["aws"], "": ["centpkg-sig", "aws"]}
    needed = secret.secret_needed_files(table, ["secrets"], ["packit-worker"], "stream")
    assert needed == [{"file": "aws.yml", "components": ["secrets"]}]


CONFIG = {"name": "packit-config", "component": "secrets", "mount": "/home/packit/.config",
          "keys": [{"key": "packit-service.yaml", "config": "packit-service.yaml"}, {"key": "copr"},
                   {"key": "fas.keytab", "file": "keytab", "services": ["packit"]},
                   {"key": "osh", "components": ["osh-worker"]}],
          "used_by": {"packit-worker": "all", "packit-service": ["packit-service.yaml"]}}
AWS = {"name": "aws", "component": "secrets", "mapping": "aws.yml", "used_by": {"packit-worker": "all"}}
SPLUNK = {"name": "splunk", "component": "fluentd", "while_enabled": True, "keys": [{"key": "hec-token", "strip": True}],
          "used_by": {"packit-service": "all"}}
CENTPKG = {"name": "centpkg-sig", "component": "secrets", "mount": "/etc/rpkg", "sub_path": True,
           "keys": [{"key": "c", "services": ["stream"]}], "used_by": {"packit-worker": "all"}}
TABLE = [CONFIG, AWS, SPLUNK, CENTPKG]


def test_the_keys_of_a_secret_depend_on_the_service_and_the_enabled_components():
    config = {"key": "packit-service.yaml", "file": "values.yml", "config": "packit-service.yaml", "strip": False}
    copr = {"key": "copr", "file": "copr", "config": "", "strip": False}
    keytab = {"key": "fas.keytab", "file": "keytab", "config": "", "strip": False}
    assert secret.secret_keys(CONFIG, "packit", ["packit-worker"]) == [config, copr, keytab]
    assert secret.secret_keys(CONFIG, "stream", ["packit-worker"]) == [config, copr]
    assert secret.secret_keys(CONFIG, "stream", ["osh-worker"])[-1] == {"key": "osh", "file": "osh", "config": "",
                                                                        "strip": False}
    assert secret.secret_keys(SPLUNK, "packit", [])[0]["strip"] is True
    assert secret.secret_files(CONFIG, "packit", []) == ["values.yml", "copr", "keytab"]
    assert secret.secret_files(AWS, "packit", []) == ["aws.yml"]


def test_what_the_pods_of_a_component_take_from_each_secret():
    assert secret.secret_used(TABLE, "packit-worker", "packit", ["packit-worker"]) == [
        {"name": "packit-config", "mount": "/home/packit/.config", "sub_path": False,
         "items": [{"key": "packit-service.yaml", "path": "packit-service.yaml"}, {"key": "copr", "path": "copr"},
                   {"key": "fas.keytab", "path": "fas.keytab"}],
         "all_keys": True, "files": ["copr", "keytab"], "configs": ["packit-service.yaml"]},
        {"name": "aws", "mount": None, "items": [], "all_keys": True, "files": ["aws.yml"], "configs": []}]
    service = secret.secret_used(TABLE, "packit-service", "packit", ["packit-service"])
    assert [(s["name"], s["all_keys"], s["files"], s["configs"]) for s in service] == [
        ("packit-config", False, [], ["packit-service.yaml"])]
    # the sidecar's Secret while the sidecar is on
    with_sidecar = secret.secret_used(TABLE, "packit-service", "packit", ["packit-service", "fluentd"])
    assert with_sidecar[1] == {"name": "splunk", "mount": None, "sub_path": False,
                               "items": [{"key": "hec-token", "path": "hec-token"}], "all_keys": True,
                               "files": ["hec-token"], "configs": []}


def test_the_app_configurations_of_the_secrets():
    assert secret.secret_config_keys(TABLE, "packit", ["packit-worker"]) == {"packit-config": ["packit-service.yaml"]}
    enabled = ["packit-worker", "packit-service"]
    assert secret.secret_config_names(TABLE, "packit", enabled, ["packit-service"]) == ["packit-service.yaml"]
    assert secret.secret_config_names(TABLE, "packit", enabled, ["redis"]) == []


def test_the_secret_files_a_run_needs_and_those_a_directory_lacks(tmp_path):
    needed = secret.secret_needed_files(TABLE, ["secrets", "packit-worker"], ["packit-worker"], "packit")
    both = ["secrets", "packit-worker"]
    assert needed == [{"file": "values.yml", "components": both}, {"file": "copr", "components": both},
                      {"file": "keytab", "components": both}, {"file": "aws.yml", "components": both}]
    (tmp_path / "copr").write_text("token")
    (tmp_path / "aws.yml").write_text("a: b\n")
    (tmp_path / "keytab").mkdir()  # not a file
    assert [n["file"] for n in secret.secret_missing_files(needed, str(tmp_path))] == ["values.yml", "keytab"]

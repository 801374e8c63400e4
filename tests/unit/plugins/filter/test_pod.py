"""The pod_* filters: empty variables that mean "off", files mounted one by one (subPath), a ConfigMap projected into a Secret's volume."""

from __future__ import annotations

from tests.support.moduletools import load

pod = load("filter", "pod")


def test_empty_values_are_left_out_unless_empty_means_off():
    mapping = {"A": "x", "B": "", "C": None, "PUSHGATEWAY_ADDRESS": "", "S": {"secretKeyRef": {"name": "s", "key": "k"}}}
    assert pod.pod_env(mapping) == [
        {"name": "A", "value": "x"}, {"name": "S", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]
    assert pod.pod_env(mapping, ["PUSHGATEWAY_ADDRESS", "C"]) == [
        {"name": "A", "value": "x"}, {"name": "PUSHGATEWAY_ADDRESS"},
        {"name": "S", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]


def test_a_sub_path_secret_is_mounted_file_by_file():
    used = [{"name": "centpkg-sig", "mount": "/etc/rpkg", "sub_path": True,
             "items": [{"key": "centpkg-sig.conf", "path": "centpkg-sig.conf"}]},
            {"name": "packit-config", "mount": "/home/packit/.config", "sub_path": False, "items": []},
            {"name": "postgres-secret", "mount": None, "items": []}]
    assert pod.pod_secret_mounts(used) == [
        {"name": "centpkg-sig", "mountPath": "/etc/rpkg/centpkg-sig.conf", "subPath": "centpkg-sig.conf",
         "readOnly": True},
        {"name": "packit-config", "mountPath": "/home/packit/.config", "readOnly": True}]


def test_a_config_map_is_projected_beside_the_secret_files():
    volumes = [{"name": "packit-config", "secret": {"secretName": "packit-config",
                                                     "items": [{"key": "copr", "path": "copr"}]}},
               {"name": "other", "secret": {"secretName": "other"}}]
    assert pod.pod_with_config_map(volumes, "packit-config", "osh-config", {"client.conf": "osh/client.conf"}) == [
        {"name": "packit-config", "projected": {"sources": [
            {"secret": {"name": "packit-config", "items": [{"key": "copr", "path": "copr"}]}},
            {"configMap": {"name": "osh-config", "items": [{"key": "client.conf", "path": "osh/client.conf"}]}}]}},
        {"name": "other", "secret": {"secretName": "other"}}]


def test_a_secret_volume_holds_only_the_keys_the_pods_use():
    used = [{"name": "sentry", "mount": "/secrets/sentry", "all_keys": False, "items": [{"key": "dsn", "path": "dsn"}]},
            {"name": "packit-config", "mount": "/home/packit/.config", "all_keys": True, "items": [{"key": "a", "path": "a"}]},
            {"name": "postgres-secret", "mount": None, "all_keys": True, "items": []}]
    assert pod.pod_secret_volumes(used) == [
        {"name": "sentry", "secret": {"secretName": "sentry", "items": [{"key": "dsn", "path": "dsn"}]}},
        {"name": "packit-config", "secret": {"secretName": "packit-config"}}]


def test_a_secret_ref_reads_one_key():
    assert pod.pod_secret_ref("postgres-secret", "database-password") == {
        "secretKeyRef": {"name": "postgres-secret", "key": "database-password"}}


def test_the_long_running_pods_are_named_by_statefulset_and_ordinal():
    pools = {"long": {"queues": ["long-running"], "replicas": 2}, "short": {"queues": ["short-running"], "replicas": 3},
             "both": {"queues": ["short-running", "long-running"], "replicas": "1"}}
    names = {"long": "packit-worker-long-running", "short": "packit-worker-short-running", "both": "packit-worker"}
    assert pod.pod_long_running_names(pools, names) == [
        "packit-worker-long-running-0", "packit-worker-long-running-1", "packit-worker-0"]

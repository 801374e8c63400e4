"""The log forwarding sidecar (component fluentd-sidecar, with_fluentd_sidecar): rendered
through the real playbook as make render renders it, checked object by object, and its bad
input refused before anything is rendered.

fluentd and Splunk's HEC output plugin are not packaged by Debian and rubygems.org is not
reachable here, so fluent.conf is not run: what is checked is what the pods get."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.support.deploytools import REPO, all_objects, failure_line, read_manifests, run_playbook

WORKLOADS = ("Deployment", "StatefulSet", "DeploymentConfig")


def by_kind(objects: list[dict], kind: str) -> dict[str, dict]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def pod_workloads(rendered: dict[str, list[dict]]) -> list[dict]:
    """The service's and the workers' workloads."""
    return [o for c in ("packit-service", "packit-worker") for o in rendered.get(c, []) if o["kind"] in WORKLOADS]


def containers(workload: dict) -> dict[str, dict]:
    return {c["name"]: c for c in workload["spec"]["template"]["spec"]["containers"]}


@pytest.fixture(scope="module")
def stream_prod(renderer):
    """Stream prod as its vars template has it: the sidecar on (as upstream), split workers."""
    return renderer.render("stream", "prod")


def test_stream_prod_runs_the_sidecar_in_the_service_and_every_worker_pod(stream_prod):
    workloads = pod_workloads(stream_prod)
    assert sorted(w["metadata"]["name"] for w in workloads) == [
        "packit-service", "packit-worker-long-running", "packit-worker-short-running"]
    for workload in workloads:
        name = workload["metadata"]["name"]
        sidecar = containers(workload)["fluentd-sidecar"]
        assert sidecar["image"] == "quay.io/packit/fluentd-splunk-hec:latest", name
        assert sidecar["ports"] == [{"containerPort": 5140, "protocol": "UDP"}], name
        assert {e["name"]: e["valueFrom"]["secretKeyRef"] for e in sidecar["env"]} == {
            "SPLUNK_HEC_HOST": {"name": "splunk", "key": "hec-host"},
            "SPLUNK_HEC_PORT": {"name": "splunk", "key": "hec-port"},
            "SPLUNK_HEC_TOKEN": {"name": "splunk", "key": "hec-token"}}, name
        assert sidecar["volumeMounts"] == [{"name": "fluentd-config", "mountPath": "/fluentd/etc", "readOnly": True}]
        assert sidecar["resources"] == {"requests": {"memory": "128Mi", "cpu": "10m"},
                                        "limits": {"memory": "128Mi", "cpu": "100m"}}, name
        volumes = {v["name"]: v for v in workload["spec"]["template"]["spec"]["volumes"]}
        assert volumes["fluentd-config"] == {"name": "fluentd-config", "configMap": {"name": "fluentd-config"}}
        # The app sends its syslog to the sidecar in its own pod.
        app = containers(workload)[name if name == "packit-service" else "packit-worker"]
        assert {"name": "SYSLOG_HOST", "value": "127.0.0.1"} in app["env"], name
        # Both containers follow their image streams.
        triggers = json.loads(workload["metadata"]["annotations"]["image.openshift.io/triggers"])
        followed = {t["fieldPath"].split('"')[1]: t["from"]["name"] for t in triggers}
        assert followed == {app["name"]: f"{'packit-service' if name == 'packit-service' else 'packit-worker'}:prod",
                            "fluentd-sidecar": "fluentd:prod"}, name


def test_the_sidecar_component_renders_its_stream_configuration_and_secret(stream_prod, secrets_dir):
    objects = stream_prod["fluentd-sidecar"]
    assert sorted((o["kind"], o["metadata"]["name"]) for o in objects) == [
        ("ConfigMap", "fluentd-config"), ("ImageStream", "fluentd"), ("Secret", "splunk")]
    stream = by_kind(objects, "ImageStream")["fluentd"]
    assert stream["spec"]["tags"][0]["name"] == "prod"
    assert stream["spec"]["tags"][0]["from"]["name"] == "quay.io/packit/fluentd-splunk-hec:latest"
    conf = by_kind(objects, "ConfigMap")["fluentd-config"]["data"]["fluent.conf"]
    assert conf == (REPO / "openshift/fluent.conf").read_text()
    # What the sidecar has to do with it: the app's datagrams on 5140 parsed as RFC 5424,
    # sent on to the HEC named by the environment the Secret gives.
    assert "@type syslog" in conf and "port 5140" in conf and "message_format rfc5424" in conf
    for variable in ("SPLUNK_HEC_HOST", "SPLUNK_HEC_PORT", "SPLUNK_HEC_TOKEN"):
        assert f"#{{ENV['{variable}']}}" in conf
    secret = by_kind(objects, "Secret")["splunk"]
    assert sorted(secret["data"]) == ["hec-host", "hec-port", "hec-token"]  # values redacted in the plan


def test_a_change_of_splunk_yml_or_fluent_conf_rolls_the_pods_out(renderer, tmp_path, stream_prod):
    """The pod templates carry the checksum of splunk.yml (secrets-checksum) and of fluent.conf
    (config-checksum): the secrets checksum changes with splunk.yml."""
    other = tmp_path / "secrets"
    shutil.copytree(renderer.secrets_dir, other)
    (other / "splunk.yml").write_text("hec-host: splunk.example\nhec-port: \"8088\"\nhec-token: rotated\n")
    out = tmp_path / "out"
    result = run_playbook("deploy.yml", renderer.extra_vars("stream", "prod", out) | {"secrets_dir": str(other)})
    assert result.returncode == 0, failure_line(result)
    rotated = {o["metadata"]["name"]: o for o in all_objects(read_manifests(out)) if o["kind"] in WORKLOADS}
    for workload in pod_workloads(stream_prod):
        name = workload["metadata"]["name"]
        before = workload["spec"]["template"]["metadata"]["annotations"]
        after = rotated[name]["spec"]["template"]["metadata"]["annotations"]
        assert before["packit.dev/secrets-checksum"] != after["packit.dev/secrets-checksum"], name
        assert before["packit.dev/config-checksum"] == after["packit.dev/config-checksum"], name


def test_without_the_sidecar_no_pod_names_it(renderer, stream_prod):
    off = renderer.render("stream", "prod", with_fluentd_sidecar=False)
    assert "fluentd-sidecar" not in off
    for workload in pod_workloads(off):
        name = workload["metadata"]["name"]
        assert list(containers(workload)) == ["packit-service" if name == "packit-service" else "packit-worker"]
        text = json.dumps(workload)
        assert "fluentd" not in text and "splunk" not in text, name
    # The service's pod template has no config checksum without it; the workers' is the one of
    # their own ConfigMap (osh-config) alone, so switching the sidecar off rolls them once.
    service = by_kind(off["packit-service"], "Deployment")["packit-service"]
    assert "packit.dev/config-checksum" not in service["spec"]["template"]["metadata"]["annotations"]


def test_deploymentconfigs_follow_the_fluentd_stream_with_a_trigger_of_their_own(renderer):
    rendered = renderer.render("stream", "prod", workload_kind="DeploymentConfig")
    service = by_kind(rendered["packit-service"], "DeploymentConfig")["packit-service"]
    images = [t["imageChangeParams"] for t in service["spec"]["triggers"] if t["type"] == "ImageChange"]
    assert [(p["containerNames"], p["from"]["name"], p["automatic"]) for p in images] == [
        (["packit-service"], "packit-service:prod", True), (["fluentd-sidecar"], "fluentd:prod", True)]


def refused(renderer, tmp_path: Path, secrets_dir: Path, **overrides) -> str:
    out = tmp_path / "out"
    result = run_playbook("deploy.yml", renderer.extra_vars("stream", "prod", out, **overrides)
                          | {"secrets_dir": str(secrets_dir)})
    assert result.returncode != 0
    assert not out.exists() or not any(out.iterdir()), "something was rendered"
    return failure_line(result)


def test_a_splunk_file_without_the_token_is_refused_naming_file_and_key(renderer, tmp_path):
    other = tmp_path / "secrets"
    shutil.copytree(renderer.secrets_dir, other)
    (other / "splunk.yml").write_text("hec-host: splunk.example\nhec-port: \"8088\"\n")
    line = refused(renderer, tmp_path, other)
    assert f"{other}/splunk.yml has no key hec-token (Secret splunk)" in line, line
    assert "reads as SPLUNK_HEC_TOKEN: add it" in line, line


def test_a_missing_splunk_file_is_refused(renderer, tmp_path):
    other = tmp_path / "secrets"
    shutil.copytree(renderer.secrets_dir, other)
    (other / "splunk.yml").unlink()
    line = refused(renderer, tmp_path, other)
    assert f"{other}/splunk.yml is missing (needed by fluentd-sidecar, packit-service, packit-worker)" in line, line


def test_a_syslog_host_the_sidecar_does_not_listen_on_is_refused(renderer, tmp_path):
    line = refused(renderer, tmp_path, renderer.secrets_dir, syslog_host="fluentd")
    assert "with_fluentd_sidecar: the sidecar listens on the pod's loopback (127.0.0.1:5140/udp), so the logs " \
           "sent to syslog_host=fluentd never reach it: set syslog_host: 127.0.0.1 in vars/stream/prod.yml" in line, line

"""The log forwarding sidecar on the local control plane: the Stream dev stack deployed with
with_fluentd_sidecar on, its second run, and the switch back off.

The pods are kwok's (nothing runs in them), so what is proven is what the API server and
OpenShift's controllers make of the objects: the sidecar in the live pods, its image set by
the image trigger from the fluentd stream, the ConfigMap and the Secret's real values."""

from __future__ import annotations

import base64
import json
import re
import time
from pathlib import Path

import pytest
import yaml

from tests.support.deploytools import REPO, run_make, triggered_image, write_secret_files

pytestmark = pytest.mark.cluster
PROJECT = "stream-dev"
EMPTIED_AFTER = (PROJECT, f"{PROJECT}-sandbox")  # conftest
POD_WORKLOADS = (("Deployment", "packit-service", "packit-service"), ("StatefulSet", "packit-worker", "packit-worker"))


@pytest.fixture(scope="module")
def secrets(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sidecar-secrets")
    write_secret_files(path)
    return path


def deploy(local_cluster, secrets: Path, sidecar: bool):
    return run_make("deploy", timeout=1200, LOCAL="1", DEPLOYMENT="dev", SERVICE="stream", SECRETS_DIR=str(secrets),
                    LOCAL_CLUSTER_CACHE=str(local_cluster.cache_dir),
                    EXTRA_ARGS=f"-e config_vars_file={REPO}/vars/stream/dev_template.yml "
                               f"-e with_fluentd_sidecar={str(sidecar).lower()}")


def changed(result) -> int:
    match = re.search(r"localhost\s+:\s+ok=\d+\s+changed=(\d+)", result.stdout)
    assert match, result.stdout[-3000:]
    return int(match.group(1))


def get(admin, api_version: str, kind: str, name: str) -> dict:
    return admin.resources.get(api_version=api_version, kind=kind).get(name=name, namespace=PROJECT).to_dict()


def pods_of(admin, workload: dict) -> list[dict]:
    selector = ",".join(f"{k}={v}" for k, v in workload["spec"]["selector"]["matchLabels"].items())
    return admin.resources.get(api_version="v1", kind="Pod").get(namespace=PROJECT, label_selector=selector).to_dict()["items"]


def settled(admin, check, timeout: float = 120) -> None:
    """Wait until check() holds (the trigger controller and kwok work after the run returns)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            check()
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


def test_the_sidecar_runs_beside_the_service_and_the_worker(local_cluster, admin, secrets):
    result = deploy(local_cluster, secrets, sidecar=True)
    assert result.returncode == 0, result.stdout[-4000:]
    stream = get(admin, "image.openshift.io/v1", "ImageStream", "fluentd")
    image = triggered_image(stream, "dev")
    assert "@sha256:" in image, stream.get("status")  # imported from the local registry's mirror
    conf = get(admin, "v1", "ConfigMap", "fluentd-config")["data"]["fluent.conf"]
    assert conf == (REPO / "openshift/fluent.conf").read_text()
    splunk = get(admin, "v1", "Secret", "splunk")["data"]
    want = yaml.safe_load((secrets / "splunk.yml").read_text())
    assert {k: base64.b64decode(v).decode() for k, v in splunk.items()} == {k: str(v) for k, v in want.items()}

    for kind, name, app in POD_WORKLOADS:
        workload = get(admin, "apps/v1", kind, name)
        containers = {c["name"]: c for c in workload["spec"]["template"]["spec"]["containers"]}
        assert list(containers) == [app, "fluentd-sidecar"], name
        # OpenShift's image trigger controller set the sidecar's image from the fluentd stream.
        assert containers["fluentd-sidecar"]["image"] == image, name
        assert json.loads(workload["metadata"]["annotations"]["image.openshift.io/triggers"])[1]["from"] == {
            "kind": "ImageStreamTag", "name": "fluentd:dev"}

        def pods_run_the_sidecar(workload=workload, name=name):
            pods = pods_of(admin, get(admin, "apps/v1", workload["kind"], name))
            assert pods, name
            for pod in pods:
                assert [c["name"] for c in pod["spec"]["containers"]] == [app, "fluentd-sidecar"], pod["metadata"]["name"]
                assert [c["image"] for c in pod["spec"]["containers"]][1] == image
                ready = {c["type"]: c["status"] for c in pod["status"].get("conditions") or []}
                assert ready.get("Ready") == "True", (pod["metadata"]["name"], pod["status"])

        settled(admin, pods_run_the_sidecar)


def test_a_second_run_with_the_sidecar_changes_nothing(local_cluster, admin, secrets):
    versions = {name: get(admin, "apps/v1", kind, name)["metadata"]["resourceVersion"] for kind, name, _ in POD_WORKLOADS}
    result = deploy(local_cluster, secrets, sidecar=True)
    assert result.returncode == 0, result.stdout[-4000:]
    assert changed(result) == 0
    assert versions == {name: get(admin, "apps/v1", kind, name)["metadata"]["resourceVersion"]
                        for kind, name, _ in POD_WORKLOADS}


def test_switching_the_sidecar_off_takes_it_out_of_the_pods_and_keeps_its_objects(local_cluster, admin, secrets):
    before = {name: get(admin, "apps/v1", kind, name)["metadata"]["generation"] for kind, name, _ in POD_WORKLOADS}
    result = deploy(local_cluster, secrets, sidecar=False)
    assert result.returncode == 0, result.stdout[-4000:]
    for kind, name, app in POD_WORKLOADS:
        workload = get(admin, "apps/v1", kind, name)
        assert workload["metadata"]["generation"] == before[name] + 1, name
        assert [c["name"] for c in workload["spec"]["template"]["spec"]["containers"]] == [app]
        assert "fluentd" not in json.dumps(workload["spec"]["template"]) and \
            "splunk" not in json.dumps(workload["spec"]["template"]), name
        assert json.loads(workload["metadata"]["annotations"]["image.openshift.io/triggers"])[0]["from"]["name"] == \
            f"{app}:dev"
        assert len(json.loads(workload["metadata"]["annotations"]["image.openshift.io/triggers"])) == 1

        def pods_without_sidecar(kind=kind, name=name, app=app):
            pods = pods_of(admin, get(admin, "apps/v1", kind, name))
            assert pods and all([c["name"] for c in p["spec"]["containers"]] == [app] for p in pods), name

        settled(admin, pods_without_sidecar)
    # A switched-off component's objects stay, as every component's do (the deploy deletes nothing).
    for kind, api, name in (("ImageStream", "image.openshift.io/v1", "fluentd"), ("ConfigMap", "v1", "fluentd-config"),
                            ("Secret", "v1", "splunk")):
        assert get(admin, api, kind, name)["metadata"]["name"] == name

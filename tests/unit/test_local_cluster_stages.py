"""The kwok stages of the local cluster load from local-cluster/kwok-stages (no cluster needed)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from localcluster import ClusterError
from localcluster.layout import Layout
from localcluster.pins import KUBERNETES_VERSION, KWOK_VERSION
from localcluster.stages import load_stages, write_kwok_config


def test_stages_load_in_order_with_the_pinned_versions(tmp_path: Path):
    stages = load_stages()
    assert [s["metadata"]["name"] for s in stages] == [
        "node-ready", "node-heartbeat", "pod-run", "job-pod-complete", "job-pod-fail", "pod-remove"]
    node_ready = stages[0]["spec"]["next"]["statusTemplate"]
    assert f"kubeletVersion: {KUBERNETES_VERSION}\n" in node_ready
    assert f"containerRuntimeVersion: kwok-{KWOK_VERSION}\n" in node_ready
    layout = Layout(tmp_path)
    write_kwok_config(layout)
    text = layout.kwok_config.read_text()
    assert "${" not in text and "&id0" not in text  # no variable left, no anchor across stages
    assert list(yaml.safe_load_all(text)) == stages


def test_job_pod_stages_differ_only_in_the_fail_label():
    stages = {s["metadata"]["name"]: s for s in load_stages()}
    complete, fail = (stages[n]["spec"]["selector"]["matchExpressions"] for n in ("job-pod-complete", "job-pod-fail"))
    assert complete[:-1] == fail[:-1]
    label = '.metadata.labels["local-cluster/fail-job"]'
    assert complete[-1] == {"key": label, "operator": "DoesNotExist"}
    assert fail[-1] == {"key": label, "operator": "Exists"}


def test_unknown_variable_and_wrong_shape_are_refused(tmp_path: Path):
    (tmp_path / "a.yaml").write_text("- kind: Stage\n  x: ${KUBE_VERSION}\n")
    with pytest.raises(ClusterError, match=r"a.yaml: unknown variable KUBE_VERSION; known: KUBERNETES_VERSION"):
        load_stages(tmp_path)
    (tmp_path / "a.yaml").write_text("kind: Stage\n")
    with pytest.raises(ClusterError, match="not a YAML list of kwok Stage objects"):
        load_stages(tmp_path)
    (tmp_path / "a.yaml").unlink()
    with pytest.raises(ClusterError, match="no kwok stages"):
        load_stages(tmp_path)


def test_an_api_error_of_a_start_is_one_line_with_the_servers_message(tmp_path: Path, monkeypatch, capsys):
    """What `make local-cluster` prints when the API server refuses a bootstrap object: its
    message naming the object and field, not the client's bare status code."""
    from localcluster import cli
    from kubernetes.client.exceptions import ApiException

    refusal = ApiException(status=422, reason="Unprocessable Entity")
    refusal.body = '{"kind": "Status", "message": "Service \\"api\\" is invalid: spec.ports[1].name: Duplicate value"}'

    def refuse(layout):
        raise refusal

    monkeypatch.setattr(cli.cluster, "start", refuse)
    assert cli.main(["--cache-dir", str(tmp_path), "start"]) == 1
    assert capsys.readouterr().err == (
        'local-cluster: ApiException: Service "api" is invalid: spec.ports[1].name: Duplicate value\n')


def test_a_start_starts_every_component_once_after_what_it_needs():
    from localcluster.layout import COMPONENTS, START_STAGES

    order = [c for stage in START_STAGES for c in stage]
    assert sorted(order) == sorted(COMPONENTS)
    stage_of = {c: i for i, stage in enumerate(START_STAGES) for c in stage}
    needs = {"kube-apiserver": "etcd", "kube-controller-manager": "kube-apiserver", "kube-scheduler": "kube-apiserver",
             "kwok": "kube-apiserver", "openshift-apiserver": "kube-apiserver",
             "openshift-controller-manager": "openshift-apiserver", "dc-deployer": "openshift-apiserver"}
    assert all(stage_of[c] > stage_of[dependency] for c, dependency in needs.items())


def test_every_port_of_the_control_plane_is_in_the_range_it_keeps():
    from localcluster.layout import PORT_RANGE, PORTS

    assert all(port in PORT_RANGE for port in PORTS.values())
    assert PORT_RANGE.stop <= 32768  # below Linux's default ephemeral range

"""The data tier on the local cluster's real node, in the namespace packit-data.

The real node is a kubelet with containerd, runc and the CNI bridge (local-cluster/
localcluster/node.py); the placement policy sends to it every pod of packit-data whose
images all have a real build (local-cluster/localcluster/nodeimages.py: PostgreSQL, Redis,
nginx, and Debian's Prometheus push gateway standing in for the aggregating gateway). So
here the processes run: probes are the servers' own, rows and keys are written to real
directories, Services are reached through kube-proxy's rules and CoreDNS.

The tests run in file order on one deployment of postgres, redis and pushgateway, which the
first test deploys into the emptied namespace. Without a real node (a machine that cannot
run one, or LOCAL_CLUSTER_REAL_NODE=off) they are skipped with the reason; in CI the node is
required (tests/run.sh), so there they run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import urllib3

from localcluster import node
from localcluster.layout import REAL_POD_NAMESPACES, REAL_POD_SUBNET
from tests.support.deploytools import empty_project_namespaces, make_in_project
from tests.support.realnode import RealPods, real_core

pytestmark = pytest.mark.cluster
PROJECT = "packit-data"
EMPTIED_AFTER = (PROJECT,)  # conftest
TAGS = "secrets,postgres,redis,pushgateway"  # secrets: the TLS pair nginx serves with
SIDE_COMPONENTS = ("postgres", "redis", "pushgateway", "pushgateway-nginx")


@pytest.fixture(scope="module")
def core(local_cluster):
    return real_core(local_cluster)


@pytest.fixture(scope="module")
def pods(core) -> RealPods:
    return RealPods(core, PROJECT)


def make(local_cluster, target: str, secrets_dir, extra: str = "", **variables: str):
    return make_in_project(local_cluster, target, secrets_dir, PROJECT, PROJECT, extra, **variables)


def test_the_side_components_run_for_real(core, pods, admin, local_cluster, secrets_dir):
    empty_project_namespaces(admin, local_cluster, (PROJECT,))
    deployed = make(local_cluster, "deploy", secrets_dir, TAGS=TAGS)
    assert deployed.returncode == 0, deployed.stdout[-3000:]
    for app in SIDE_COMPONENTS:
        pod = pods.wait_ready(app)
        assert pod.spec.node_name == node.NODE_NAME, (app, pod.spec.node_name)
        network = REAL_POD_SUBNET.rsplit(".", 1)[0] + "."
        assert pod.status.pod_ip.startswith(network), (app, pod.status.pod_ip)
        assert all(s.started and s.restart_count == 0 for s in pod.status.container_statuses), app
    # What make local-deploy prints at its end: the four run for real, nothing is simulated.
    listed = subprocess.run([sys.executable, "-m", "localcluster", "--cache-dir", str(local_cluster.cache_dir), "pods",
                             PROJECT], capture_output=True, text=True, check=True).stdout.splitlines()
    assert listed[0] == f"running for real on {node.NODE_NAME} (4 pods):", listed
    assert sorted(line.split()[0].rsplit("-", 2)[0] for line in listed[1:5]) == sorted(SIDE_COMPONENTS), listed
    assert all(line.split()[1:] == ["Running", "1/1", "ready"] for line in listed[1:5]), listed
    assert listed[5:] == ["simulated by kwok, nothing runs (0 pods):", "  none"], listed
    # Pods outside the namespaces of real pods stay on kwok.
    other = [p for p in core.list_pod_for_all_namespaces().items
             if p.spec.node_name == node.NODE_NAME and p.metadata.namespace not in REAL_POD_NAMESPACES]
    assert other == []


def test_rows_survive_a_pod_deletion_and_cleanup_and_deploy(pods, local_cluster, secrets_dir):
    pod = pods.wait_ready("postgres")
    pods.psql(pod, "CREATE TABLE kept (id int PRIMARY KEY, note text); INSERT INTO kept VALUES (1, 'first')")
    pod = pods.delete_and_wait("postgres")
    assert pods.psql(pod, "SELECT note FROM kept WHERE id = 1").strip() == "first"

    cleaned = make(local_cluster, "cleanup", secrets_dir, TAGS=TAGS)
    assert cleaned.returncode == 0, cleaned.stdout[-3000:]
    deployed = make(local_cluster, "deploy", secrets_dir, TAGS=TAGS)
    assert deployed.returncode == 0, deployed.stdout[-3000:]
    pod = pods.wait_ready("postgres")
    assert pods.psql(pod, "SELECT note FROM kept WHERE id = 1").strip() == "first"


def test_dump_and_restore_run_in_the_cluster(core, pods, admin, local_cluster, secrets_dir):
    """make db-dump and make db-restore: pg_dump and pg_restore run as Jobs on the real node,
    against the postgres Service by name; the restored rows equal the dumped ones."""
    pod = pods.wait_ready("postgres")
    pods.psql(pod, "CREATE TABLE dumped (id int PRIMARY KEY, note text); "
                    "INSERT INTO dumped SELECT i, md5(i::text) FROM generate_series(1, 500) i")
    before = pods.psql(pod, "SELECT count(*), md5(string_agg(note, ',' ORDER BY id)) FROM dumped")
    dumped = make(local_cluster, "db-dump", secrets_dir, DUMP="real-node.dump")
    assert dumped.returncode == 0, dumped.stdout[-3000:]
    jobs = admin.resources.get(api_version="batch/v1", kind="Job").get(namespace=PROJECT).to_dict()["items"]
    (dump_job,) = [job for job in jobs if job["metadata"]["name"].startswith("db-dump-")]
    job_pods = pods.job_pods(dump_job["metadata"]["name"])
    assert [p.spec.node_name for p in job_pods] == [node.NODE_NAME]
    assert [p.status.phase for p in job_pods] == ["Succeeded"]

    pods.psql(pod, "DELETE FROM dumped WHERE id > 100; UPDATE kept SET note = 'changed'")
    restored = make(local_cluster, "db-restore", secrets_dir, DUMP="real-node.dump")
    assert restored.returncode == 0, restored.stdout[-3000:]
    pod = pods.wait_ready("postgres")
    assert pods.psql(pod, "SELECT count(*), md5(string_agg(note, ',' ORDER BY id)) FROM dumped") == before
    assert pods.psql(pod, "SELECT note FROM kept WHERE id = 1").strip() == "first"


def test_redis_keeps_its_data_across_a_pod_deletion(pods):
    pod = pods.wait_ready("redis")
    assert pods.cli(pod, "SET", "kept", "across-restarts") == "OK"
    assert pods.cli(pod, "SAVE") == "OK"
    pod = pods.delete_and_wait("redis")
    assert pods.cli(pod, "GET", "kept") == "across-restarts"


def service_url(core, name: str, scheme: str = "http") -> str:
    service = core.read_namespaced_service(name, PROJECT)
    return f"{scheme}://{service.spec.cluster_ip}:{service.spec.ports[0].port}"


def test_pushes_reach_the_gateway_and_nginx_serves_only_get(core, pods):
    pods.wait_ready("pushgateway")
    pods.wait_ready("pushgateway-nginx")
    gateway, public = service_url(core, "pushgateway"), service_url(core, "pushgateway-nginx", "https")
    # From the host through kube-proxy's rules to the pods on the bridge (ClusterIPs); nginx
    # reaches the gateway by the Service's name (CoreDNS) and ClusterIP. nginx serves the
    # secrets' TLS pair (a test certificate, not checked here).
    urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
    for job in ("worker-a", "worker-b"):
        pushed = requests.post(f"{gateway}/metrics/job/{job}", data="tasks_done_total 3\n", timeout=10)
        assert pushed.status_code in (200, 202), pushed.text
    metrics = requests.get(f"{public}/metrics", timeout=10, verify=False)
    assert metrics.status_code == 200
    lines = [line for line in metrics.text.splitlines() if line.startswith("tasks_done_total")]
    assert sorted(lines) == ['tasks_done_total{instance="",job="worker-a"} 3',
                             'tasks_done_total{instance="",job="worker-b"} 3']
    refused = requests.post(f"{public}/metrics", data="tasks_done_total 1\n", timeout=10, verify=False)
    assert refused.status_code == 405 and refused.headers["Allow"] == "GET, HEAD"
    assert requests.get(f"{public}/metrics/job/worker-a", timeout=10, verify=False).status_code == 404


def container_init_pid(pod_uid: str) -> int:
    """The host pid of the process that is pid 1 of a container of the pod (not the sandbox's
    pause): found by the pod's cgroup, which the kubelet names after its uid."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cgroups = (entry / "cgroup").read_text()
            status = (entry / "status").read_text()
            command = (entry / "cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
        except OSError:
            continue
        namespace_pids = next(line.split()[1:] for line in status.splitlines() if line.startswith("NSpid:"))
        if f"pod{pod_uid}" in cgroups and namespace_pids[-1] == "1" and not command.endswith("pause"):
            found.append(int(entry.name))
    assert len(found) == 1, found
    return found[0]


def test_a_hung_postgres_is_restarted_by_its_liveness_probe(core, pods):
    pod = pods.wait_ready("postgres")
    restarts = pod.status.container_statuses[0].restart_count
    # SIGSTOP the postmaster: the process is there, the server does not answer. It is the
    # container's first process, which takes no SIGSTOP from inside its PID namespace, so the
    # test (root on the host, as the node is) sends it from outside.
    os.kill(container_init_pid(pod.metadata.uid), signal.SIGSTOP)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        current = core.read_namespaced_pod(pod.metadata.name, PROJECT)
        if current.status.container_statuses[0].restart_count > restarts:
            break
        time.sleep(2)
    else:
        raise AssertionError("the hung postgres was not restarted within 300 s")
    pod = pods.wait_ready("postgres", timeout=300)
    assert pods.psql(pod, "SELECT note FROM kept WHERE id = 1").strip() == "first"


def test_valkey_runs_as_its_image_user_and_keeps_its_data(pods, local_cluster, secrets_dir):
    """kv_database valkey (as upstream runs stg and prod): the official image's contract,
    through the Debian stand-in: started as root it runs the server as 999, with the rendered
    config file, and the data on its claim survives a pod deletion."""
    deployed = make(local_cluster, "deploy", secrets_dir, "-e kv_database=valkey", TAGS="redis")
    assert deployed.returncode == 0, deployed.stdout[-3000:]
    pod = pods.wait_ready("valkey")
    assert pod.spec.node_name == node.NODE_NAME
    status = pods.exec_in(pod, ["cat", "/proc/1/status"])
    assert [line.split()[1:] for line in status.splitlines() if line.startswith(("Uid:", "Gid:"))] == [
        ["999"] * 4, ["999"] * 4], status
    assert pods.cli(pod, "CONFIG", "GET", "maxmemory-policy", host="valkey", program="valkey-cli").split() == [
        "maxmemory-policy", "volatile-lru"]
    assert pods.cli(pod, "SET", "kept", "by-valkey", host="valkey", program="valkey-cli") == "OK"
    assert pods.cli(pod, "SAVE", host="valkey", program="valkey-cli") == "OK"
    pod = pods.delete_and_wait("valkey")
    assert pods.cli(pod, "GET", "kept", host="valkey", program="valkey-cli") == "by-valkey"

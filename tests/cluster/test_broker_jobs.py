"""make queues and make purge-queues on the local control plane, in the namespace packit-broker.

The broker (Redis) and the Jobs run for real on the local cluster's real node (a Debian
stand-in of the sclorg Redis image): the test sends Celery tasks into the queues from the
host, through the Service's ClusterIP, with the real celery library, and the report and the
purge count and delete them; a Job that cannot log in fails with the server's own message.
The worker pools have no real image: kwok simulates their pods, which is enough to show which
pools stop and start again and when. tests/system/test_broker_queues.py runs the script
against Redis on loopback with the cases a cluster cannot make (unacknowledged messages of a
dead worker, results without expiry).

The tests run in file order on one deployment of Redis and the two worker pools of a split
deployment (short-running; long-running with rate-limited), which the second test deploys.
Without a real node they are skipped (tests/run.sh requires it in CI).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from types import SimpleNamespace

from localcluster import node
from tests.support import local_redis
from tests.support.deploytools import REPO, empty_project_namespaces, make_in_project, project_objects, refused
from tests.support.realnode import RealPods, real_core

pytestmark = pytest.mark.cluster
PROJECT = "packit-broker"
EMPTIED_AFTER = (PROJECT,)  # conftest
TAGS = "redis,packit-worker"
SPLIT = "-e workers_split=true"
SCRIPT = (REPO / "roles" / "day2" / "files" / "broker-queues.sh").read_text()
SHORT, LONG = "packit-worker-short-running", "packit-worker-long-running"
ANNOTATION = "packit.dev/replicas-before-purge"
PASSWORD = {"secretKeyRef": {"name": "redis-password", "key": "password"}}


@pytest.fixture(scope="module")
def secrets(secrets_dir) -> Path:
    return secrets_dir


@pytest.fixture(scope="module")
def pods(local_cluster) -> RealPods:
    return RealPods(real_core(local_cluster), PROJECT)


def send(pods: RealPods, queue: str, count: int) -> None:
    """`count` Celery tasks into `queue`, sent from the host to the broker's ClusterIP as
    Packit's API sends them."""
    pods.wait_ready("redis")
    service = pods.core.read_namespaced_service("redis", PROJECT)
    local_redis.send(SimpleNamespace(url=f"redis://{service.spec.cluster_ip}:6379"), queue, count)


def waiting(pods: RealPods, queue: str) -> int:
    """The messages waiting in `queue` (kombu's list of it), read in the broker's pod."""
    pod = pods.wait_ready("redis")
    return int(pods.cli(pod, "LLEN", queue, host="localhost"))


def make(local_cluster, target: str, secrets: Path, extra: str = "", **variables: str):
    return make_in_project(local_cluster, target, secrets, PROJECT, PROJECT, f"{SPLIT} {extra}", **variables)


def get(admin, api_version: str, kind: str, name: str) -> dict:
    return admin.resources.get(api_version=api_version, kind=kind).get(name=name, namespace=PROJECT).to_dict()


def jobs(admin) -> dict[str, dict]:
    items = admin.resources.get(api_version="batch/v1", kind="Job").get(namespace=PROJECT).to_dict()["items"]
    return {job["metadata"]["name"]: job for job in items}


def workers(admin) -> dict[str, tuple[int, int, str | None]]:
    """name -> (generation, replicas, the purge annotation) of the worker pools."""
    found = {}
    for name in (SHORT, LONG):
        sts = get(admin, "apps/v1", "StatefulSet", name)
        found[name] = (sts["metadata"]["generation"], sts["spec"]["replicas"],
                       (sts["metadata"].get("annotations") or {}).get(ANNOTATION))
    return found


def objects(admin) -> dict[tuple, tuple]:
    return project_objects(admin, (PROJECT,))


def text(result) -> str:
    return " ".join(result.stdout.split())


def test_without_a_broker_nothing_runs(admin, local_cluster, secrets):
    empty_project_namespaces(admin, local_cluster, (PROJECT,))
    before = objects(admin)
    message = f"there is no broker workload redis in {PROJECT}: deploy it first (make deploy TAGS=redis); nothing was changed"
    assert refused(make(local_cluster, "queues", secrets), message)
    purge = make(local_cluster, "purge-queues", secrets, QUEUES="short-running", CONFIRM="dev")
    assert refused(purge, f"there is no broker workload redis in {PROJECT} (kv_database in vars/packit/dev.yml): "
                          "deploy it first; nothing was changed"), purge.stdout[-3000:]
    assert objects(admin) == before


@pytest.mark.parametrize(("variables", "message"), [
    ({"QUEUES": "short-running"},
     "purge-queues deletes work users are waiting for: confirm with CONFIRM=dev; nothing was changed"),
    ({"QUEUES": "short-running", "CONFIRM": "prod"},
     "purge-queues deletes work users are waiting for: confirm with CONFIRM=dev (CONFIRM=prod names another "
     "deployment); nothing was changed"),
    ({"CONFIRM": "dev"}, "QUEUES is not set: name the queues to purge, e.g. "
                         "QUEUES=short-running,long-running,rate-limited; nothing was changed"),
    ({"QUEUES": "short-running,celery", "CONFIRM": "dev"},
     "unknown queue celery in QUEUES: the workers of packit/dev consume short-running, long-running, "
     "rate-limited; nothing was changed"),
])
def test_a_purge_is_refused_before_anything_changes(admin, local_cluster, secrets, variables, message):
    if not jobs(admin) and ("StatefulSet", PROJECT, SHORT) not in objects(admin):
        deployed = make(local_cluster, "deploy", secrets, TAGS=TAGS)
        assert deployed.returncode == 0, deployed.stdout[-3000:]
    before = objects(admin)
    result = make(local_cluster, "purge-queues", secrets, **variables)
    assert refused(result, message), result.stdout[-3000:]
    assert objects(admin) == before


def test_the_report_counts_what_waits_and_leaves_nothing_behind(admin, pods, local_cluster, secrets):
    """A report changes nothing: its Job is gone again once read."""
    send(pods, "short-running", 5)
    send(pods, "long-running", 3)
    send(pods, "rate-limited", 2)
    before = objects(admin)
    result = make(local_cluster, "queues", secrets)
    assert result.returncode == 0, result.stdout[-3000:]
    # The report's table, one row a queue: name, waiting, unacked, oldest unacked, oldest task.
    table = [line.split() for line in result.stdout.replace("\\n", "\n").splitlines()]
    rows = {words[0].strip('"'): words[1:] for words in table
            if words and words[0].strip('"') in ("short-running", "long-running", "rate-limited")}
    assert rows["short-running"][:4] == ["5", "0", "-", "task.steve_jobs.process_message"], result.stdout[-3000:]
    assert rows["long-running"][:2] == ["3", "0"] and rows["rate-limited"][:2] == ["2", "0"]
    assert {k: v for k, v in objects(admin).items() if k[0] != "Pod"} == \
        {k: v for k, v in before.items() if k[0] != "Pod"}
    assert not jobs(admin)


def test_the_preview_changes_nothing(admin, local_cluster, secrets):
    before = objects(admin)
    result = make(local_cluster, "purge-queues", secrets, "--check", QUEUES="rate-limited", CONFIRM="dev")
    assert result.returncode == 0, result.stdout[-3000:]
    assert re.search(r"would run Job broker-purge-\d{8}-\d{6}: purge rate-limited with image \S+ "
                     rf"would stop and start again: {LONG}", text(result).replace("\\n", " ")), result.stdout[-3000:]
    assert objects(admin) == before


def test_a_purge_stops_the_workers_of_its_queues_only_and_starts_them_again(admin, pods, local_cluster, secrets):
    redis = get(admin, "apps/v1", "Deployment", "redis")["spec"]["template"]["spec"]["containers"][0]
    before = workers(admin)
    result = make(local_cluster, "purge-queues", secrets, QUEUES="rate-limited", CONFIRM="dev")
    assert result.returncode == 0, result.stdout[-3000:]
    assert f"stopped and started again: {LONG}" in text(result)
    # The messages of rate-limited are gone, those of the other queues are there.
    assert "rate-limited: 2 messages deleted" in text(result)
    assert [waiting(pods, queue) for queue in ("rate-limited", "long-running", "short-running")] == [0, 3, 5]
    after = workers(admin)
    # long-running's pool consumes rate-limited: scaled to 0 and back (two spec changes), the
    # annotation gone; the short-running pool was not touched.
    assert after[LONG] == (before[LONG][0] + 2, before[LONG][1], None)
    assert after[SHORT] == before[SHORT]
    (job,) = jobs(admin).values()
    assert job["metadata"]["name"].startswith("broker-purge-")
    assert job["metadata"]["annotations"]["packit.dev/queues"] == "rate-limited"
    assert job["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "packit-deployment"
    assert job["metadata"]["labels"]["app.kubernetes.io/component"] == "redis"
    assert job["status"]["succeeded"] == 1
    assert [pod.spec.node_name for pod in pods.job_pods(job["metadata"]["name"])] == [node.NODE_NAME]
    spec = job["spec"]
    assert (spec["backoffLimit"], spec["ttlSecondsAfterFinished"]) == (0, 7 * 24 * 3600)
    (container,) = spec["template"]["spec"]["containers"]
    assert container["image"] == redis["image"]
    assert container["command"] == ["sh", "-c", SCRIPT, "broker-queues.sh", "purge", "rate-limited"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env == {"BROKER_HOST": "redis", "BROKER_PORT": "6379", "BROKER_DB": "0", "RESULTS_DB": "1"}


def test_workers_that_do_not_stop_in_time_are_started_again(admin, local_cluster, secrets):
    """With no time to wait, the stopped pool's pod is still there: no Job runs, and the pool runs again."""
    before, known = workers(admin), set(jobs(admin))
    result = make(local_cluster, "purge-queues", secrets, "-e day2_broker_timeout=0", QUEUES="short-running",
                  CONFIRM="dev")
    assert refused(result, f"StatefulSet {SHORT} still has 1 pods 0s after it was scaled to 0; nothing was purged"), \
        result.stdout[-3000:]
    assert set(jobs(admin)) == known
    assert workers(admin) == {**before, SHORT: (before[SHORT][0] + 2, before[SHORT][1], None)}


def test_the_job_gets_the_password_as_the_broker_does(admin, pods, local_cluster, secrets):
    """A broker whose container has REDIS_PASSWORD (the sclorg image's requirepass) from a Secret:
    the Job's CLI gets the same reference as REDISCLI_AUTH, and logs in with it."""
    pods.core.create_namespaced_secret(PROJECT, {"metadata": {"name": "redis-password"},
                                                 "stringData": {"password": "first-password"}})
    old = pods.wait_ready("redis")
    deployment = admin.resources.get(api_version="apps/v1", kind="Deployment")
    deployment.patch(name="redis", namespace=PROJECT, content_type="application/strategic-merge-patch+json",
                     body={"spec": {"template": {"spec": {"containers": [
                         {"name": "redis", "env": [{"name": "REDIS_PASSWORD", "valueFrom": PASSWORD}]}]}}}})
    pods.wait_ready("redis", other_than=old.metadata.name)
    known = set(jobs(admin))
    result = make(local_cluster, "purge-queues", secrets, QUEUES="short-running", CONFIRM="dev")
    assert result.returncode == 0, result.stdout[-3000:]
    assert "short-running: 5 messages deleted" in text(result)
    (job,) = [j for name, j in jobs(admin).items() if name not in known]
    env = {e["name"]: e for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["REDISCLI_AUTH"] == {"name": "REDISCLI_AUTH", "valueFrom": PASSWORD}


def test_a_failed_purge_starts_the_workers_again(admin, pods, local_cluster, secrets):
    """The Secret's password changed, the broker still runs with the old one (a rotation
    without a restart): the Job cannot log in, and the run says so and whose password it used."""
    pods.core.patch_namespaced_secret("redis-password", PROJECT, {"stringData": {"password": "rotated"}})
    before = workers(admin)
    result = make(local_cluster, "purge-queues", secrets, QUEUES="short-running,long-running", CONFIRM="dev")
    assert re.search(r"Job broker-purge-\d{8}-\d{6} \(purge of short-running, long-running\) failed: "
                     r"redis:6379 db 0: (WRONGPASS|AUTH failed)[^;]*\(the Job takes the broker's password from the "
                     r"REDIS_PASSWORD variable of workload redis's container\)", text(result)), result.stdout[-3000:]
    assert result.returncode != 0
    after = workers(admin)
    assert after == {name: (generation + 2, replicas, None) for name, (generation, replicas, _) in before.items()}
    assert waiting(pods, "long-running") == 3

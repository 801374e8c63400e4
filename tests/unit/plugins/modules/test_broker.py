"""The broker module's pure parts: the report's parsing and table, the consumers of a queue, and the Job."""

from __future__ import annotations

import pytest

from tests.support.moduletools import load

broker = load("modules", "broker")

REPORT = "\n".join([
    "queue\tshort-running\t26\t4\t88\ttask.a\tid-1\t-",
    "queue\tlong-running\t20\t0\t-\ttask.b\tid-2\t2026-12-02T19:38:06+00:00",
    "queue\trate-limited\t0\t0\t-\t-\t-\t-",
    "unacked_other\t1",
    "memory\t1048576\t2097152\t4194304\tnoeviction\t5",
    "group\t0\tqueues\t3\t3496\t3",
    "group\t1\tresults\t15\t9000\t3",
])


def test_the_report_lines_become_numbers():
    found = broker.parse_report(REPORT)
    assert found["queues"][0] == {"name": "short-running", "waiting": 26, "unacked": 4, "oldest_unacked_seconds": 88,
                                  "oldest_task": "task.a", "oldest_id": "id-1", "oldest_eta": "-"}
    assert found["queues"][1]["oldest_unacked_seconds"] is None
    assert found["unacked_other"] == 1
    assert found["memory"] == {"used": 1048576, "peak": 2097152, "maxmemory": 4194304, "policy": "noeviction",
                               "evicted_keys": 5}
    assert found["groups"][1] == {"db": 1, "group": "results", "keys": 15, "bytes": 9000, "no_expiry": 3}
    assert broker.parse_report("purged\tshort-running\t26\npurged\trate-limited\t0")["purged"] == {
        "short-running": 26, "rate-limited": 0}


def test_an_error_line_is_the_failure():
    with pytest.raises(broker.K8sError, match="^redis:6379 db 0: NOAUTH Authentication required.$"):
        broker.parse_report("error\tredis:6379 db 0: NOAUTH Authentication required.")


def test_a_failed_job_shows_the_scripts_line_and_where_the_password_came_from():
    """A failed Job's message is its pod's termination message: the script's error line."""
    p = {"workload": "redis"}
    message = "Job broker-purge-1 (purge of q) failed: error\tredis:6379 db 0: AUTH failed: WRONGPASS invalid"
    assert broker.password_hint(message, p) == (
        "Job broker-purge-1 (purge of q) failed: redis:6379 db 0: AUTH failed: WRONGPASS invalid (the Job takes "
        "the broker's password from the REDIS_PASSWORD variable of workload redis's container)")
    assert broker.password_hint("Job x (report) failed: error no queue named", p) == \
        "Job x (report) failed: no queue named"


def test_the_table_an_operator_reads():
    lines = broker.report_lines(broker.parse_report(REPORT))
    assert lines[:4] == [
        "QUEUE          WAITING  UNACKED  OLDEST UNACKED  OLDEST WAITING",
        "short-running  26       4        88s             task.a",
        "long-running   20       0        -               task.b (eta 2026-12-02T19:38:06+00:00)",
        "rate-limited   0        0        -               -",
    ]
    assert "unacknowledged messages of other queues: 1" in lines
    assert ("memory: 1.0 MiB used of maxmemory 4.0 MiB (25%), peak 2.0 MiB, policy noeviction, evicted keys 5"
            in lines)
    # Key groups by size, largest first.
    assert [line.split()[:2] for line in lines if line[:1].isdigit()] == [["1", "results"], ["0", "queues"]]
    assert "warning: maxmemory-policy noeviction: writes fail when memory is full" in lines
    assert "warning: 3 task results have no expiry (result_expires): they stay until deleted" in lines


def test_no_maxmemory_is_said():
    found = broker.parse_report("queue\tq\t0\t0\t-\t-\t-\t-\nmemory\t100\t100\t0\tnoeviction\t0")
    assert "memory: 100 B used of no maxmemory (unbounded), peak 100 B, policy noeviction, evicted keys 0" in \
        broker.report_lines(found)


@pytest.mark.parametrize(("env", "queues"), [
    ([{"name": "QUEUES", "value": "short-running, long-running"}], {"short-running", "long-running"}),
    ([{"name": "QUEUES", "valueFrom": {"configMapKeyRef": {"name": "x", "key": "y"}}}], set()),
    ([{"name": "APP", "value": "short-running"}], set()),
])
def test_the_workers_of_a_queue_are_those_whose_queues_variable_names_it(env, queues):
    assert broker.consumed_queues({"spec": {"containers": [{"name": "w", "env": env}]}}) == queues


def test_the_job_runs_the_script_against_the_service():
    params = {"namespace": "ns", "step": "purge", "workload": "valkey", "queues": ["a", "b"], "script": "echo",
              "port": 6379, "broker_db": 0, "results_db": 1, "labels": {"x": "y"}, "timeout": 60}
    password = {"name": "REDIS_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}
    job = broker.job_body(params, "broker-purge-1", "img", password)
    pod = job["spec"]["template"]["spec"]
    assert (job["spec"]["backoffLimit"], job["spec"]["activeDeadlineSeconds"], pod["restartPolicy"]) == (0, 60, "Never")
    (container,) = pod["containers"]
    assert container["command"] == ["sh", "-c", "echo", "broker-queues.sh", "purge", "a,b"]
    assert container["image"] == "img"
    env = {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}
    assert env == {"BROKER_HOST": "valkey", "BROKER_PORT": "6379", "BROKER_DB": "0", "RESULTS_DB": "1",
                   "REDISCLI_AUTH": {"secretKeyRef": {"name": "s", "key": "k"}}}
    assert job["metadata"]["labels"] == {"x": "y", "app.kubernetes.io/name": "broker-purge"}
    report = broker.job_body(dict(params, step="report"), "broker-report-1", "img", None)
    assert report["spec"]["ttlSecondsAfterFinished"] == 24 * 3600
    assert "REDISCLI_AUTH" not in {e["name"] for e in report["spec"]["template"]["spec"]["containers"][0]["env"]}

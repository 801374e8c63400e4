"""roles/day2/files/broker-queues.sh, the script of the make queues and make purge-queues Jobs,
against Debian's real redis-server on loopback, with messages made by the real Celery: tasks
sent as Packit's API sends them (some delayed, some with a priority), messages a worker took
with acks_late and never acknowledged (it died), and task results with and without expiry.
The report is read back with the broker module's own parser.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from tests.support import local_redis
from tests.support.local_redis import QUEUES, RESULTS_DB, Server, run_script
from tests.support.moduletools import load
from tests.support.systemtools import require

pytestmark = pytest.mark.system
broker = load("modules", "broker")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    require(local_redis.REDIS_SERVER, "redis-server")
    require(local_redis.REDIS_CLI, "redis-tools")
    running = Server(tmp_path / "redis")
    running.start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def traffic(server: Server) -> Server:
    """30 tasks for short-running of which a dead worker took 4 unacknowledged, 20 for long-running
    (the first 5 delayed, so the oldest has an eta), 7 for rate-limited with a priority (kombu keeps
    them in a list of their own), 12 results with an expiry and 3 without."""
    local_redis.send(server, "long-running", 5, countdown=600)
    local_redis.send(server, "long-running", 15)
    local_redis.send(server, "short-running", 30)
    local_redis.send(server, "rate-limited", 7, priority=5)
    local_redis.take_unacked(server, "short-running", 4)
    local_redis.store_results(server, 12, expires=86400)
    local_redis.store_results(server, 3, expires=None)
    return server


def report(server: Server, tmp_path: Path, *args: str) -> tuple[dict, str]:
    out = tmp_path / "termination-log"
    done = run_script(server, out, *args)
    assert done.returncode == 0, done.stderr
    assert out.read_text() == done.stdout  # the termination message is what the log shows
    return broker.parse_report(out.read_text()), done.stdout


def test_the_report_counts_what_was_put_in(traffic, tmp_path):
    found, text = report(traffic, tmp_path, "report", ",".join(QUEUES))
    queues = {q["name"]: q for q in found["queues"]}
    assert [q["name"] for q in found["queues"]] == list(QUEUES)
    assert (queues["short-running"]["waiting"], queues["short-running"]["unacked"]) == (26, 4)
    assert (queues["long-running"]["waiting"], queues["long-running"]["unacked"]) == (20, 0)
    assert (queues["rate-limited"]["waiting"], queues["rate-limited"]["unacked"]) == (7, 0)
    assert found["unacked_other"] == 0
    # The oldest waiting message is the first one sent: a delayed task, so it has an eta.
    assert queues["long-running"]["oldest_task"] == "task.steve_jobs.process_message"
    assert queues["long-running"]["oldest_eta"].startswith("20")
    assert queues["short-running"]["oldest_eta"] == "-"
    assert 0 <= queues["short-running"]["oldest_unacked_seconds"] < 120
    assert queues["long-running"]["oldest_unacked_seconds"] is None
    memory = found["memory"]
    assert memory["maxmemory"] == 256 * 1024 * 1024 and memory["policy"] == "volatile-lru"
    assert memory["used"] > 0 and memory["evicted_keys"] == 0
    groups = {(g["db"], g["group"]): g for g in found["groups"]}
    # rate-limited's messages are in its priority list only (priority 5 is kombu's step 3):
    # short-running, long-running, rate-limited\x06\x163.
    assert groups[(0, "queues")]["keys"] == 3 and groups[(0, "queues")]["no_expiry"] == 3
    assert groups[(0, "unacked")]["keys"] == 2  # the hash and its index (the mutex is gone)
    assert groups[(0, "bindings")]["keys"] == 3
    assert (groups[(RESULTS_DB, "results")]["keys"], groups[(RESULTS_DB, "results")]["no_expiry"]) == (15, 3)
    assert all(g["bytes"] > 0 for g in found["groups"])
    lines = broker.report_lines(found)
    assert lines[0].split() == ["QUEUE", "WAITING", "UNACKED", "OLDEST", "UNACKED", "OLDEST", "WAITING"]
    assert "warning: 3 task results have no expiry (result_expires): they stay until deleted" in lines
    assert "(eta 20" in next(line for line in lines if line.startswith("long-running"))
    # The report changed nothing.
    again, _ = report(traffic, tmp_path, "report", ",".join(QUEUES))
    assert [q["waiting"] for q in again["queues"]] == [26, 20, 7]


def test_a_purge_deletes_the_named_queues_waiting_messages_and_nothing_else(traffic, tmp_path):
    before = {db: traffic.keys(db) for db in (0, RESULTS_DB)}
    found, _ = report(traffic, tmp_path, "purge", "short-running,rate-limited")
    assert found["purged"] == {"short-running": 26, "rate-limited": 7}
    after = {db: traffic.keys(db) for db in (0, RESULTS_DB)}
    gone = set(before[0]) - set(after[0])
    assert gone == {"short-running", "rate-limited\x06\x163"}
    # Everything else is as it was: long-running, the 4 unacknowledged messages, the bindings,
    # the results.
    assert {key: value for key, value in before[0].items() if key not in gone} == after[0]
    assert before[RESULTS_DB] == after[RESULTS_DB]
    assert traffic.cli("HLEN", "unacked").stdout.strip() == "4"
    counted, _ = report(traffic, tmp_path, "report", ",".join(QUEUES))
    assert [(q["waiting"], q["unacked"]) for q in counted["queues"]] == [(0, 4), (20, 0), (0, 0)]
    # A second purge finds nothing to delete.
    again, _ = report(traffic, tmp_path, "purge", "short-running,rate-limited")
    assert again["purged"] == {"short-running": 0, "rate-limited": 0}


def test_a_broker_with_a_password(tmp_path):
    """The Job gets the password as REDISCLI_AUTH; without it the script fails with the server's line."""
    require(local_redis.REDIS_SERVER, "redis-server")
    server = Server(tmp_path / "redis", password="s3cret-broker")
    server.start()
    try:
        local_redis.send(server, "short-running", 3)
        found, _ = report(server, tmp_path, "report", "short-running")
        assert found["queues"][0]["waiting"] == 3
        out = tmp_path / "refused"
        done = run_script(server, out, "report", "short-running", password="")
        assert done.returncode == 1
        assert out.read_text() == f"error\t127.0.0.1:{server.port} db 0: NOAUTH Authentication required.\n"
        with pytest.raises(Exception, match="NOAUTH Authentication required"):
            broker.parse_report(out.read_text())
        assert server.cli("LLEN", "short-running").stdout.strip() == "3"
    finally:
        server.stop()


@pytest.mark.parametrize(("args", "line"), [
    (("report", "short-running"), "Connection refused"),
    (("flush", "short-running"), "usage: broker-queues.sh report|purge QUEUES (got 'flush')"),
    (("purge", ""), "no queue named"),
])
def test_failures_are_one_line_in_the_termination_message(server, tmp_path, args, line):
    out = tmp_path / "termination-log"
    if line == "Connection refused":
        server.stop()
    done = run_script(server, out, *args)
    assert done.returncode == 1
    (message,) = out.read_text().splitlines()
    assert message.startswith("error\t") and line in message

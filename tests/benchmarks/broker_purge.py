#!/usr/bin/env python3
"""Time the broker Jobs' script (roles/day2/files/broker-queues.sh) on a full broker; print the figures.

    python -m tests.benchmarks.broker_purge [--messages N] [--results N] [--rounds N] [--keep-port]

Starts Debian's redis-server on loopback (tests/support/local_redis.py). One real Celery message
is made with `celery` (send_task, as Packit's API sends its tasks); N copies of it, each with its
own task id and delivery tag, are pushed into short-running, and N task results with an expiry
into the results db. Then, RUNS times each: the report (SCAN of every key, page by page) and a
purge of short-running (refilled before each run). Each figure is the whole script, the redis-cli
processes it starts included, from a monotonic clock: min, median, max. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from tests.support import local_redis
from tests.support.local_redis import QUEUES, RESULTS_DB, Server, run_script


def template(server: Server) -> str:
    """One message as Celery writes it into the queue's list."""
    local_redis.send(server, "template", 1)
    message = server.cli("RPOP", "template").stdout.rstrip("\n")
    assert message.startswith("{"), message
    return message


def fill(server: Server, message: str, queue: str, count: int) -> None:
    """`count` copies of `message` into `queue`, each with new ids (redis-cli --pipe, raw protocol)."""
    decoded = json.loads(message)
    old_id, old_tag = decoded["headers"]["id"], decoded["properties"]["delivery_tag"]
    lines = []
    for _ in range(count):
        body = message.replace(old_id, str(uuid.uuid4())).replace(old_tag, str(uuid.uuid4()))
        lines.append(protocol("LPUSH", queue, body))
    pipe(server, b"".join(lines), 0)


def fill_results(server: Server, count: int) -> None:
    result = '{"status": "SUCCESS", "result": {"done": 1}, "traceback": null, "children": [], "date_done": "2026-12-02T20:00:00", "task_id": "%s"}'
    lines = []
    for _ in range(count):
        task = str(uuid.uuid4())
        lines.append(protocol("SET", f"celery-task-meta-{task}", result % task, "EX", "86400"))
    pipe(server, b"".join(lines), RESULTS_DB)


def protocol(*args: str) -> bytes:
    parts = [f"*{len(args)}\r\n".encode()]
    for arg in args:
        data = arg.encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


def pipe(server: Server, data: bytes, db: int) -> None:
    subprocess.run([local_redis.REDIS_CLI, "-p", str(server.port), "-n", str(db), "--pipe"], input=data,
                   check=True, capture_output=True)


def timed(server: Server, report: Path, *args: str) -> float:
    start = time.monotonic()
    done = run_script(server, report, *args)
    took = time.monotonic() - start
    assert done.returncode == 0, done.stderr
    return took


def figures(name: str, values: list[float]) -> None:
    print(f"{name:<44} min {min(values):6.3f} s  median {statistics.median(values):6.3f} s  max {max(values):6.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--results", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(Path(tmp) / "redis")
        server.start()
        try:
            message = template(server)
            report = Path(tmp) / "termination-log"
            start = time.monotonic()
            fill(server, message, "short-running", args.messages)
            fill_results(server, args.results)
            print(f"filled {args.messages} messages ({len(message)} bytes each) and {args.results} results "
                  f"in {time.monotonic() - start:.1f} s; used_memory "
                  f"{server.cli('INFO', 'memory').stdout.split('used_memory_human:')[1].split()[0]}")
            reports = [timed(server, report, "report", ",".join(QUEUES)) for _ in range(args.rounds)]
            print(report.read_text(), end="")
            purges = []
            for _ in range(args.rounds):
                if server.cli("LLEN", "short-running").stdout.strip() != str(args.messages):
                    server.cli("DEL", "short-running")
                    fill(server, message, "short-running", args.messages)
                purges.append(timed(server, report, "purge", "short-running"))
                assert report.read_text() == f"purged\tshort-running\t{args.messages}\n", report.read_text()
            figures(f"report ({args.messages} waiting, {args.results} results)", reports)
            figures(f"purge of {args.messages} messages", purges)
        finally:
            server.stop()


if __name__ == "__main__":
    main()

"""A Redis server of its own on loopback, Celery traffic made with the real `celery` and `kombu`
libraries, and the broker Jobs' script run against it: for tests/system/test_broker_queues.py and
tests/benchmarks/broker_purge.py.

Debian's redis-server and redis-tools (requirements-debian.txt); celery and kombu are pinned in
requirements.txt (tests only: the deployment never imports them).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from tests.support.local_postgres import free_port

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "roles" / "day2" / "files" / "broker-queues.sh"
REDIS_SERVER = "/usr/bin/redis-server"
REDIS_CLI = "/usr/bin/redis-cli"
QUEUES = ("short-running", "long-running", "rate-limited")
# Packit's databases: the queues in 0 (REDIS_SERVICE_DB), the task results in 1 (REDIS_CELERY_BACKEND).
BROKER_DB, RESULTS_DB = 0, 1


class Server:
    """redis-server on 127.0.0.1 with its data in `root`; with `password`, requirepass."""

    def __init__(self, root: Path, password: str = "") -> None:
        self.root = root
        self.port = free_port()
        self.password = password
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        args = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.root),
                "--save", "", "--appendonly", "no", "--maxmemory", "256mb", "--maxmemory-policy", "volatile-lru"]
        if self.password:
            args += ["--requirepass", self.password]
        log = (self.root / "server.log").open("wb")
        self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while self.cli("PING", check=False).stdout.strip() != "PONG":
            assert self.process.poll() is None, (self.root / "server.log").read_text()
            assert time.monotonic() < deadline, "redis-server did not start within 30 s"
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}"

    def cli(self, *args: str, db: int = BROKER_DB, check: bool = True) -> subprocess.CompletedProcess[str]:
        env = dict(os.environ, REDISCLI_AUTH=self.password) if self.password else None
        return subprocess.run([REDIS_CLI, "--no-auth-warning", "-p", str(self.port), "-n", str(db), *args],
                              env=env, capture_output=True, text=True, check=check)

    def keys(self, db: int = BROKER_DB) -> dict[str, tuple[str, str]]:
        """Every key of the db with its type and a dump of its contents, for comparing."""
        found = {}
        for key in self.cli("--scan", db=db).stdout.splitlines():
            kind = self.cli("TYPE", key, db=db).stdout.strip()
            read = {"list": ("LRANGE", key, "0", "-1"), "hash": ("HGETALL", key), "set": ("SMEMBERS", key),
                    "zset": ("ZRANGE", key, "0", "-1", "WITHSCORES"), "string": ("GET", key)}[kind]
            value = self.cli(*read, db=db).stdout
            found[key] = (kind, "\n".join(sorted(value.splitlines())) if kind in ("set", "hash") else value)
        return found


def python(code: str, *args: str) -> str:
    """Run `code` in a new interpreter (the venv's); its stdout. A worker that must die without
    acknowledging needs a process of its own."""
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code), *args], capture_output=True, text=True,
                          cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return done.stdout


def send(server: Server, queue: str, count: int, countdown: int = 0, priority: int | None = None) -> None:
    """`count` task messages into `queue`, as Packit's API sends them (send_task of celery)."""
    python("""
        import sys
        from celery import Celery
        url, queue, count, countdown, priority = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
        app = Celery(broker=url + "/0", backend=url + "/1")
        options = {"countdown": countdown} if countdown else {}
        if priority != "-":
            options["priority"] = int(priority)
        for i in range(count):
            app.send_task("task.steve_jobs.process_message", args=[{"event": i}], queue=queue, **options)
    """, server.url, queue, str(count), str(countdown), "-" if priority is None else str(priority))


def take_unacked(server: Server, queue: str, count: int) -> None:
    """A worker that takes `count` messages of `queue` (acks_late: not acknowledged) and dies:
    kombu's redis transport keeps them in `unacked` until the visibility timeout restores them."""
    python("""
        import os, sys
        from kombu import Connection, Queue
        url, queue, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
        taken = []
        with Connection(url + "/0") as conn:
            channel = conn.channel()
            channel.basic_qos(0, count, False)
            with conn.Consumer(Queue(queue, routing_key=queue), callbacks=[lambda body, msg: taken.append(msg)],
                               accept=["json"]):
                while len(taken) < count:
                    conn.drain_events(timeout=10)
                os._exit(0)
    """, server.url, queue, str(count))


def store_results(server: Server, count: int, expires: int | None) -> None:
    """`count` task results in the result backend, with Celery's result_expires (None: no expiry)."""
    python("""
        import sys, uuid
        from celery import Celery
        url, count, expires = sys.argv[1], int(sys.argv[2]), sys.argv[3]
        app = Celery(broker=url + "/0", backend=url + "/1")
        app.conf.result_expires = None if expires == "-" else int(expires)
        for i in range(count):
            app.backend.store_result(str(uuid.uuid4()), {"done": i}, "SUCCESS")
    """, server.url, str(count), "-" if expires is None else str(expires))


def run_script(server: Server, report: Path, *args: str, password: str | None = None) -> subprocess.CompletedProcess[str]:
    """broker-queues.sh with the environment the Job's container gets (sh is dash, as in the images
    that have no bash)."""
    env = dict(os.environ, BROKER_HOST="127.0.0.1", BROKER_PORT=str(server.port), BROKER_DB=str(BROKER_DB),
               RESULTS_DB=str(RESULTS_DB), REPORT_FILE=str(report))
    auth = server.password if password is None else password
    if auth:
        env["REDISCLI_AUTH"] = auth
    return subprocess.run(["sh", str(SCRIPT), *args], env=env, capture_output=True, text=True)

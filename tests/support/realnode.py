"""Helpers of the cluster tests whose pods run on the local cluster's real node
(local-cluster/localcluster/node.py): waiting for a pod's own readiness probe, commands in its
containers (exec through the API server and the kubelet), SQL and Redis commands through the
Services by name."""

from __future__ import annotations

import time

import pytest
from kubernetes import client
from kubernetes.stream import stream

from localcluster import node


def real_core(local_cluster) -> client.CoreV1Api:
    """The admin's core API; the test is skipped (with the reason) when the cluster runs
    without a real node. In CI the node is required (tests/run.sh)."""
    if not node.enabled(local_cluster.layout):
        pytest.skip("the local cluster runs without a real node (see the output of its start)")
    return client.CoreV1Api(local_cluster.admin_client())


class RealPods:
    """The pods of one namespace."""

    def __init__(self, core: client.CoreV1Api, namespace: str):
        self.core, self.namespace = core, namespace

    def of(self, app: str) -> list:
        """The pods of `app` (label app.kubernetes.io/name) that are not being deleted."""
        return [pod for pod in self.core.list_namespaced_pod(self.namespace).items
                if (pod.metadata.labels or {}).get("app.kubernetes.io/name") == app
                and not pod.metadata.deletion_timestamp]

    def wait_ready(self, app: str, timeout: float = 240, other_than: str | None = None):
        """The one Ready pod of `app` (not the pod named other_than), by its own readiness probe."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for pod in self.of(app):
                if pod.metadata.name == other_than:
                    continue
                if {c.type: c.status for c in pod.status.conditions or []}.get("Ready") == "True":
                    return pod
            time.sleep(1)
        states = [(p.metadata.name, p.spec.node_name, p.status.phase,
                   [(s.name, s.state.to_dict(), s.restart_count) for s in p.status.container_statuses or []])
                  for p in self.of(app)]
        raise AssertionError(f"no Ready pod of {app} in {self.namespace} after {timeout:.0f}s: {states}")

    def job_pods(self, job: str) -> list:
        """The pods of the Job named `job`."""
        return self.core.list_namespaced_pod(self.namespace, label_selector=f"job-name={job}").items

    def delete_and_wait(self, app: str):
        """Delete the one pod of `app`; its successor, once Ready."""
        (old,) = self.of(app)
        self.core.delete_namespaced_pod(old.metadata.name, self.namespace)
        return self.wait_ready(app, other_than=old.metadata.name)

    def exec_in(self, pod, command: list[str], container: str | None = None) -> str:
        """Run a command in a pod's container; its stdout and stderr."""
        return stream(self.core.connect_get_namespaced_pod_exec, pod.metadata.name, self.namespace,
                      command=command, container=container or pod.spec.containers[0].name,
                      stderr=True, stdin=False, stdout=True, tty=False)

    def until_reached(self, pod, command: list[str], unreached: tuple[str, ...], timeout: float = 60) -> str:
        """exec_in, again while the output starts with or holds one of `unreached`: a pod that
        has just become Ready is reached through its Service once kube-proxy and CoreDNS have the
        Service's new state (a second or a few)."""
        deadline = time.monotonic() + timeout
        while True:
            output = self.exec_in(pod, command)
            if not any(text in output for text in unreached) or time.monotonic() > deadline:
                return output
            time.sleep(1)

    def psql(self, pod, sql: str, host: str = "postgres") -> str:
        """SQL as the application's user (the pod's POSTGRESQL_* variables), over TCP to the
        Service `host` by its name."""
        command = ["sh", "-c", f'PGPASSWORD="$POSTGRESQL_PASSWORD" psql -h {host} -U "$POSTGRESQL_USER" '
                               '-d "$POSTGRESQL_DATABASE" -v ON_ERROR_STOP=1 -At -c "$0"', sql]
        return self.until_reached(pod, command, ("psql: error: connection to server", "could not translate host name"))

    def cli(self, pod, *arguments: str, host: str = "redis", program: str = "redis-cli") -> str:
        """A command of the broker's CLI (redis-cli, valkey-cli) against the Service `host` by its
        name, with the password of the pod's REDIS_PASSWORD if it has one."""
        command = ["sh", "-c", '[ -z "${REDIS_PASSWORD:-}" ] || export REDISCLI_AUTH="$REDIS_PASSWORD"; exec "$0" "$@"',
                   program, "--no-auth-warning", "-h", host, *arguments]
        return self.until_reached(pod, command, ("Could not connect",)).strip()

"""pytest plugin: the `local_cluster` session fixture.

Load it with `pytest_plugins = ["tests.support.local_cluster"]`. The fixture starts
the loopback control plane of the localcluster package (local-cluster/localcluster/,
`python -m localcluster`) unless it is already running, and stops it at the end of the
session only if it started it. The cache directory is the one `python -m localcluster` uses ($LOCAL_CLUSTER_CACHE or
<repo>/.cache/local-cluster), so a cluster started by `make local-cluster`
is reused as it is.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from localcluster import ClusterError, bootstrap, cluster, images, processes, sessions
from localcluster.layout import NAMESPACES, Layout, default_cache_dir


@dataclass
class LocalCluster:
    """Handles and credentials of the running local cluster."""

    layout: Layout
    started_here: bool

    @property
    def host(self) -> str:
        return self.layout.host

    @property
    def ca_cert(self) -> Path:
        return self.layout.ca_cert

    @property
    def cache_dir(self) -> Path:
        return self.layout.cache_dir

    @property
    def admin_kubeconfig(self) -> Path:
        return self.layout.kubeconfig("admin")

    @property
    def deployer_kubeconfig(self) -> Path:
        return self.layout.kubeconfig("deployer")

    @property
    def norights_kubeconfig(self) -> Path:
        return self.layout.kubeconfig("norights")

    @property
    def deployer_token(self) -> str:
        return self.layout.token("deployer")

    @property
    def norights_token(self) -> str:
        return self.layout.token("norights")

    @property
    def admin_token(self) -> str:
        return self.layout.token("admin")

    @property
    def connection_vars(self) -> Path:
        return self.layout.connection_vars

    @property
    def namespaces(self) -> tuple[str, ...]:
        return NAMESPACES

    @property
    def registry(self) -> str:
        """host:port of the local registry (the image mirror of connection.yml)."""
        return self.layout.registry

    def mirror(self, reference: str) -> str:
        """`reference` as the local registry holds it (`<registry>/quay.io/...`)."""
        return f"{self.layout.registry}/{reference}"

    def push_image(self, reference: str) -> str:
        """Push a new image (a new digest) to the local registry under `reference`; its digest."""
        return images.push_new_digest(self.layout, reference)

    def registry_digest(self, reference: str) -> str:
        return images.registry_digest(self.layout, reference)

    def client(self, token: str):
        """A kubernetes.client.ApiClient authenticated with a bearer token."""
        return bootstrap.api_client(self.layout, token)

    def admin_client(self):
        return self.client(self.admin_token)

    def deployer_client(self):
        return self.client(self.deployer_token)

    def stop_api_server(self) -> None:
        """Stop kube-apiserver alone (etcd and the rest keep running)."""
        processes.stop_component(self.layout, "kube-apiserver")

    def start_api_server(self) -> None:
        """Start kube-apiserver again and wait until it is ready."""
        processes.start_component(self.layout, "kube-apiserver")
        processes.wait_component(self.layout, "kube-apiserver")

    @contextlib.contextmanager
    def api_server_stopped(self) -> Iterator[None]:
        """Context in which the API server is down; it is back (ready) afterwards."""
        self.stop_api_server()
        try:
            yield
        finally:
            self.start_api_server()

    def recycle_volumes(self) -> None:
        """Return released PersistentVolumes (Retain policy) to the pool."""
        bootstrap.recycle_volumes(self.layout)

    def ensure_running(self) -> None:
        """Start whatever is not running (after a test stopped the cluster)."""
        if not processes.is_running(self.layout):
            cluster.start(self.layout)

    def other_sessions(self) -> list[int]:
        """Pids of other live test sessions using this cluster."""
        return sessions.other_users(self.layout, os.getpid())


@pytest.fixture(scope="session")
def local_cluster() -> Iterator[LocalCluster]:
    """The running local cluster.

    Started if needed. At the end it is stopped only if a test session (this
    or an earlier one) started it and no other session still uses it; a
    cluster started by hand (`make local-cluster`) is left running.
    """
    layout = Layout(default_cache_dir())
    sessions.register_user(layout, os.getpid())
    try:
        started = cluster.start(layout)
    except ClusterError as exc:
        sessions.unregister_user(layout, os.getpid())
        pytest.fail(f"local cluster did not start: {exc}", pytrace=False)
    if started:
        sessions.session_owned_flag(layout).touch()
    else:
        # Already running: bring the RBAC, nodes, volume pool and registry images up to date
        # with this checkout (idempotent, about a second).
        bootstrap.bootstrap(layout)
    handle = LocalCluster(layout=layout, started_here=started)
    try:
        yield handle
    finally:
        sessions.unregister_user(layout, os.getpid())
        flag = sessions.session_owned_flag(layout)
        if flag.exists() and not sessions.other_users(layout, os.getpid()):
            cluster.stop(layout, quiet=True)
            flag.unlink(missing_ok=True)

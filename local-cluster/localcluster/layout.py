"""The shape of the local cluster (ports, components, namespaces, identities) and where each
of its files lives in the cache directory.

Everything lives in the cache directory (default <repo>/.cache/local-cluster, or
$LOCAL_CLUSTER_CACHE): binaries keyed by version, PKI, tokens, etcd data, registry data,
logs, pid files, config files, kubeconfigs and connection.yml (Ansible vars for deployer).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from localcluster import ClusterError
from localcluster.pins import REPO_ROOT, build_key, node_build_key

HOST = "127.0.0.1"
# The loopback ports the local control plane keeps for itself: uncommon ones (nothing standard
# lives there), below Linux's ephemeral range (32768-60999): a port in that range can be the
# source port of an outgoing connection when a component starts, and its listener then fails
# with "address already in use".
PORT_RANGE = range(26700, 26800)
PORTS = {
    "etcd": 26779,
    "etcd-peer": 26780,
    "kube-apiserver": 26743,
    "kube-controller-manager": 26757,
    "kube-scheduler": 26759,
    "kwok": 26747,
    "registry": 26790,
    "openshift-apiserver": 26745,
    "openshift-controller-manager": 26758,
    "dc-deployer": 26748,
    # the real node (node.py): the kubelet serves on the node's address, the rest on loopback
    "kubelet": 26750,
    "kubelet-healthz": 26751,
    "kube-proxy-healthz": 26752,
    "kube-proxy-metrics": 26753,
    "coredns-health": 26754,
    "coredns-ready": 26755,
}

# Every component; a stop goes in the other order (a start: START_STAGES).
COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok", "registry",
              "openshift-apiserver", "openshift-controller-manager", "dc-deployer")
# The order of a start: the components of a stage start together, and each stage waits for the
# one before it to serve (the API server needs etcd; the controllers, the scheduler and kwok
# need the API server; the OpenShift controllers need openshift-apiserver's APIs).
START_STAGES = (("etcd", "registry"), ("kube-apiserver",), ("kube-controller-manager", "kube-scheduler", "kwok"),
                ("openshift-apiserver",), ("openshift-controller-manager", "dc-deployer"))

NAMESPACES = ("packit-dev", "packit-dev-sandbox", "stream-dev", "stream-dev-sandbox",
              "packit-adopt", "packit-adopt-sandbox", "stream-adopt",  # the takeover tests
              "packit-db",  # the database jobs tests
              "packit-broker",  # the broker jobs tests
              "packit-molecule",  # the molecule scenario (molecule/default)
              "packit-bench", "packit-bench-sandbox",  # make benchmark (emptied before each first deploy)
              "packit--mpp", "packit--config",  # the managed-platform test: a tenant's project and config namespace
              "packit-data")  # the data tier on the real node
# The namespaces whose pods may run on the real node (node.py): the placement policy matches
# only namespaces with this label.
REAL_POD_NAMESPACES = ("packit-data", "packit-dev", "stream-dev", "packit-db", "packit-broker")
REAL_PODS_LABEL = ("local-cluster/real-pods", "true")

SERVICE_CIDR = "10.96.0.0/16"
SERVICE_FIRST_IP = "10.96.0.1"
POD_CIDR = "10.244.0.0/16"
# The real node (node.py): its name, its address (on a bridge of its own) and its pods' /24,
# apart from kwok's fake pod addresses.
REAL_NODE_NAME = "local-node"
REAL_NODE_IP = "10.245.0.1"
REAL_POD_SUBNET = "10.245.0.0/24"
# kwok manages the nodes with this annotation only.
KWOK_NODE_ANNOTATION = ("kwok.x-k8s.io/node", "fake")

# identity -> (user name, groups). Internal components are cluster admins:
# this is a throwaway test cluster and only the two user identities matter.
IDENTITIES = {
    "admin": ("local-admin", ["system:masters"]),
    "kube-controller-manager": ("system:kube-controller-manager", ["system:masters"]),
    "kube-scheduler": ("system:kube-scheduler", ["system:masters"]),
    "kwok": ("kwok-controller", ["system:masters"]),
    "openshift-apiserver": ("system:openshift-apiserver", ["system:masters"]),
    "openshift-controller-manager": ("system:openshift-controller-manager", ["system:masters"]),
    "dc-deployer": ("system:dc-deployer", ["system:masters"]),
    # the real node: the Node authorizer knows the kubelet by this name and group
    "kubelet": ("system:node:local-node", ["system:nodes"]),
    "kube-proxy": ("system:kube-proxy", ["system:masters"]),
    "coredns": ("system:coredns", ["system:masters"]),
    "deployer": ("deployer", []),
    "norights": ("norights", []),
}


@dataclass(frozen=True)
class Layout:
    """Where everything of one cluster lives."""

    cache_dir: Path

    @property
    def bin_dir(self) -> Path:
        return self.cache_dir / "bin" / build_key()

    @property
    def pki_dir(self) -> Path:
        return self.cache_dir / "pki"

    @property
    def etcd_data(self) -> Path:
        return self.cache_dir / "etcd-data"

    @property
    def log_dir(self) -> Path:
        return self.cache_dir / "logs"

    @property
    def run_dir(self) -> Path:
        return self.cache_dir / "run"

    @property
    def tokens_file(self) -> Path:
        return self.pki_dir / "tokens.csv"

    @property
    def ca_cert(self) -> Path:
        return self.cache_dir / "ca.crt"

    @property
    def connection_vars(self) -> Path:
        return self.cache_dir / "connection.yml"

    @property
    def kwok_config(self) -> Path:
        return self.cache_dir / "kwok.yaml"

    @property
    def registry_data(self) -> Path:
        return self.cache_dir / "registry-data"

    @property
    def registry(self) -> str:
        """host:port of the registry on loopback, as image references name it."""
        return f"{HOST}:{PORTS['registry']}"

    @property
    def openshift_crds(self) -> Path:
        return self.bin_dir / "crds"

    def config_file(self, component: str) -> Path:
        return self.cache_dir / f"{component}.yaml"

    @property
    def host(self) -> str:
        return f"https://{HOST}:{PORTS['kube-apiserver']}"

    def kubeconfig(self, identity: str) -> Path:
        return self.cache_dir / f"{identity}.kubeconfig"

    def binary(self, name: str) -> Path:
        return self.bin_dir / name

    @property
    def node_bin_dir(self) -> Path:
        """The real node's binaries (kubelet, kube-proxy, CoreDNS, crictl, pause, containerd),
        keyed apart from the control plane's."""
        return self.cache_dir / "bin" / node_build_key()

    def node_binary(self, name: str) -> Path:
        return self.node_bin_dir / name

    def pid_file(self, component: str) -> Path:
        return self.run_dir / f"{component}.pid"

    def log_file(self, component: str) -> Path:
        return self.log_dir / f"{component}.log"

    def token(self, identity: str) -> str:
        for line in self.tokens_file.read_text().splitlines():
            fields = line.split(",")
            if len(fields) >= 2 and fields[1] == IDENTITIES[identity][0]:
                return fields[0]
        raise ClusterError(f"no token for {identity} in {self.tokens_file}; run start")


def default_cache_dir() -> Path:
    """$LOCAL_CLUSTER_CACHE or <repo>/.cache/local-cluster, with symlinks resolved: the
    processes are recognised by the path of their executable, so every caller must name the
    cache by the same path."""
    env = os.environ.get("LOCAL_CLUSTER_CACHE")
    return Path(env).resolve() if env else (REPO_ROOT / ".cache" / "local-cluster").resolve()


@contextlib.contextmanager
def locked(layout: Layout) -> Iterator[None]:
    """Serialise start/stop/build of one cache directory between processes."""
    layout.cache_dir.mkdir(parents=True, exist_ok=True)
    with open(layout.cache_dir / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)

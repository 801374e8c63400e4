#!/usr/bin/env python3
"""A real Kubernetes and OpenShift control plane on 127.0.0.1 for the tests and local deploys.

Builds etcd, kube-apiserver, kube-controller-manager, kube-scheduler and the kwok
controller from the pinned Go modules in local-cluster/, and (scripts/local_openshift.py)
openshift-apiserver, openshift-controller-manager, the DeploymentConfig deployer and
crane; runs them on loopback with TLS, RBAC and static bearer tokens, next to Debian's
docker-registry. It bootstraps what the deployment expects to find on an OpenShift cluster:
the OpenShift API served by openshift-apiserver behind the aggregation layer, the project
namespaces, fake nodes that run pods (kwok), a pool of PersistentVolumes, a registry that
mirrors every dev image, and two identities (`deployer`, admin in the project namespaces
only, and `norights`, with no bindings).

Everything lives in the cache directory (default <repo>/.cache/local-cluster,
or $LOCAL_CLUSTER_CACHE): binaries keyed by version, PKI, tokens, etcd data, registry
data, logs, pid files, config files, kubeconfigs and connection.yml (Ansible vars for
deployer).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import fcntl
import hashlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Sequence

import requests
import yaml

import local_openshift as osh
import local_pki as pki_files

REPO_ROOT = Path(__file__).resolve().parent.parent
GO_MODULE_DIR = REPO_ROOT / "local-cluster"
KWOK_MODULE_DIR = GO_MODULE_DIR / "kwok"

# Pinned in local-cluster/go.mod and local-cluster/kwok/go.mod; the cache key
# also hashes those files, so a change of pins rebuilds.
KUBERNETES_VERSION = "v1.37.2"
ETCD_VERSION = "v3.7.0"
KWOK_VERSION = "v0.8.0"

# Uncommon loopback ports (nothing standard lives in 46700-46799).
PORTS = {
    "etcd": 46779,
    "etcd-peer": 46780,
    "kube-apiserver": 46743,
    "kube-controller-manager": 46757,
    "kube-scheduler": 46759,
    "kwok": 46747,
    "registry": 46790,
    "openshift-apiserver": 46745,
    "openshift-controller-manager": 46758,
    "dc-deployer": 46748,
}
HOST = "127.0.0.1"

# Start order; stop goes the other way.
COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok", "registry",
              "openshift-apiserver", "openshift-controller-manager", "dc-deployer")
OPENSHIFT_COMMANDS = ("openshift-apiserver", "openshift-controller-manager")
# Debian's docker-registry package (requirements-debian.txt); the cache links it as bin/registry.
REGISTRY_PROGRAM = "docker-registry"
# Seconds a component gets to exit on SIGTERM before SIGKILL (the OpenShift controller
# manager does not handle SIGTERM at all).
STOP_GRACE = {"openshift-controller-manager": 2.0}
K8S_COMMANDS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler")

NAMESPACES = ("packit-dev", "packit-dev-sandbox", "stream-dev", "stream-dev-sandbox",
              "packit-adopt", "packit-adopt-sandbox",  # the takeover tests
              "packit-db")  # the database jobs tests
NODE_COUNT = 3
# kwok fails (instead of completing) the pod of a Job that carries this label, with this message.
JOB_FAIL_LABEL = "local-cluster/fail-job"
JOB_FAIL_MESSAGE = f"the local cluster failed this pod on purpose (its Job has the label {JOB_FAIL_LABEL})"
NODE_CAPACITY = {"cpu": "32", "memory": "64Gi", "pods": "110", "ephemeral-storage": "500Gi"}
PV_COUNT = 40
PV_SIZE = "20Gi"
KWOK_NODE_ANNOTATION = ("kwok.x-k8s.io/node", "fake")
SERVICE_CIDR = "10.96.0.0/16"
SERVICE_FIRST_IP = "10.96.0.1"
POD_CIDR = "10.244.0.0/16"

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
    "deployer": ("deployer", []),
    "norights": ("norights", []),
}


class ClusterError(Exception):
    """A failure reported to the user as one line."""


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


def default_cache_dir() -> Path:
    env = os.environ.get("LOCAL_CLUSTER_CACHE")
    return Path(env).resolve() if env else REPO_ROOT / ".cache" / "local-cluster"


def build_key() -> str:
    """Directory name for the binaries: the versions plus a hash of the pins."""
    digest = hashlib.sha256(k8s_ldflags().encode())
    for module in (GO_MODULE_DIR, KWOK_MODULE_DIR, osh.APISERVER_MODULE_DIR, osh.CONTROLLER_MODULE_DIR,
                   osh.CRANE_MODULE_DIR, osh.DC_DEPLOYER_MODULE_DIR):
        for name in ("go.mod", "go.sum", "main.go"):
            path = module / name
            if path.exists():
                digest.update(path.read_bytes())
    for patch in osh.PATCH_FILES:
        digest.update(patch.read_bytes())
    digest.update(repr(osh.CRD_GLOBS).encode())
    return f"k8s-{KUBERNETES_VERSION}_etcd-{ETCD_VERSION}_kwok-{KWOK_VERSION}_{digest.hexdigest()[:10]}"


# --------------------------------------------------------------------------
# Build


def binaries_present(layout: Layout) -> bool:
    return all(layout.binary(name).is_file() for name in (*K8S_COMMANDS, *OPENSHIFT_COMMANDS, "etcd", "kwok",
                                                          "crane", "dc-deployer")) and layout.openshift_crds.is_dir()


def k8s_ldflags() -> str:
    """Linker flags for the Kubernetes commands: strip, and stamp the release version."""
    major, minor = KUBERNETES_VERSION.lstrip("v").split(".")[:2]
    stamp = {"gitVersion": KUBERNETES_VERSION, "gitMajor": major, "gitMinor": minor, "gitTreeState": "clean"}
    return " ".join(["-s", "-w"] + [f"-X k8s.io/component-base/version.{k}={v}" for k, v in stamp.items()])


def go_build(module_dir: Path, out_dir: Path, packages: Sequence[str], ldflags: str = "-s -w",
             tags: str = "", env_extra: dict | None = None) -> None:
    env = dict(os.environ, GOFLAGS="-mod=readonly -buildvcs=false", **(env_extra or {}))
    cmd = ["go", "build", "-trimpath", f"-ldflags={ldflags}", *([f"-tags={tags}"] if tags else []),
           "-o", f"{out_dir}/", *packages]
    if shutil.which("go") is None:
        raise ClusterError("the Go toolchain (`go`) is not on PATH; install Go 1.26 to build the control plane")
    result = subprocess.run(cmd, cwd=module_dir, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        tail = " | ".join(result.stderr.strip().splitlines()[-5:])
        raise ClusterError(f"go build in {module_dir.name} failed: {tail}")


def build(layout: Layout, force: bool = False) -> float:
    """Build the binaries unless present; returns the seconds spent (0 when cached)."""
    if binaries_present(layout) and not force:
        print(f"binaries cached in {layout.bin_dir}")
        return 0.0
    layout.bin_dir.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(dir=layout.bin_dir.parent, prefix=".build-") as tmp:
        out = Path(tmp)
        osh.prepare_sources()
        steps = (  # what, module directory, packages, go_build options
            (f"kube-apiserver, kube-controller-manager, kube-scheduler {KUBERNETES_VERSION} and etcd {ETCD_VERSION}",
             GO_MODULE_DIR, [f"k8s.io/kubernetes/cmd/{name}" for name in K8S_COMMANDS] + ["./cmd/etcd"],
             {"ldflags": k8s_ldflags()}),
            (f"kwok {KWOK_VERSION}", KWOK_MODULE_DIR, ["sigs.k8s.io/kwok/cmd/kwok"], {}),
            (f"openshift-apiserver {osh.OPENSHIFT_APISERVER_VERSION}", osh.APISERVER_MODULE_DIR,
             ["github.com/openshift/openshift-apiserver/cmd/openshift-apiserver"], {}),
            (f"openshift-controller-manager {osh.OPENSHIFT_CONTROLLER_MANAGER_VERSION}", osh.CONTROLLER_MODULE_DIR,
             ["github.com/openshift/openshift-controller-manager/cmd/openshift-controller-manager"],
             {"tags": osh.CONTROLLER_BUILD_TAGS, "env_extra": {"GONOSUMDB": osh.GONOSUMDB}}),
            (f"dc-deployer (github.com/openshift/oc {osh.OC_VERSION})", osh.DC_DEPLOYER_MODULE_DIR, ["."], {}),
            (f"crane {osh.CRANE_VERSION}", osh.CRANE_MODULE_DIR, ["github.com/google/go-containerregistry/cmd/crane"], {}),
        )
        for what, module_dir, packages, options in steps:
            print(f"building {what} ...", flush=True)
            step_started = time.monotonic()
            go_build(module_dir, out, packages, **options)
            print(f"  took {time.monotonic() - step_started:.0f}s", flush=True)
        osh.copy_crds(out)
        if layout.bin_dir.exists():
            shutil.rmtree(layout.bin_dir)
        out.rename(layout.bin_dir)
        out.mkdir()  # let TemporaryDirectory clean up an empty directory
    if not our_processes(layout):
        for stale in layout.bin_dir.parent.iterdir():
            if stale != layout.bin_dir and not stale.name.startswith("."):
                shutil.rmtree(stale, ignore_errors=True)
    elapsed = time.monotonic() - started
    print(f"build took {elapsed:.0f}s; binaries in {layout.bin_dir}")
    return elapsed


# --------------------------------------------------------------------------
# PKI, tokens, kubeconfigs


_write_private = pki_files.write_private

# Every certificate of the cluster: serving certificates, etcd's client certificate and
# the front-proxy client certificate the aggregator presents to openshift-apiserver.
LEAVES = (
    pki_files.Leaf("apiserver", "ca", "kube-apiserver",
                   dns=("localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
                        "kubernetes.default.svc.cluster.local"), ips=(HOST, SERVICE_FIRST_IP)),
    pki_files.Leaf("etcd-server", "ca", "etcd", dns=("localhost",), ips=(HOST,), client=True),
    pki_files.Leaf("etcd-client", "ca", "etcd-client", server=False, client=True),
    pki_files.Leaf("front-proxy-client", "front-proxy-ca", "front-proxy-client", server=False, client=True),
    pki_files.Leaf("openshift-apiserver", "ca", "openshift-apiserver",
                   dns=(f"{osh.SERVICE}.{osh.NAMESPACE}.svc", f"{osh.SERVICE}.{osh.NAMESPACE}.svc.cluster.local",
                        "localhost"), ips=(HOST,)),
    pki_files.Leaf("openshift-controller-manager", "ca", "openshift-controller-manager",
                   dns=("localhost",), ips=(HOST,)),
    pki_files.Leaf("registry", "ca", "local-registry", dns=("localhost",), ips=(HOST,)),
)


def ensure_pki(layout: Layout) -> None:
    """CAs, certificates, service-account key pair and static tokens (kept across restarts)."""
    pki = layout.pki_dir
    pki.mkdir(parents=True, exist_ok=True)
    for ca in ("ca", "front-proxy-ca"):
        pki_files.ensure_ca(pki, ca)
    for leaf in LEAVES:
        pki_files.ensure_leaf(pki, leaf)
    pki_files.ensure_service_account_keys(pki)
    shutil.copyfile(pki / "ca.crt", layout.ca_cert)
    if not _tokens_complete(layout):
        lines = []
        for identity, (user, groups) in IDENTITIES.items():
            token = secrets.token_hex(24)
            group_field = f',"{",".join(groups)}"' if groups else ""
            lines.append(f"{token},{user},{identity}{group_field}")
        _write_private(layout.tokens_file, ("\n".join(lines) + "\n").encode())


def _tokens_complete(layout: Layout) -> bool:
    """Every identity has a line in the tokens file (a cache from an older version may lack some)."""
    if not layout.tokens_file.exists():
        return False
    users = {line.split(",")[1] for line in layout.tokens_file.read_text().splitlines() if line.count(",") >= 1}
    return all(user in users for user, _ in IDENTITIES.values())


def write_client_files(layout: Layout) -> None:
    """Kubeconfigs for every identity and connection.yml for the deployer."""
    for identity in IDENTITIES:
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "local-cluster",
                          "cluster": {"server": layout.host, "certificate-authority": str(layout.ca_cert)}}],
            "users": [{"name": identity, "user": {"token": layout.token(identity)}}],
            "contexts": [{"name": identity, "context": {"cluster": "local-cluster", "user": identity}}],
            "current-context": identity,
        }
        _write_private(layout.kubeconfig(identity), yaml.safe_dump(config, sort_keys=False).encode())
    connection = {
        "host": layout.host,
        "api_key": layout.token("deployer"),
        "ca_cert": str(layout.ca_cert),
        "validate_certs": True,
        # The ImageStreams import from the registry on loopback, which mirrors every dev image.
        "image_registry_mirror": layout.registry,
    }
    _write_private(layout.connection_vars,
                   ("# Ansible vars: connection of the `deployer` identity to the local cluster,\n"
                    "# and the local registry that mirrors the images.\n"
                    + yaml.safe_dump(connection, sort_keys=False)).encode())


# --------------------------------------------------------------------------
# kwok stages: what the fake kubelet does to nodes and pods


def kwok_stages() -> list[dict]:
    """Stage objects that make managed nodes Ready and pods Running/Ready."""

    def stage(name: str, kind: str, selector: list[dict], nxt: dict, delay: dict | None = None) -> dict:
        spec: dict = {"resourceRef": {"apiGroup": "v1", "kind": kind},
                      "selector": {"matchExpressions": selector}, "next": nxt}
        if delay:
            spec["delay"] = delay
        return {"apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "Stage", "metadata": {"name": name}, "spec": spec}

    node_ready_status = "\n".join([
        "{{ $now := Now }}",
        "conditions:",
        "{{ range NodeConditions }}",
        "- type: {{ .type | Quote }}",
        "  status: {{ .status | Quote }}",
        "  reason: {{ .reason | Quote }}",
        "  message: {{ .message | Quote }}",
        "  lastHeartbeatTime: {{ $now | Quote }}",
        "  lastTransitionTime: {{ $now | Quote }}",
        "{{ end }}",
        "addresses:",
        "- type: InternalIP",
        "  address: {{ NodeIP | Quote }}",
        "- type: Hostname",
        "  address: {{ .metadata.name | Quote }}",
        "{{ with .status.allocatable }}",
        "allocatable:",
        "{{ YAML . 1 }}",
        "{{ end }}",
        "{{ with .status.capacity }}",
        "capacity:",
        "{{ YAML . 1 }}",
        "{{ end }}",
        "nodeInfo:",
        "  architecture: amd64",
        "  operatingSystem: linux",
        "  kubeletVersion: " + KUBERNETES_VERSION,
        "  kubeProxyVersion: " + KUBERNETES_VERSION,
        "  containerRuntimeVersion: kwok-" + KWOK_VERSION,
        "  kernelVersion: kwok",
        "  osImage: kwok",
        "  machineID: ''",
        "  systemUUID: ''",
        "  bootID: ''",
        "phase: Running",
    ])
    pod_running_status = "\n".join([
        "{{ $now := Now }}",
        "phase: Running",
        "startTime: {{ $now | Quote }}",
        "conditions:",
        "{{ range list \"PodScheduled\" \"Initialized\" \"ContainersReady\" \"Ready\" }}",
        "- type: {{ . }}",
        "  status: \"True\"",
        "  lastTransitionTime: {{ $now | Quote }}",
        "{{ end }}",
        "{{ range $.spec.readinessGates }}",
        "- type: {{ .conditionType | Quote }}",
        "  status: \"True\"",
        "  lastTransitionTime: {{ $now | Quote }}",
        "{{ end }}",
        "containerStatuses:",
        "{{ range .spec.containers }}",
        "- name: {{ .name | Quote }}",
        "  image: {{ .image | Quote }}",
        "  ready: true",
        "  started: true",
        "  restartCount: 0",
        "  state:",
        "    running:",
        "      startedAt: {{ $now | Quote }}",
        "{{ end }}",
        "{{ with .spec.initContainers }}",
        "initContainerStatuses:",
        "{{ range . }}",
        "- name: {{ .name | Quote }}",
        "  image: {{ .image | Quote }}",
        "  ready: true",
        "  restartCount: 0",
        "  state:",
        "    terminated:",
        "      exitCode: 0",
        "      reason: Completed",
        "      startedAt: {{ $now | Quote }}",
        "      finishedAt: {{ $now | Quote }}",
        "{{ end }}",
        "{{ end }}",
        "{{ with NodeIPWith .spec.nodeName }}",
        "hostIP: {{ . | Quote }}",
        "hostIPs:",
        "- ip: {{ . | Quote }}",
        "{{ end }}",
        "{{ with PodIPWith .spec.nodeName ( or .spec.hostNetwork false ) ( or .metadata.uid \"\" )"
        " ( or .metadata.name \"\" ) ( or .metadata.namespace \"\" ) }}",
        "podIP: {{ . | Quote }}",
        "podIPs:",
        "- ip: {{ . | Quote }}",
        "{{ end }}",
    ])
    job_pod_done_status = "\n".join([
        "{{ $now := Now }}",
        "phase: Succeeded",
        "containerStatuses:",
        "{{ range .spec.containers }}",
        "- name: {{ .name | Quote }}",
        "  image: {{ .image | Quote }}",
        "  ready: false",
        "  started: false",
        "  restartCount: 0",
        "  state:",
        "    terminated:",
        "      exitCode: 0",
        "      reason: Completed",
        "      startedAt: {{ $now | Quote }}",
        "      finishedAt: {{ $now | Quote }}",
        "{{ end }}",
    ])
    job_pod_failed_status = (job_pod_done_status.replace("phase: Succeeded", "phase: Failed")
                             .replace("exitCode: 0", "exitCode: 1").replace("reason: Completed", "reason: Error")
                             .replace("      finishedAt:", f"      message: {json.dumps(JOB_FAIL_MESSAGE)}\n"
                                                           "      finishedAt:"))
    ready_is_true = '.status.conditions.[] | select( .type == "Ready" ) | .status'
    fail_label = f'.metadata.labels["{JOB_FAIL_LABEL}"]'
    job_pod_running = [{"key": ".metadata.deletionTimestamp", "operator": "DoesNotExist"},
                       {"key": ".status.phase", "operator": "In", "values": ["Running"]},
                       {"key": ".metadata.ownerReferences.[].kind", "operator": "In", "values": ["Job"]}]
    return [
        stage("node-ready", "Node",
              [{"key": ready_is_true, "operator": "NotIn", "values": ["True"]}],
              {"statusTemplate": node_ready_status}),
        stage("node-heartbeat", "Node",
              [{"key": ".status.phase", "operator": "In", "values": ["Running"]},
               {"key": ready_is_true, "operator": "In", "values": ["True"]}],
              {"statusTemplate": "\n".join(node_ready_status.splitlines()[:10])},
              delay={"durationMilliseconds": 20000, "jitterDurationMilliseconds": 25000}),
        stage("pod-run", "Pod",
              [{"key": ".metadata.deletionTimestamp", "operator": "DoesNotExist"},
               {"key": ".status.phase", "operator": "In", "values": ["Pending"]},
               {"key": ready_is_true, "operator": "NotIn", "values": ["True"]}],
              {"statusTemplate": pod_running_status}),
        stage("job-pod-complete", "Pod", [*job_pod_running, {"key": fail_label, "operator": "DoesNotExist"}],
              {"statusTemplate": job_pod_done_status},
              delay={"durationMilliseconds": 1000, "jitterDurationMilliseconds": 2000}),
        # A Job's pod labelled JOB_FAIL_LABEL fails instead, with JOB_FAIL_MESSAGE as its
        # termination message: the tests' way to see a failing Job (kwok runs no container).
        stage("job-pod-fail", "Pod", [*job_pod_running, {"key": fail_label, "operator": "Exists"}],
              {"statusTemplate": job_pod_failed_status},
              delay={"durationMilliseconds": 1000, "jitterDurationMilliseconds": 2000}),
        stage("pod-remove", "Pod",
              [{"key": ".metadata.deletionTimestamp", "operator": "Exists"}],
              {"delete": True}),
    ]


# --------------------------------------------------------------------------
# Processes


def component_args(layout: Layout, component: str) -> list[str]:
    pki = layout.pki_dir
    if component == "etcd":
        client = f"https://{HOST}:{PORTS['etcd']}"
        peer = f"http://{HOST}:{PORTS['etcd-peer']}"
        return [str(layout.binary("etcd")), "--name=local", f"--data-dir={layout.etcd_data}",
                f"--listen-client-urls={client}", f"--advertise-client-urls={client}",
                f"--cert-file={pki / 'etcd-server.crt'}", f"--key-file={pki / 'etcd-server.key'}",
                f"--trusted-ca-file={pki / 'ca.crt'}", "--client-cert-auth=true",
                f"--listen-peer-urls={peer}", f"--initial-advertise-peer-urls={peer}",
                f"--initial-cluster=local={peer}", "--auto-compaction-retention=1",
                "--quota-backend-bytes=4294967296", "--unsafe-no-fsync=true", "--log-level=warn"]
    if component == "kube-apiserver":
        return [str(layout.binary("kube-apiserver")),
                f"--etcd-servers=https://{HOST}:{PORTS['etcd']}",
                f"--etcd-cafile={pki / 'ca.crt'}", f"--etcd-certfile={pki / 'etcd-client.crt'}",
                f"--etcd-keyfile={pki / 'etcd-client.key'}",
                f"--bind-address={HOST}", f"--advertise-address={HOST}",
                f"--secure-port={PORTS['kube-apiserver']}",
                f"--tls-cert-file={pki / 'apiserver.crt'}", f"--tls-private-key-file={pki / 'apiserver.key'}",
                f"--client-ca-file={pki / 'ca.crt'}",
                f"--token-auth-file={layout.tokens_file}",
                "--authorization-mode=Node,RBAC",
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                f"--service-account-key-file={pki / 'sa.pub'}",
                f"--service-account-signing-key-file={pki / 'sa.key'}",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                # Endpoints of the `kubernetes` Service may not be loopback addresses.
                "--endpoint-reconciler-type=none",
                # Aggregation: the proxy client certificate and the request headers that
                # openshift-apiserver trusts (front-proxy CA only).
                f"--requestheader-client-ca-file={pki / 'front-proxy-ca.crt'}",
                "--requestheader-allowed-names=front-proxy-client",
                "--requestheader-username-headers=X-Remote-User",
                "--requestheader-group-headers=X-Remote-Group",
                "--requestheader-extra-headers-prefix=X-Remote-Extra-",
                f"--proxy-client-cert-file={pki / 'front-proxy-client.crt'}",
                f"--proxy-client-key-file={pki / 'front-proxy-client.key'}",
                "--allow-privileged=true", "--enable-priority-and-fairness=false",
                "--profiling=false", f"--cert-dir={pki}", "--v=1"]
    if component == "kube-controller-manager":
        return [str(layout.binary("kube-controller-manager")),
                f"--kubeconfig={layout.kubeconfig('kube-controller-manager')}",
                f"--bind-address={HOST}", f"--secure-port={PORTS['kube-controller-manager']}",
                "--authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics",
                f"--service-account-private-key-file={pki / 'sa.key'}",
                f"--root-ca-file={pki / 'ca.crt'}",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                "--leader-elect=false", "--kube-api-qps=200", "--kube-api-burst=400",
                "--profiling=false", "--v=1"]
    if component == "kube-scheduler":
        return [str(layout.binary("kube-scheduler")),
                f"--kubeconfig={layout.kubeconfig('kube-scheduler')}",
                f"--bind-address={HOST}", f"--secure-port={PORTS['kube-scheduler']}",
                "--authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics",
                "--leader-elect=false", "--profiling=false", "--v=1"]
    if component == "kwok":
        key, value = KWOK_NODE_ANNOTATION
        return [str(layout.binary("kwok")),
                f"--kubeconfig={layout.kubeconfig('kwok')}", f"--config={layout.kwok_config}",
                "--manage-all-nodes=false", f"--manage-nodes-with-annotation-selector={key}={value}",
                f"--node-ip={HOST}", f"--cidr={POD_CIDR}",
                f"--server-address={HOST}:{PORTS['kwok']}",
                "--node-lease-duration-seconds=40"]
    if component == "registry":
        return [str(layout.binary("registry")), "serve", str(layout.config_file("registry"))]
    if component == "openshift-apiserver":
        kubeconfig = str(layout.kubeconfig(component))
        return [str(layout.binary(component)), "start", f"--config={layout.config_file(component)}",
                f"--authentication-kubeconfig={kubeconfig}", f"--authorization-kubeconfig={kubeconfig}",
                "--v=1"]
    if component == "openshift-controller-manager":
        return [str(layout.binary(component)), "start", f"--config={layout.config_file(component)}", "--v=1"]
    if component == "dc-deployer":
        return [str(layout.binary(component)), f"--kubeconfig={layout.kubeconfig(component)}",
                f"--health-address={HOST}:{PORTS[component]}"]
    raise ClusterError(f"unknown component {component!r}; choose from {', '.join(COMPONENTS)}")


def write_component_configs(layout: Layout) -> None:
    """Config files of the registry and the two OpenShift servers, and the registry's link."""
    pki = layout.pki_dir
    etcd = f"https://{HOST}:{PORTS['etcd']}"
    osh.write_yaml(layout.config_file("openshift-apiserver"), osh.apiserver_config(
        pki, layout.kubeconfig("openshift-apiserver"), etcd, f"{HOST}:{PORTS['openshift-apiserver']}"))
    osh.write_yaml(layout.config_file("openshift-controller-manager"), osh.controller_config(
        pki, layout.kubeconfig("openshift-controller-manager"), f"{HOST}:{PORTS['openshift-controller-manager']}"))
    layout.registry_data.mkdir(parents=True, exist_ok=True)
    osh.write_yaml(layout.config_file("registry"), osh.registry_config(pki, layout.registry_data,
                                                                       layout.registry))
    program = shutil.which(REGISTRY_PROGRAM)
    if program is None:
        raise ClusterError(f"{REGISTRY_PROGRAM} is not installed: run `make system-deps` as root "
                           "(Debian package docker-registry, pinned in requirements-debian.txt)")
    # A copy, not a link: every process of the cluster runs an executable of the cache.
    copy = layout.binary("registry")
    source = Path(program).resolve()
    if copy.is_symlink() or not copy.exists() or copy.stat().st_size != source.stat().st_size \
            or copy.stat().st_mtime_ns != source.stat().st_mtime_ns:
        copy.unlink(missing_ok=True)
        shutil.copy2(source, copy)


def release_leader_lock(layout: Layout) -> None:
    """Delete the controller manager's lock left by a stopped process, so that a new one
    leads at once instead of waiting out the old lease."""
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    api = api_client(layout, layout.token("admin"))
    for delete in (client.CoreV1Api(api).delete_namespaced_config_map,
                   client.CoordinationV1Api(api).delete_namespaced_lease):
        try:
            delete(osh.LEADER_LOCK, osh.CONTROLLER_NAMESPACE)
        except ApiException as exc:
            if exc.status != 404:
                raise


def read_pid(layout: Layout, component: str) -> int | None:
    """The pid of a running component started by us, or None."""
    path = layout.pid_file(component)
    try:
        pid = int(path.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    if not _pid_runs_binary(pid, layout, component):
        path.unlink(missing_ok=True)
        return None
    return pid


def _pid_runs_binary(pid: int, layout: Layout, component: str) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, PermissionError, IndexError):
        return False
    return state != "Z" and bool(cmdline) and cmdline[0].decode(errors="replace").endswith(f"/{component}") \
        and str(layout.cache_dir) in cmdline[0].decode(errors="replace")


def our_processes(layout: Layout) -> list[tuple[int, str]]:
    """Every live process whose executable is one of our cached binaries."""
    found = []
    root = str(layout.cache_dir / "bin") + "/"
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv0 = (entry / "cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError, PermissionError, IndexError):
            continue
        if argv0.startswith(root) and state != "Z":
            found.append((int(entry.name), argv0.rsplit("/", 1)[-1]))
    return found


def start_component(layout: Layout, component: str) -> int:
    """Start one component in its own session; returns its pid (existing one if running)."""
    pid = read_pid(layout, component)
    if pid is not None:
        return pid
    layout.log_dir.mkdir(parents=True, exist_ok=True)
    layout.run_dir.mkdir(parents=True, exist_ok=True)
    args = component_args(layout, component)
    env = dict(os.environ, **(osh.import_ca_env(layout.pki_dir) if component == "openshift-apiserver" else {}))
    with open(layout.log_file(component), "ab") as log:
        log.write(f"\n==== {datetime.datetime.now().isoformat()} starting {component}\n".encode())
        log.flush()
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                cwd=layout.cache_dir, start_new_session=True, env=env)
    layout.pid_file(component).write_text(f"{proc.pid}\n")
    # Until exec() the child still shows our own command line; wait for it.
    deadline = time.monotonic() + 5
    while not _pid_runs_binary(proc.pid, layout, component):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise ClusterError(f"{component} did not start; see {layout.log_file(component)}")
        time.sleep(0.02)
    return proc.pid


def stop_component(layout: Layout, component: str, timeout: float = 20.0) -> None:
    """Stop one component we started (SIGTERM, then SIGKILL) and wait until it is gone."""
    pid = read_pid(layout, component)
    if pid is None:
        return
    _terminate(pid, STOP_GRACE.get(component, timeout))
    layout.pid_file(component).unlink(missing_ok=True)


def _terminate(pid: int, timeout: float) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return
        time.sleep(0.1)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 5
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        # Reap it if it is our own child (the fixture may start components in-process).
        waited, _ = os.waitpid(pid, os.WNOHANG)
        if waited == pid:
            return False
    except ChildProcessError:
        pass
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def _wait(what: str, check: Callable[[], bool], timeout: float, layout: Layout, component: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if read_pid(layout, component) is None:
            raise ClusterError(f"{component} exited during start; see {layout.log_file(component)}")
        try:
            if check():
                return
        except (requests.RequestException, OSError):
            pass
        time.sleep(0.3)
    raise ClusterError(f"{what} not healthy after {timeout:.0f}s; see {layout.log_file(component)}")


def _http_ok(url: str, verify: str | bool = False, token: str | None = None) -> bool:
    if verify is False:
        # kube-controller-manager and kube-scheduler serve self-signed health endpoints.
        import urllib3

        urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.get(url, verify=verify, headers=headers, timeout=3).status_code == 200


def api_healthy(layout: Layout) -> bool:
    try:
        return _http_ok(f"{layout.host}/readyz", verify=str(layout.ca_cert), token=layout.token("admin"))
    except (requests.RequestException, OSError, ClusterError):
        return False


def _etcd_healthy(layout: Layout) -> bool:
    pki = layout.pki_dir
    return requests.get(f"https://{HOST}:{PORTS['etcd']}/health", verify=str(pki / "ca.crt"),
                        cert=(str(pki / "etcd-client.crt"), str(pki / "etcd-client.key")), timeout=3).ok


def wait_component(layout: Layout, component: str, timeout: float = 120.0) -> None:
    ca = str(layout.ca_cert)
    if component == "etcd":
        _wait("etcd", lambda: _etcd_healthy(layout), timeout, layout, component)
    elif component == "registry":
        _wait("registry", lambda: _http_ok(f"https://{layout.registry}/v2/", verify=ca), timeout, layout, component)
    elif component == "dc-deployer":
        _wait(component, lambda: _http_ok(f"http://{HOST}:{PORTS[component]}/healthz"), timeout, layout, component)
    elif component in OPENSHIFT_COMMANDS:
        _wait(component, lambda: _http_ok(f"https://{HOST}:{PORTS[component]}/healthz", verify=ca), timeout,
              layout, component)
    elif component == "kube-apiserver":
        _wait("kube-apiserver", lambda: api_healthy(layout), timeout, layout, component)
    elif component in ("kube-controller-manager", "kube-scheduler"):
        _wait(component, lambda: _http_ok(f"https://{HOST}:{PORTS[component]}/healthz"), timeout, layout,
              component)
    elif component == "kwok":
        _wait("kwok", lambda: _http_ok(f"http://{HOST}:{PORTS['kwok']}/healthz"), timeout, layout, component)


def is_running(layout: Layout) -> bool:
    return all(read_pid(layout, c) is not None for c in COMPONENTS) and api_healthy(layout)


# --------------------------------------------------------------------------
# Bootstrap through the API


def api_client(layout: Layout, token: str):
    """A kubernetes.client.ApiClient for a bearer token against this cluster."""
    from kubernetes import client

    configuration = client.Configuration()
    configuration.host = layout.host
    configuration.ssl_ca_cert = str(layout.ca_cert)
    configuration.verify_ssl = True
    configuration.api_key = {"authorization": f"Bearer {token}"}
    return client.ApiClient(configuration)


def _create_or_replace(create: Callable[[], object], replace: Callable[[], object]) -> None:
    from kubernetes.client.exceptions import ApiException

    try:
        create()
    except ApiException as exc:
        if exc.status != 409:
            raise
        replace()


def _create_if_missing(create: Callable[[], object]) -> None:
    from kubernetes.client.exceptions import ApiException

    try:
        create()
    except ApiException as exc:
        if exc.status != 409:
            raise


def bootstrap_openshift_prerequisites(layout: Layout) -> None:
    """What openshift-apiserver and the controller manager need before they start: the
    OpenShift config/quota/security CRDs, the cluster config objects, their namespaces,
    the aggregation Service and APIServices, and rights for the controllers' accounts."""
    from kubernetes import client

    api = api_client(layout, layout.token("admin"))
    ext = client.ApiextensionsV1Api(api)
    core = client.CoreV1Api(api)
    rbac = client.RbacAuthorizationV1Api(api)
    custom = client.CustomObjectsApi(api)

    # Caches of earlier versions served the OpenShift types as CRDs: those would shadow the
    # real server's groups (the aggregator keeps a CRD group local), so they go, with their objects.
    served = {f"{group}.openshift.io" for group in osh.API_GROUPS}
    legacy = [crd.metadata.name for crd in ext.list_custom_resource_definition().items if crd.spec.group in served]
    for name in legacy:
        ext.delete_custom_resource_definition(name)
    wait_for(lambda: not any(crd.spec.group in served for crd in ext.list_custom_resource_definition().items),
             60, "the CRDs of the OpenShift groups to go: " + ", ".join(legacy))
    crd_names = osh.install_crds(ext, layout.openshift_crds, _create_or_replace)
    for namespace in (*NAMESPACES, osh.NAMESPACE, osh.INFRA_NAMESPACE, osh.CONTROLLER_NAMESPACE):
        labels = {"local-cluster/project": "true"} if namespace in NAMESPACES else {}
        _create_if_missing(lambda namespace=namespace, labels=labels: core.create_namespace(
            {"metadata": {"name": namespace, "labels": labels}}))
    wait_for(lambda: _crds_established(ext, crd_names), 60, "OpenShift config CRDs to be established")
    for plural, group_version, body in osh.cluster_config_objects():
        group, version = group_version.split("/")
        _create_if_missing(lambda group=group, version=version, plural=plural, body=body:
                           custom.create_cluster_custom_object(group, version, plural, body))
    # The controllers act through service accounts of openshift-infra (token requests).
    body = {"metadata": {"name": "local-cluster:openshift-infra"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group",
                          "name": f"system:serviceaccounts:{osh.INFRA_NAMESPACE}"}]}
    _create_or_replace(lambda: rbac.create_cluster_role_binding(body),
                       lambda: rbac.replace_cluster_role_binding(body["metadata"]["name"], body))
    for body in osh.aggregation_objects(layout.ca_cert.read_bytes(), PORTS["openshift-apiserver"]):
        if body["kind"] == "Service":
            _create_or_replace(lambda body=body: core.create_namespaced_service(osh.NAMESPACE, body),
                               lambda body=body: core.patch_namespaced_service(osh.SERVICE, osh.NAMESPACE, body))
        else:
            # Replaced whole, so that no `automanaged` label of a CRD-era object survives
            # (the aggregator's autoregistration would point it back at the CRDs).
            name = body["metadata"]["name"]

            def replace(body: dict = body, name: str = name) -> None:
                current = custom.get_cluster_custom_object("apiregistration.k8s.io", "v1", "apiservices", name)
                body = dict(body, metadata=dict(body["metadata"],
                                                resourceVersion=current["metadata"]["resourceVersion"]))
                custom.replace_cluster_custom_object("apiregistration.k8s.io", "v1", "apiservices", name, body)

            _create_or_replace(
                lambda body=body: custom.create_cluster_custom_object("apiregistration.k8s.io", "v1",
                                                                      "apiservices", body), replace)


def wait_openshift_api(layout: Layout, timeout: float = 120.0) -> None:
    from kubernetes import client

    custom = client.CustomObjectsApi(api_client(layout, layout.token("admin")))
    waiting: list[str] = []

    def available() -> bool:
        if read_pid(layout, "openshift-apiserver") is None:
            raise ClusterError(f"openshift-apiserver exited during start; see "
                               f"{layout.log_file('openshift-apiserver')}")
        waiting[:] = osh.api_services_available(custom)
        return not waiting

    try:
        wait_for(available, timeout, "the OpenShift APIServices to become Available")
    except ClusterError as exc:
        raise ClusterError(f"{exc} (still waiting: {', '.join(waiting)}); see "
                           f"{layout.log_file('openshift-apiserver')}") from None


def bootstrap(layout: Layout) -> None:
    from kubernetes import client

    api = api_client(layout, layout.token("admin"))
    core = client.CoreV1Api(api)
    rbac = client.RbacAuthorizationV1Api(api)

    write_verbs = ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"]
    read_verbs = ["get", "list", "watch"]
    for name, labels, rules, verbs in (
        ("local-cluster:openshift-types:edit",
         {"rbac.authorization.k8s.io/aggregate-to-admin": "true",
          "rbac.authorization.k8s.io/aggregate-to-edit": "true"}, osh.EDIT_RULES, write_verbs),
        ("local-cluster:openshift-types:view", {"rbac.authorization.k8s.io/aggregate-to-view": "true"},
         osh.READ_RULES, read_verbs),
    ):
        body = {"metadata": {"name": name, "labels": labels},
                "rules": [dict(rule, verbs=verbs) for rule in rules]}
        _create_or_replace(lambda body=body: rbac.create_cluster_role(body),
                           lambda name=name, body=body: rbac.replace_cluster_role(name, body))
    for namespace in NAMESPACES:
        body = {"metadata": {"name": "deployer-admin", "namespace": namespace},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "admin"},
                "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User",
                              "name": IDENTITIES["deployer"][0]}]}
        _create_or_replace(lambda body=body, ns=namespace: rbac.create_namespaced_role_binding(ns, body),
                           lambda body=body, ns=namespace: rbac.replace_namespaced_role_binding(
                               "deployer-admin", ns, body))

    ensure_volumes(core)
    ensure_nodes(core)
    ensure_images(layout)
    wait_for(lambda: _nodes_ready(core), 90, "kwok nodes to become Ready")
    wait_for(lambda: _default_service_accounts(core), 90, "default service accounts in the project namespaces")
    # RBAC settles after the API server reports ready (bootstrap roles, then aggregation of the
    # OpenShift types into admin): wait until the deployer really has what a deploy needs.
    deployer = client.AuthorizationV1Api(api_client(layout, layout.token("deployer")))
    wait_for(lambda: _deployer_ready(deployer), 90, "the deployer's permissions (RBAC bootstrap and aggregation)")


def ensure_images(layout: Layout) -> list[str]:
    """Push a test image for every image reference of the dev deployments that the registry
    does not hold yet; returns the references pushed."""
    pushed = []
    for reference in osh.dev_image_references():
        if not osh.image_present(layout.binary("crane"), layout.ca_cert, layout.registry, reference):
            osh.push_image(layout.binary("crane"), layout.ca_cert, layout.registry, reference, 0,
                           layout.cache_dir / "tmp")
            pushed.append(reference)
    return pushed


def push_new_digest(layout: Layout, reference: str) -> str:
    """Push a new image (new digest) under `reference` in the local registry; returns the digest."""
    generation = time.time_ns()
    return osh.push_image(layout.binary("crane"), layout.ca_cert, layout.registry, reference, generation,
                          layout.cache_dir / "tmp")


def registry_digest(layout: Layout, reference: str) -> str:
    return osh.digest(layout.binary("crane"), layout.ca_cert, layout.registry, reference)


def recycle_volumes(layout: Layout) -> None:
    """Make the pool whole again: released volumes become available, missing ones are created."""
    from kubernetes import client

    ensure_volumes(client.CoreV1Api(api_client(layout, layout.token("admin"))))


def ensure_volumes(core) -> None:
    """Keep PV_COUNT volumes: create missing ones, make released ones available again."""
    existing = {pv.metadata.name: pv for pv in core.list_persistent_volume(
        label_selector="local-cluster/pool=true").items}
    for index in range(PV_COUNT):
        name = f"local-pv-{index:02d}"
        pv = existing.get(name)
        if pv is None:
            core.create_persistent_volume({
                "metadata": {"name": name, "labels": {"local-cluster/pool": "true"}},
                "spec": {"capacity": {"storage": PV_SIZE},
                         "accessModes": ["ReadWriteOnce", "ReadWriteMany"],
                         "persistentVolumeReclaimPolicy": "Retain",
                         "storageClassName": "",
                         "volumeMode": "Filesystem",
                         "hostPath": {"path": f"/var/lib/local-cluster/{name}", "type": ""}}})
        elif pv.status.phase == "Released":
            core.patch_persistent_volume(name, {"spec": {"claimRef": None}})


def ensure_nodes(core) -> None:
    key, value = KWOK_NODE_ANNOTATION
    for index in range(NODE_COUNT):
        name = f"kwok-node-{index}"
        _create_if_missing(lambda name=name: core.create_node({
            "metadata": {"name": name, "annotations": {key: value},
                         "labels": {"type": "kwok", "kubernetes.io/hostname": name,
                                    "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
                                    "node-role.kubernetes.io/worker": ""}},
            "status": {"capacity": NODE_CAPACITY, "allocatable": NODE_CAPACITY}}))


def _crds_established(ext, names: list[str]) -> bool:
    for name in names:
        conditions = ext.read_custom_resource_definition(name).status.conditions or []
        if not any(c.type == "Established" and c.status == "True" for c in conditions):
            return False
    return True


def _nodes_ready(core) -> bool:
    nodes = core.list_node(label_selector="type=kwok").items
    ready = [n for n in nodes if any(c.type == "Ready" and c.status == "True" for c in n.status.conditions or [])]
    return len(ready) >= NODE_COUNT


def _deployer_ready(authz) -> bool:
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    wanted = [(group, resource, namespace) for namespace in NAMESPACES for group, resource in (
        ("image.openshift.io", "imagestreams"), ("route.openshift.io", "routes"),
        ("apps", "deployments"), ("rbac.authorization.k8s.io", "rolebindings"))]
    try:
        for group, resource, namespace in wanted:
            review = authz.create_self_subject_access_review(client.V1SelfSubjectAccessReview(
                spec=client.V1SelfSubjectAccessReviewSpec(resource_attributes=client.V1ResourceAttributes(
                    group=group, resource=resource, verb="create", namespace=namespace))))
            if not review.status.allowed:
                return False
    except ApiException as exc:
        if exc.status == 403:  # system:basic-user is not bound yet
            return False
        raise
    return True


def _default_service_accounts(core) -> bool:
    from kubernetes.client.exceptions import ApiException

    try:
        for namespace in NAMESPACES:
            core.read_namespaced_service_account("default", namespace)
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise
    return True


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise ClusterError(f"timed out after {timeout:.0f}s waiting for {what}")


# --------------------------------------------------------------------------
# Commands


def start(layout: Layout) -> bool:
    """Start the cluster; returns False if it was already running."""
    with locked(layout):
        return _start(layout)


def _start(layout: Layout) -> bool:
    if is_running(layout):
        print(f"local cluster already running at {layout.host}")
        return False
    started = time.monotonic()
    build(layout)
    ensure_pki(layout)
    write_client_files(layout)
    write_component_configs(layout)
    layout.kwok_config.write_text(yaml.safe_dump_all(kwok_stages(), sort_keys=False))
    try:
        for component in COMPONENTS:
            if component == "openshift-apiserver":
                bootstrap_openshift_prerequisites(layout)
            if component == "openshift-controller-manager" and read_pid(layout, component) is None:
                release_leader_lock(layout)
            start_component(layout, component)
            wait_component(layout, component)
            if component == "openshift-apiserver":
                wait_openshift_api(layout)
        bootstrap(layout)
    except Exception:
        _stop(layout, quiet=True)
        raise
    print(f"local cluster up at {layout.host} in {time.monotonic() - started:.0f}s")
    return True


def stop(layout: Layout, quiet: bool = False) -> None:
    """Stop every process of the cluster and verify that none is left."""
    with locked(layout):
        _stop(layout, quiet)


def _stop(layout: Layout, quiet: bool = False) -> None:
    for component in reversed(COMPONENTS):
        stop_component(layout, component)
    leftovers = our_processes(layout)
    for pid, _name in leftovers:
        _terminate(pid, 10)
    session_owned_flag(layout).unlink(missing_ok=True)
    leftovers = our_processes(layout)
    if leftovers:
        raise ClusterError("still running after stop: " + ", ".join(f"{n} (pid {p})" for p, n in leftovers))
    if not quiet:
        print("local cluster stopped; data and binaries stay in " + str(layout.cache_dir))


# Sessions (pytest runs) sharing one cluster register here, so that the last
# one to leave stops a cluster that a session started, and none stops it
# under another's feet.


def _users_dir(layout: Layout) -> Path:
    return layout.run_dir / "users"


def register_user(layout: Layout, pid: int) -> None:
    _users_dir(layout).mkdir(parents=True, exist_ok=True)
    (_users_dir(layout) / str(pid)).write_text(Path(f"/proc/{pid}/stat").read_text().split()[21] + "\n")


def unregister_user(layout: Layout, pid: int) -> None:
    (_users_dir(layout) / str(pid)).unlink(missing_ok=True)


def other_users(layout: Layout, pid: int) -> list[int]:
    """Live registered sessions other than `pid` (stale entries are removed)."""
    live = []
    directory = _users_dir(layout)
    if not directory.is_dir():
        return live
    for entry in directory.iterdir():
        if not entry.name.isdigit() or int(entry.name) == pid:
            continue
        try:
            started = Path(f"/proc/{entry.name}/stat").read_text().split()[21]
            alive = started == entry.read_text().strip()
        except (FileNotFoundError, IndexError):
            alive = False
        if alive:
            live.append(int(entry.name))
        else:
            entry.unlink(missing_ok=True)
    return live


def session_owned_flag(layout: Layout) -> Path:
    """Present while the running cluster was started by a test session (not by a person)."""
    return layout.run_dir / "started-by-session"


def status(layout: Layout) -> int:
    running = 0
    for component in COMPONENTS:
        pid = read_pid(layout, component)
        running += pid is not None
        port = PORTS.get(component)
        print(f"{component:24} {'running pid ' + str(pid) if pid else 'stopped':20} {HOST}:{port}")
    healthy = api_healthy(layout) if running else False
    print(f"api {layout.host}: {'ready' if healthy else 'not ready'}")
    if healthy:
        print(f"kubeconfigs: {layout.kubeconfig('admin')}, {layout.kubeconfig('deployer')}")
        print(f"ansible connection vars: {layout.connection_vars}")
    return 0 if healthy and running == len(COMPONENTS) else 3


def print_usage_hint(layout: Layout) -> None:
    print(json.dumps({
        "host": layout.host,
        "admin_kubeconfig": str(layout.kubeconfig("admin")),
        "deployer_kubeconfig": str(layout.kubeconfig("deployer")),
        "connection_vars": str(layout.connection_vars),
        "namespaces": list(NAMESPACES),
    }, indent=2))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help="state directory (default $LOCAL_CLUSTER_CACHE or <repo>/.cache/local-cluster)")
    sub = parser.add_subparsers(dest="command", required=True)
    build_parser = sub.add_parser("build", help="build the binaries unless cached")
    build_parser.add_argument("--force", action="store_true", help="rebuild even if cached")
    sub.add_parser("start", help="start (building first if needed) and bootstrap the cluster")
    sub.add_parser("stop", help="stop every process of the cluster; data stays")
    sub.add_parser("status", help="show the components and whether the API is ready")
    sub.add_parser("info", help="print where the kubeconfigs and connection vars are (JSON)")
    args = parser.parse_args(argv)
    layout = Layout((args.cache_dir or default_cache_dir()).resolve())
    try:
        if args.command == "build":
            with locked(layout):
                build(layout, force=args.force)
        elif args.command == "start":
            start(layout)
        elif args.command == "stop":
            stop(layout)
        elif args.command == "status":
            return status(layout)
        elif args.command == "info":
            print_usage_hint(layout)
    except ClusterError as exc:
        print(f"local-cluster: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - one line for the user, the log files have the rest
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"local-cluster: {type(exc).__name__}: {message}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

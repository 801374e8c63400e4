"""What each component of the cluster runs: its command line, config file and environment,
and how to tell that it is healthy.

The OpenShift config files follow the `openshiftcontrolplane.config.openshift.io/v1` types of
the github.com/openshift/api version each module pins; the registry is Debian's
docker-registry (TLS, signed by the cluster CA).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Callable

import requests
import yaml

from localcluster import ClusterError, node, openshift
from localcluster.layout import COMPONENTS, HOST, KWOK_NODE_ANNOTATION, POD_CIDR, PORTS, SERVICE_CIDR, Layout

# Debian's docker-registry package (requirements-debian.txt); the cache copies it as bin/registry.
REGISTRY_PROGRAM = "docker-registry"
# The name OpenShift's image registry operator gives the internal registry.
INTERNAL_REGISTRY = "image-registry.openshift-image-registry.svc:5000"
# Seconds a component gets to exit on SIGTERM before SIGKILL (default 20). The OpenShift
# controller manager does not handle SIGTERM at all; openshift-apiserver stops listening and
# stops its controllers at once, then does not exit (it waited out the 20 s every time), and
# so does kube-apiserver when it is stopped alone while the others hold watches on it. Their
# state is in etcd, which gets the full time.
STOP_GRACE = {"openshift-controller-manager": 2.0, "openshift-apiserver": 3.0, "kube-apiserver": 5.0}
# Scheduled imports: every 10 s instead of OpenShift's 15 minutes, so tests see them.
SCHEDULED_IMPORT_SECONDS = 10
# serviceaccount makes the `deployer` account in every namespace, which deployer pods run as.
CONTROLLERS = ("openshift.io/image-trigger", "openshift.io/image-import", "openshift.io/deploymentconfig",
               "openshift.io/deployer", "openshift.io/serviceaccount", "openshift.io/origin-namespace")


def component_args(layout: Layout, component: str) -> list[str]:
    pki = layout.pki_dir
    if component in node.NODE_COMPONENTS:
        return node.component_args(layout, component)
    if component == "etcd":
        client = f"https://{HOST}:{PORTS['etcd']}"
        peer = f"http://{HOST}:{PORTS['etcd-peer']}"
        return [str(layout.binary("etcd")), "--name=local", f"--data-dir={layout.etcd_data}",
                f"--listen-client-urls={client}", f"--advertise-client-urls={client}",
                f"--cert-file={pki / 'etcd-server.crt'}", f"--key-file={pki / 'etcd-server.key'}",
                f"--trusted-ca-file={pki / 'ca.crt'}", "--client-cert-auth=true",
                f"--listen-peer-urls={peer}", f"--initial-advertise-peer-urls={peer}",
                f"--initial-cluster=local={peer}", "--auto-compaction-retention=1",
                "--quota-backend-bytes=4294967296", "--unsafe-no-fsync=true", "--log-level=warn",
                # One member, no peers to hear from: it elects itself after one election
                # timeout, so a short one starts it in a fraction of the default second or two.
                "--heartbeat-interval=50", "--election-timeout=300"]
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
                # The real node (node.py): reached on its address, with a client certificate.
                "--kubelet-preferred-address-types=InternalIP",
                f"--kubelet-client-certificate={pki / 'apiserver-kubelet-client.crt'}",
                f"--kubelet-client-key={pki / 'apiserver-kubelet-client.key'}",
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


def component_env(layout: Layout, component: str) -> dict[str, str]:
    """Variables a component gets on top of ours."""
    if component in node.NODE_COMPONENTS:
        return node.component_env(component)
    return import_ca_env(layout.pki_dir) if component == "openshift-apiserver" else {}


def import_ca_env(pki: Path) -> dict[str, str]:
    """Environment of openshift-apiserver: its image importer trusts the system roots, and
    (Go's SSL_CERT_DIR) the directory holding the cluster CA, which signed the registry."""
    directory = pki / "import-ca"
    directory.mkdir(exist_ok=True)
    shutil.copyfile(pki / "ca.crt", directory / "local-cluster-ca.pem")
    return {"SSL_CERT_DIR": str(directory)}


# --------------------------------------------------------------------------
# Config files


def write_component_configs(layout: Layout) -> None:
    """Config files of the registry and the two OpenShift servers, and the registry's copy."""
    pki = layout.pki_dir
    etcd = f"https://{HOST}:{PORTS['etcd']}"
    write_yaml(layout.config_file("openshift-apiserver"), apiserver_config(
        pki, layout.kubeconfig("openshift-apiserver"), etcd, f"{HOST}:{PORTS['openshift-apiserver']}"))
    write_yaml(layout.config_file("openshift-controller-manager"), controller_config(
        pki, layout.kubeconfig("openshift-controller-manager"), f"{HOST}:{PORTS['openshift-controller-manager']}"))
    layout.registry_data.mkdir(parents=True, exist_ok=True)
    write_yaml(layout.config_file("registry"), registry_config(pki, layout.registry_data, layout.registry))
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


def write_yaml(path: Path, body: dict) -> Path:
    path.write_text(yaml.safe_dump(body, sort_keys=False))
    return path


def apiserver_config(pki: Path, kubeconfig: Path, etcd_url: str, bind: str) -> dict:
    return {
        "apiVersion": "openshiftcontrolplane.config.openshift.io/v1",
        "kind": "OpenShiftAPIServerConfig",
        "servingInfo": {"bindAddress": bind, "bindNetwork": "tcp4",
                        "certFile": str(pki / "openshift-apiserver.crt"),
                        "keyFile": str(pki / "openshift-apiserver.key"),
                        "maxRequestsInFlight": 400, "requestTimeoutSeconds": 3600},
        "storageConfig": {"urls": [etcd_url], "ca": str(pki / "ca.crt"),
                          "certFile": str(pki / "etcd-client.crt"), "keyFile": str(pki / "etcd-client.key"),
                          "storagePrefix": "openshift.io"},
        "kubeClientConfig": {"kubeConfig": str(kubeconfig)},
        "aggregatorConfig": {"clientCA": str(pki / "front-proxy-ca.crt"), "allowedNames": ["front-proxy-client"],
                             "usernameHeaders": ["X-Remote-User"], "groupHeaders": ["X-Remote-Group"],
                             "extraHeaderPrefixes": ["X-Remote-Extra-"]},
        # Imports trust the system roots plus SSL_CERT_DIR (import_ca_env): the registry on
        # loopback is signed by the cluster CA, so no import needs `insecure`.
        # The internal registry's name, as an OpenShift cluster with its image registry sets it.
        # Without it, every ImageStream the server returns looks the name up from a Service
        # through a rate-limited client: a list of twelve streams took 0.8 s during imports.
        "imagePolicyConfig": {"maxImagesBulkImportedPerRepository": 50,
                              "internalRegistryHostname": INTERNAL_REGISTRY},
        "routingConfig": {"subdomain": openshift.ROUTE_SUBDOMAIN},
        "apiServerArguments": {"shutdown-delay-duration": ["0s"]},
    }


def controller_config(pki: Path, kubeconfig: Path, bind: str) -> dict:
    return {
        "apiVersion": "openshiftcontrolplane.config.openshift.io/v1",
        "kind": "OpenShiftControllerManagerConfig",
        "kubeClientConfig": {"kubeConfig": str(kubeconfig),
                             "connectionOverrides": {"qps": 100, "burst": 200}},
        "servingInfo": {"bindAddress": bind, "bindNetwork": "tcp4",
                        "certFile": str(pki / "openshift-controller-manager.crt"),
                        "keyFile": str(pki / "openshift-controller-manager.key"),
                        # without it the defaults point at a file of an OpenShift pod
                        "clientCA": str(pki / "ca.crt")},
        # It exits when it cannot renew its lease, so the lease outlasts a restart of the
        # kube-apiserver; a start deletes the previous process's lock (LEADER_LOCK) instead
        # of waiting it out.
        "leaderElection": {"namespace": openshift.CONTROLLER_NAMESPACE, "name": openshift.LEADER_LOCK,
                           "leaseDuration": "137s", "renewDeadline": "107s", "retryPeriod": "2s"},
        "controllers": list(CONTROLLERS),
        "imageImport": {"scheduledImageImportMinimumIntervalSeconds": SCHEDULED_IMPORT_SECONDS,
                        "maxScheduledImageImportsPerMinute": 600},
        "deployer": {"imageTemplateFormat": {"format": openshift.DEPLOYER_IMAGE}},
    }


def registry_config(pki: Path, data_dir: Path, bind: str) -> dict:
    return {
        "version": 0.1,
        "log": {"level": "warn", "accesslog": {"disabled": True}},
        "storage": {"filesystem": {"rootdirectory": str(data_dir)}, "delete": {"enabled": True}},
        "http": {"addr": bind, "tls": {"certificate": str(pki / "registry.crt"), "key": str(pki / "registry.key")},
                 "headers": {"X-Content-Type-Options": ["nosniff"]}},
    }


# --------------------------------------------------------------------------
# Health


def health_check(layout: Layout, component: str) -> Callable[[], bool] | None:
    """A check that is true once `component` serves (None: nothing to wait for)."""
    ca = str(layout.ca_cert)
    checks: dict[str, Callable[[], bool]] = {
        "etcd": lambda: etcd_healthy(layout),
        "kube-apiserver": lambda: api_healthy(layout),
        "kube-controller-manager": lambda: http_ok(f"https://{HOST}:{PORTS['kube-controller-manager']}/healthz"),
        "kube-scheduler": lambda: http_ok(f"https://{HOST}:{PORTS['kube-scheduler']}/healthz"),
        "kwok": lambda: http_ok(f"http://{HOST}:{PORTS['kwok']}/healthz"),
        "registry": lambda: http_ok(f"https://{layout.registry}/v2/", verify=ca),
        "openshift-apiserver": lambda: http_ok(f"https://{HOST}:{PORTS['openshift-apiserver']}/healthz", verify=ca),
        "openshift-controller-manager": lambda: http_ok(
            f"https://{HOST}:{PORTS['openshift-controller-manager']}/healthz", verify=ca),
        "dc-deployer": lambda: http_ok(f"http://{HOST}:{PORTS['dc-deployer']}/healthz"),
        "containerd": lambda: node.runtime_ready(layout),
        "kubelet": lambda: http_ok(f"http://{HOST}:{PORTS['kubelet-healthz']}/healthz"),
        "kube-proxy": lambda: http_ok(f"http://{HOST}:{PORTS['kube-proxy-healthz']}/healthz"),
        "coredns": lambda: http_ok(f"http://{HOST}:{PORTS['coredns-ready']}/ready"),
    }
    return checks.get(component)


def http_ok(url: str, verify: str | bool = False, token: str | None = None) -> bool:
    if verify is False:
        # kube-controller-manager and kube-scheduler serve self-signed health endpoints.
        import urllib3

        urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.get(url, verify=verify, headers=headers, timeout=3).status_code == 200


def api_healthy(layout: Layout) -> bool:
    try:
        return http_ok(f"{layout.host}/readyz", verify=str(layout.ca_cert), token=layout.token("admin"))
    except (requests.RequestException, OSError, ClusterError):
        return False


def etcd_healthy(layout: Layout) -> bool:
    pki = layout.pki_dir
    return requests.get(f"https://{HOST}:{PORTS['etcd']}/health", verify=str(pki / "ca.crt"),
                        cert=(str(pki / "etcd-client.crt"), str(pki / "etcd-client.key")), timeout=3).ok

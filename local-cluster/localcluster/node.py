"""The real node: one kubelet with containerd, runc and the CNI bridge plugin (Debian's),
kube-proxy (iptables mode) and CoreDNS, beside kwok's fake nodes. The side components
(PostgreSQL, Redis, nginx, the push gateway) and the Jobs that run in their images are
placed on it by a MutatingAdmissionPolicy (bootstrap.ensure_real_node_placement); every
other pod stays on kwok.

Everything it changes on the host is its own and is undone by `teardown`:
- one bridge (BRIDGE) holding the node's address and the gateway of the pods' /24, with
  no route or NAT to anything else: the chain FIREWALL_CHAIN drops what would be forwarded
  between the bridge and any other interface;
- the sysctls of SYSCTLS, recorded before the first change and written back;
- kube-proxy's iptables chains (`kube-proxy --cleanup`);
- the mounts under the node's directories (kubelet volumes, containerd's snapshots, the
  pods' network namespaces);
- the cgroup CGROUP_ROOT in every cgroup v1 hierarchy.
The node's state lives in the cache (`node/`), its runtime state under RUN_DIR; the
claims' directories (PersistentVolumes) are kept: data is deleted only by name.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import time
from pathlib import Path

from localcluster import ClusterError
from localcluster.layout import (HOST, POD_CIDR, PORTS, REAL_NODE_IP, REAL_NODE_NAME, REAL_POD_NAMESPACES, REAL_POD_SUBNET,
                                SERVICE_CIDR, Layout)

NODE_NAME, NODE_IP, POD_SUBNET = REAL_NODE_NAME, REAL_NODE_IP, REAL_POD_SUBNET
BRIDGE = "lc-br0"
FIREWALL_CHAIN = "LOCAL-CLUSTER-ISOLATION"
CGROUP_ROOT = "local-cluster"
CGROUP_V1 = Path("/sys/fs/cgroup")
RUN_DIR = Path("/run/local-cluster")
CONTAINERD_SOCKET = RUN_DIR / "containerd.sock"
# The label and taint of the real node; the placement policy adds both to the pods it places.
NODE_LABEL = ("local-cluster/real-node", "true")
# Debian's runtime (requirements-debian.txt): copied into the cache like the registry.
DEBIAN_PROGRAMS = {"containerd": "/usr/bin/containerd"}
RUNC = "/usr/sbin/runc"
SHIM = "/usr/bin/containerd-shim-runc-v2"
CNI_BIN_DIR = Path("/usr/lib/cni")
# Sysctls the node's network needs (or kube-proxy may touch): recorded, then written back.
SYSCTLS = ("net/ipv4/ip_forward", "net/bridge/bridge-nf-call-iptables", "net/ipv4/conf/all/route_localnet")
# The cluster's sandbox ("pause") image, built from pause.c by the start.
PAUSE_REFERENCE = "local-cluster/pause:1"
NODE_COMPONENTS = ("containerd", "kubelet", "kube-proxy", "coredns")
# LOCAL_CLUSTER_REAL_NODE: "auto" (default: a real node where the machine allows it), "off",
# or "required" (a start fails when the node cannot run; CI).
MODE_VARIABLE = "LOCAL_CLUSTER_REAL_NODE"


def mode() -> str:
    value = os.environ.get(MODE_VARIABLE, "auto")
    if value not in ("auto", "off", "required"):
        raise ClusterError(f"{MODE_VARIABLE}={value} is not one of auto, off, required")
    return value


def node_dir(layout: Layout) -> Path:
    return layout.cache_dir / "node"


def enabled_flag(layout: Layout) -> Path:
    """Present while the cluster runs with a real node."""
    return layout.run_dir / "real-node"


def enabled(layout: Layout) -> bool:
    return enabled_flag(layout).exists()


def why_not(layout: Layout) -> str | None:
    """Why this machine cannot run the real node (None: it can)."""
    if os.geteuid() != 0:
        return "not root (containerd, the bridge and iptables need root)"
    missing = [path for path in (*DEBIAN_PROGRAMS.values(), RUNC, SHIM, str(CNI_BIN_DIR / "bridge"),
                                 shutil.which("iptables") or "iptables", shutil.which("mmdebstrap") or "mmdebstrap")
               if not Path(path).exists()]
    if missing:
        return f"missing {', '.join(missing)}: run `make system-deps` as root"
    if not (CGROUP_V1 / "memory").is_dir() and not (CGROUP_V1 / "cgroup.controllers").exists():
        return f"no cgroup hierarchy under {CGROUP_V1}"
    return None


# --------------------------------------------------------------------------
# Config files


def write_configs(layout: Layout) -> None:
    """containerd's, the CNI network's, the kubelet's, kube-proxy's and CoreDNS's config."""
    base = node_dir(layout)
    for sub in ("containerd", "cni", "cni-ipam", "kubelet", "certs.d"):
        (base / sub).mkdir(parents=True, exist_ok=True)
    write_if_changed(base / "containerd.toml", containerd_config(layout))
    # The registry on loopback, also under the internal registry's name (pull only).
    from localcluster.components import INTERNAL_REGISTRY

    for name in (layout.registry, INTERNAL_REGISTRY):
        (base / "certs.d" / name).mkdir(parents=True, exist_ok=True)
        write_if_changed(base / "certs.d" / name / "hosts.toml",
            f'server = "https://{layout.registry}"\n\n[host."https://{layout.registry}"]\n'
            f'  capabilities = ["pull", "resolve"]\n  ca = "{layout.ca_cert}"\n')
    write_if_changed(base / "cni" / "10-local-cluster.conflist", json.dumps({
        "cniVersion": "1.0.0", "name": "local-cluster",
        "plugins": [{"type": "bridge", "bridge": BRIDGE, "isGateway": True, "ipMasq": False, "hairpinMode": True,
                     # No default route: a pod reaches the bridge and the Services, nothing else.
                     "ipam": {"type": "host-local", "dataDir": str(base / "cni-ipam"),
                              "ranges": [[{"subnet": POD_SUBNET, "gateway": NODE_IP}]],
                              "routes": [{"dst": SERVICE_CIDR}]}}]}, indent=1))
    write_if_changed(base / "kubelet.yaml", json.dumps(kubelet_config(layout), indent=1))
    write_if_changed(base / "kube-proxy.yaml", json.dumps(kube_proxy_config(layout), indent=1))
    write_if_changed(base / "Corefile", corefile(layout))


def write_if_changed(path: Path, text: str) -> None:
    """kube-proxy exits when its config file is written, even with the same content."""
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def containerd_config(layout: Layout) -> str:
    base = node_dir(layout)
    return f"""version = 2
root = "{base / 'containerd'}"
state = "{RUN_DIR / 'containerd'}"
oom_score = 0

[grpc]
  address = "{CONTAINERD_SOCKET}"

[ttrpc]
  address = "{RUN_DIR / 'containerd-ttrpc.sock'}"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{layout.registry}/{PAUSE_REFERENCE}"
  # No CAP_SYS_RESOURCE here: runc cannot lower a container's OOM score below the runtime's.
  restrict_oom_score_adj = true
  enable_selinux = false
  disable_apparmor = true
  stream_server_address = "{HOST}"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "{RUNC}"
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "{CNI_BIN_DIR}"
    conf_dir = "{base / 'cni'}"
    max_conf_num = 1
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "{base / 'certs.d'}"

[plugins."io.containerd.internal.v1.opt"]
  path = "{base / 'containerd-opt'}"
"""


def kubelet_config(layout: Layout) -> dict:
    return {
        "apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "KubeletConfiguration",
        "address": NODE_IP, "port": PORTS["kubelet"], "readOnlyPort": 0,
        "healthzBindAddress": HOST, "healthzPort": PORTS["kubelet-healthz"],
        "authentication": {"anonymous": {"enabled": False}, "webhook": {"enabled": False},
                           "x509": {"clientCAFile": str(layout.ca_cert)}},
        # Only the API server holds a client certificate of the cluster CA meant for it.
        "authorization": {"mode": "AlwaysAllow"},
        "tlsCertFile": str(layout.pki_dir / "kubelet.crt"), "tlsPrivateKeyFile": str(layout.pki_dir / "kubelet.key"),
        "containerRuntimeEndpoint": f"unix://{CONTAINERD_SOCKET}",
        # cgroup v1 with no systemd: the cgroupfs driver under a root of our own.
        "cgroupDriver": "cgroupfs", "cgroupRoot": f"/{CGROUP_ROOT}", "failCgroupV1": False, "failSwapOn": False,
        "clusterDNS": [NODE_IP], "clusterDomain": "cluster.local", "resolvConf": "",
        "registerWithTaints": [{"key": NODE_LABEL[0], "value": NODE_LABEL[1], "effect": "NoSchedule"}],
        "maxPods": 40, "serializeImagePulls": False, "imageMinimumGCAge": "24h",
        "imageGCHighThresholdPercent": 100, "imageGCLowThresholdPercent": 99,
        # The host's disks are shared with everything else: evict only when really full.
        "evictionHard": {"memory.available": "200Mi", "nodefs.available": "1%", "imagefs.available": "1%",
                         "nodefs.inodesFree": "1%"},
        "syncFrequency": "10s", "nodeStatusReportFrequency": "20s", "shutdownGracePeriod": "0s",
        "localStorageCapacityIsolation": True, "protectKernelDefaults": False,
    }


def kube_proxy_config(layout: Layout) -> dict:
    return {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1", "kind": "KubeProxyConfiguration",
        "mode": "iptables", "hostnameOverride": NODE_NAME, "bindAddress": NODE_IP,
        "clientConnection": {"kubeconfig": str(layout.kubeconfig("kube-proxy"))},
        "healthzBindAddress": f"{HOST}:{PORTS['kube-proxy-healthz']}",
        "metricsBindAddress": f"{HOST}:{PORTS['kube-proxy-metrics']}",
        "clusterCIDR": POD_SUBNET,
        # No NodePorts on loopback (that sets route_localnet) and no conntrack sysctls.
        "iptables": {"localhostNodePorts": False, "masqueradeAll": False},
        "nodePortAddresses": [f"{NODE_IP}/32"],
        "conntrack": {"maxPerCore": 0, "min": 0, "tcpEstablishedTimeout": "0s", "tcpCloseWaitTimeout": "0s"},
    }


def corefile(layout: Layout) -> str:
    """Names of the cluster only: every other name is NXDOMAIN, nothing is forwarded outside
    it (a zone of its own, as the template plugin runs before the kubernetes one)."""
    kubeconfig = layout.kubeconfig("coredns")
    return f"""cluster.local:53 in-addr.arpa:53 ip6.arpa:53 {{
    bind {NODE_IP}
    errors
    health {HOST}:{PORTS['coredns-health']}
    ready {HOST}:{PORTS['coredns-ready']}
    kubernetes cluster.local in-addr.arpa ip6.arpa {{
        kubeconfig {kubeconfig} coredns
        pods insecure
    }}
    cache 5
}}

.:53 {{
    bind {NODE_IP}
    errors
    template ANY ANY {{
        rcode NXDOMAIN
    }}
}}
"""


def component_args(layout: Layout, component: str) -> list[str]:
    base = node_dir(layout)
    if component == "containerd":
        return [str(layout.node_binary("containerd")), f"--config={base / 'containerd.toml'}", "--log-level=warn"]
    if component == "kubelet":
        return [str(layout.node_binary("kubelet")), f"--config={base / 'kubelet.yaml'}",
                f"--kubeconfig={layout.kubeconfig('kubelet')}", f"--root-dir={base / 'kubelet'}",
                f"--hostname-override={NODE_NAME}", f"--node-ip={NODE_IP}",
                f"--node-labels={NODE_LABEL[0]}={NODE_LABEL[1]},type=real", "--v=1"]
    if component == "kube-proxy":
        return [str(layout.node_binary("kube-proxy")), f"--config={base / 'kube-proxy.yaml'}", "--v=1"]
    if component == "coredns":
        return [str(layout.node_binary("coredns")), "-conf", str(base / "Corefile")]
    raise ClusterError(f"unknown node component {component!r}")


def component_env(component: str) -> dict[str, str]:
    # containerd finds its shim and the shim finds runc on PATH.
    return {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"} if component == "containerd" else {}


# --------------------------------------------------------------------------
# The host: network, sysctls, cgroups


def run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(list(args), capture_output=True, text=True)
    if check and result.returncode != 0:
        raise ClusterError(f"{' '.join(args)}: {(result.stderr or result.stdout).strip().splitlines()[-1:]}")
    return result


def sysctl_path(name: str) -> Path:
    return Path("/proc/sys") / name


def prepare_host(layout: Layout) -> None:
    """Record the sysctls (once per start), make the bridge, the isolation chain and the cgroups."""
    record = node_dir(layout) / "sysctls.json"
    record.parent.mkdir(parents=True, exist_ok=True)
    if not record.exists():
        saved = {name: sysctl_path(name).read_text().strip() for name in SYSCTLS if sysctl_path(name).exists()}
        record.write_text(json.dumps(saved))
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    if run("ip", "link", "show", BRIDGE, check=False).returncode != 0:
        run("ip", "link", "add", BRIDGE, "type", "bridge")
    addresses = run("ip", "-o", "-4", "addr", "show", "dev", BRIDGE).stdout
    if f" {NODE_IP}/" not in addresses:
        run("ip", "addr", "add", f"{NODE_IP}/24", "dev", BRIDGE)
    run("ip", "link", "set", BRIDGE, "up")
    # The Service addresses are the bridge's (kube-proxy turns them into the pods'), and kwok's
    # pod addresses lead nowhere: no packet for either leaves by the host's default route.
    for route in host_routes():
        run("ip", "route", "replace", *route)
    # Service traffic from a pod back to a pod on the bridge is routed (DNAT, then out again).
    sysctl_path("net/ipv4/ip_forward").write_text("1")
    if sysctl_path("net/bridge/bridge-nf-call-iptables").exists():
        sysctl_path("net/bridge/bridge-nf-call-iptables").write_text("1")
    if run("iptables", "-w", "-n", "-L", FIREWALL_CHAIN, check=False).returncode != 0:
        run("iptables", "-w", "-N", FIREWALL_CHAIN)
    run("iptables", "-w", "-F", FIREWALL_CHAIN)
    run("iptables", "-w", "-A", FIREWALL_CHAIN, "-i", BRIDGE, "!", "-o", BRIDGE, "-j", "DROP")
    run("iptables", "-w", "-A", FIREWALL_CHAIN, "!", "-i", BRIDGE, "-o", BRIDGE, "-j", "DROP")
    if run("iptables", "-w", "-C", "FORWARD", "-j", FIREWALL_CHAIN, check=False).returncode != 0:
        run("iptables", "-w", "-I", "FORWARD", "1", "-j", FIREWALL_CHAIN)
    for hierarchy in cgroup_hierarchies():
        (hierarchy / CGROUP_ROOT).mkdir(exist_ok=True)
    cpuset = CGROUP_V1 / "cpuset" / CGROUP_ROOT
    if cpuset.is_dir():  # a cpuset cgroup takes no task until it has cpus and mems
        for name in ("cpuset.cpus", "cpuset.mems"):
            if not (cpuset / name).read_text().strip():
                (cpuset / name).write_text((CGROUP_V1 / "cpuset" / name).read_text().strip())


def host_routes() -> list[tuple[str, ...]]:
    return [(SERVICE_CIDR, "dev", BRIDGE, "src", NODE_IP), ("unreachable", POD_CIDR)]


def cgroup_hierarchies() -> list[Path]:
    return sorted(path for path in CGROUP_V1.iterdir() if path.is_dir() and not path.is_symlink()
                  and (path / "cgroup.procs").exists())


def copy_debian_programs(layout: Layout) -> None:
    """containerd runs from the cache, like every process of the cluster (processes.py)."""
    layout.node_bin_dir.mkdir(parents=True, exist_ok=True)
    for name, source in DEBIAN_PROGRAMS.items():
        copy = layout.node_binary(name)
        origin = Path(source).resolve()
        if not copy.exists() or copy.stat().st_mtime_ns != origin.stat().st_mtime_ns:
            copy.unlink(missing_ok=True)
            shutil.copy2(origin, copy)


# --------------------------------------------------------------------------
# Teardown


def crictl(layout: Layout, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([str(layout.node_binary("crictl")), f"--runtime-endpoint=unix://{CONTAINERD_SOCKET}",
                           f"--image-endpoint=unix://{CONTAINERD_SOCKET}", "--timeout=30s", *args],
                          capture_output=True, text=True, timeout=timeout)


def remove_pods(layout: Layout) -> None:
    """Stop and remove every pod through the CRI, so containerd releases their networks."""
    if CONTAINERD_SOCKET.exists() and layout.node_binary("crictl").exists():
        crictl(layout, "rmp", "--all", "--force")


def kill_leftover_shims() -> None:
    """Shims (and their containers) of our containerd that outlived it."""
    needle = str(RUN_DIR).encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if cmdline.startswith(SHIM.encode()) and needle in cmdline:
            try:
                os.kill(int(entry.name), 9)
            except ProcessLookupError:
                pass


def our_mounts(layout: Layout) -> list[str]:
    """Mount points under the node's directories or its run directory, deepest first."""
    roots = (str(node_dir(layout)) + "/", str(RUN_DIR) + "/", "/run/netns/cni-")
    points = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4].replace("\\040", " ")
        if point.startswith(roots) or point == str(RUN_DIR):
            points.append(point)
    return sorted(set(points), key=len, reverse=True)


def unmount_all(layout: Layout) -> None:
    for _ in range(3):
        points = our_mounts(layout)
        if not points:
            return
        for point in points:
            run("umount", "--lazy", point, check=False)
    left = our_mounts(layout)
    if left:
        raise ClusterError(f"could not unmount {', '.join(left[:3])}")


def remove_cgroups() -> None:
    for hierarchy in cgroup_hierarchies():
        root = hierarchy / CGROUP_ROOT
        if not root.is_dir():
            continue
        for directory in sorted((p for p in root.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
            _rmdir_cgroup(directory)
        _rmdir_cgroup(root)


def _rmdir_cgroup(directory: Path) -> None:
    for attempt in range(50):
        try:
            directory.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            for pid in (directory / "cgroup.procs").read_text().split() if (directory / "cgroup.procs").exists() else ():
                try:
                    os.kill(int(pid), 9)
                except ProcessLookupError:
                    pass
            time.sleep(0.1)
    raise ClusterError(f"cgroup {directory} is still in use")


def remove_kube_chains() -> None:
    """The KUBE-* chains of every table (kube-proxy's, and the kubelet's KUBE-FIREWALL and
    canaries) and the rules that jump to them."""
    for table in ("filter", "nat", "mangle"):
        dump = run("iptables-save", "-t", table, check=False).stdout.splitlines()
        for line in dump:
            if line.startswith("-A ") and not line.split()[1].startswith("KUBE-") and " -j KUBE-" in line:
                run("iptables", "-w", "-t", table, "-D", *shlex.split(line[3:]), check=False)
        chains = [line[1:].split()[0] for line in dump if line.startswith(":KUBE-")]
        for chain in chains:
            run("iptables", "-w", "-t", table, "-F", chain, check=False)
        for chain in chains:
            run("iptables", "-w", "-t", table, "-X", chain, check=False)


def teardown_network(layout: Layout) -> None:
    proxy = layout.node_binary("kube-proxy")
    if proxy.exists():
        run(str(proxy), "--cleanup", check=False)
    remove_kube_chains()
    if run("iptables", "-w", "-C", "FORWARD", "-j", FIREWALL_CHAIN, check=False).returncode == 0:
        run("iptables", "-w", "-D", "FORWARD", "-j", FIREWALL_CHAIN)
    if run("iptables", "-w", "-n", "-L", FIREWALL_CHAIN, check=False).returncode == 0:
        run("iptables", "-w", "-F", FIREWALL_CHAIN)
        run("iptables", "-w", "-X", FIREWALL_CHAIN)
    for line in run("ip", "-o", "link", "show", "master", BRIDGE, check=False).stdout.splitlines():
        name = line.split(":")[1].strip().split("@")[0]
        run("ip", "link", "delete", name, check=False)
    if run("ip", "link", "show", BRIDGE, check=False).returncode == 0:
        run("ip", "link", "delete", BRIDGE)
    for route in host_routes():  # the first went with the bridge
        run("ip", "route", "delete", *route, check=False)
    shutil.rmtree(node_dir(layout) / "cni-ipam", ignore_errors=True)
    record = node_dir(layout) / "sysctls.json"
    if record.exists():
        for name, value in json.loads(record.read_text()).items():
            if sysctl_path(name).exists() and sysctl_path(name).read_text().strip() != value:
                sysctl_path(name).write_text(value)
        record.unlink()


def leftovers(layout: Layout) -> list[str]:
    """What of the node is still on the host (empty after a teardown)."""
    found = []
    if run("ip", "link", "show", BRIDGE, check=False).returncode == 0:
        found.append(f"link {BRIDGE}")
    if run("iptables", "-w", "-n", "-L", FIREWALL_CHAIN, check=False).returncode == 0:
        found.append(f"iptables chain {FIREWALL_CHAIN}")
    routes = run("ip", "route", "show", "table", "all", check=False).stdout
    found += [f"route {cidr}" for cidr in (SERVICE_CIDR, POD_CIDR) if cidr in routes]
    if "KUBE-" in run("iptables-save", check=False).stdout:
        found.append("kube-proxy's iptables chains")
    found += [f"mount {point}" for point in our_mounts(layout)]
    found += [f"cgroup {h / CGROUP_ROOT}" for h in cgroup_hierarchies() if (h / CGROUP_ROOT).exists()]
    if (node_dir(layout) / "sysctls.json").exists():
        found.append("recorded sysctls not written back")
    return found


# --------------------------------------------------------------------------
# Start and stop


def runtime_ready(layout: Layout) -> bool:
    """containerd's CRI answers (the kubelet must not start before)."""
    return CONTAINERD_SOCKET.exists() and crictl(layout, "info", timeout=10).returncode == 0


def push_pause(layout: Layout) -> None:
    """The sandbox image: the pause binary as the only file of a one-layer image."""
    import io
    import tarfile

    from localcluster.images import crane

    target = f"{layout.registry}/{PAUSE_REFERENCE}"
    binary = layout.node_binary("pause")
    layer = layout.cache_dir / "tmp" / "pause-layer.tar"
    layer.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("pause")
        info.size, info.mtime, info.mode = binary.stat().st_size, 0, 0o755
        with binary.open("rb") as handle:
            tar.addfile(info, handle)
    layer.write_bytes(buffer.getvalue())
    try:
        crane(layout.binary("crane"), layout.ca_cert, ["append", "--oci-empty-base", "--new_layer", str(layer),
                                                        "--new_tag", target, "--platform", "linux/amd64"])
        crane(layout.binary("crane"), layout.ca_cert, ["mutate", target, "--entrypoint", "/pause",
                                                        "--user", "65535:65535", "--tag", target])
    finally:
        layer.unlink(missing_ok=True)


def push_stand_ins(layout: Layout) -> list[str]:
    """Build (once per recipe key) the images of nodeimages.IMAGES and push each under every
    reference it stands in for, as the registry mirror names it; returns the repositories
    (`host/path`, no tag) that pods may name them by.
    A push of what the registry already holds changes nothing (same digest)."""
    from localcluster import nodeimages
    from localcluster.components import INTERNAL_REGISTRY
    from localcluster.images import dev_image_streams, mirror_reference

    env = {"SSL_CERT_FILE": str(layout.ca_cert), "HOME": str(layout.binary("crane").parent)}
    streams = dev_image_streams()
    references = []

    def push(recipe: nodeimages.Recipe, archive: Path) -> None:
        targets = []
        for reference in recipe.references:
            targets.append(mirror_reference(layout.registry, reference))
            references.append(f"{layout.registry}/{reference.rsplit(':', 1)[0]}")
            # What an image trigger with the Local reference policy writes into a workload is the
            # internal registry's <namespace>/<stream>@<digest>; the registry serves it (the same
            # manifest, so the same digest) to containerd, which mirrors that name to it. A tag
            # named after the reference: one stream may import several (PostgreSQL 15 and 17).
            tag = re.sub(r"[^A-Za-z0-9_.-]", "-", reference)[:128]
            for namespace in REAL_POD_NAMESPACES:
                for stream in sorted(streams.get(reference, ())):
                    targets.append(f"{layout.registry}/{namespace}/{stream}:{tag}")
                    references.append(f"{INTERNAL_REGISTRY}/{namespace}/{stream}")
        nodeimages.push_image(archive, layout.binary("crane"), targets, env)

    try:
        nodeimages.build_images(layout.binary("crane"), layout.cache_dir / "node-images", push)
    except RuntimeError as exc:
        raise ClusterError(str(exc)) from exc
    return references


def start(layout: Layout) -> list[str]:
    """Bring the real node up on a running control plane, with the stand-in images in the
    registry; returns the references those serve. ClusterError when it cannot run (the caller
    tears down what was made)."""
    from localcluster import build, processes

    build.build_node(layout)
    copy_debian_programs(layout)
    prepare_host(layout)
    write_configs(layout)
    enabled_flag(layout).write_text("")
    push_pause(layout)
    references = push_stand_ins(layout)
    for component in NODE_COMPONENTS:
        processes.start_component(layout, component)
        processes.wait_component(layout, component, timeout=90)
    return references


def stop(layout: Layout) -> None:
    """Stop the node's processes and pods and undo everything it changed on the host."""
    from localcluster import processes

    if enabled(layout) or any(processes.read_pid(layout, c) for c in NODE_COMPONENTS) or leftovers(layout):
        processes.stop_component(layout, "kubelet")
        if processes.read_pid(layout, "containerd") is not None:
            remove_pods(layout)
        for component in ("coredns", "kube-proxy", "containerd"):
            processes.stop_component(layout, component)
        kill_leftover_shims()
        unmount_all(layout)
        remove_cgroups()
        teardown_network(layout)
    enabled_flag(layout).unlink(missing_ok=True)

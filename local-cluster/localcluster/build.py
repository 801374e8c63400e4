"""The Go builds of the control plane: every binary of the cluster from the pinned modules in
local-cluster/, into the cache directory's bin/<build key>/, with the OpenShift CRDs beside them.

The OpenShift modules need two published modules laid out with small additions
(pins.PATCHED_MODULES), and the CRDs come from the github.com/openshift/api version that
openshift-apiserver pins; both are taken from the Go module cache.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Sequence

from localcluster import ClusterError, pins
from localcluster.layout import Layout
from localcluster.processes import our_processes

# kubectl runs nothing of the cluster: make benchmark times it applying what the deploy applies.
K8S_COMMANDS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl")
BINARIES = (*K8S_COMMANDS, "openshift-apiserver", "openshift-controller-manager", "etcd", "kwok", "crane",
            "dc-deployer")


def binaries_present(layout: Layout) -> bool:
    return all(layout.binary(name).is_file() for name in BINARIES) and layout.openshift_crds.is_dir()


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


def module_dir(module: str, version: str) -> Path:
    """Directory of a downloaded module in the Go module cache (downloads it if needed).
    Asked from outside any module: the openshift-apiserver module cannot load its own
    graph before its k8s-apiserver replacement exists."""
    with tempfile.TemporaryDirectory() as outside:
        result = subprocess.run(["go", "mod", "download", "-json", f"{module}@{version}"], cwd=outside,
                                env=dict(os.environ, GOFLAGS="-mod=mod"), capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"go mod download {module}@{version} failed: {result.stderr.strip()[-300:]}")
    return Path(json.loads(result.stdout)["Dir"])


def prepare_sources() -> list[Path]:
    """Lay out every PATCHED_MODULES directory: the published release from the module cache
    plus its addition. Made again on every build, so it cannot drift; the directories are
    gitignored."""
    made = []
    for module_version, directory, additions in pins.PATCHED_MODULES:
        module, version = module_version.split("@")
        source = module_dir(module, version)
        target = pins.GO_MODULE_DIR / directory
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(source, target)
        for path in [target, *target.rglob("*")]:
            path.chmod(path.stat().st_mode | 0o200)
        for target_file, before, addition_file in additions:
            addition = (pins.GO_MODULE_DIR / addition_file).read_text()
            destination = target / target_file
            if before is None:
                destination.write_text(addition)
                continue
            text = destination.read_text()
            if text.count(before) != 1:
                raise RuntimeError(f"{module_version}: {target_file} no longer has exactly one "
                                   f"{before.splitlines()[0].strip()!r} where {addition_file} goes")
            destination.write_text(text.replace(before, addition + before))
        made.append(target)
    return made


def openshift_api_version(module: Path = pins.APISERVER_MODULE_DIR) -> str:
    """The github.com/openshift/api version the openshift-apiserver module resolves to (go.sum)."""
    for line in (module / "go.sum").read_text().splitlines():
        name, version, *_ = line.split()
        if name == "github.com/openshift/api" and not version.endswith("/go.mod"):
            return version
    raise RuntimeError(f"github.com/openshift/api is not in {module / 'go.sum'}")


def copy_crds(out_dir: Path) -> list[str]:
    """Copy the CRDs of CRD_GLOBS from the pinned github.com/openshift/api into out_dir/crds."""
    source = module_dir("github.com/openshift/api", openshift_api_version())
    target = out_dir / "crds"
    target.mkdir(parents=True, exist_ok=True)
    copied = []
    for pattern in pins.CRD_GLOBS:
        for path in sorted(source.glob(pattern)):
            if "TechPreview" in path.name:
                continue
            name = path.parent.parent.name + "-" + path.parent.name + "-" + path.name
            shutil.copyfile(path, target / name)
            copied.append(name)
    if not copied:
        raise RuntimeError(f"no CRDs matched {pins.CRD_GLOBS} in {source}")
    return copied


def build(layout: Layout, force: bool = False) -> float:
    """Build the binaries unless present; returns the seconds spent (0 when cached)."""
    if binaries_present(layout) and not force:
        print(f"binaries cached in {layout.bin_dir}")
        return 0.0
    layout.bin_dir.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(dir=layout.bin_dir.parent, prefix=".build-") as tmp:
        out = Path(tmp)
        prepare_sources()
        steps = (  # what, module directory, packages, go_build options
            (f"kube-apiserver, kube-controller-manager, kube-scheduler, kubectl {pins.KUBERNETES_VERSION} "
             f"and etcd {pins.ETCD_VERSION}",
             pins.GO_MODULE_DIR, [f"k8s.io/kubernetes/cmd/{name}" for name in K8S_COMMANDS] + ["./cmd/etcd"],
             {"ldflags": pins.k8s_ldflags()}),
            (f"kwok {pins.KWOK_VERSION}", pins.KWOK_MODULE_DIR, ["sigs.k8s.io/kwok/cmd/kwok"], {}),
            (f"openshift-apiserver {pins.OPENSHIFT_APISERVER_VERSION}", pins.APISERVER_MODULE_DIR,
             ["github.com/openshift/openshift-apiserver/cmd/openshift-apiserver"], {}),
            (f"openshift-controller-manager {pins.OPENSHIFT_CONTROLLER_MANAGER_VERSION}", pins.CONTROLLER_MODULE_DIR,
             ["github.com/openshift/openshift-controller-manager/cmd/openshift-controller-manager"],
             {"tags": pins.CONTROLLER_BUILD_TAGS, "env_extra": {"GONOSUMDB": pins.GONOSUMDB}}),
            (f"dc-deployer (github.com/openshift/oc {pins.OC_VERSION})", pins.DC_DEPLOYER_MODULE_DIR, ["."], {}),
            (f"crane {pins.CRANE_VERSION}", pins.CRANE_MODULE_DIR,
             ["github.com/google/go-containerregistry/cmd/crane"], {}),
        )
        for what, module, packages, options in steps:
            print(f"building {what} ...", flush=True)
            step_started = time.monotonic()
            go_build(module, out, packages, **options)
            print(f"  took {time.monotonic() - step_started:.0f}s", flush=True)
        copy_crds(out)
        if layout.bin_dir.exists():
            shutil.rmtree(layout.bin_dir)
        out.rename(layout.bin_dir)
        out.mkdir()  # let TemporaryDirectory clean up an empty directory
    if not our_processes(layout):
        for stale in layout.bin_dir.parent.iterdir():
            if stale != layout.bin_dir and not stale.name.startswith((".", "node-")):
                shutil.rmtree(stale, ignore_errors=True)
    elapsed = time.monotonic() - started
    print(f"build took {elapsed:.0f}s; binaries in {layout.bin_dir}")
    return elapsed


NODE_BINARIES = ("kubelet", "kube-proxy", "coredns", "crictl", "pause")


def node_binaries_present(layout: Layout) -> bool:
    return all(layout.node_binary(name).is_file() for name in NODE_BINARIES)


def build_node(layout: Layout, force: bool = False) -> float:
    """Build the real node's binaries unless present; returns the seconds spent (0 when cached)."""
    if node_binaries_present(layout) and not force:
        return 0.0
    layout.node_bin_dir.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(dir=layout.node_bin_dir.parent, prefix=".build-") as tmp:
        out = Path(tmp)
        for what, module, packages, options in (
            (f"kubelet and kube-proxy {pins.KUBERNETES_VERSION}", pins.NODE_MODULE_DIR,
             ["k8s.io/kubernetes/cmd/kubelet", "k8s.io/kubernetes/cmd/kube-proxy"], {"ldflags": pins.k8s_ldflags()}),
            (f"coredns {pins.COREDNS_VERSION}", pins.COREDNS_MODULE_DIR, ["."], {}),
            (f"crictl {pins.CRICTL_VERSION}", pins.CRICTL_MODULE_DIR, ["sigs.k8s.io/cri-tools/cmd/crictl"], {}),
        ):
            print(f"building {what} ...", flush=True)
            step_started = time.monotonic()
            go_build(module, out, packages, **options)
            print(f"  took {time.monotonic() - step_started:.0f}s", flush=True)
        result = subprocess.run(["gcc", "-static", "-O2", "-s", "-o", str(out / "pause"), str(pins.PAUSE_SOURCE)],
                                capture_output=True, text=True)
        if result.returncode != 0:
            raise ClusterError(f"gcc {pins.PAUSE_SOURCE.name} failed: {result.stderr.strip()[-300:]}")
        if layout.node_bin_dir.exists():
            shutil.rmtree(layout.node_bin_dir)
        out.rename(layout.node_bin_dir)
        out.mkdir()
    for stale in layout.node_bin_dir.parent.glob("node-*"):
        if stale != layout.node_bin_dir and not our_processes(layout):
            shutil.rmtree(stale, ignore_errors=True)
    elapsed = time.monotonic() - started
    print(f"node build took {elapsed:.0f}s; binaries in {layout.node_bin_dir}")
    return elapsed

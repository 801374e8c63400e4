"""The commands: start, stop, status and info of one cluster (one cache directory)."""

from __future__ import annotations

import json
import time

from localcluster import ClusterError, node
from localcluster.bootstrap import (bootstrap, bootstrap_openshift_prerequisites, ensure_real_node_placement,
                                   open_volume_dirs,
                                   release_leader_lock, remove_real_node_placement, wait_openshift_api,
                                   wait_real_node)
from localcluster.build import build
from localcluster.components import api_healthy, write_component_configs
from localcluster.credentials import ensure_tokens, write_client_files
from localcluster.layout import COMPONENTS, HOST, NAMESPACES, PORTS, START_STAGES, Layout, locked
from localcluster.pki import ensure_pki
from localcluster.processes import (is_running, our_processes, read_pid, start_component, stop_component,
                                    terminate, wait_component)
from localcluster.sessions import session_owned_flag
from localcluster.stages import write_kwok_config


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
    ensure_tokens(layout)
    write_client_files(layout)
    write_component_configs(layout)
    write_kwok_config(layout)
    try:
        for stage in START_STAGES:
            if "openshift-controller-manager" in stage and read_pid(layout, "openshift-controller-manager") is None:
                release_leader_lock(layout)
            for component in stage:
                start_component(layout, component)
            if "kube-controller-manager" in stage:
                # needs only the API server: done while the controllers and kwok come up
                bootstrap_openshift_prerequisites(layout)
            for component in stage:
                wait_component(layout, component)
            if "openshift-apiserver" in stage:
                wait_openshift_api(layout)
        bootstrap(layout)
        real_node = start_real_node(layout)
    except Exception:
        _stop(layout, quiet=True)
        raise
    print(f"local cluster up at {layout.host} in {time.monotonic() - started:.0f}s"
          + (f", with the real node {node.NODE_NAME}" if real_node else ""))
    return True


def start_real_node(layout: Layout) -> bool:
    """Start the real node where the machine allows it (node.mode()); returns whether it runs.
    Where it cannot run, the cluster runs on kwok alone and one line says why, unless the
    node is required."""
    wanted = node.mode()
    reason = "switched off (LOCAL_CLUSTER_REAL_NODE=off)" if wanted == "off" else node.why_not(layout)
    if reason is None:
        try:
            references = node.start(layout)
            wait_real_node(layout)
            open_volume_dirs(layout)
            ensure_real_node_placement(layout, references)
            return True
        except ClusterError as exc:
            reason = str(exc)
            node.stop(layout)
    remove_real_node_placement(layout)
    if wanted == "required":
        raise ClusterError(f"the real node cannot run: {reason}")
    print(f"local cluster: no real node, every pod is simulated by kwok: {reason}")
    return False


def stop(layout: Layout, quiet: bool = False) -> None:
    """Stop every process of the cluster and verify that none is left."""
    with locked(layout):
        _stop(layout, quiet)


def _stop(layout: Layout, quiet: bool = False) -> None:
    node.stop(layout)
    for component in reversed(COMPONENTS):
        stop_component(layout, component)
    for pid, _name in our_processes(layout):
        terminate(pid, 10)
    session_owned_flag(layout).unlink(missing_ok=True)
    leftovers = our_processes(layout)
    if leftovers:
        raise ClusterError("still running after stop: " + ", ".join(f"{n} (pid {p})" for p, n in leftovers))
    if not quiet:
        print("local cluster stopped; data and binaries stay in " + str(layout.cache_dir))


def status(layout: Layout) -> int:
    """Print each component and whether the API is ready; 0 when all run and it is, else 3."""
    running = 0
    for component in COMPONENTS:
        pid = read_pid(layout, component)
        running += pid is not None
        port = PORTS.get(component)
        print(f"{component:24} {'running pid ' + str(pid) if pid else 'stopped':20} {HOST}:{port}")
    node_running = 0
    if node.enabled(layout):
        for component in node.NODE_COMPONENTS:
            pid = read_pid(layout, component)
            node_running += pid is not None
            print(f"{component:24} {'running pid ' + str(pid) if pid else 'stopped':20} real node {node.NODE_NAME}")
    healthy = api_healthy(layout) if running else False
    print(f"api {layout.host}: {'ready' if healthy else 'not ready'}")
    if healthy:
        print(f"kubeconfigs: {layout.kubeconfig('admin')}, {layout.kubeconfig('deployer')}")
        print(f"ansible connection vars: {layout.connection_vars}")
    node_complete = not node.enabled(layout) or node_running == len(node.NODE_COMPONENTS)
    return 0 if healthy and running == len(COMPONENTS) and node_complete else 3


def pods(layout: Layout, namespace: str) -> None:
    """Print the pods of `namespace`, the ones that run for real (containers on the real node)
    first, then the ones kwok simulates (nothing runs), each with its phase and readiness."""
    from kubernetes import client

    from localcluster.bootstrap import api_client

    core = client.CoreV1Api(api_client(layout, layout.token("admin")))
    items = sorted(core.list_namespaced_pod(namespace).items, key=lambda pod: pod.metadata.name)
    real = [pod for pod in items if pod.spec.node_name == node.NODE_NAME]
    simulated = [pod for pod in items if pod.spec.node_name != node.NODE_NAME]

    def line(pod) -> str:
        statuses = pod.status.container_statuses or []
        ready = sum(bool(status.ready) for status in statuses)
        return f"  {pod.metadata.name:48} {pod.status.phase:10} {ready}/{len(pod.spec.containers)} ready"

    print(f"running for real on {node.NODE_NAME} ({len(real)} pods):" if node.enabled(layout)
          else f"no real node ({len(real)} pods run for real):")
    print("\n".join(line(pod) for pod in real) or "  none")
    print(f"simulated by kwok, nothing runs ({len(simulated)} pods):")
    print("\n".join(line(pod) for pod in simulated) or "  none")


def info(layout: Layout) -> None:
    """Where the kubeconfigs and connection vars are, as JSON."""
    print(json.dumps({
        "host": layout.host,
        "admin_kubeconfig": str(layout.kubeconfig("admin")),
        "deployer_kubeconfig": str(layout.kubeconfig("deployer")),
        "connection_vars": str(layout.connection_vars),
        "namespaces": list(NAMESPACES),
    }, indent=2))

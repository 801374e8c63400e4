"""The commands: start, stop, status and info of one cluster (one cache directory)."""

from __future__ import annotations

import json
import time

from localcluster import ClusterError
from localcluster.bootstrap import bootstrap, bootstrap_openshift_prerequisites, release_leader_lock, wait_openshift_api
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
    healthy = api_healthy(layout) if running else False
    print(f"api {layout.host}: {'ready' if healthy else 'not ready'}")
    if healthy:
        print(f"kubeconfigs: {layout.kubeconfig('admin')}, {layout.kubeconfig('deployer')}")
        print(f"ansible connection vars: {layout.connection_vars}")
    return 0 if healthy and running == len(COMPONENTS) else 3


def info(layout: Layout) -> None:
    """Where the kubeconfigs and connection vars are, as JSON."""
    print(json.dumps({
        "host": layout.host,
        "admin_kubeconfig": str(layout.kubeconfig("admin")),
        "deployer_kubeconfig": str(layout.kubeconfig("deployer")),
        "connection_vars": str(layout.connection_vars),
        "namespaces": list(NAMESPACES),
    }, indent=2))

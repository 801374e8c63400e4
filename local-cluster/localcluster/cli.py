"""A real Kubernetes and OpenShift control plane on 127.0.0.1 for the tests and local deploys.

Builds etcd, kube-apiserver, kube-controller-manager, kube-scheduler, the kwok controller,
openshift-apiserver, openshift-controller-manager, the DeploymentConfig deployer and crane
from the pinned Go modules in local-cluster/; runs them on loopback with TLS, RBAC and
static bearer tokens, next to Debian's docker-registry. It bootstraps what the deployment
expects to find on an OpenShift cluster: the OpenShift API served by openshift-apiserver
behind the aggregation layer, the project namespaces, fake nodes that run pods (kwok), a
pool of PersistentVolumes, a registry that mirrors every dev image, and two identities
(`deployer`, admin in the project namespaces only, and `norights`, with no bindings).

Everything lives in the cache directory (default <repo>/.cache/local-cluster, or
$LOCAL_CLUSTER_CACHE). The work is done by the other modules of this package, one job each
(see its __init__.py); this is its command line: `python -m localcluster <command>`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Sequence

from localcluster import ClusterError, cluster
from localcluster import node
from localcluster.build import build, build_node
from localcluster.layout import Layout, default_cache_dir, locked


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localcluster", description=__doc__.splitlines()[0])
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help="state directory (default $LOCAL_CLUSTER_CACHE or <repo>/.cache/local-cluster)")
    sub = parser.add_subparsers(dest="command", required=True)
    build_parser = sub.add_parser("build", help="build the binaries (the real node's too, where it can run) unless cached")
    build_parser.add_argument("--force", action="store_true", help="rebuild even if cached")
    sub.add_parser("start", help="start (building first if needed) and bootstrap the cluster")
    sub.add_parser("stop", help="stop every process of the cluster; data stays")
    sub.add_parser("status", help="show the components and whether the API is ready")
    sub.add_parser("info", help="print where the kubeconfigs and connection vars are (JSON)")
    pods_parser = sub.add_parser("pods", help="show which pods of a namespace run for real on the real node and which kwok simulates")
    pods_parser.add_argument("namespace")
    args = parser.parse_args(argv)
    layout = Layout((args.cache_dir or default_cache_dir()).resolve())
    try:
        if args.command == "build":
            with locked(layout):
                build(layout, force=args.force)
                if node.mode() != "off" and node.why_not(layout) is None:
                    build_node(layout, force=args.force)
        elif args.command == "start":
            cluster.start(layout)
        elif args.command == "stop":
            cluster.stop(layout)
        elif args.command == "status":
            return cluster.status(layout)
        elif args.command == "info":
            cluster.info(layout)
        elif args.command == "pods":
            cluster.pods(layout, args.namespace)
    except ClusterError as exc:
        print(f"local-cluster: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - one line for the user, the log files have the rest
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        try:  # an API error: the server's own message says which object and field
            message = json.loads(getattr(exc, "body", None) or "")["message"]
        except (ValueError, TypeError, KeyError):
            pass
        print(f"local-cluster: {type(exc).__name__}: {message}", file=sys.stderr)
        return 1
    return 0

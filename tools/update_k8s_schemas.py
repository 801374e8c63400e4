#!/usr/bin/env python3
"""Extract the Kubernetes OpenAPI definitions the templates use from the k8s.io/kubernetes
Go module (api/openapi-spec/swagger.json) into schemas/kubernetes.json.

The Go module is the one local-cluster/go.mod pins, so the offline validation and the local
API server agree on every schema. Run after changing the Kubernetes version:

    python -m tools.update_k8s_schemas [--kinds Kind,...]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Every Kubernetes kind a template may render (a test checks the templates use no other).
KINDS = [
    "v1/ConfigMap",
    "v1/Namespace",
    "v1/PersistentVolumeClaim",
    "v1/Pod",
    "v1/Secret",
    "v1/Service",
    "v1/ServiceAccount",
    "apps/v1/Deployment",
    "apps/v1/StatefulSet",
    "batch/v1/CronJob",
    "batch/v1/Job",
    "rbac.authorization.k8s.io/v1/Role",
    "rbac.authorization.k8s.io/v1/RoleBinding",
]


def kubernetes_version(go_mod: Path) -> str:
    match = re.search(r"^\s*k8s\.io/kubernetes (v\S+)", go_mod.read_text(), re.M)
    if not match:
        raise SystemExit(f"{go_mod}: no k8s.io/kubernetes requirement")
    return match.group(1)


def swagger_path(version: str) -> Path:
    modcache = subprocess.run(["go", "env", "GOMODCACHE"], capture_output=True, text=True, check=True).stdout.strip()
    path = Path(modcache) / f"k8s.io/kubernetes@{version}/api/openapi-spec/swagger.json"
    if not path.exists():
        subprocess.run(["go", "mod", "download", f"k8s.io/kubernetes@{version}"], cwd=ROOT / "local-cluster", check=True)
    return path


def gvk_key(gvk: dict) -> str:
    group = gvk.get("group", "")
    return f"{group}/{gvk['version']}/{gvk['kind']}" if group else f"{gvk['version']}/{gvk['kind']}"


def refs(node: object) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                found.add(value.rsplit("/", 1)[-1])
            else:
                found |= refs(value)
    elif isinstance(node, list):
        for value in node:
            found |= refs(value)
    return found


def strip(node: object) -> object:
    """Drop descriptions: they are most of the size and none of the meaning."""
    if isinstance(node, dict):
        return {k: strip(v) for k, v in node.items() if k != "description"}
    if isinstance(node, list):
        return [strip(v) for v in node]
    return node


def extract(swagger: dict, kinds: list[str]) -> dict:
    definitions = swagger["definitions"]
    by_gvk = {}
    for name, schema in definitions.items():
        for gvk in schema.get("x-kubernetes-group-version-kind", []):
            by_gvk.setdefault(gvk_key(gvk), name)
    roots = {}
    for kind in kinds:
        if kind not in by_gvk:
            raise SystemExit(f"swagger.json has no definition for {kind}")
        roots[kind] = by_gvk[kind]
    wanted: set[str] = set()
    todo = list(roots.values())
    while todo:
        name = todo.pop()
        if name in wanted:
            continue
        wanted.add(name)
        todo.extend(refs(definitions[name]) - wanted)
    return {"kinds": roots, "definitions": {n: strip(definitions[n]) for n in sorted(wanted)}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--go-mod", type=Path, default=ROOT / "local-cluster" / "go.mod")
    parser.add_argument("--out", type=Path, default=ROOT / "schemas" / "kubernetes.json")
    args = parser.parse_args(argv)
    version = kubernetes_version(args.go_mod)
    swagger = json.loads(swagger_path(version).read_text())
    data = extract(swagger, KINDS)
    data = {"kubernetesVersion": version, **data}
    args.out.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    print(f"{args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}: "
          f"{len(data['kinds'])} kinds, {len(data['definitions'])} definitions from Kubernetes {version}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

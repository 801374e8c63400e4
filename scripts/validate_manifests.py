#!/usr/bin/env python3
"""Validate rendered manifests offline, strictly.

Kubernetes kinds are checked against schemas/kubernetes.json (extracted from the pinned
Kubernetes release by update_k8s_schemas.py); OpenShift kinds against the
openAPIV3Schema of the CRDs under crds/ (crds/openshift/, crds/mpp/) (for this offline check only: the local
control plane serves the real OpenShift API, which validates again). Strict: a field the schema does not define is an error, as with the API
server's fieldValidation=Strict. CEL rules (x-kubernetes-validations) are left to the API
server.

    python -m scripts.validate_manifests FILE_OR_DIR...
"""

from __future__ import annotations

import argparse
import base64
import binascii
import copy
import json
import sys
from pathlib import Path
from typing import Any, Iterator

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parent.parent
INT_OR_STRING = {"anyOf": [{"type": "integer"}, {"type": "string"}]}
QUANTITY = {"anyOf": [{"type": "integer"}, {"type": "number"}, {"type": "string", "pattern": r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+|[KMGTPE]i|[mkMGTPE])?$"}]}


def _strict_k8s(node: Any) -> Any:
    """Swagger 2 definitions -> draft 4 schemas that refuse unknown fields."""
    if isinstance(node, dict):
        out = {k: _strict_k8s(v) for k, v in node.items() if not k.startswith("x-kubernetes")}
        if out.get("type") == "object" and "properties" in out and "additionalProperties" not in out:
            out["additionalProperties"] = False
        if "$ref" in out:
            out["$ref"] = "#/definitions/" + out["$ref"].rsplit("/", 1)[-1]
        return out
    if isinstance(node, list):
        return [_strict_k8s(v) for v in node]
    return node


def _strict_crd(node: Any) -> Any:
    """A structural CRD schema -> a draft 4 schema that refuses unknown fields."""
    if isinstance(node, dict):
        if node.get("x-kubernetes-int-or-string"):
            return INT_OR_STRING
        out = {k: _strict_crd(v) for k, v in node.items() if not k.startswith("x-kubernetes")}
        if node.get("x-kubernetes-preserve-unknown-fields"):
            return {k: v for k, v in out.items() if k in ("type", "properties", "required")}
        if out.get("type") == "object" and "properties" in out and "additionalProperties" not in out:
            out["additionalProperties"] = False
        return out
    if isinstance(node, list):
        return [_strict_crd(v) for v in node]
    return node


class Schemas:
    """Every known apiVersion/kind and its validator."""

    def __init__(self, k8s_file: Path, crd_dir: Path) -> None:
        data = json.loads(k8s_file.read_text())
        definitions = {name: _strict_k8s(schema) for name, schema in data["definitions"].items()}
        definitions["io.k8s.apimachinery.pkg.util.intstr.IntOrString"] = INT_OR_STRING
        definitions["io.k8s.apimachinery.pkg.api.resource.Quantity"] = QUANTITY
        # ObjectMeta stays strict; metadata of embedded templates too.
        self.definitions = definitions
        self.kubernetes_version = data.get("kubernetesVersion", "")
        self.validators: dict[str, jsonschema.protocols.Validator] = {}
        checker = jsonschema.FormatChecker(formats=())
        checker.checks("byte", raises=(binascii.Error, ValueError))(_is_base64)
        for key, name in data["kinds"].items():
            schema = {"$ref": f"#/definitions/{name}", "definitions": definitions}
            self.validators[key] = jsonschema.Draft4Validator(schema, format_checker=checker)
        self.pod_template = jsonschema.Draft4Validator(
            {"$ref": "#/definitions/io.k8s.api.core.v1.PodTemplateSpec", "definitions": definitions},
            format_checker=checker,
        )
        for path in sorted(crd_dir.rglob("*.yaml")):
            crd = yaml.safe_load(path.read_text())
            group = crd["spec"]["group"]
            kind = crd["spec"]["names"]["kind"]
            for version in crd["spec"]["versions"]:
                schema = _strict_crd(copy.deepcopy(version["schema"]["openAPIV3Schema"]))
                props = schema.setdefault("properties", {})
                props["metadata"] = {"$ref": "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}
                props["apiVersion"] = {"enum": [f"{group}/{version['name']}"]}
                props["kind"] = {"enum": [kind]}
                schema["additionalProperties"] = False
                schema["definitions"] = definitions
                self.validators[f"{group}/{version['name']}/{kind}"] = jsonschema.Draft4Validator(
                    schema, format_checker=checker
                )

    def errors(self, obj: Any) -> list[str]:
        if not isinstance(obj, dict):
            return [f"not a mapping: {type(obj).__name__}"]
        key = f"{obj.get('apiVersion', '')}/{obj.get('kind', '')}"
        validator = self.validators.get(key)
        if validator is None:
            return [f"unknown apiVersion/kind {key} (no schema in schemas/kubernetes.json or crds/)"]
        found = [_describe(e) for e in validator.iter_errors(obj)]
        if key == "apps.openshift.io/v1/DeploymentConfig" and isinstance(obj.get("spec", {}).get("template"), dict):
            found += ["spec.template." + _describe(e) for e in self.pod_template.iter_errors(obj["spec"]["template"])]
        return sorted(found)


def _is_base64(value: Any) -> bool:
    if not isinstance(value, str):
        return True
    base64.b64decode(value, validate=True)
    return True


def _describe(error: jsonschema.ValidationError) -> str:
    path = ".".join(str(p) for p in error.absolute_path) or "(root)"
    message = error.message
    if len(message) > 200:
        message = message[:200] + "..."
    return f"{path}: {message}"


def documents(paths: list[Path]) -> Iterator[tuple[Path, int, Any]]:
    for path in paths:
        files = sorted(path.rglob("*.yml")) + sorted(path.rglob("*.yaml")) if path.is_dir() else [path]
        for file in files:
            for index, doc in enumerate(yaml.safe_load_all(file.read_text())):
                if doc is not None:
                    yield file, index, doc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Validate rendered manifests against the pinned schemas.")
    parser.add_argument("paths", nargs="+", type=Path, help="manifest files or directories")
    parser.add_argument("--k8s-schemas", type=Path, default=ROOT / "schemas" / "kubernetes.json")
    parser.add_argument("--crds", type=Path, default=ROOT / "crds")
    args = parser.parse_args(argv)
    for path in args.paths:
        if not path.exists():
            print(f"{path}: no such file or directory", file=sys.stderr)
            return 2
    schemas = Schemas(args.k8s_schemas, args.crds)
    count = 0
    failed = 0
    for file, index, doc in documents(args.paths):
        count += 1
        errs = schemas.errors(doc)
        if errs:
            failed += 1
            name = (doc.get("metadata") or {}).get("name", "?") if isinstance(doc, dict) else "?"
            kind = doc.get("kind", "?") if isinstance(doc, dict) else "?"
            for err in errs:
                print(f"{file}: document {index} ({kind}/{name}): {err}", file=sys.stderr)
    print(f"{count} objects checked, {failed} invalid (Kubernetes {schemas.kubernetes_version} + OpenShift CRDs)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

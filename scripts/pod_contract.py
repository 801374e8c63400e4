#!/usr/bin/env python3
"""Check rendered pods against the image contracts in contracts/.

Every container of every workload (Deployment, DeploymentConfig, StatefulSet, CronJob, Job,
Pod) is laid out as its process would see it: the environment with `valueFrom`/`envFrom`
resolved from the rendered Secrets and ConfigMaps, Secret/ConfigMap/projected volumes as
files (with `items` and `subPath`), emptyDirs and claims as writable directories. Each item
of the image's contract (contracts/<image>.yml) is then checked; every violation is one
line naming workload, container and what is missing.

    python -m scripts.pod_contract RENDER_DIR --service packit --deployment prod

RENDER_DIR is what `make render SHOW_SECRETS=1` writes (one file per component; Secret values
are needed to resolve the environment and the config files). Exit 0: every container keeps
its contract; 1: violations (printed); 2: bad input.
"""

from __future__ import annotations

import argparse
import base64
import fnmatch
import re
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Iterable

import yaml

REPO = Path(__file__).resolve().parent.parent
CONTRACTS_DIR = REPO / "contracts"
POD_TEMPLATE_KINDS = ("Deployment", "DeploymentConfig", "StatefulSet", "ReplicaSet", "DaemonSet", "Job")


class InputError(Exception):
    pass


# --- contracts -------------------------------------------------------------------------

def load_contracts(directory: Path = CONTRACTS_DIR) -> dict[str, dict]:
    """image -> contract record, from every contracts/*.yml."""
    contracts = {}
    for path in sorted(directory.glob("*.yml")):
        record = yaml.safe_load(path.read_text())
        if not isinstance(record, dict) or "image" not in record:
            raise InputError(f"{path}: not a contract (needs an `image:` key)")
        for item in _items(record):
            src = item.get("source")
            if src is not None and src not in record.get("sources", {}):
                raise InputError(f"{path}: source {src!r} is not listed under sources")
        contracts[record["image"]] = record
    return contracts


def _items(record: dict) -> Iterable[dict]:
    for key in ("env", "files", "config_paths", "writable", "ports", "probes", "args"):
        yield from record.get(key) or []
    for key in ("command", "user"):
        if record.get(key):
            yield record[key]


def contract_for(contracts: dict[str, dict], container: str, service: str) -> dict | None:
    for record in contracts.values():
        if container in record.get("containers", []) and service in record.get("services", [service]):
            return record
    return None


# --- the container's view --------------------------------------------------------------

@dataclass
class Mount:
    path: str
    kind: str            # secret, configMap, projected, emptyDir, claim, hostPath, other
    writable: bool
    persistent: bool


@dataclass
class View:
    """One container as its process sees it."""

    workload: str
    kind: str
    namespace: str
    container: str
    spec: dict
    pod: dict
    env: dict[str, str | None] = field(default_factory=dict)   # None: unresolvable reference
    env_errors: list[str] = field(default_factory=list)
    secret_env: set[str] = field(default_factory=set)          # names whose value comes from a Secret
    files: dict[str, bytes] = field(default_factory=dict)
    mounts: list[Mount] = field(default_factory=list)
    volume_errors: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.kind}/{self.workload} container {self.container}"


def _decode_secret(obj: dict) -> dict[str, bytes]:
    data = {k: base64.b64decode(v) for k, v in (obj.get("data") or {}).items()}
    data.update({k: v.encode() for k, v in (obj.get("stringData") or {}).items()})
    return data


class Store:
    """The rendered Secrets and ConfigMaps, by namespace and name."""

    def __init__(self, objects: list[dict], default_namespace: str) -> None:
        self.secrets: dict[tuple[str, str], dict[str, bytes]] = {}
        self.configmaps: dict[tuple[str, str], dict[str, bytes]] = {}
        for obj in objects:
            ns = obj.get("metadata", {}).get("namespace", default_namespace)
            name = obj.get("metadata", {}).get("name")
            if obj.get("kind") == "Secret":
                self.secrets[(ns, name)] = _decode_secret(obj)
            elif obj.get("kind") == "ConfigMap":
                data = {k: v.encode() for k, v in (obj.get("data") or {}).items()}
                data.update({k: base64.b64decode(v) for k, v in (obj.get("binaryData") or {}).items()})
                self.configmaps[(ns, name)] = data

    def get(self, kind: str, namespace: str, name: str) -> dict[str, bytes] | None:
        table = self.secrets if kind == "secret" else self.configmaps
        return table.get((namespace, name))


def _pod_templates(obj: dict) -> Iterable[tuple[dict, list[dict]]]:
    """(pod spec, volume claim templates) of a workload object."""
    kind = obj.get("kind")
    spec = obj.get("spec") or {}
    if kind in POD_TEMPLATE_KINDS:
        yield (spec.get("template") or {}).get("spec") or {}, spec.get("volumeClaimTemplates") or []
    elif kind == "CronJob":
        yield ((spec.get("jobTemplate") or {}).get("spec") or {}).get("template", {}).get("spec") or {}, []
    elif kind == "Pod":
        yield spec, []


def _volume_files(volume: dict, store: Store, ns: str) -> tuple[dict[str, bytes] | None, str, list[str]]:
    """(relative path -> content, kind, errors) of a Secret, ConfigMap or projected volume."""
    errors: list[str] = []
    if "secret" in volume or "configMap" in volume:
        kind = "secret" if "secret" in volume else "configMap"
        src = volume[kind]
        name = src.get("secretName") if kind == "secret" else src.get("name")
        return _source_files(kind, name, src, store, ns, errors), kind, errors
    if "projected" in volume:
        files: dict[str, bytes] = {}
        for source in volume["projected"].get("sources") or []:
            for kind in ("secret", "configMap"):
                if kind in source:
                    got = _source_files(kind, source[kind].get("name"), source[kind], store, ns, errors)
                    files.update(got or {})
        return files, "projected", errors
    return None, "other", errors


def _source_files(kind: str, name: str, src: dict, store: Store, ns: str, errors: list[str]) -> dict[str, bytes]:
    data = store.get(kind, ns, name)
    label = "Secret" if kind == "secret" else "ConfigMap"
    if data is None:
        if not src.get("optional"):
            errors.append(f"mounts {label} {name}, which is not rendered (the pod would not start)")
        return {}
    items = src.get("items")
    if not items:
        return dict(data)
    files = {}
    for item in items:
        if item["key"] not in data:
            if not src.get("optional"):
                errors.append(f"mounts key {item['key']} of {label} {name}, which has no such key")
            continue
        files[item["path"]] = data[item["key"]]
    return files


def container_views(objects: list[dict], default_namespace: str = "") -> list[View]:
    store = Store(objects, default_namespace)
    views = []
    for obj in objects:
        meta = obj.get("metadata", {})
        ns = meta.get("namespace", default_namespace)
        for pod, claim_templates in _pod_templates(obj):
            volumes = {v["name"]: v for v in pod.get("volumes") or []}
            claims = {c["metadata"]["name"] for c in claim_templates}
            for container in (pod.get("initContainers") or []) + (pod.get("containers") or []):
                view = View(meta.get("name", "?"), obj["kind"], ns, container["name"], container, pod)
                _resolve_env(view, container, store, ns)
                _lay_out_volumes(view, container, volumes, claims, store, ns)
                views.append(view)
    return views


def _resolve_env(view: View, container: dict, store: Store, ns: str) -> None:
    for source in container.get("envFrom") or []:
        prefix = source.get("prefix", "")
        for kind, key in (("secret", "secretRef"), ("configMap", "configMapRef")):
            if key in source:
                ref = source[key]
                data = store.get(kind, ns, ref["name"])
                if data is None:
                    if not ref.get("optional"):
                        view.env_errors.append(f"envFrom {kind} {ref['name']} is not rendered")
                    continue
                for k, v in data.items():
                    view.env[prefix + k] = v.decode(errors="replace")
                    if kind == "secret":
                        view.secret_env.add(prefix + k)
    for entry in container.get("env") or []:
        name = entry["name"]
        if "valueFrom" not in entry:
            view.env[name] = entry.get("value", "")
            continue
        value_from = entry["valueFrom"]
        for kind, key in (("secret", "secretKeyRef"), ("configMap", "configMapKeyRef")):
            if key in value_from:
                ref = value_from[key]
                data = store.get(kind, ns, ref["name"])
                label = "Secret" if kind == "secret" else "ConfigMap"
                if data is None or ref["key"] not in data:
                    view.env[name] = None
                    if not ref.get("optional"):
                        what = "is not rendered" if data is None else f"has no key {ref['key']}"
                        view.env_errors.append(f"env {name} refers to {label} {ref['name']}, which {what}")
                else:
                    view.env[name] = data[ref["key"]].decode(errors="replace")
                    if kind == "secret":
                        view.secret_env.add(name)
                break
        else:
            # fieldRef / resourceFieldRef: the API fills them in; a value is there.
            view.env[name] = "<" + ",".join(value_from) + ">"


def _lay_out_volumes(view: View, container: dict, volumes: dict, claims: set[str], store: Store, ns: str) -> None:
    for mount in container.get("volumeMounts") or []:
        path = mount["mountPath"].rstrip("/") or "/"
        read_only = bool(mount.get("readOnly"))
        name = mount["name"]
        if name in claims:
            view.mounts.append(Mount(path, "claim", not read_only, True))
            continue
        volume = volumes.get(name)
        if volume is None:
            view.volume_errors.append(f"mounts volume {name}, which the pod does not define")
            continue
        if "persistentVolumeClaim" in volume:
            ro = read_only or volume["persistentVolumeClaim"].get("readOnly", False)
            view.mounts.append(Mount(path, "claim", not ro, True))
            continue
        if "emptyDir" in volume:
            view.mounts.append(Mount(path, "emptyDir", not read_only, False))
            continue
        files, kind, errors = _volume_files(volume, store, ns)
        view.volume_errors.extend(errors)
        if files is None:
            view.mounts.append(Mount(path, "other", not read_only, False))
            continue
        sub_path = mount.get("subPath")
        if sub_path:
            if sub_path in files:
                view.files[path] = files[sub_path]
            else:
                view.volume_errors.append(f"mounts subPath {sub_path} of volume {name}, which it does not have")
            continue
        view.mounts.append(Mount(path, kind, False, False))   # Secret/ConfigMap volumes are read-only
        for rel, content in files.items():
            view.files[str(PurePosixPath(path) / rel)] = content


# --- the checks ------------------------------------------------------------------------

@dataclass
class Context:
    service: str
    deployment: str
    components: set[str]


def applies(item: dict, view: View, ctx: Context) -> bool:
    when = item.get("when") or {}
    if "service" in when and ctx.service not in when["service"]:
        return False
    if "deployment" in when and ctx.deployment not in when["deployment"]:
        return False
    if "components" in when and not set(when["components"]) & ctx.components:
        return False
    for name, pattern in (when.get("env") or {}).items():
        if not re.search(pattern, view.env.get(name) or ""):
            return False
    return True


def _mount_for(view: View, path: str) -> Mount | None:
    """The mount a path lies in (the deepest one)."""
    best = None
    for mount in view.mounts:
        if path == mount.path or path.startswith(mount.path.rstrip("/") + "/"):
            if best is None or len(mount.path) > len(best.path):
                best = mount
    return best


def has_file(view: View, pattern: str) -> bool:
    if any(ch in pattern for ch in "*?["):
        return any(fnmatch.fnmatchcase(p, pattern) for p in view.files)
    return pattern in view.files


def path_exists(view: View, path: str, image_paths: list[str]) -> bool:
    """A file of a mounted Secret/ConfigMap, a path inside a writable volume, or one the image has."""
    if path in view.files:
        return True
    mount = _mount_for(view, path)
    if mount is not None:
        return mount.kind in ("claim", "emptyDir", "other")
    return any(path == p or path.startswith(p.rstrip("/") + "/") for p in image_paths)


def _walk(data: Any, prefix: str = "") -> Iterable[tuple[str, Any]]:
    if isinstance(data, dict):
        for k, v in data.items():
            yield from _walk(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from _walk(v, f"{prefix}[{i}]")
    else:
        yield prefix, data


def _probe_matches(probe: dict | None, want: dict) -> bool:
    if not probe:
        return False
    kind = want.get("kind")
    if kind and kind not in probe:
        return False
    if kind == "exec":
        command = " ".join(probe["exec"].get("command") or [])
        return want.get("contains", "") in command
    if kind == "httpGet":
        http = probe["httpGet"]
        return (want.get("path") is None or http.get("path") == want["path"]) and \
            (want.get("port") is None or http.get("port") == want["port"])
    if kind == "tcpSocket":
        return want.get("port") is None or probe["tcpSocket"].get("port") == want["port"]
    return True


def check_view(view: View, contract: dict, ctx: Context) -> list[str]:
    """Every way the container breaks its image's contract, one line each."""
    problems = [f"{view.label}: {e}" for e in view.env_errors + view.volume_errors]
    image = contract["image"]

    def fail(text: str, item: dict) -> None:
        note = f" ({item['note']})" if item.get("note") else ""
        problems.append(f"{view.label}: {text} [{image} contract{note}]")

    command = contract.get("command")
    if command and applies(command, view, ctx):
        got = list(view.spec.get("command") or [])
        words = got + list(view.spec.get("args") or [])
        prefix = command.get("prefix")
        if got and prefix and got[:len(prefix)] == prefix:
            for word in command.get("contains") or []:
                if word not in words:
                    fail(f"runs {got} without {word!r}", command)
        elif got and got != command["value"]:
            fail(f"runs {got}, the image's process is {command['value']}", command)
        elif not got and not command.get("image_default"):
            fail(f"sets no command; it must run {command['value']}", command)
    for arg in contract.get("args") or []:
        if applies(arg, view, ctx) and arg["value"] not in (view.spec.get("args") or []):
            fail(f"argument {arg['value']} is missing", arg)

    for item in contract.get("env") or []:
        if not applies(item, view, ctx):
            continue
        name = item["name"]
        value = view.env.get(name)
        if (item.get("required") or item.get("wired")) and name not in view.env:
            fail(f"environment variable {name} is not set", item)
        elif item.get("required") and not value:
            fail(f"environment variable {name} is empty", item)
        elif value and "\n" in value and not item.get("multiline"):
            fail(f"environment variable {name} has a line break (a trailing newline of its secret file?)", item)
        elif value and item.get("one_of") and value not in item["one_of"]:
            shown = "<from a Secret>" if name in view.secret_env else value   # never print a secret
            fail(f"environment variable {name}={shown} is not one of {', '.join(item['one_of'])}", item)

    image_paths = [w["path"] for w in contract.get("writable") or [] if not (w.get("persistent") or w.get("volume"))]
    image_paths += contract.get("image_paths") or []
    for item in contract.get("files") or []:
        if item.get("required") and applies(item, view, ctx) and not has_file(view, item["path"]):
            where = f" (Secret key {item['secret']})" if item.get("secret") else ""
            fail(f"file {item['path']}{where} is not mounted", item)

    for item in contract.get("config_paths") or []:
        if not applies(item, view, ctx) or item["file"] not in view.files:
            continue
        text = view.files[item["file"]]
        try:
            data = tomllib.loads(text.decode()) if item["format"] == "toml" else yaml.safe_load(text)
        except (ValueError, yaml.YAMLError) as exc:
            fail(f"{item['file']} is not valid {item['format']}: {exc}".splitlines()[0], item)
            continue
        for key, value in _walk(data):
            if not any(re.search(k, key) for k in item["keys"]):
                continue
            if isinstance(value, str) and value.startswith("/") and not path_exists(view, value, image_paths):
                fail(f"{item['file']} names {key}: {value}, which the pod does not mount", item)

    for item in contract.get("writable") or []:
        if not applies(item, view, ctx):
            continue
        mount = _mount_for(view, item["path"])
        if item.get("persistent"):
            if mount is None or mount.kind != "claim" or not mount.writable:
                fail(f"{item['path']} is not on a writable persistent volume claim", item)
        elif item.get("volume"):
            if mount is None or mount.kind not in ("claim", "emptyDir") or not mount.writable:
                fail(f"{item['path']} is not on a writable volume (the image does not have it)", item)
        elif mount is not None and not mount.writable:
            fail(f"{item['path']} must be writable; a read-only {mount.kind} volume is mounted at {mount.path}", item)

    ports = {p.get("containerPort") for p in view.spec.get("ports") or []}
    for item in contract.get("ports") or []:
        if applies(item, view, ctx) and item["port"] not in ports:
            fail(f"port {item['port']} is not declared", item)

    for item in contract.get("probes") or []:
        if applies(item, view, ctx) and not _probe_matches(view.spec.get(f"{item['type']}Probe"), item):
            what = item.get("contains") or item.get("path") or item.get("port") or ""
            fail(f"{item['type']} probe ({item['kind']} {what}) is missing".replace(" )", ")"), item)
    return problems


def check_services(objects: list[dict]) -> list[str]:
    """Every Service port must reach a port a selected container declares."""
    problems = []
    pods = []
    for obj in objects:
        for pod, _ in _pod_templates(obj):
            spec = obj.get("spec") or {}
            labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or \
                (obj.get("metadata", {}).get("labels") if obj["kind"] == "Pod" else {}) or {}
            ports = {p.get("containerPort") for c in pod.get("containers") or [] for p in c.get("ports") or []}
            pods.append((labels, ports))
    for obj in objects:
        if obj.get("kind") != "Service" or not (obj.get("spec") or {}).get("selector"):
            continue
        selector = obj["spec"]["selector"]
        matched = [ports for labels, ports in pods if all(labels.get(k) == v for k, v in selector.items())]
        name = obj["metadata"]["name"]
        if not matched:
            problems.append(f"Service/{name}: selects no rendered pod")
            continue
        for port in obj["spec"].get("ports") or []:
            target = port.get("targetPort", port.get("port"))
            if not any(target in ports for ports in matched):
                problems.append(f"Service/{name}: targetPort {target} is a port no selected container declares")
    return problems


def check_objects(objects: list[dict], contracts: dict[str, dict], ctx: Context,
                  default_namespace: str = "") -> list[str]:
    problems = []
    for view in container_views(objects, default_namespace):
        contract = contract_for(contracts, view.container, ctx.service)
        if contract is None:
            problems.append(f"{view.label}: no image contract names this container (contracts/*.yml)")
            continue
        problems.extend(check_view(view, contract, ctx))
    return problems + check_services(objects)


def read_render_dir(directory: Path) -> dict[str, list[dict]]:
    if not directory.is_dir():
        raise InputError(f"{directory}: no such render directory (make render SHOW_SECRETS=1 OUT=...)")
    return {f.stem: [d for d in yaml.safe_load_all(f.read_text()) if d] for f in sorted(directory.glob("*.yml"))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("render_dir", type=Path)
    parser.add_argument("--service", required=True, choices=["packit", "stream"])
    parser.add_argument("--deployment", required=True, choices=["dev", "stg", "prod"])
    parser.add_argument("--contracts", type=Path, default=CONTRACTS_DIR)
    args = parser.parse_args(argv)
    try:
        manifests = read_render_dir(args.render_dir)
        contracts = load_contracts(args.contracts)
    except (InputError, yaml.YAMLError) as exc:
        print(f"error: {exc}".splitlines()[0], file=sys.stderr)
        return 2
    objects = [o for objs in manifests.values() for o in objs]
    redacted = base64.b64encode(b"<redacted>").decode()   # what make render writes without SHOW_SECRETS
    if any(o.get("kind") == "Secret" and redacted in (o.get("data") or {}).values() for o in objects):
        print(f"error: {args.render_dir}: Secret values are redacted; render with SHOW_SECRETS=1", file=sys.stderr)
        return 2
    ctx = Context(args.service, args.deployment, set(manifests))
    problems = check_objects(objects, contracts, ctx)
    for line in problems:
        print(line)
    count = len(container_views(objects))
    print(f"{count} containers checked against {len(contracts)} image contracts: "
          f"{len(problems)} problem(s)", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

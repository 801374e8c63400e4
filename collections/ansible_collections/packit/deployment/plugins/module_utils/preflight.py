"""The checks of a deploy before anything is written (the preflight and apply modules): the API
server and the permissions, objects another deployment made, and the PostgreSQL guards."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ansible_collections.packit.deployment.plugins.module_utils.access import ACCESS_ARGS, review_access
from ansible_collections.packit.deployment.plugins.module_utils.foreign import (
    FOREIGN_ARGS, pod_claims, public, read_foreign, refuse_foreign)
from ansible_collections.packit.deployment.plugins.module_utils.k8s import K8sError, get, list_objects, resource
from ansible_collections.packit.deployment.plugins.module_utils.manifests import created_namespaces

try:
    from kubernetes.dynamic.exceptions import ForbiddenError
except ImportError:  # reported by run() through missing_required_lib
    pass

# The options of a preflight (the preflight module's, and the apply module's `preflight`).
PREFLIGHT_OPTIONS: dict[str, dict[str, Any]] = {
    **ACCESS_ARGS,
    **FOREIGN_ARGS,
    "postgres": {"type": "dict", "options": {
        "api_version": {"type": "str", "required": True},
        "kind": {"type": "str", "required": True},
        "name": {"type": "str", "default": "postgres"},
        "claim": {"type": "str"},
        "version": {"type": "str"},
    }},
    "adopting": {"type": "bool", "default": False},
}

VERSION_CLAIM = re.compile(r"^postgres-[0-9]+$")


def identities(objects: list[dict]) -> list[dict]:
    return [{"apiVersion": o.get("apiVersion", ""), "kind": o.get("kind", ""),
             "namespace": (o.get("metadata") or {}).get("namespace") or ""} for o in objects]


def namespace_visible(dyn, name: str) -> bool:
    """Whether the namespace exists and the token may read it (a namespace that does not exist
    answers 403, not 404, to a token without cluster-wide rights)."""
    try:
        return get(dyn, "v1", "Namespace", "", name) is not None
    except K8sError as exc:
        if isinstance(exc.__cause__, ForbiddenError):
            return False
        raise


def pending_namespaces(dyn, objects: list[dict]) -> list[str]:
    """The namespaces the run creates (a Namespace, a TenantNamespace) that are not there yet."""
    return [name for name in created_namespaces(objects) if not namespace_visible(dyn, name)]


def read(dyn, options: dict[str, Any], objects: list[dict], namespace: str) -> dict[str, Any]:
    """What the checks decide on, read on one client: who the token is and that it may use the
    verbs on every kind of `objects` (fails with one line otherwise), the foreign objects, and
    with `postgres` the project's claims and those the running PostgreSQL mounts. Objects in a
    namespace the run creates and that is not there yet (`pending`) cannot be checked before:
    the platform grants the rights in it when it makes it."""
    hint = options["settings_hint"]
    pending = pending_namespaces(dyn, objects)
    objects = [o for o in objects if (o.get("metadata") or {}).get("namespace") not in pending]
    result = dict(review_access(dyn, identities(objects), options["verbs"], hint), claims=[], postgres_claims=[],
                  pending=pending)
    postgres = options.get("postgres")
    if postgres:  # discovery before the threads: its cache is not shared safely between them
        resource(dyn, "v1", "PersistentVolumeClaim")
        resource(dyn, postgres["api_version"], postgres["kind"], required=False)
    with ThreadPoolExecutor(max_workers=3) as pool:
        if postgres:
            claims = pool.submit(list_objects, dyn, "v1", "PersistentVolumeClaim", namespace)
            running = pool.submit(get, dyn, postgres["api_version"], postgres["kind"], namespace,
                                  postgres.get("name") or "postgres")
        _dyn, foreign = read_foreign({}, objects, options["managed_by"], dyn=dyn)
        if postgres:
            result["claims"] = [c["metadata"]["name"] for c in claims.result()]
            result["postgres_claims"] = sorted(pod_claims(running.result() or {}))
    try:
        refuse_foreign(foreign, options["command_hint"])
        result["foreign_refusal"] = ""
    except K8sError as refusal:
        result["foreign_refusal"] = str(refusal)
    result["foreign"] = public(foreign)
    return result


def version_refusal(found: dict[str, Any], namespace: str, postgres: dict[str, Any] | None) -> str:
    """The claims of the project are named after PostgreSQL major versions and none after this
    one: the data is on another version, and this deploy would start an empty database."""
    if not postgres or not postgres.get("claim"):
        return ""
    versions = [c for c in found.get("claims", []) if VERSION_CLAIM.match(c)]
    if not versions or postgres["claim"] in versions:
        return ""
    return (f"{namespace} keeps PostgreSQL data on claim {', '.join(versions)} and has no claim {postgres['claim']}: "
            f"this deploy would start PostgreSQL {postgres.get('version')} on an empty one. Deploy with postgres_version "
            f"{' or '.join(c.removeprefix('postgres-') for c in versions)}, then move the data with make db-upgrade "
            f"(README, Database); nothing was changed")


def data_refusal(found: dict[str, Any], namespace: str, postgres: dict[str, Any] | None) -> str:
    """The running PostgreSQL keeps its data on claims other than the one this deploy mounts."""
    if not postgres or not postgres.get("claim"):
        return ""
    mounted = found.get("postgres_claims", [])
    if not mounted or postgres["claim"] in mounted:
        return ""
    return (f"{postgres['kind']} postgres in {namespace} keeps its data on claim {', '.join(mounted)}; this deploy "
            f"would start PostgreSQL {postgres.get('version')} on claim {postgres['claim']} instead: move the data "
            f"with make db-upgrade (README, Database) or set postgres_version to the running version; nothing was changed")


def refusal_lines(found: dict[str, Any], namespace: str, options: dict[str, Any]) -> dict[str, Any]:
    """The guards' lines (version_refusal, data_refusal; empty when they pass) and `refusals`:
    every reason not to deploy, in the order the checks speak - the PostgreSQL version, the
    foreign objects (not while adopting: the takeover deals with them), the running PostgreSQL."""
    postgres = options.get("postgres")
    version, data = version_refusal(found, namespace, postgres), data_refusal(found, namespace, postgres)
    reasons = [version, "" if options.get("adopting") else found.get("foreign_refusal", ""), data]
    return {"version_refusal": version, "data_refusal": data, "refusals": [r for r in reasons if r]}


def refusals(found: dict[str, Any], namespace: str, options: dict[str, Any]) -> list[str]:
    """Every reason not to deploy, in the order the checks speak (refusal_lines)."""
    return refusal_lines(found, namespace, options)["refusals"]

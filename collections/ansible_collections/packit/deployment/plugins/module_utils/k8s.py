"""The one cluster client of the collection's modules, its connection options and its error wording.

The client is kubernetes.core's own (get_api_client: the same options, K8S_AUTH_* environment
variables, kubeconfig and in-cluster fallbacks and discovery cache as kubernetes.core.k8s), so
one module_defaults entry for the action group packit.deployment.k8s configures every module.
Every failure of the cluster or its connection becomes one line that names the object or
setting to look at; anything else is a bug of the collection: one line that says so, and its
traceback, which ansible-core 2.19 shows when ANSIBLE_DISPLAY_TRACEBACK=error (the module
hands it over as kubernetes.core's fail_from_exception does).
"""
from __future__ import annotations

import json
import traceback
from datetime import datetime, timezone
from typing import Any, Callable

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC

try:
    from ansible_collections.kubernetes.core.plugins.module_utils.apply import apply_object
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client
    from kubernetes.client.exceptions import ApiException
    from kubernetes.dynamic.exceptions import DynamicApiError, ResourceNotFoundError
    from urllib3.exceptions import HTTPError

    HAS_K8S = True
    # What the cluster, the network or the client's configuration raise: one line each.
    CLUSTER_ERRORS: tuple[type[BaseException], ...] = (DynamicApiError, ApiException, HTTPError, OSError)
except ImportError:  # reported by the module through missing_required_lib
    HAS_K8S = False
    CLUSTER_ERRORS = (OSError,)

# The connection options of kubernetes.core's modules (documented by its k8s_auth_options fragment).
CONNECTION_ARGS: dict[str, dict[str, Any]] = dict(AUTH_ARG_SPEC)
NAMESPACE_ARG: dict[str, dict[str, Any]] = {"namespace": {"type": "str", "required": True}}


class K8sError(Exception):
    """A failure with the one line the user sees; `result` goes into the module's answer."""

    def __init__(self, message: str, **result: Any) -> None:
        super().__init__(message)
        self.result = result


class ConnectError(K8sError):
    """No client: the connection settings are unusable or the server did not answer discovery."""

    def __init__(self, where: str, cause: Exception) -> None:
        super().__init__(f"cannot reach the cluster API at {where}: {reason(cause)}")
        self.where, self.cause = where, cause


def api_message(exc: Exception) -> str:
    """The server's own message of a failed API call (or the client's error), on one line."""
    body = getattr(exc, "body", None)
    if isinstance(body, bytes):
        body = body.decode(errors="replace")
    if isinstance(body, str) and body:
        try:
            return " ".join(str(json.loads(body).get("message", body)).split())
        except (ValueError, AttributeError):
            return " ".join(body.split())
    return reason(exc)


def reason(exc: Exception) -> str:
    """What a person needs of a client or connection error, on one line (`Connection refused`, ...)."""
    text = " ".join(str(getattr(exc, "reason", "") or exc).split())
    for marker in ("Connection refused", "Name or service not known", "timed out", "CERTIFICATE_VERIFY_FAILED"):
        if marker in text:
            return marker
    if not text:
        return type(exc).__name__
    return text if len(text) < 300 else text[:297] + "..."


def status_of(exc: Exception) -> int:
    return int(getattr(exc, "status", 0) or 0)


def one_line(exc: Exception) -> str:
    """The message a module fails with: ours as it is, anything else (e.g. connection refused) shortened."""
    if isinstance(exc, K8sError):
        return str(exc)
    return f"cluster API call failed: {api_message(exc)}"


def connect(params: dict[str, Any]):
    """kubernetes.core's dynamic client for the connection options in `params`."""
    try:
        return get_api_client(**{name: params.get(name) for name in CONNECTION_ARGS}).client
    except Exception as exc:  # no kubeconfig, or discovery failed: unreachable server, bad token, bad CA
        where = params.get("host") or params.get("kubeconfig") or "the default kubeconfig"
        raise ConnectError(str(where), exc) from exc


def run(argument_spec: dict[str, Any], action: Callable[[AnsibleModule, Any], dict[str, Any]],
        connected: bool = True, **module_options: Any) -> None:
    """The main() of a cluster module: parse `argument_spec` plus the connection options, call
    action(module, client) (client None unless `connected`) and exit with its result, or fail
    with one line. Supports check mode; the action decides what check mode means."""
    module = AnsibleModule(argument_spec=dict(CONNECTION_ARGS, **argument_spec), supports_check_mode=True,
                           **module_options)
    if not HAS_K8S:
        module.fail_json(msg=missing_required_lib("kubernetes"))
    try:
        result = action(module, connect(module.params) if connected else None)
    except K8sError as exc:
        module.fail_json(msg=str(exc), **exc.result)
    except CLUSTER_ERRORS as exc:
        module.fail_json(msg=one_line(exc))
    except Exception as exc:  # noqa: BLE001 - a bug: its line, and its traceback
        module.fail_json(msg=bug_line(exc), exception=traceback.format_exc())
    module.exit_json(**result)


def bug_line(exc: Exception) -> str:
    """The one line of an unexpected exception: what it is and where to look."""
    frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    where = f" at {frame.filename.rsplit('/', 1)[-1]}:{frame.lineno}" if frame else ""
    return (f"internal error {type(exc).__name__}: {reason(exc)}{where} - a bug of packit.deployment; "
            "ANSIBLE_DISPLAY_TRACEBACK=error shows its traceback")


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def resource(client, api_version: str, kind: str, required: bool = True):
    try:
        return client.resources.get(api_version=api_version, kind=kind)
    except ResourceNotFoundError as exc:
        if required:
            raise K8sError(f"the cluster does not serve {kind} ({api_version})") from exc
        return None


def client_side_apply(res, obj: dict[str, Any], dry_run: bool = False) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """Apply one object as kubernetes.core.k8s apply=true does (the last-applied annotation and
    a three-way merge; a server-side dry run with `dry_run`): (the live object before or None,
    the object after or None when it is live as given and nothing was sent)."""
    meta = obj["metadata"]
    dry = {"dry_run": "All"} if dry_run else {}
    existing, desired = apply_object(res, obj)
    if existing is None:
        return None, res.create(body=desired, namespace=meta.get("namespace"), **dry).to_dict()
    if existing == desired:
        return existing, None
    return existing, res.patch(body=desired, name=meta["name"], namespace=meta.get("namespace"),
                               content_type="application/merge-patch+json", **dry).to_dict()


def get(client, api_version: str, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
    res = resource(client, api_version, kind, required=False)
    if res is None:
        return None
    try:
        return res.get(name=name, namespace=namespace).to_dict()
    except DynamicApiError as exc:
        if status_of(exc) == 404:
            return None
        raise K8sError(f"{kind} {namespace}/{name}: {api_message(exc)}") from exc


def list_objects(client, api_version: str, kind: str, namespace: str, selector: str = "",
                 required: bool = True) -> list[dict[str, Any]]:
    res = resource(client, api_version, kind, required=required)
    if res is None:
        return []
    try:
        return res.get(namespace=namespace, label_selector=selector).to_dict().get("items") or []
    except DynamicApiError as exc:
        raise K8sError(f"cannot list {kind} in {namespace}: {api_message(exc)}") from exc


def patch(client, obj: dict[str, Any], body: Any, content_type: str = "application/merge-patch+json") -> dict[str, Any]:
    res = resource(client, obj["apiVersion"], obj["kind"])
    meta = obj["metadata"]
    try:
        return res.patch(body=body, name=meta["name"], namespace=meta["namespace"], content_type=content_type).to_dict()
    except DynamicApiError as exc:
        raise K8sError(f"{obj['kind']} {meta['namespace']}/{meta['name']}: {api_message(exc)}") from exc

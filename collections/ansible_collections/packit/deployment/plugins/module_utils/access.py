"""The access check of a run: who the token is and whether it may do what the run does
(modules/access_review.py, modules/preflight.py)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from ansible_collections.packit.deployment.plugins.module_utils.k8s import ConnectError, K8sError, connect, reason

try:
    import urllib3
    from kubernetes import client
    from kubernetes.client.rest import ApiException
    from kubernetes.dynamic.exceptions import ResourceNotFoundError
except ImportError:  # reported by run() through missing_required_lib
    pass

# The options of an access check (documented by the doc fragment packit.deployment.checks.access).
ACCESS_ARGS: dict = {
    "verbs": {"type": "list", "elements": "str", "default": ["get", "create", "patch"]},
    "settings_hint": {"type": "str", "default": "the vars file"},
}


def unreachable(where: str, exc: Exception, hint: str) -> K8sError:
    if getattr(exc, "status", 0) == 401:
        return K8sError(f"the API server at {where} rejected the token (401 Unauthorized): check api_key in {hint}")
    return K8sError(f"cannot reach the API server at {where}: {reason(exc)} (check host in {hint}, or start the cluster)")


def connect_as(params: dict, hint: str):
    """The client for the connection options, failing with the line that names the setting."""
    try:
        return connect(params)
    except ConnectError as exc:
        raise unreachable(exc.where, exc.cause, hint) from exc


def review_access(dyn, objects: list[dict], verbs: list[str], hint: str) -> dict:
    """Who the token is, and that it may use each verb on every API type and namespace of
    `objects` (dicts with apiVersion, kind and namespace): one line naming every missing
    permission otherwise."""
    api = dyn.client
    where = api.configuration.host
    try:
        answer = client.AuthenticationV1Api(api).create_self_subject_review(client.V1SelfSubjectReview())
        user = answer.status.user_info.username
    except ApiException as exc:
        if exc.status == 401:
            raise unreachable(where, exc, hint) from exc
        user = "(unknown user)"
    except urllib3.exceptions.HTTPError as exc:
        raise unreachable(where, exc, hint) from exc

    authz = client.AuthorizationV1Api(api)
    wanted: dict[tuple, None] = {}
    for obj in objects:
        wanted[(obj.get("apiVersion", ""), obj.get("kind", ""), obj.get("namespace") or "")] = None

    missing_api: list[str] = []
    checks: list[tuple[str, str, str, str]] = []  # (group, resource, verb, namespace)
    for api_version, kind, namespace in wanted:
        try:
            res = dyn.resources.get(api_version=api_version, kind=kind)
        except ResourceNotFoundError:
            missing_api.append(f"{kind} ({api_version})")
            continue
        ns = namespace if res.namespaced else ""
        checks.extend((res.group or "", res.name, verb, ns) for verb in verbs)

    def allowed(check: tuple[str, str, str, str]) -> bool:
        group, name, verb, ns = check
        body = client.V1SelfSubjectAccessReview(
            spec=client.V1SelfSubjectAccessReviewSpec(
                resource_attributes=client.V1ResourceAttributes(
                    group=group, resource=name, verb=verb, namespace=ns or None
                )
            )
        )
        return authz.create_self_subject_access_review(body).status.allowed

    # About a hundred reviews for a full deploy: asked in parallel, answered in order.
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(allowed, checks))
    return verdict(where, user, missing_api, list(zip(checks, answers)))


def verdict(where: str, user: str, missing_api: list[str], answers: list[tuple[tuple[str, str, str, str], bool]]) -> dict:
    """The outcome of review_access from what the server answered: {user, checked}, or the
    one line naming the API types the cluster at `where` does not serve, else every check
    ((group, resource, verb, namespace), allowed) that `user` is not allowed."""
    denied = [f"{verb} {name}.{group}".rstrip(".") + (f" in namespace {ns}" if ns else " (cluster-wide)")
              for (group, name, verb, ns), ok in answers if not ok]
    if missing_api:
        raise K8sError(f"the cluster at {where} does not serve: {', '.join(missing_api)}")
    if denied:
        raise K8sError(f"{user} is not allowed to {'; '.join(denied)}: grant these permissions (e.g. the admin role "
                       "in the namespace) or use another api_key", user=user)
    return {"user": user, "checked": len(answers)}

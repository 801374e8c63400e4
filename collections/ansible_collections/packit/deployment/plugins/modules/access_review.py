#!/usr/bin/python
"""Check, before anything is applied, that the API server is reachable and the
token may do what a run needs (SelfSubjectReview + SelfSubjectAccessReview)."""

from __future__ import annotations

DOCUMENTATION = r"""
module: access_review
short_description: Check API reachability and the permissions a run needs
description:
  - Asks the API server who the token belongs to (SelfSubjectReview) and, for every
    API type and namespace in C(objects), whether it may perform each of C(verbs)
    (SelfSubjectAccessReview). Fails with one line naming every missing permission.
  - Only reads; never changes anything.
options:
  objects:
    description: List of dicts with apiVersion, kind and namespace (name is ignored).
    type: list
    elements: dict
    required: true
  verbs:
    description: Verbs every object needs.
    type: list
    elements: str
    default: [get, create, patch]
  settings_hint:
    description: Where the user sets the connection (named in error messages).
    type: str
    default: the vars file
extends_documentation_fragment: [kubernetes.core.k8s_auth_options]
notes:
  - kubernetes.core.k8s can create one SelfSubjectAccessReview per task; a run needs one per
    verb, kind and namespace (about a hundred), which this module asks in one task and reports
    as one line.
"""

EXAMPLES = r"""
- name: Check that the token may create and patch what the deploy renders
  packit.deployment.access_review:
    objects: "{{ deploy_rendered_objects }}"
    verbs: [get, create, patch]
    settings_hint: vars/packit/stg.yml
"""

RETURN = r"""
user:
  description: The identity the token authenticates as.
  type: str
  returned: success
checked:
  description: Number of (verb, resource, namespace) checks made.
  type: int
  returned: success
"""

from ansible_collections.packit.deployment.plugins.module_utils.k8s import ConnectError, K8sError, connect, reason, run

try:
    import urllib3
    from kubernetes import client
    from kubernetes.client.rest import ApiException
    from kubernetes.dynamic.exceptions import ResourceNotFoundError
except ImportError:  # reported by run() through missing_required_lib
    pass


def unreachable(where: str, exc: Exception, hint: str) -> K8sError:
    if getattr(exc, "status", 0) == 401:
        return K8sError(f"the API server at {where} rejected the token (401 Unauthorized): check api_key in {hint}")
    return K8sError(f"cannot reach the API server at {where}: {reason(exc)} (check host in {hint}, or start the cluster)")


def review(module, _client) -> dict:
    p = module.params
    hint = p["settings_hint"]
    try:
        dyn = connect(p)
    except ConnectError as exc:
        raise unreachable(exc.where, exc.cause, hint) from exc
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
    for obj in p["objects"]:
        wanted[(obj.get("apiVersion", ""), obj.get("kind", ""), obj.get("namespace") or "")] = None

    missing_api: list[str] = []
    denied: list[str] = []
    checked = 0
    for api_version, kind, namespace in wanted:
        try:
            res = dyn.resources.get(api_version=api_version, kind=kind)
        except ResourceNotFoundError:
            missing_api.append(f"{kind} ({api_version})")
            continue
        group = res.group or ""
        plural = f"{res.name}.{group}" if group else res.name
        ns = namespace if res.namespaced else ""
        for verb in p["verbs"]:
            checked += 1
            body = client.V1SelfSubjectAccessReview(
                spec=client.V1SelfSubjectAccessReviewSpec(
                    resource_attributes=client.V1ResourceAttributes(
                        group=group, resource=res.name, verb=verb, namespace=ns or None
                    )
                )
            )
            result = authz.create_self_subject_access_review(body)
            if not result.status.allowed:
                denied.append(f"{verb} {plural}" + (f" in namespace {ns}" if ns else " (cluster-wide)"))
    if missing_api:
        raise K8sError(f"the cluster at {where} does not serve: {', '.join(missing_api)}")
    if denied:
        raise K8sError(f"{user} is not allowed to {'; '.join(denied)}: grant these permissions (e.g. the admin role "
                       "in the namespace) or use another api_key", user=user)
    return {"changed": False, "user": user, "checked": checked}


def main() -> None:
    run(dict(objects=dict(type="list", elements="dict", required=True),
             verbs=dict(type="list", elements="str", default=["get", "create", "patch"]),
             settings_hint=dict(type="str", default="the vars file")), review, connected=False)


if __name__ == "__main__":
    main()

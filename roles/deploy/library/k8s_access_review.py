#!/usr/bin/python
"""Check, before anything is applied, that the API server is reachable and the
token may do what a run needs (SelfSubjectReview + SelfSubjectAccessReview)."""

from __future__ import annotations

DOCUMENTATION = r"""
module: k8s_access_review
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
extends_documentation_fragment: [packit_k8s]
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

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.deploy_k8s import CONNECTION_ARGS, api_client as _api_client, reason as _reason

try:
    import urllib3
    from kubernetes import client
    from kubernetes.client.rest import ApiException
    from kubernetes.dynamic import DynamicClient
    from kubernetes.dynamic.exceptions import ResourceNotFoundError

    HAS_K8S = True
except ImportError:  # pragma: no cover
    HAS_K8S = False


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            objects=dict(type="list", elements="dict", required=True),
            verbs=dict(type="list", elements="str", default=["get", "create", "patch"]),
            **CONNECTION_ARGS,
            settings_hint=dict(type="str", default="the vars file"),
        ),
        supports_check_mode=True,
    )
    if not HAS_K8S:
        module.fail_json(msg=missing_required_lib("kubernetes"))
    p = module.params
    hint = p["settings_hint"]
    try:
        api = _api_client(p)
    except Exception as exc:  # kubeconfig problems
        module.fail_json(msg=f"cannot load the cluster connection: {_reason(exc)} (check kubeconfig/context in {hint})")
    where = api.configuration.host

    try:
        review = client.AuthenticationV1Api(api).create_self_subject_review(client.V1SelfSubjectReview())
        user = review.status.user_info.username
    except ApiException as exc:
        if exc.status == 401:
            module.fail_json(msg=f"the API server at {where} rejected the token (401 Unauthorized): check api_key in {hint}")
        user = "(unknown user)"
    except urllib3.exceptions.HTTPError as exc:
        module.fail_json(msg=f"cannot reach the API server at {where}: {_reason(exc)} (check host in {hint}, or start the cluster)")

    try:
        dyn = DynamicClient(api)
    except ApiException as exc:
        module.fail_json(msg=f"API discovery at {where} failed: HTTP {exc.status} {exc.reason}")
    except urllib3.exceptions.HTTPError as exc:
        module.fail_json(msg=f"cannot reach the API server at {where}: {_reason(exc)} (check host in {hint}, or start the cluster)")

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
        module.fail_json(msg=f"the cluster at {where} does not serve: {', '.join(missing_api)}")
    if denied:
        module.fail_json(
            msg=f"{user} is not allowed to {'; '.join(denied)}: grant these permissions (e.g. the admin role in the namespace) or use another api_key",
            user=user,
        )
    module.exit_json(changed=False, user=user, checked=checked)


if __name__ == "__main__":
    main()

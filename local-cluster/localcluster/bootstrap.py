"""What a start creates through the API as admin, and the waits until it has settled.

Before openshift-apiserver starts: the OpenShift CRDs and cluster config objects, the
namespaces, the aggregation Service and APIServices, and rights for the controllers'
service accounts. Once everything runs: the ClusterRoles that aggregate OpenShift's
resources into admin/edit/view, the `deployer` identity as admin in the project namespaces,
the kwok nodes, the pool of PersistentVolumes and the registry's images. Every step is
idempotent: the test fixture runs it again on a running cluster.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Callable

from localcluster import ClusterError, openshift
from localcluster.images import ensure_images
from localcluster.layout import (IDENTITIES, KWOK_NODE_ANNOTATION, NAMESPACES, PORTS, REAL_POD_NAMESPACES,
                                REAL_PODS_LABEL, Layout)
from localcluster.pins import REPO_ROOT
from localcluster.processes import read_pid

# CRDs of the repository the cluster serves beside OpenShift's (the managed platform's types).
MPP_CRDS = REPO_ROOT / "crds" / "mpp"
NODE_COUNT = 3
NODE_CAPACITY = {"cpu": "32", "memory": "64Gi", "pods": "110", "ephemeral-storage": "500Gi"}
PV_COUNT = 40
PV_SIZE = "20Gi"
# Volumes of a storage class (static, bound by class name): the managed platform's aws-ebs.
CLASS_POOLS = {"aws-ebs": 8}
# The volumes' directories (hostPath): real on the real node, where claims keep their data
# across pod deletions and cluster restarts.
VOLUME_ROOT = Path("/var/lib/local-cluster")


def api_client(layout: Layout, token: str):
    """A kubernetes.client.ApiClient for a bearer token against this cluster."""
    from kubernetes import client

    configuration = client.Configuration()
    configuration.host = layout.host
    configuration.ssl_ca_cert = str(layout.ca_cert)
    configuration.verify_ssl = True
    configuration.api_key = {"authorization": f"Bearer {token}"}
    return client.ApiClient(configuration)


def _create_or_replace(create: Callable[[], object], replace: Callable[[], object]) -> None:
    from kubernetes.client.exceptions import ApiException

    try:
        create()
    except ApiException as exc:
        if exc.status != 409:
            raise
        replace()


def _create_if_missing(create: Callable[[], object]) -> None:
    from kubernetes.client.exceptions import ApiException

    try:
        create()
    except ApiException as exc:
        if exc.status != 409:
            raise


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise ClusterError(f"timed out after {timeout:.0f}s waiting for {what}")


# --------------------------------------------------------------------------
# The OpenShift half


def bootstrap_openshift_prerequisites(layout: Layout) -> None:
    """What openshift-apiserver and the controller manager need before they start: the
    OpenShift config/quota/security CRDs, the cluster config objects, their namespaces,
    the aggregation Service and APIServices, and rights for the controllers' accounts."""
    from kubernetes import client

    api = api_client(layout, layout.token("admin"))
    ext = client.ApiextensionsV1Api(api)
    core = client.CoreV1Api(api)
    rbac = client.RbacAuthorizationV1Api(api)
    custom = client.CustomObjectsApi(api)

    # Caches of earlier versions served the OpenShift types as CRDs: those would shadow the
    # real server's groups (the aggregator keeps a CRD group local), so they go, with their objects.
    served = {f"{group}.openshift.io" for group in openshift.API_GROUPS}
    legacy = [crd.metadata.name for crd in ext.list_custom_resource_definition().items if crd.spec.group in served]
    for name in legacy:
        ext.delete_custom_resource_definition(name)
    wait_for(lambda: not any(crd.spec.group in served for crd in ext.list_custom_resource_definition().items),
             60, "the CRDs of the OpenShift groups to go: " + ", ".join(legacy))
    crd_names = openshift.install_crds(ext, layout.openshift_crds, _create_or_replace)
    # The managed platform's TenantNamespace, from the repository (crds/mpp/).
    crd_names += openshift.install_crds(ext, MPP_CRDS, _create_or_replace)
    for namespace in (*NAMESPACES, openshift.NAMESPACE, openshift.INFRA_NAMESPACE, openshift.CONTROLLER_NAMESPACE):
        labels = {"local-cluster/project": "true"} if namespace in NAMESPACES else {}
        if namespace in REAL_POD_NAMESPACES:
            labels[REAL_PODS_LABEL[0]] = REAL_PODS_LABEL[1]
        _create_if_missing(lambda namespace=namespace, labels=labels: core.create_namespace(
            {"metadata": {"name": namespace, "labels": labels}}))
        if labels:
            core.patch_namespace(namespace, {"metadata": {"labels": labels}})
    wait_for(lambda: _crds_established(ext, crd_names), 60, "OpenShift config CRDs to be established")
    for plural, group_version, body in openshift.cluster_config_objects():
        group, version = group_version.split("/")
        _create_if_missing(lambda group=group, version=version, plural=plural, body=body:
                           custom.create_cluster_custom_object(group, version, plural, body))
    # The controllers act through service accounts of openshift-infra (token requests).
    body = {"metadata": {"name": "local-cluster:openshift-infra"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group",
                          "name": f"system:serviceaccounts:{openshift.INFRA_NAMESPACE}"}]}
    _create_or_replace(lambda: rbac.create_cluster_role_binding(body),
                       lambda: rbac.replace_cluster_role_binding(body["metadata"]["name"], body))
    for body in openshift.aggregation_objects(layout.ca_cert.read_bytes(), PORTS["openshift-apiserver"]):
        if body["kind"] == "Service":
            _create_or_replace(lambda body=body: core.create_namespaced_service(openshift.NAMESPACE, body),
                               # A merge patch replaces the port list: a strategic one keys the ports
                               # by number and would keep a cache's earlier port beside the new one.
                               lambda body=body: core.patch_namespaced_service(
                                   openshift.SERVICE, openshift.NAMESPACE, body,
                                   _content_type="application/merge-patch+json"))
        else:
            # Replaced whole, so that no `automanaged` label of a CRD-era object survives
            # (the aggregator's autoregistration would point it back at the CRDs).
            name = body["metadata"]["name"]

            def replace(body: dict = body, name: str = name) -> None:
                current = custom.get_cluster_custom_object("apiregistration.k8s.io", "v1", "apiservices", name)
                body = dict(body, metadata=dict(body["metadata"],
                                                resourceVersion=current["metadata"]["resourceVersion"]))
                custom.replace_cluster_custom_object("apiregistration.k8s.io", "v1", "apiservices", name, body)

            _create_or_replace(
                lambda body=body: custom.create_cluster_custom_object("apiregistration.k8s.io", "v1",
                                                                      "apiservices", body), replace)


def wait_openshift_api(layout: Layout, timeout: float = 120.0) -> None:
    from kubernetes import client

    custom = client.CustomObjectsApi(api_client(layout, layout.token("admin")))
    waiting: list[str] = []

    def available() -> bool:
        if read_pid(layout, "openshift-apiserver") is None:
            raise ClusterError(f"openshift-apiserver exited during start; see "
                               f"{layout.log_file('openshift-apiserver')}")
        waiting[:] = openshift.api_services_available(custom)
        return not waiting

    try:
        wait_for(available, timeout, "the OpenShift APIServices to become Available")
    except ClusterError as exc:
        raise ClusterError(f"{exc} (still waiting: {', '.join(waiting)}); see "
                           f"{layout.log_file('openshift-apiserver')}") from None


def release_leader_lock(layout: Layout) -> None:
    """Delete the controller manager's lock left by a stopped process, so that a new one
    leads at once instead of waiting out the old lease."""
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    api = api_client(layout, layout.token("admin"))
    for delete in (client.CoreV1Api(api).delete_namespaced_config_map,
                   client.CoordinationV1Api(api).delete_namespaced_lease):
        try:
            delete(openshift.LEADER_LOCK, openshift.CONTROLLER_NAMESPACE)
        except ApiException as exc:
            if exc.status != 404:
                raise


def _crds_established(ext, names: list[str]) -> bool:
    for name in names:
        conditions = ext.read_custom_resource_definition(name).status.conditions or []
        if not any(c.type == "Established" and c.status == "True" for c in conditions):
            return False
    return True


# --------------------------------------------------------------------------
# Once everything runs


def bootstrap(layout: Layout) -> None:
    from kubernetes import client

    api = api_client(layout, layout.token("admin"))
    core = client.CoreV1Api(api)
    rbac = client.RbacAuthorizationV1Api(api)

    write_verbs = ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"]
    read_verbs = ["get", "list", "watch"]
    for name, labels, rules, verbs in (
        ("local-cluster:openshift-types:edit",
         {"rbac.authorization.k8s.io/aggregate-to-admin": "true",
          "rbac.authorization.k8s.io/aggregate-to-edit": "true"}, openshift.EDIT_RULES, write_verbs),
        ("local-cluster:openshift-types:view", {"rbac.authorization.k8s.io/aggregate-to-view": "true"},
         openshift.READ_RULES, read_verbs),
    ):
        body = {"metadata": {"name": name, "labels": labels},
                "rules": [dict(rule, verbs=verbs) for rule in rules]}
        _create_or_replace(lambda body=body: rbac.create_cluster_role(body),
                           lambda name=name, body=body: rbac.replace_cluster_role(name, body))
    for namespace in NAMESPACES:
        bind_deployer(rbac, namespace)

    ensure_volumes(core)
    ensure_nodes(core)
    ensure_images(layout)
    wait_for(lambda: _nodes_ready(core), 90, "kwok nodes to become Ready")
    wait_for(lambda: _default_service_accounts(core), 90, "default service accounts in the project namespaces")
    # RBAC settles after the API server reports ready (bootstrap roles, then aggregation of the
    # OpenShift types into admin): wait until the deployer really has what a deploy needs.
    deployer = client.AuthorizationV1Api(api_client(layout, layout.token("deployer")))
    wait_for(lambda: _deployer_ready(deployer), 90, "the deployer's permissions (RBAC bootstrap and aggregation)")


def bind_deployer(rbac, namespace: str) -> None:
    """The deployer identity is admin in the project namespace."""
    body = {"metadata": {"name": "deployer-admin", "namespace": namespace},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "admin"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": IDENTITIES["deployer"][0]}]}
    _create_or_replace(lambda: rbac.create_namespaced_role_binding(namespace, body),
                       lambda: rbac.replace_namespaced_role_binding("deployer-admin", namespace, body))


def recycle_volumes(layout: Layout) -> None:
    """Make the pool whole again: released volumes become available, missing ones are created."""
    from kubernetes import client

    ensure_volumes(client.CoreV1Api(api_client(layout, layout.token("admin"))))
    from localcluster import node

    if node.enabled(layout):
        open_volume_dirs(layout)


def ensure_volumes(core) -> None:
    """Keep the pools of volumes: PV_COUNT without a storage class, and per class of
    CLASS_POOLS its count; create missing ones, make released ones available again."""
    existing = {pv.metadata.name: pv for pv in core.list_persistent_volume(
        label_selector="local-cluster/pool=true").items}
    pools = [("", f"local-pv-{index:02d}") for index in range(PV_COUNT)]
    pools += [(storage_class, f"local-pv-{storage_class}-{index:02d}")
              for storage_class, count in CLASS_POOLS.items() for index in range(count)]
    for storage_class, name in pools:
        pv = existing.get(name)
        if pv is None:
            core.create_persistent_volume({
                "metadata": {"name": name, "labels": {"local-cluster/pool": "true"}},
                "spec": {"capacity": {"storage": PV_SIZE},
                         "accessModes": ["ReadWriteOnce", "ReadWriteMany"],
                         "persistentVolumeReclaimPolicy": "Retain",
                         "storageClassName": storage_class,
                         "volumeMode": "Filesystem",
                         "hostPath": {"path": str(VOLUME_ROOT / name), "type": ""}}})
        elif pv.status.phase == "Released":
            # Its claim was deleted by name: like a Delete policy, the data goes with it
            # before the volume is offered again (on the real node it is a real directory).
            empty_volume_dir(Path(pv.spec.host_path.path))
            core.patch_persistent_volume(name, {"spec": {"claimRef": None}})


def open_volume_dirs(layout: Layout) -> None:
    """The pool's directories for the real node, writable by any uid as an OpenShift pod runs
    with an arbitrary one (a hostPath volume gets no fsGroup); what is inside stays."""
    from kubernetes import client

    core = client.CoreV1Api(api_client(layout, layout.token("admin")))
    for pv in core.list_persistent_volume(label_selector="local-cluster/pool=true").items:
        path = Path(pv.spec.host_path.path)
        path.mkdir(parents=True, exist_ok=True)
        path.chmod(0o777)


def empty_volume_dir(path: Path) -> None:
    if path.is_dir() and path.parent == VOLUME_ROOT:
        shutil.rmtree(path)


def ensure_nodes(core) -> None:
    key, value = KWOK_NODE_ANNOTATION
    for index in range(NODE_COUNT):
        name = f"kwok-node-{index}"
        _create_if_missing(lambda name=name: core.create_node({
            "metadata": {"name": name, "annotations": {key: value},
                         "labels": {"type": "kwok", "kubernetes.io/hostname": name,
                                    "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
                                    "node-role.kubernetes.io/worker": ""}},
            "status": {"capacity": NODE_CAPACITY, "allocatable": NODE_CAPACITY}}))


def _nodes_ready(core) -> bool:
    nodes = core.list_node(label_selector="type=kwok").items
    ready = [n for n in nodes if any(c.type == "Ready" and c.status == "True" for c in n.status.conditions or [])]
    return len(ready) >= NODE_COUNT


def _deployer_ready(authz) -> bool:
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    wanted = [(group, resource, namespace) for namespace in NAMESPACES for group, resource in (
        ("image.openshift.io", "imagestreams"), ("route.openshift.io", "routes"),
        ("apps", "deployments"), ("rbac.authorization.k8s.io", "rolebindings"))]
    try:
        for group, resource, namespace in wanted:
            review = authz.create_self_subject_access_review(client.V1SelfSubjectAccessReview(
                spec=client.V1SelfSubjectAccessReviewSpec(resource_attributes=client.V1ResourceAttributes(
                    group=group, resource=resource, verb="create", namespace=namespace))))
            if not review.status.allowed:
                return False
    except ApiException as exc:
        if exc.status == 403:  # system:basic-user is not bound yet
            return False
        raise
    return True


def _default_service_accounts(core) -> bool:
    from kubernetes.client.exceptions import ApiException

    try:
        for namespace in NAMESPACES:
            core.read_namespaced_service_account("default", namespace)
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise
    return True


# --------------------------------------------------------------------------
# The real node (node.py)

PLACEMENT_POLICY = "local-cluster-real-node"


def placement_expression(prefixes: list[str]) -> str:
    """True for a pod whose every image is one of the repositories (then `:` or `@`): those
    with a real build (node.push_stand_ins)."""
    listed = ", ".join(f"'{prefix}'" for prefix in prefixes)
    image_ok = f"[{listed}].exists(p, c.image.startsWith(p + ':') || c.image.startsWith(p + '@'))"
    return (f"object.spec.containers.all(c, {image_ok}) && "
            f"(!has(object.spec.initContainers) || object.spec.initContainers.all(c, {image_ok}))")


def placement_patch(key: str, value: str) -> str:
    toleration = f'Object.spec.tolerations{{key: "{key}", operator: "Exists", effect: "NoSchedule"}}'
    return (
        "[has(object.spec.nodeSelector) ? "
        f'JSONPatch{{op: "add", path: "/spec/nodeSelector/" + jsonpatch.escapeKey("{key}"), value: "{value}"}} : '
        f'JSONPatch{{op: "add", path: "/spec/nodeSelector", value: {{"{key}": "{value}"}}}}, '
        "has(object.spec.tolerations) ? "
        f'JSONPatch{{op: "add", path: "/spec/tolerations/-", value: {toleration}}} : '
        f'JSONPatch{{op: "add", path: "/spec/tolerations", value: [{toleration}]}}]')


def ensure_real_node_placement(layout: Layout, repositories: list[str]) -> None:
    """A MutatingAdmissionPolicy (and its binding) that gives every new pod whose images all
    have a real build the real node's node selector and toleration; the product's manifests
    stay as they are."""
    from kubernetes import dynamic

    from localcluster.node import NODE_LABEL

    api = dynamic.DynamicClient(api_client(layout, layout.token("admin")))
    key, value = NODE_LABEL
    policy = {
        "apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingAdmissionPolicy",
        "metadata": {"name": PLACEMENT_POLICY},
        "spec": {
            "matchConstraints": {"resourceRules": [{"apiGroups": [""], "apiVersions": ["v1"],
                                                    "operations": ["CREATE"], "resources": ["pods"]}],
                                 "namespaceSelector": {"matchLabels": dict([REAL_PODS_LABEL])}},
            "matchConditions": [{"name": "every-image-has-a-real-build",
                                 "expression": placement_expression(sorted(set(repositories)))}],
            "failurePolicy": "Fail",
            "reinvocationPolicy": "Never",
            # A JSON patch: an apply configuration may not change the atomic nodeSelector
            # and tolerations.
            "mutations": [{"patchType": "JSONPatch", "jsonPatch": {"expression": placement_patch(key, value)}}],
        },
    }
    binding = {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingAdmissionPolicyBinding",
               "metadata": {"name": PLACEMENT_POLICY}, "spec": {"policyName": PLACEMENT_POLICY}}
    for body in (policy, binding):
        resource = api.resources.get(api_version=body["apiVersion"], kind=body["kind"])
        api.server_side_apply(resource, body=body, name=body["metadata"]["name"], field_manager="local-cluster",
                              force_conflicts=True)


def remove_real_node_placement(layout: Layout) -> None:
    """Without a real node no pod may be sent to it."""
    from kubernetes import dynamic
    from kubernetes.client.exceptions import ApiException

    api = dynamic.DynamicClient(api_client(layout, layout.token("admin")))
    for kind in ("MutatingAdmissionPolicyBinding", "MutatingAdmissionPolicy"):
        resource = api.resources.get(api_version="admissionregistration.k8s.io/v1", kind=kind)
        try:
            resource.delete(name=PLACEMENT_POLICY)
        except ApiException as exc:
            if exc.status != 404:
                raise


def wait_real_node(layout: Layout, timeout: float = 90) -> None:
    from kubernetes import client

    from localcluster.node import NODE_NAME

    core = client.CoreV1Api(api_client(layout, layout.token("admin")))

    def ready() -> bool:
        from kubernetes.client.exceptions import ApiException

        try:
            node = core.read_node(NODE_NAME)
        except ApiException as exc:
            if exc.status == 404:
                return False
            raise
        return any(c.type == "Ready" and c.status == "True" for c in node.status.conditions or [])

    wait_for(ready, timeout, f"the real node {NODE_NAME} to become Ready")

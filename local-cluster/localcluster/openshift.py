"""The OpenShift half of the cluster as API objects: the names it uses, the CRDs and cluster
config objects its two servers read, the aggregation Service and APIServices, and the rules
that give OpenShift's resources to Kubernetes' admin/edit/view roles.

openshift-apiserver serves image.openshift.io, apps.openshift.io, route.openshift.io and
the other groups of OpenShift's own API server behind the kube-apiserver's aggregation
layer; openshift-controller-manager runs the image import, image trigger and
DeploymentConfig controllers (their config files: components.py). The objects follow the
github.com/openshift/api version openshift-apiserver pins.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Callable

import yaml

# The groups routed to openshift-apiserver (one APIService per group, version v1). It also
# serves parts of quota.openshift.io and security.openshift.io, whose main types
# (ClusterResourceQuota, SecurityContextConstraints) are CRDs; an APIService for those
# groups would hide the CRDs, so they stay with the kube-apiserver, as nothing here needs
# the aggregated parts.
API_GROUPS = ("apps", "authorization", "build", "image", "project", "route", "template")

NAMESPACE = "openshift-apiserver"      # where the aggregation Service lives
SERVICE = "api"                          # its name: the serving cert carries api.openshift-apiserver.svc
INFRA_NAMESPACE = "openshift-infra"      # the controllers' service accounts
CONTROLLER_NAMESPACE = "openshift-controller-manager"
ROUTE_SUBDOMAIN = "apps.local-cluster.test"
DEPLOYER_IMAGE = "quay.io/openshift/origin-deployer:local"
# Leader-election lock of the controller manager (a ConfigMap and a Lease of this name).
LEADER_LOCK = "openshift-master-controllers"


def install_crds(ext, crd_dir: Path, create_or_replace: Callable) -> list[str]:
    names = []
    for path in sorted(crd_dir.glob("*.yaml")):
        for body in yaml.safe_load_all(path.read_text()):
            if not body or body.get("kind") != "CustomResourceDefinition":
                continue
            name = body["metadata"]["name"]
            names.append(name)

            def replace(name: str = name, body: dict = body) -> None:
                body["metadata"]["resourceVersion"] = \
                    ext.read_custom_resource_definition(name).metadata.resource_version
                ext.replace_custom_resource_definition(name, body)

            create_or_replace(lambda body=body: ext.create_custom_resource_definition(body), replace)
    return names


def cluster_config_objects() -> list[tuple[str, str, dict]]:
    """(plural, group/version, body) of the cluster-wide config objects the servers read."""
    return [
        ("images", "config.openshift.io/v1",
         {"apiVersion": "config.openshift.io/v1", "kind": "Image", "metadata": {"name": "cluster"}, "spec": {}}),
        ("ingresses", "config.openshift.io/v1",
         {"apiVersion": "config.openshift.io/v1", "kind": "Ingress", "metadata": {"name": "cluster"},
          "spec": {"domain": ROUTE_SUBDOMAIN}}),
    ]


def aggregation_objects(ca_pem: bytes, port: int) -> list[dict]:
    """The Service the aggregator resolves (ExternalName to loopback) and one APIService per group."""
    objects: list[dict] = [{
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": SERVICE, "namespace": NAMESPACE},
        "spec": {"type": "ExternalName", "externalName": "localhost",
                 "ports": [{"name": "https", "port": port, "protocol": "TCP"}]},
    }]
    for group in API_GROUPS:
        objects.append({
            "apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
            "metadata": {"name": f"v1.{group}.openshift.io"},
            "spec": {"group": f"{group}.openshift.io", "version": "v1",
                     "service": {"name": SERVICE, "namespace": NAMESPACE, "port": port},
                     "caBundle": base64.b64encode(ca_pem).decode(),
                     "groupPriorityMinimum": 9900, "versionPriority": 15},
        })
    return objects


def api_services_available(custom) -> list[str]:
    """Names of our APIServices that are not Available yet (empty when all are)."""
    waiting = []
    for group in API_GROUPS:
        name = f"v1.{group}.openshift.io"
        body = custom.get_cluster_custom_object("apiregistration.k8s.io", "v1", "apiservices", name)
        conditions = (body.get("status") or {}).get("conditions") or []
        if not any(c.get("type") == "Available" and c.get("status") == "True" for c in conditions):
            waiting.append(name)
    return waiting


# OpenShift's admin/edit/view roles carry these; the local cluster aggregates them
# into the Kubernetes roles of the same names.
# The MP+ tenant type (crds/mpp/ of the repository) goes with them, so that the deployer may
# ask for a TenantNamespace in the tenant's config namespace as a tenant admin may.
MPP_RULE = {"apiGroups": ["tenant.paas.redhat.com"], "resources": ["tenantnamespaces"]}
EDIT_RULES = [
    MPP_RULE,
    {"apiGroups": ["route.openshift.io"], "resources": ["routes", "routes/custom-host", "routes/status"]},
    {"apiGroups": ["image.openshift.io"],
     "resources": ["imagestreams", "imagestreamimports", "imagestreammappings", "imagestreamtags",
                   "imagetags", "imagestreamimages", "imagestreams/secrets", "imagestreams/layers"]},
    {"apiGroups": ["apps.openshift.io"],
     "resources": ["deploymentconfigs", "deploymentconfigs/scale", "deploymentconfigs/rollback",
                   "deploymentconfigs/instantiate", "deploymentconfigs/log", "deploymentconfigs/status",
                   "deploymentconfigrollbacks"]},
]
READ_RULES = [
    MPP_RULE,
    {"apiGroups": ["route.openshift.io"], "resources": ["routes", "routes/status"]},
    {"apiGroups": ["image.openshift.io"],
     "resources": ["imagestreams", "imagestreamtags", "imagetags", "imagestreamimages", "imagestreams/status"]},
    {"apiGroups": ["apps.openshift.io"],
     "resources": ["deploymentconfigs", "deploymentconfigs/scale", "deploymentconfigs/log",
                   "deploymentconfigs/status"]},
]

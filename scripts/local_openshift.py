"""The OpenShift half of the local control plane (scripts/local_cluster.py).

openshift-apiserver serves image.openshift.io, apps.openshift.io,
route.openshift.io and the other groups of OpenShift's own API server behind
the kube-apiserver's aggregation layer; openshift-controller-manager runs the
image import, image trigger and DeploymentConfig controllers; Debian's
docker-registry serves a registry on loopback (TLS, signed by the cluster CA)
into which crane pushes a small test image for every image reference of the dev
deployments, under the reference's full name (`<registry>/quay.io/packit/...`),
so that the local connection vars can point `image_registry_mirror` at it.

Sources: the Go modules in local-cluster/openshift-apiserver,
local-cluster/openshift-controller-manager and local-cluster/crane. The
configuration files written here follow the `openshiftcontrolplane.config.openshift.io/v1`
types of the github.com/openshift/api version each module pins.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Callable, Iterable

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
APISERVER_MODULE_DIR = REPO_ROOT / "local-cluster" / "openshift-apiserver"
CONTROLLER_MODULE_DIR = REPO_ROOT / "local-cluster" / "openshift-controller-manager"
CRANE_MODULE_DIR = REPO_ROOT / "local-cluster" / "crane"
DC_DEPLOYER_MODULE_DIR = REPO_ROOT / "local-cluster" / "dc-deployer"

OPENSHIFT_APISERVER_VERSION = "v0.0.0-alpha.0.0.20230503155233-aac3dd5bf054"
OPENSHIFT_CONTROLLER_MANAGER_VERSION = "v0.0.0-alpha.0.0.20220106174623-2c2d50dbda3a"
CRANE_VERSION = "v0.22.1"
OC_VERSION = "v0.0.0-alpha.0.0.20250108103617-ae1bd9e4a75b"
# Published modules that a build lays out in a module directory with small additions,
# because the proxy serves neither OpenShift's forks nor fixed releases (prepare_sources):
#   module@version, directory in the module (the go.mod replace target), and additions:
#   (file of the module, the text the addition goes before (None: a new file), addition).
PATCHED_MODULES = (
    # openshift-apiserver calls GenericAPIServer.RemoveOpenAPIData, which only OpenShift's
    # fork of k8s.io/apiserver has.
    ("k8s.io/apiserver@v0.26.2", "openshift-apiserver/k8s-apiserver", (
        ("pkg/server/zz_removeopenapidata.go", None, "openshift-apiserver/removeopenapidata.go.in"),)),
    # The image trigger controller of this controller manager watches batch/v1 CronJobs, but
    # its library-go finds the containers of batch/v1beta1 CronJobs only.
    ("github.com/openshift/library-go@v0.0.0-20210929123655-f91754363286", "openshift-controller-manager/library-go", (
        ("pkg/image/referencemutator/pods.go",
         "\tcase *batchv1beta1.JobTemplate:\n\t\treturn &r.Template.Spec.Template.Spec,",
         "openshift-controller-manager/cronjob-podspec.go.in"),
        ("pkg/image/referencemutator/pods.go",
         "\tcase *batchv1beta1.JobTemplate:\n\t\treturn &r.Template.Spec.Template.ObjectMeta,",
         "openshift-controller-manager/cronjob-template-meta.go.in"))),
)
PATCH_FILES = tuple(REPO_ROOT / "local-cluster" / addition for _, _, additions in PATCHED_MODULES
                    for _, _, addition in additions)
# The controller manager is not in the Go checksum database; go.sum pins its hash.
GONOSUMDB = "github.com/openshift/openshift-controller-manager"
CONTROLLER_BUILD_TAGS = "containers_image_openpgp"  # no gpgme on the host

# Cluster-scoped CRDs from github.com/openshift/api that the two servers read
# (config.openshift.io, quotas, SCCs, ...). Not Route, ImageStream or
# DeploymentConfig: openshift-apiserver serves those itself.
CRD_GLOBS = (
    "config/v1/*.crd.yaml",
    "quota/v1/*.crd.yaml",
    "security/v1/*.crd.yaml",
    "securityinternal/v1/*.crd.yaml",
    "operator/v1alpha1/*imagecontentsourcepolicy.crd.yaml",
)

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
# Scheduled imports: every 10 s instead of OpenShift's 15 minutes, so tests see them.
SCHEDULED_IMPORT_SECONDS = 10
# serviceaccount makes the `deployer` account in every namespace, which deployer pods run as.
CONTROLLERS = ("openshift.io/image-trigger", "openshift.io/image-import", "openshift.io/deploymentconfig",
               "openshift.io/deployer", "openshift.io/serviceaccount", "openshift.io/origin-namespace")
DEPLOYER_IMAGE = "quay.io/openshift/origin-deployer:local"
# Leader-election lock of the controller manager (a ConfigMap and a Lease of this name).
LEADER_LOCK = "openshift-master-controllers"


def module_dir(module: str, version: str) -> Path:
    """Directory of a downloaded module in the Go module cache (downloads it if needed).
    Asked from outside any module: the openshift-apiserver module cannot load its own
    graph before its k8s-apiserver replacement exists."""
    with tempfile.TemporaryDirectory() as outside:
        result = subprocess.run(["go", "mod", "download", "-json", f"{module}@{version}"], cwd=outside,
                                env=dict(os.environ, GOFLAGS="-mod=mod"), capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"go mod download {module}@{version} failed: {result.stderr.strip()[-300:]}")
    return Path(json.loads(result.stdout)["Dir"])


def prepare_sources() -> list[Path]:
    """Lay out every PATCHED_MODULES directory: the published release from the module cache
    plus its addition. Made again on every build, so it cannot drift; the directories are
    gitignored."""
    made = []
    for module_version, directory, additions in PATCHED_MODULES:
        module, version = module_version.split("@")
        source = module_dir(module, version)
        target = REPO_ROOT / "local-cluster" / directory
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(source, target)
        for path in [target, *target.rglob("*")]:
            path.chmod(path.stat().st_mode | 0o200)
        for target_file, before, addition_file in additions:
            addition = (REPO_ROOT / "local-cluster" / addition_file).read_text()
            destination = target / target_file
            if before is None:
                destination.write_text(addition)
                continue
            text = destination.read_text()
            if text.count(before) != 1:
                raise RuntimeError(f"{module_version}: {target_file} no longer has exactly one "
                                   f"{before.splitlines()[0].strip()!r} where {addition_file} goes")
            destination.write_text(text.replace(before, addition + before))
        made.append(target)
    return made


def openshift_api_version(module: Path = APISERVER_MODULE_DIR) -> str:
    """The github.com/openshift/api version the openshift-apiserver module resolves to (go.sum)."""
    for line in (module / "go.sum").read_text().splitlines():
        name, version, *_ = line.split()
        if name == "github.com/openshift/api" and not version.endswith("/go.mod"):
            return version
    raise RuntimeError(f"github.com/openshift/api is not in {module / 'go.sum'}")


def copy_crds(out_dir: Path) -> list[str]:
    """Copy the CRDs of CRD_GLOBS from the pinned github.com/openshift/api into out_dir/crds."""
    source = module_dir("github.com/openshift/api", openshift_api_version())
    target = out_dir / "crds"
    target.mkdir(parents=True, exist_ok=True)
    copied = []
    for pattern in CRD_GLOBS:
        for path in sorted(source.glob(pattern)):
            if "TechPreview" in path.name:
                continue
            name = path.parent.parent.name + "-" + path.parent.name + "-" + path.name
            shutil.copyfile(path, target / name)
            copied.append(name)
    if not copied:
        raise RuntimeError(f"no CRDs matched {CRD_GLOBS} in {source}")
    return copied


# --------------------------------------------------------------------------
# Configuration files


def apiserver_config(pki: Path, kubeconfig: Path, etcd_url: str, bind: str) -> dict:
    return {
        "apiVersion": "openshiftcontrolplane.config.openshift.io/v1",
        "kind": "OpenShiftAPIServerConfig",
        "servingInfo": {"bindAddress": bind, "bindNetwork": "tcp4",
                        "certFile": str(pki / "openshift-apiserver.crt"),
                        "keyFile": str(pki / "openshift-apiserver.key"),
                        "maxRequestsInFlight": 400, "requestTimeoutSeconds": 3600},
        "storageConfig": {"urls": [etcd_url], "ca": str(pki / "ca.crt"),
                          "certFile": str(pki / "etcd-client.crt"), "keyFile": str(pki / "etcd-client.key"),
                          "storagePrefix": "openshift.io"},
        "kubeClientConfig": {"kubeConfig": str(kubeconfig)},
        "aggregatorConfig": {"clientCA": str(pki / "front-proxy-ca.crt"), "allowedNames": ["front-proxy-client"],
                             "usernameHeaders": ["X-Remote-User"], "groupHeaders": ["X-Remote-Group"],
                             "extraHeaderPrefixes": ["X-Remote-Extra-"]},
        # Imports trust the system roots plus SSL_CERT_DIR (import_ca_env): the registry on
        # loopback is signed by the cluster CA, so no import needs `insecure`.
        "imagePolicyConfig": {"maxImagesBulkImportedPerRepository": 50},
        "routingConfig": {"subdomain": ROUTE_SUBDOMAIN},
        "apiServerArguments": {"shutdown-delay-duration": ["0s"]},
    }


def controller_config(pki: Path, kubeconfig: Path, bind: str) -> dict:
    return {
        "apiVersion": "openshiftcontrolplane.config.openshift.io/v1",
        "kind": "OpenShiftControllerManagerConfig",
        "kubeClientConfig": {"kubeConfig": str(kubeconfig),
                             "connectionOverrides": {"qps": 100, "burst": 200}},
        "servingInfo": {"bindAddress": bind, "bindNetwork": "tcp4",
                        "certFile": str(pki / "openshift-controller-manager.crt"),
                        "keyFile": str(pki / "openshift-controller-manager.key"),
                        # without it the defaults point at a file of an OpenShift pod
                        "clientCA": str(pki / "ca.crt")},
        # It exits when it cannot renew its lease, so the lease outlasts a restart of the
        # kube-apiserver; a start deletes the previous process's lock (LEADER_LOCK) instead
        # of waiting it out.
        "leaderElection": {"namespace": CONTROLLER_NAMESPACE, "name": LEADER_LOCK, "leaseDuration": "137s",
                           "renewDeadline": "107s", "retryPeriod": "2s"},
        "controllers": list(CONTROLLERS),
        "imageImport": {"scheduledImageImportMinimumIntervalSeconds": SCHEDULED_IMPORT_SECONDS,
                        "maxScheduledImageImportsPerMinute": 600},
        "deployer": {"imageTemplateFormat": {"format": DEPLOYER_IMAGE}},
    }


def write_yaml(path: Path, body: dict) -> Path:
    path.write_text(yaml.safe_dump(body, sort_keys=False))
    return path


def import_ca_env(pki: Path) -> dict[str, str]:
    """Environment of openshift-apiserver: its image importer trusts the system roots, and
    (Go's SSL_CERT_DIR) the directory holding the cluster CA, which signed the registry."""
    directory = pki / "import-ca"
    directory.mkdir(exist_ok=True)
    shutil.copyfile(pki / "ca.crt", directory / "local-cluster-ca.pem")
    return {"SSL_CERT_DIR": str(directory)}


def registry_config(pki: Path, data_dir: Path, bind: str) -> dict:
    return {
        "version": 0.1,
        "log": {"level": "warn", "accesslog": {"disabled": True}},
        "storage": {"filesystem": {"rootdirectory": str(data_dir)}, "delete": {"enabled": True}},
        "http": {"addr": bind, "tls": {"certificate": str(pki / "registry.crt"), "key": str(pki / "registry.key")},
                 "headers": {"X-Content-Type-Options": ["nosniff"]}},
    }


# --------------------------------------------------------------------------
# Bootstrap through the API


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
EDIT_RULES = [
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
    {"apiGroups": ["route.openshift.io"], "resources": ["routes", "routes/status"]},
    {"apiGroups": ["image.openshift.io"],
     "resources": ["imagestreams", "imagestreamtags", "imagetags", "imagestreamimages", "imagestreams/status"]},
    {"apiGroups": ["apps.openshift.io"],
     "resources": ["deploymentconfigs", "deploymentconfigs/scale", "deploymentconfigs/log",
                   "deploymentconfigs/status"]},
]


# --------------------------------------------------------------------------
# Registry content: a tiny image per reference, pushed with crane


def mirror_reference(registry: str, reference: str) -> str:
    """`quay.io/packit/x:stg` as the local registry holds it: `<registry>/quay.io/packit/x:stg`."""
    return f"{registry}/{reference}"


def dev_image_references(images_file: Path = REPO_ROOT / "roles" / "deploy" / "defaults" / "main" / "images.yml",
                         services: Iterable[str] = ("packit", "stream")) -> list[str]:
    """Every image reference the dev deployments use (the role's `images` defaults rendered
    for each service), plus the DeploymentConfig deployer image and the PostgreSQL image of the
    next major version (make db-upgrade's target in the tests)."""
    import jinja2

    raw = yaml.safe_load(images_file.read_text())
    data = yaml.safe_load((images_file.parent / "data.yml").read_text())  # postgres_version
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    references = {DEPLOYER_IMAGE}
    for service in services:
        for postgres_version in (data["postgres_version"], data["postgres_version"] + 1):
            values = {"service": service, "deployment": "dev", "postgres_version": postgres_version}
            values["image_tag"] = env.from_string(str(raw["image_tag"])).render(values)
            references.update(env.from_string(str(ref)).render(values) for ref in raw["images"].values())
    return sorted(references)


def layer_tar(reference: str, generation: int) -> bytes:
    """A one-file layer naming the reference and a generation, so every push is a new digest."""
    content = f"{reference}\ngeneration {generation}\n".encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("etc/local-cluster-image")
        info.size, info.mtime, info.mode = len(content), 0, 0o644
        tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def crane(binary: Path, ca_file: Path, args: Iterable[str]) -> str:
    """Run crane trusting the cluster CA (the registry's certificate) and nothing in $HOME."""
    env = dict(os.environ, SSL_CERT_FILE=str(ca_file), HOME=str(binary.parent))
    result = subprocess.run([str(binary), *args], env=env, capture_output=True)
    if result.returncode != 0:
        raise RuntimeError(f"crane {' '.join(args)}: {result.stderr.decode(errors='replace').strip()[-300:]}")
    return result.stdout.decode().strip()


def push_image(binary: Path, ca_file: Path, registry: str, reference: str, generation: int, work: Path) -> str:
    """Push a new single-layer image to the mirror of `reference`; returns its digest."""
    target = mirror_reference(registry, reference)
    work.mkdir(parents=True, exist_ok=True)
    name = hashlib.sha256(target.encode()).hexdigest()[:16]
    layer = work / f"{name}.tar"
    layer.write_bytes(layer_tar(reference, generation))
    try:
        crane(binary, ca_file, ["append", "--new_layer", str(layer), "--new_tag", target,
                                "--platform", "linux/amd64"])
        return crane(binary, ca_file, ["digest", target])
    finally:
        layer.unlink(missing_ok=True)


def digest(binary: Path, ca_file: Path, registry: str, reference: str) -> str:
    """The digest the local registry holds under `reference` (RuntimeError if none)."""
    return crane(binary, ca_file, ["digest", mirror_reference(registry, reference)])


def image_present(binary: Path, ca_file: Path, registry: str, reference: str) -> bool:
    try:
        digest(binary, ca_file, registry, reference)
    except RuntimeError:
        return False
    return True


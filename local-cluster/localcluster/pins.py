"""The versions and Go modules the control plane is built from, and the key of the binary cache.

The versions are pinned in the go.mod files of local-cluster/; the cache key also hashes
those files (and the additions of PATCHED_MODULES), so a change of pins rebuilds.

This package lives in local-cluster/localcluster/ and is installed editable into the
repository's virtualenv (make setup), so the Go modules and the repository are found from
its own location: the directory above the package, and the one above that.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

GO_MODULE_DIR = Path(__file__).resolve().parents[1]  # local-cluster/
REPO_ROOT = GO_MODULE_DIR.parent
KWOK_MODULE_DIR = GO_MODULE_DIR / "kwok"
APISERVER_MODULE_DIR = GO_MODULE_DIR / "openshift-apiserver"
CONTROLLER_MODULE_DIR = GO_MODULE_DIR / "openshift-controller-manager"
CRANE_MODULE_DIR = GO_MODULE_DIR / "crane"
DC_DEPLOYER_MODULE_DIR = GO_MODULE_DIR / "dc-deployer"
# The real node's modules (kubelet and kube-proxy; CoreDNS; crictl) and its sandbox program.
NODE_MODULE_DIR = GO_MODULE_DIR / "node"
COREDNS_MODULE_DIR = GO_MODULE_DIR / "coredns"
CRICTL_MODULE_DIR = GO_MODULE_DIR / "crictl"
PAUSE_SOURCE = GO_MODULE_DIR / "pause" / "pause.c"

# Pinned in local-cluster/go.mod and local-cluster/kwok/go.mod.
KUBERNETES_VERSION = "v1.37.2"
ETCD_VERSION = "v3.7.0"
KWOK_VERSION = "v0.8.0"
# Pinned in the go.mod files of the OpenShift modules.
OPENSHIFT_APISERVER_VERSION = "v0.0.0-alpha.0.0.20230503155233-aac3dd5bf054"
OPENSHIFT_CONTROLLER_MANAGER_VERSION = "v0.0.0-alpha.0.0.20220106174623-2c2d50dbda3a"
CRANE_VERSION = "v0.22.1"
OC_VERSION = "v0.0.0-alpha.0.0.20250108103617-ae1bd9e4a75b"
# Pinned in local-cluster/coredns/go.mod and local-cluster/crictl/go.mod.
COREDNS_VERSION = "v1.15.0"
CRICTL_VERSION = "v1.37.0"

# Published modules that a build lays out in a module directory with small additions,
# because the proxy serves neither OpenShift's forks nor fixed releases (build.prepare_sources):
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
PATCH_FILES = tuple(GO_MODULE_DIR / addition for _, _, additions in PATCHED_MODULES
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


def k8s_ldflags() -> str:
    """Linker flags for the Kubernetes commands: strip, and stamp the release version."""
    major, minor = KUBERNETES_VERSION.lstrip("v").split(".")[:2]
    stamp = {"gitVersion": KUBERNETES_VERSION, "gitMajor": major, "gitMinor": minor, "gitTreeState": "clean"}
    return " ".join(["-s", "-w"] + [f"-X k8s.io/component-base/version.{k}={v}" for k, v in stamp.items()])


def build_key() -> str:
    """Directory name for the binaries: the versions plus a hash of the pins."""
    digest = hashlib.sha256(k8s_ldflags().encode())
    for module in (GO_MODULE_DIR, KWOK_MODULE_DIR, APISERVER_MODULE_DIR, CONTROLLER_MODULE_DIR,
                   CRANE_MODULE_DIR, DC_DEPLOYER_MODULE_DIR):
        for name in ("go.mod", "go.sum", "main.go"):
            path = module / name
            if path.exists():
                digest.update(path.read_bytes())
    for patch in PATCH_FILES:
        digest.update(patch.read_bytes())
    digest.update(repr(CRD_GLOBS).encode())
    return f"k8s-{KUBERNETES_VERSION}_etcd-{ETCD_VERSION}_kwok-{KWOK_VERSION}_{digest.hexdigest()[:10]}"


def node_build_key() -> str:
    """Directory name for the real node's binaries: its versions plus a hash of its pins."""
    digest = hashlib.sha256(k8s_ldflags().encode())
    for module in (NODE_MODULE_DIR, COREDNS_MODULE_DIR, CRICTL_MODULE_DIR):
        for name in ("go.mod", "go.sum", "main.go", "tools.go"):
            path = module / name
            if path.exists():
                digest.update(path.read_bytes())
    digest.update(PAUSE_SOURCE.read_bytes())
    return f"node-{KUBERNETES_VERSION}_coredns-{COREDNS_VERSION}_{digest.hexdigest()[:10]}"

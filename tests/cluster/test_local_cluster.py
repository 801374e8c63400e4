"""The local control plane behaves like the cluster the deployment targets."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests
import yaml
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from localcluster import node, openshift
from localcluster.bootstrap import CLASS_POOLS, NODE_COUNT, PV_COUNT
from localcluster.components import INTERNAL_REGISTRY
from localcluster.layout import COMPONENTS, PORTS
from localcluster.pins import KUBERNETES_VERSION
from localcluster.processes import read_pid
from localcluster.sessions import session_owned_flag

pytestmark = pytest.mark.cluster

NAMESPACE = "packit-dev"


def _route(name: str, spec: dict) -> dict:
    return {"apiVersion": "route.openshift.io/v1", "kind": "Route", "metadata": {"name": name}, "spec": spec}


def _create_route(api: client.ApiClient, body: dict) -> dict:
    return client.CustomObjectsApi(api).create_namespaced_custom_object(
        "route.openshift.io", "v1", NAMESPACE, "routes", body)


def _run_script(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "localcluster", *args], capture_output=True, text=True,
                          env=dict(os.environ), timeout=900)


def _wait(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    pytest.fail(f"timed out waiting for {what}")


def test_outputs_are_written(local_cluster):
    connection = yaml.safe_load(local_cluster.connection_vars.read_text())
    assert connection == {
        "host": local_cluster.host,
        "api_key": local_cluster.deployer_token,
        "ca_cert": str(local_cluster.ca_cert),
        "validate_certs": True,
        "image_registry_mirror": local_cluster.registry,
    }
    assert Path(connection["ca_cert"]).is_absolute() and Path(connection["ca_cert"]).is_file()
    for path in (local_cluster.connection_vars, local_cluster.admin_kubeconfig,
                 local_cluster.deployer_kubeconfig, local_cluster.layout.tokens_file):
        assert path.stat().st_mode & 0o777 == 0o600, path
    kubeconfig = yaml.safe_load(local_cluster.deployer_kubeconfig.read_text())
    assert kubeconfig["users"][0]["user"]["token"] == local_cluster.deployer_token
    assert kubeconfig["clusters"][0]["cluster"]["server"] == local_cluster.host


def test_api_listens_on_loopback_with_tls(local_cluster):
    assert local_cluster.host.startswith("https://127.0.0.1:")
    response = requests.get(f"{local_cluster.host}/version", verify=str(local_cluster.ca_cert), timeout=10,
                            headers={"Authorization": f"Bearer {local_cluster.deployer_token}"})
    assert response.status_code == 200
    assert response.json()["gitVersion"].startswith(KUBERNETES_VERSION)
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(f"{local_cluster.host}/version", timeout=10)  # not trusted without our CA


def _listening_sockets() -> dict[str, str]:
    """inode -> local address of every listening TCP socket, from /proc/net."""
    sockets = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A":  # LISTEN
                sockets[fields[9]] = fields[1]
    return sockets


def test_every_component_listens_on_loopback_only(local_cluster):
    loopback = {"0100007F", "00000000000000000000000001000000"}  # 127.0.0.1 and ::1 as /proc/net shows them
    sockets = _listening_sockets()
    for component in COMPONENTS:
        pid = read_pid(local_cluster.layout, component)
        assert pid is not None, component
        inodes = set()
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(target[len("socket:["):-1])
        addresses = [sockets[inode] for inode in inodes if inode in sockets]
        assert addresses, f"{component} listens nowhere"
        for address in addresses:
            host, port = address.split(":")
            assert host in loopback, f"{component} listens on {address}"
        assert PORTS[component] in {int(a.split(":")[1], 16) for a in addresses}


def test_route_schema_is_enforced(local_cluster):
    api = local_cluster.deployer_client()
    name = f"route-{uuid.uuid4().hex[:8]}"
    created = _create_route(api, _route(name, {
        "host": "packit.example.com",
        "to": {"kind": "Service", "name": "packit-service"},
        "port": {"targetPort": "http"},
        "tls": {"termination": "edge", "insecureEdgeTerminationPolicy": "Redirect"},
    }))
    assert created["spec"]["to"]["weight"] == 100  # defaulted by openshift-apiserver
    assert created["spec"]["wildcardPolicy"] == "None"
    defaulted = _create_route(api, _route(f"{name}-default", {"to": {"kind": "Service", "name": "packit-service"}}))
    assert defaulted["spec"]["host"] == f"{name}-default-{NAMESPACE}.apps.local-cluster.test"

    with pytest.raises(ApiException) as bad_enum:
        _create_route(api, _route(f"{name}-enum", {
            "to": {"kind": "Service", "name": "packit-service"},
            "tls": {"termination": "terminate-everywhere"},
        }))
    assert bad_enum.value.status == 422
    assert "spec.tls.termination" in bad_enum.value.body
    assert "Unsupported value" in bad_enum.value.body

    with pytest.raises(ApiException) as missing:
        _create_route(api, _route(f"{name}-missing", {"host": "packit.example.com"}))
    assert missing.value.status == 422
    assert "spec.to.name: Required value" in missing.value.body

    with pytest.raises(ApiException) as bad_host:
        _create_route(api, _route(f"{name}-host", {"host": "-not_a.host",
                                                   "to": {"kind": "Service", "name": "packit-service"}}))
    assert bad_host.value.status == 422 and "spec.host" in bad_host.value.body

    with pytest.raises(ApiException) as cross_field:
        _create_route(api, _route(f"{name}-cross", {
            "path": "/api",
            "to": {"kind": "Service", "name": "packit-service"},
            "tls": {"termination": "passthrough"},
        }))
    assert cross_field.value.status == 422
    assert "passthrough termination does not support paths" in cross_field.value.body

    for route in (name, f"{name}-default"):
        client.CustomObjectsApi(api).delete_namespaced_custom_object("route.openshift.io", "v1", NAMESPACE,
                                                                     "routes", route)


def test_openshift_apis_are_served_by_openshift_apiserver(local_cluster):
    """The OpenShift groups come from the aggregated openshift-apiserver, not from CRDs."""
    api = local_cluster.admin_client()
    custom = client.CustomObjectsApi(api)
    for group in ("apps", "image", "route", "build", "project", "template", "authorization"):
        service = custom.get_cluster_custom_object("apiregistration.k8s.io", "v1", "apiservices",
                                                   f"v1.{group}.openshift.io")
        assert service["spec"]["service"] == {"name": "api", "namespace": "openshift-apiserver",
                                              "port": PORTS["openshift-apiserver"]}
        assert any(c["type"] == "Available" and c["status"] == "True" for c in service["status"]["conditions"])
    crds = {crd.spec.group for crd in client.ApiextensionsV1Api(api).list_custom_resource_definition().items}
    assert not crds & {"apps.openshift.io", "image.openshift.io", "route.openshift.io"}
    assert "config.openshift.io" in crds
    assert custom.get_cluster_custom_object("config.openshift.io", "v1", "ingresses", "cluster")["spec"]["domain"] \
        == "apps.local-cluster.test"


def test_image_import_scheduled_import_and_trigger(local_cluster):
    """An ImageStreamImport imports from the registry on loopback; scheduled import picks up a
    new digest by itself; the image trigger writes it into a Deployment."""
    api = client.CustomObjectsApi(local_cluster.deployer_client())
    apps = client.AppsV1Api(local_cluster.deployer_client())
    name = f"is-{uuid.uuid4().hex[:8]}"
    reference = f"quay.io/packit-test/{name}:stg"
    first = local_cluster.push_image(reference)
    tag = {"name": "dev", "from": {"kind": "DockerImage", "name": local_cluster.mirror(reference)},
           "importPolicy": {"importMode": "Legacy"}, "referencePolicy": {"type": "Local"}}
    api.create_namespaced_custom_object("image.openshift.io", "v1", NAMESPACE, "imagestreams", {
        "apiVersion": "image.openshift.io/v1", "kind": "ImageStream", "metadata": {"name": name},
        "spec": {"lookupPolicy": {"local": True}, "tags": [tag]}})

    def latest() -> str:
        stream = api.get_namespaced_custom_object("image.openshift.io", "v1", NAMESPACE, "imagestreams", name)
        items = [t for t in (stream.get("status") or {}).get("tags") or [] if t["tag"] == "dev" and t.get("items")]
        return items[0]["items"][0]["image"] if items else ""

    try:
        # The server names the internal registry from its config, as OpenShift's does.
        stream = api.get_namespaced_custom_object("image.openshift.io", "v1", NAMESPACE, "imagestreams", name)
        assert stream["status"]["dockerImageRepository"] == f"{INTERNAL_REGISTRY}/{NAMESPACE}/{name}"
        _wait(lambda: latest() == first, 30, "the new stream's first import")
        second = local_cluster.push_image(reference)
        answer = api.create_namespaced_custom_object("image.openshift.io", "v1", NAMESPACE, "imagestreamimports", {
            "apiVersion": "image.openshift.io/v1", "kind": "ImageStreamImport", "metadata": {"name": name},
            "spec": {"import": True, "images": [dict(tag, to={"name": "dev"})]}})
        assert answer["status"]["images"][0]["status"]["status"] == "Success"
        assert answer["status"]["images"][0]["image"]["metadata"]["name"] == second
        assert latest() == second
        with pytest.raises(ApiException) as nothing_stored:
            api.get_namespaced_custom_object("image.openshift.io", "v1", NAMESPACE, "imagestreamimports", name)
        assert nothing_stored.value.status in (404, 405)

        trigger = [{"from": {"kind": "ImageStreamTag", "name": f"{name}:dev"},
                    "fieldPath": f'spec.template.spec.containers[?(@.name=="{name}")].image'}]
        apps.create_namespaced_deployment(NAMESPACE, {
            "metadata": {"name": name, "annotations": {"image.openshift.io/triggers": json.dumps(trigger)}},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": name, "image": " "}]}}}})

        def image() -> str:
            return apps.read_namespaced_deployment(name, NAMESPACE).spec.template.spec.containers[0].image

        _wait(lambda: image().endswith(f"@{second}"), 30, "the trigger to set the stream's image")
        api.patch_namespaced_custom_object("image.openshift.io", "v1", NAMESPACE, "imagestreams", name, {
            "spec": {"tags": [dict(tag, importPolicy={"importMode": "Legacy", "scheduled": True})]}})
        third = local_cluster.push_image(reference)
        started = time.monotonic()
        _wait(lambda: image().endswith(f"@{third}"), 90, "scheduled import and the trigger to roll the new digest")
        print(f"scheduled import + trigger took {time.monotonic() - started:.1f}s")
    finally:
        with contextlib.suppress(ApiException):
            apps.delete_namespaced_deployment(name, NAMESPACE)
        api.delete_namespaced_custom_object("image.openshift.io", "v1", NAMESPACE, "imagestreams", name)


def _may(api: client.ApiClient, verb: str, resource: str, namespace: str | None = None, group: str = "") -> bool:
    review = client.AuthorizationV1Api(api).create_self_subject_access_review({
        "apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
        "spec": {"resourceAttributes": {"verb": verb, "resource": resource, "group": group,
                                        "namespace": namespace}}})
    return review.status.allowed


def test_deployer_is_admin_in_project_namespaces_only(local_cluster):
    api = local_cluster.deployer_client()
    for namespace in local_cluster.namespaces:
        assert _may(api, "create", "deployments", namespace, "apps")
        assert _may(api, "create", "routes", namespace, "route.openshift.io")
        assert _may(api, "create", "imagestreamimports", namespace, "image.openshift.io")
        assert _may(api, "create", "rolebindings", namespace, "rbac.authorization.k8s.io")
    assert not _may(api, "list", "secrets", "default")
    assert not _may(api, "create", "namespaces")
    assert not _may(api, "create", "clusterrolebindings", group="rbac.authorization.k8s.io")

    who = client.AuthenticationV1Api(api).create_self_subject_review(
        {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})
    assert who.status.user_info.username == "deployer"

    with pytest.raises(ApiException) as secrets:
        client.CoreV1Api(api).list_namespaced_secret("default")
    assert secrets.value.status == 403
    with pytest.raises(ApiException) as namespace:
        client.CoreV1Api(api).create_namespace({"metadata": {"name": f"nope-{uuid.uuid4().hex[:6]}"}})
    assert namespace.value.status == 403

    apps = client.AppsV1Api(api)
    name = f"allowed-{uuid.uuid4().hex[:8]}"
    apps.create_namespaced_deployment(NAMESPACE, {
        "metadata": {"name": name},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}},
                              "spec": {"containers": [{"name": "c", "image": "quay.io/packit/x:dev"}]}}}})
    apps.delete_namespaced_deployment(name, NAMESPACE)


def test_norights_is_forbidden_everywhere(local_cluster):
    api = local_cluster.client(local_cluster.norights_token)
    assert not _may(api, "list", "pods", NAMESPACE)
    with pytest.raises(ApiException) as pods:
        client.CoreV1Api(api).list_namespaced_pod(NAMESPACE)
    assert pods.value.status == 403
    with pytest.raises(ApiException) as routes:
        client.CustomObjectsApi(api).list_namespaced_custom_object("route.openshift.io", "v1", NAMESPACE, "routes")
    assert routes.value.status == 403


def test_unknown_token_is_unauthorized(local_cluster):
    with pytest.raises(ApiException) as unknown:
        client.CoreV1Api(local_cluster.client("not-a-token")).list_namespaced_pod(NAMESPACE)
    assert unknown.value.status == 401


def test_deployment_with_pvc_becomes_ready_on_kwok_nodes(local_cluster):
    api = local_cluster.deployer_client()
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    name = f"data-{uuid.uuid4().hex[:8]}"
    core.create_namespaced_persistent_volume_claim(NAMESPACE, {
        "metadata": {"name": name},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "5Gi"}}}})
    apps.create_namespaced_deployment(NAMESPACE, {
        "metadata": {"name": name},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}}, "spec": {
                     "containers": [{"name": "db", "image": "quay.io/sclorg/postgresql-15-c9s",
                                     "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}},
                                     "readinessProbe": {"tcpSocket": {"port": 5432}},
                                     "volumeMounts": [{"name": "data", "mountPath": "/var/lib/pgsql/data"}]}],
                     "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": name}}]}}}})
    try:
        _wait(lambda: (apps.read_namespaced_deployment(name, NAMESPACE).status.ready_replicas or 0) == 2, 60,
              "the deployment to become ready")
        claim = core.read_namespaced_persistent_volume_claim(name, NAMESPACE)
        assert claim.status.phase == "Bound"
        assert "ReadWriteOnce" in claim.status.access_modes
        pods = core.list_namespaced_pod(NAMESPACE, label_selector=f"app={name}").items
        assert {pod.spec.node_name for pod in pods} <= {f"kwok-node-{i}" for i in range(NODE_COUNT)}
        assert all(pod.status.phase == "Running" and pod.status.pod_ip for pod in pods)
    finally:
        apps.delete_namespaced_deployment(name, NAMESPACE)
        core.delete_namespaced_persistent_volume_claim(name, NAMESPACE)
    _wait(lambda: not core.list_namespaced_pod(NAMESPACE, label_selector=f"app={name}").items, 60,
          "the pods to be deleted")


def test_read_write_many_claim_binds(local_cluster):
    core = client.CoreV1Api(local_cluster.deployer_client())
    name = f"shared-{uuid.uuid4().hex[:8]}"
    core.create_namespaced_persistent_volume_claim("stream-dev", {
        "metadata": {"name": name},
        "spec": {"accessModes": ["ReadWriteMany"], "resources": {"requests": {"storage": "20Gi"}}}})
    try:
        _wait(lambda: core.read_namespaced_persistent_volume_claim(name, "stream-dev").status.phase == "Bound", 60,
              "the ReadWriteMany claim to bind")
    finally:
        core.delete_namespaced_persistent_volume_claim(name, "stream-dev")


def test_volume_pools_one_without_a_storage_class_one_per_named_class(local_cluster):
    """No StorageClass object and no default class: a claim without a class binds to the
    classless pool, a claim of aws-ebs (the managed platform's) to that pool."""
    api = local_cluster.admin_client()
    assert client.StorageV1Api(api).list_storage_class().items == []
    pool = client.CoreV1Api(api).list_persistent_volume(label_selector="local-cluster/pool=true").items
    by_class: dict[str, int] = {}
    for volume in pool:
        by_class[volume.spec.storage_class_name or ""] = by_class.get(volume.spec.storage_class_name or "", 0) + 1
        assert set(volume.spec.access_modes) == {"ReadWriteOnce", "ReadWriteMany"}
        assert volume.spec.persistent_volume_reclaim_policy == "Retain"
    assert by_class == {"": PV_COUNT, **CLASS_POOLS}


def test_job_pods_complete(local_cluster):
    batch = client.BatchV1Api(local_cluster.deployer_client())
    name = f"job-{uuid.uuid4().hex[:8]}"
    batch.create_namespaced_job(NAMESPACE, {
        "metadata": {"name": name},
        "spec": {"backoffLimit": 0, "template": {"spec": {
            "restartPolicy": "Never", "containers": [{"name": "run", "image": "quay.io/packit/x:dev"}]}}}})
    try:
        _wait(lambda: (batch.read_namespaced_job(name, NAMESPACE).status.succeeded or 0) == 1, 60,
              "the job to succeed")
    finally:
        batch.delete_namespaced_job(name, NAMESPACE, propagation_policy="Background")


def test_api_server_can_be_stopped_alone(local_cluster):
    core = client.CoreV1Api(local_cluster.admin_client())
    with local_cluster.api_server_stopped():
        assert read_pid(local_cluster.layout, "kube-apiserver") is None
        assert read_pid(local_cluster.layout, "etcd") is not None
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.get(f"{local_cluster.host}/readyz", verify=str(local_cluster.ca_cert), timeout=5)
    assert core.read_namespace(NAMESPACE).metadata.name == NAMESPACE


def test_start_when_running_is_a_no_op(local_cluster):
    pids = {c: read_pid(local_cluster.layout, c) for c in COMPONENTS}
    result = _run_script("start")
    assert result.returncode == 0, result.stderr
    assert "already running" in result.stdout
    assert {c: read_pid(local_cluster.layout, c) for c in COMPONENTS} == pids


def _our_pids(cache_dir: Path) -> list[int]:
    """Processes whose executable lives in the cluster's binary cache, read straight from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            exe = os.readlink(entry / "exe")
        except OSError:
            continue
        if exe.startswith(str(cache_dir / "bin")):
            found.append(int(entry.name))
    return found


def _command_lines() -> list[str]:
    lines = []
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            if entry.name.isdigit():
                lines.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"))
    return lines


def test_stop_leaves_nothing_running_and_start_does_not_rebuild(local_cluster):
    if local_cluster.other_sessions():
        pytest.skip(f"other test sessions use the cluster (pids {local_cluster.other_sessions()}); not stopping it")
    layout = local_cluster.layout
    binaries = {p: p.stat().st_mtime_ns for p in layout.bin_dir.iterdir()}
    processes = len(COMPONENTS) + (len(node.NODE_COMPONENTS) if node.enabled(layout) else 0)
    assert len(_our_pids(layout.cache_dir)) == processes

    owned_by_session = session_owned_flag(layout).exists()
    # A cache made with other ports: the start puts the current port in place of the old one.
    core = client.CoreV1Api(local_cluster.admin_client())
    core.patch_namespaced_service(openshift.SERVICE, openshift.NAMESPACE,
                                  {"spec": {"ports": [{"name": "https", "port": 26999, "protocol": "TCP"}]}},
                                  _content_type="application/merge-patch+json")
    real_node = node.enabled(layout)
    # The sysctls as they were before the real node changed them (its start recorded them).
    sysctls_before = json.loads((node.node_dir(layout) / "sysctls.json").read_text()) if real_node else {}
    stopped = _run_script("stop")
    assert stopped.returncode == 0, stopped.stderr
    assert _our_pids(layout.cache_dir) == []
    # Nothing of the real node is left on the host: links, iptables chains, mounts, cgroups.
    assert node.leftovers(layout) == []
    assert {name: node.sysctl_path(name).read_text().strip() for name in sysctls_before} == sysctls_before
    assert not any(line.startswith(node.SHIM) for line in _command_lines())
    assert all(read_pid(layout, c) is None for c in COMPONENTS)
    status = _run_script("status")
    assert status.returncode != 0 and "not ready" in status.stdout

    started = _run_script("start")
    if owned_by_session:  # the session that started the cluster still stops it at its end
        session_owned_flag(layout).touch()
    assert started.returncode == 0, started.stderr
    assert "binaries cached" in started.stdout and "build took" not in started.stdout
    assert {p: p.stat().st_mtime_ns for p in layout.bin_dir.iterdir()} == binaries
    assert len(_our_pids(layout.cache_dir)) == processes
    ports = core.read_namespaced_service(openshift.SERVICE, openshift.NAMESPACE).spec.ports
    assert [(p.name, p.port) for p in ports] == [("https", PORTS["openshift-apiserver"])]
    # Data survived the restart and the deployer token still works.
    core = client.CoreV1Api(local_cluster.deployer_client())
    assert core.read_namespace(NAMESPACE).metadata.name == NAMESPACE

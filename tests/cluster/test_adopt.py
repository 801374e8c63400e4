"""Taking over a project that the upstream repository deployed (make adopt), on the local
control plane.

The upstream-made objects are created the way the upstream repository makes them (its
names, bare `component` selectors, no managed-by label); kwok runs their pods. The tests run
in file order on the namespaces packit-adopt and packit-adopt-sandbox, which they empty first.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
from kubernetes.dynamic.exceptions import NotFoundError

from tests.support.deploytools import (
    PROJECT_PRESET, REPO, SWITCH_REPORT, claims_kept, empty_project_namespaces, env, make_in_project, project_objects,
    task_messages)

pytestmark = pytest.mark.cluster
PROJECT, SANDBOX = "packit-adopt", "packit-adopt-sandbox"
EMPTIED_AFTER = (PROJECT, SANDBOX)  # conftest
MARKER = {"example.com/data": "written by the upstream deployment"}


@pytest.fixture(scope="module")
def secrets(secrets_dir) -> Path:
    """Every secret file a component reads (conftest)."""
    return secrets_dir


def make(local_cluster, target: str, secrets: Path, extra: str = "", **variables: str):
    return make_in_project(local_cluster, target, secrets, PROJECT, SANDBOX, extra, **variables)


def objects(admin) -> dict[tuple, tuple]:
    return project_objects(admin, (PROJECT, SANDBOX))


def empty_namespaces(admin, local_cluster) -> None:
    empty_project_namespaces(admin, local_cluster, (PROJECT, SANDBOX))


# The hosts of the packit dev stack (roles/model/defaults/main/general.yml) that upstream's
# Routes hold in the project before the takeover.
API_HOST, DASHBOARD_HOST, WORKERS_HOST = "dev.packit.dev", "dashboard.localhost", "workers.dev.packit.dev"
UPSTREAM_NGINX = "quay.io/nginx/nginx-unprivileged:latest"


def upstream_objects(local_cluster) -> list[dict]:
    """What the upstream repository deploys into a project, as it names it: bare `component`
    selectors, its Service ports (pushgateway on 80), Routes with the public hosts, ImageStreams
    its Deployments follow, and the last-applied annotation its `k8s apply: true` leaves."""
    def meta(name: str, component: str) -> dict:
        return {"name": name, "namespace": PROJECT, "labels": {"component": component}}

    def deployment(name: str, claim: str | None = None, mount: str = "/data", stream: str = "",
                   image: str = "quay.io/packit/packit-service:stg") -> dict:
        pod = {"containers": [{"name": name, "image": local_cluster.mirror(image)}]}
        if claim:
            pod["containers"][0]["volumeMounts"] = [{"name": "data", "mountPath": mount}]
            pod["volumes"] = [{"name": "data", "persistentVolumeClaim": {"claimName": claim}}]
        obj = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta(name, name),
               "spec": {"replicas": 1, "selector": {"matchLabels": {"component": name}},
                        "strategy": {"type": "Recreate"},
                        "template": {"metadata": {"labels": {"component": name}}, "spec": pod}}}
        if stream:
            obj["metadata"]["annotations"] = {"image.openshift.io/triggers": json.dumps([{
                "from": {"kind": "ImageStreamTag", "name": f"{stream}:dev"},
                "fieldPath": f'spec.template.spec.containers[?(@.name=="{name}")].image'}])}
        return obj

    def service(name: str, selects: str, port: int, target: int, port_name: str) -> dict:
        return {"apiVersion": "v1", "kind": "Service", "metadata": meta(name, selects),
                "spec": {"selector": {"component": selects},
                         "ports": [{"name": port_name, "port": port, "targetPort": target, "protocol": "TCP"}]}}

    def route(name: str, host: str, to: str, port_name: str) -> dict:
        return {"apiVersion": "route.openshift.io/v1", "kind": "Route", "metadata": meta(name, to),
                "spec": {"host": host, "to": {"kind": "Service", "name": to}, "port": {"targetPort": port_name},
                         "tls": {"termination": "passthrough", "insecureEdgeTerminationPolicy": "Redirect"}}}

    def stream(name: str, source: str) -> dict:
        return {"apiVersion": "image.openshift.io/v1", "kind": "ImageStream", "metadata": meta(name, name),
                "spec": {"lookupPolicy": {"local": True}, "tags": [{
                    "name": "dev", "from": {"kind": "DockerImage", "name": local_cluster.mirror(source)},
                    "importPolicy": {"scheduled": False}}]}}

    def claim(name: str, size: str) -> dict:
        return {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                "metadata": dict(meta(name, name), annotations=MARKER),
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}}}

    worker = {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": meta("packit-worker", "packit-worker"),
              "spec": {"replicas": 1, "serviceName": "packit-worker", "podManagementPolicy": "OrderedReady",
                       "selector": {"matchLabels": {"component": "packit-worker"}},
                       # The claims would go with the StatefulSet: the takeover must switch this off.
                       "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Delete", "whenScaled": "Retain"},
                       "template": {"metadata": {"labels": {"component": "packit-worker"}},
                                    "spec": {"containers": [{
                                        "name": "packit-worker", "image": "quay.io/packit/packit-worker:stg",
                                        "volumeMounts": [{"name": "packit-worker-repository-cache",
                                                          "mountPath": "/repository-cache"}]}]}},
                       "volumeClaimTemplates": [{"metadata": {"name": "packit-worker-repository-cache",
                                                              "annotations": MARKER},
                                                 "spec": {"accessModes": ["ReadWriteOnce"],
                                                          "resources": {"requests": {"storage": "4Gi"}}}}]}}
    nginx_conf = "events {}\nhttp { server { listen 8443 ssl; location = /metrics { proxy_pass http://pushgateway; } } }\n"
    made = [
        claim("postgres-15", "2Gi"), deployment("postgres-15", "postgres-15", "/var/lib/pgsql/data"),
        service("postgres", "postgres-15", 5432, 5432, "postgres-port"),
        {"apiVersion": "v1", "kind": "Secret", "metadata": meta("postgres-secret", "postgres"), "type": "Opaque",
         "stringData": {"database-user": "packit", "database-password": "old", "database-host": "postgres",
                        "database-name": "packit"}},
        claim("redis-pvc", "1Gi"), deployment("redis", "redis-pvc"), service("redis", "redis", 6379, 6379, "redis"),
        stream("packit-service", "quay.io/packit/packit-service:stg"),
        deployment("packit-service", stream="packit-service"),
        service("packit-service", "packit-service", 443, 8443, "prod-packit"),
        route("packit-service", API_HOST, "packit-service", "prod-packit"),
        stream("packit-worker", "quay.io/packit/packit-worker:stg"),
        deployment("packit-service-beat", stream="packit-worker", image="quay.io/packit/packit-worker:stg"),
        worker,
        stream("packit-dashboard", "quay.io/packit/dashboard:stg"),
        deployment("packit-dashboard", stream="packit-dashboard", image="quay.io/packit/dashboard:stg"),
        service("packit-dashboard", "packit-dashboard", 443, 8443, "packit-dashboard-https"),
        route("packit-dashboard", DASHBOARD_HOST, "packit-dashboard", "packit-dashboard-https"),
        stream("pushgateway", "ghcr.io/zapier/prom-aggregation-gateway:v0.7.0"),
        deployment("pushgateway", stream="pushgateway", image="ghcr.io/zapier/prom-aggregation-gateway:v0.7.0"),
        service("pushgateway", "pushgateway", 80, 9091, "prometheus-push"),
        stream("nginx", UPSTREAM_NGINX),
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta("nginx-config", "nginx"), "data": {"nginx.conf": nginx_conf}},
        deployment("nginx", stream="nginx", image=UPSTREAM_NGINX),
        service("nginx", "nginx", 443, 8443, "nginx-https"),
        route("nginx", WORKERS_HOST, "nginx", "nginx-https"),
    ]
    for obj in made:  # as kubernetes.core.k8s apply=true leaves them
        annotations = obj["metadata"].setdefault("annotations", {})
        annotations["kubectl.kubernetes.io/last-applied-configuration"] = json.dumps(obj, sort_keys=True)
    return made


def ready(admin, obj: dict) -> bool:
    have = admin.resources.get(api_version=obj["apiVersion"], kind=obj["kind"]).get(
        name=obj["metadata"]["name"], namespace=obj["metadata"]["namespace"]).to_dict()
    return (have.get("status") or {}).get("readyReplicas") == have["spec"]["replicas"]


def get(admin, api_version: str, kind: str, name: str, namespace: str = PROJECT) -> dict:
    return admin.resources.get(api_version=api_version, kind=kind).get(name=name, namespace=namespace).to_dict()


CLAIMS = ("postgres-15", "redis-pvc", "packit-worker-repository-cache-packit-worker-0")


def make_upstream(admin, local_cluster) -> dict[str, tuple[str, str]]:
    """The upstream-made deployment in emptied namespaces, running (kwok) with its streams
    imported; returns claim -> (uid, volume)."""
    empty_namespaces(admin, local_cluster)
    local_cluster.push_image(UPSTREAM_NGINX)  # the source of upstream's nginx stream, unlike ours
    made = upstream_objects(local_cluster)
    for obj in made:
        admin.resources.get(api_version=obj["apiVersion"], kind=obj["kind"]).create(
            body=obj, namespace=obj["metadata"]["namespace"])
    deadline = time.monotonic() + 120
    workloads = [o for o in made if o["kind"] in ("Deployment", "StatefulSet")]
    while not all(ready(admin, w) for w in workloads) or not all(
            "@" in get(admin, "apps/v1", "Deployment", n)["spec"]["template"]["spec"]["containers"][0]["image"]
            for n in ("nginx", "packit-service")):
        assert time.monotonic() < deadline, "the upstream-made workloads did not become ready"
        time.sleep(1)
    claims = {name: get(admin, "v1", "PersistentVolumeClaim", name) for name in CLAIMS}
    assert all(c["status"]["phase"] == "Bound" for c in claims.values())
    return {name: (c["metadata"]["uid"], c["spec"]["volumeName"]) for name, c in claims.items()}


@pytest.fixture(scope="module")
def upstream(admin, local_cluster) -> dict[str, tuple[str, str]]:
    return make_upstream(admin, local_cluster)


def plan_of(stdout: str) -> dict[tuple[str, str], tuple[str, str]]:
    """(kind/name, namespace) -> (action, why) of each line of the takeover plan."""
    lines = [re.fullmatch(r"(create|ours|keep|adopt|replace|delete|leave) (\S+/\S+) in (\S+): (.*)", line)
             for line in task_messages(stdout, "Takeover | Show the plan")]
    return {(m[2], m[3]): (m[1], m[4]) for m in lines if m}


def test_deploy_over_an_upstream_deployment_stops_and_changes_nothing(admin, local_cluster, secrets, upstream):
    before = objects(admin)
    result = make(local_cluster, "deploy", secrets)
    assert result.returncode != 0
    line = next(l for l in result.stdout.splitlines() if "did not make" in l)
    for named in ("PersistentVolumeClaim/postgres-15", "Deployment/postgres-15 (mounts claim postgres-15)",
                  "PersistentVolumeClaim/redis-pvc", "Deployment/redis", "Service/postgres",
                  "Secret/postgres-secret", "Deployment/packit-service", "StatefulSet/packit-worker",
                  "Route/packit-service", "make adopt SERVICE=packit DEPLOYMENT=dev"):
        assert named in line, line
    assert objects(admin) == before


def test_adopt_previews_every_object_and_changes_nothing(admin, local_cluster, secrets, upstream):
    before = objects(admin)
    result = make(local_cluster, "adopt", secrets)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "Takeover (preview)" in result.stdout
    plan = plan_of(result.stdout)
    actions = {name: action for (name, ns), (action, _) in plan.items() if ns == PROJECT}
    expected = {
        "PersistentVolumeClaim/postgres-15": "keep", "PersistentVolumeClaim/redis-pvc": "keep",
        # The worker StatefulSet's claim (from its claim template) is in the plan too.
        "PersistentVolumeClaim/packit-worker-repository-cache-packit-worker-0": "keep",
        "Secret/postgres-secret": "keep",
        "Deployment/redis": "replace", "Deployment/packit-service": "replace", "StatefulSet/packit-worker": "replace",
        "Deployment/pushgateway": "replace", "Deployment/packit-service-beat": "replace",
        "Service/postgres": "adopt", "Service/redis": "adopt", "Service/packit-service": "adopt",
        "Service/pushgateway": "adopt", "Route/packit-service": "adopt", "ImageStream/packit-service": "adopt",
        "ImageStream/packit-worker": "adopt", "ImageStream/pushgateway": "adopt", "ImageStream/nginx": "adopt",
        "Deployment/postgres-15": "delete", "Route/packit-dashboard": "delete", "Route/nginx": "delete",
        "Service/packit-dashboard": "delete", "Deployment/packit-dashboard": "delete",
        "Service/nginx": "delete", "Deployment/nginx": "delete",
        "ImageStream/packit-dashboard": "leave", "ConfigMap/nginx-config": "leave",
        "Deployment/dashboard": "create", "Route/dashboard": "create", "Route/pushgateway-nginx": "create",
        "Deployment/postgres": "create", "Service/dashboard": "create",
    }
    assert {name: actions.get(name) for name in expected} == expected
    # Every object of the project and the sandbox is in the plan, and nothing else.
    live = {(f"{kind}/{name}", ns) for kind, ns, name in before if kind not in ("Pod", "ReplicaSet")
            and name not in PROJECT_PRESET.get(kind, ()) and not re.search(r"-(dockercfg|token)-", name)}
    assert live - set(plan) == set(), live - set(plan)
    # The moved hosts and what moves them.
    shown = task_messages(result.stdout, "Takeover | Show the plan")
    assert f"host {DASHBOARD_HOST}: moves from Route/packit-dashboard to Route/dashboard" in shown
    assert f"host {WORKERS_HOST}: moves from Route/nginx to Route/pushgateway-nginx" in shown
    assert f"host {API_HOST}: stays on Route/packit-service, taken over in place" in shown
    assert plan[("Route/dashboard", PROJECT)][1] == f"serves host {DASHBOARD_HOST} once Route/packit-dashboard is deleted"
    # Upstream's nginx config proxies to http://pushgateway: its port stays served.
    assert plan[("ConfigMap/nginx-config", PROJECT)][1] == "uses Service pushgateway (port 80)"
    assert objects(admin) == before


def test_the_preview_names_what_changes_for_an_object_left_running(admin, local_cluster, secrets, upstream):
    """With beat switched off here, upstream's beat stays; it follows the packit-worker stream,
    which the takeover makes this repository's: the preview says it rolls out."""
    before = objects(admin)
    result = make(local_cluster, "adopt", secrets, extra="-e with_packit_service_beat=false")
    assert result.returncode == 0, result.stdout[-3000:]
    action, why = plan_of(result.stdout)[("Deployment/packit-service-beat", PROJECT)]
    assert action == "leave"
    assert why == ("follows ImageStream packit-worker, which is taken over: rolls out onto "
                   f"{local_cluster.mirror('quay.io/packit/packit-worker:stg')}"), why
    assert objects(admin) == before


def test_adopt_onto_another_postgres_major_version_is_refused_before_the_takeover(
        admin, local_cluster, secrets, upstream):
    """Upstream's data is on postgres-15. A takeover with postgres_version 16 would delete the
    upstream workload postgres-15 and start an empty PostgreSQL 16: refused before anything changes."""
    before = objects(admin)
    result = make(local_cluster, "adopt", secrets, extra="-e postgres_version=16", APPLY="1")
    assert result.returncode != 0
    assert (f"{PROJECT} keeps PostgreSQL data on claim postgres-15 and has no claim postgres-16"
            in result.stdout), result.stdout[-3000:]
    assert "Takeover (" not in result.stdout
    assert objects(admin) == before


def test_adopt_without_the_right_to_delete_a_route_changes_nothing(admin, local_cluster, secrets, upstream, tmp_path):
    """A token that may do everything the deploy does but delete Routes (two of upstream's
    Routes must go for their hosts to move): the switch stops before any change, naming it."""
    from kubernetes import client as k8s_client

    name = "adopt-no-route-delete"
    kinds = ["deployments", "statefulsets", "replicasets", "deploymentconfigs", "services", "imagestreams", "secrets",
             "configmaps", "persistentvolumeclaims", "pods", "roles", "rolebindings", "serviceaccounts", "cronjobs", "jobs"]
    rules = [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["get", "list", "watch", "create", "update", "patch"]},
             {"apiGroups": ["*"], "resources": kinds, "verbs": ["delete"]}]
    rbac = k8s_client.RbacAuthorizationV1Api(admin.client)
    core = k8s_client.CoreV1Api(admin.client)
    core.create_namespaced_service_account(PROJECT, {"metadata": {"name": name}})
    for namespace in (PROJECT, SANDBOX):
        rbac.create_namespaced_role(namespace, {"metadata": {"name": name}, "rules": rules})
        rbac.create_namespaced_role_binding(namespace, {
            "metadata": {"name": name}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
            "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": PROJECT}]})
    token = core.create_namespaced_service_account_token(name, PROJECT, {"spec": {"expirationSeconds": 3600}}).status.token
    token_vars = tmp_path / "token.yml"
    token_vars.write_text(f"api_key: {token}\n")
    token_vars.chmod(0o600)
    try:
        before = objects(admin)
        result = make(local_cluster, "adopt", secrets, extra=f"-e @{token_vars}", APPLY="1")
        assert result.returncode != 0
        text = " ".join(result.stdout.split())
        assert (f"the takeover needs the right to delete routes.route.openshift.io in namespace {PROJECT}: grant it "
                "or use another api_key; nothing was changed") in text, result.stdout[-3000:]
        assert token not in result.stdout + result.stderr
        assert objects(admin) == before
    finally:
        for namespace in (PROJECT, SANDBOX):
            rbac.delete_namespaced_role_binding(name, namespace)
            rbac.delete_namespaced_role(name, namespace)
        core.delete_namespaced_service_account(name, PROJECT)


class RouteWatch:
    """Watches the project's Routes while a run goes on: after every event, how many Routes
    claim each host (the most ever seen per host)."""

    def __init__(self, admin) -> None:
        self.admin = admin
        self.most: dict[str, int] = {}
        self.routes: dict[str, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        from kubernetes import watch

        api = self.admin.resources.get(api_version="route.openshift.io/v1", kind="Route")
        listed = api.get(namespace=PROJECT)
        self.routes = {r.metadata.name: r.spec.host for r in listed.items}
        self._count()
        version = listed.metadata.resourceVersion
        while not self._stop.is_set():
            for event in api.watch(namespace=PROJECT, resource_version=version, timeout=1, watcher=watch.Watch()):
                obj = event["object"]
                version = obj.metadata.resourceVersion
                if event["type"] == "DELETED":
                    self.routes.pop(obj.metadata.name, None)
                else:
                    self.routes[obj.metadata.name] = obj.spec.host
                self._count()

    def _count(self) -> None:
        for host in set(self.routes.values()):
            n = sum(1 for h in self.routes.values() if h == host)
            self.most[host] = max(self.most.get(host, 0), n)

    def __enter__(self) -> "RouteWatch":
        self._thread.start()
        time.sleep(1)
        return self

    def __exit__(self, *_) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


def gaps(stdout: str) -> dict[str, float]:
    shown = task_messages(stdout, SWITCH_REPORT)
    return {m[1]: float(m[2]) for m in (re.fullmatch(r"((?:host|Service) \S+): ([0-9.]+)s without a ready backend", line)
                                        for line in shown) if m}


def test_adopt_switches_without_sharing_a_host_and_keeps_every_claim(admin, local_cluster, secrets, upstream):
    with RouteWatch(admin) as watched:
        result = make(local_cluster, "adopt", secrets, APPLY="1")
    assert result.returncode == 0, result.stdout[-3000:]
    assert "Takeover (done)" in result.stdout
    # At no moment did two Routes claim one host.
    assert watched.most == {API_HOST: 1, DASHBOARD_HOST: 1, WORKERS_HOST: 1}, watched.most
    measured = gaps(result.stdout)
    assert set(measured) >= {f"host {API_HOST}", f"host {DASHBOARD_HOST}", f"host {WORKERS_HOST}",
                             "Service postgres", "Service redis", "Service packit-service", "Service pushgateway"}
    print("\n".join(task_messages(result.stdout, SWITCH_REPORT)))
    claims_kept(admin, PROJECT, upstream, MARKER)
    postgres = get(admin, "apps/v1", "Deployment", "postgres")
    volumes = postgres["spec"]["template"]["spec"]["volumes"]
    assert {"name": "postgres-data", "persistentVolumeClaim": {"claimName": "postgres-15"}} in volumes
    assert postgres["status"]["readyReplicas"] == 1
    redis = get(admin, "apps/v1", "Deployment", "redis")
    assert "redis-pvc" in str(redis["spec"]["template"]["spec"]["volumes"])
    assert redis["spec"]["selector"]["matchLabels"].get("component") is None
    worker = get(admin, "apps/v1", "StatefulSet", "packit-worker")
    assert worker["status"]["readyReplicas"] == 1
    for name in ("postgres", "redis", "packit-service", "pushgateway"):
        service = get(admin, "v1", "Service", name)
        assert "component" not in service["spec"]["selector"], name
        assert service["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "packit-deployment"
    # Port 80 of the pushgateway, which upstream's nginx and workers used, is still served.
    assert [p["port"] for p in get(admin, "v1", "Service", "pushgateway")["spec"]["ports"]] == [80]
    # The API's Route, Service and cluster IP are the same objects, taken over in place.
    assert get(admin, "route.openshift.io/v1", "Route", "packit-service")["spec"]["to"]["name"] == "packit-service"
    for kind, api, name in (("Deployment", "apps/v1", "postgres-15"), ("Route", "route.openshift.io/v1", "packit-dashboard"),
                            ("Route", "route.openshift.io/v1", "nginx"), ("Deployment", "apps/v1", "packit-dashboard"),
                            ("Deployment", "apps/v1", "nginx"), ("Service", "v1", "nginx")):
        with pytest.raises(NotFoundError):
            get(admin, api, kind, name)
    # Left as they were: objects no rendered one replaces.
    assert get(admin, "v1", "ConfigMap", "nginx-config")["metadata"]["labels"] == {"component": "nginx"}
    assert get(admin, "image.openshift.io/v1", "ImageStream", "packit-dashboard")
    # No pod of upstream's workloads is left.
    pods = admin.resources.get(api_version="v1", kind="Pod").get(namespace=PROJECT).to_dict()["items"]
    assert [p["metadata"]["name"] for p in pods if "component" in (p["metadata"].get("labels") or {})] == []
def test_deploy_after_the_takeover_changes_nothing(admin, local_cluster, secrets, upstream):
    before = objects(admin)
    result = make(local_cluster, "deploy", secrets)
    assert result.returncode == 0, result.stdout[-3000:]
    assert re.search(r"localhost\s+:\s+ok=\d+\s+changed=0\s", result.stdout), result.stdout[-3000:]
    assert objects(admin) == before
    # The claims kept their upstream sizes; the run says so instead of resizing them.
    assert "claim postgres-15 in packit-adopt keeps 2Gi (the vars ask for 10Gi)" in result.stdout


def test_another_postgres_major_version_is_refused(admin, local_cluster, secrets, upstream):
    """The data is on postgres-15: postgres_version 16 would start an empty database on a new
    claim postgres-16. The deploy stops before anything changes."""
    before = objects(admin)
    result = make(local_cluster, "deploy", secrets, extra="-e postgres_version=16")
    assert result.returncode != 0
    assert (f"{PROJECT} keeps PostgreSQL data on claim postgres-15 and has no claim postgres-16: this deploy would "
            "start PostgreSQL 16 on an empty one. Deploy with postgres_version 15, then move the data with make "
            "db-upgrade") in result.stdout, result.stdout[-3000:]
    assert objects(admin) == before


def interrupted_adopt(admin, local_cluster, secrets: Path, kind: str, name: str, api_version: str) -> str:
    """make adopt APPLY=1, interrupted (SIGINT to the whole run, as Ctrl-C does) as soon as the
    object is deleted or created; returns the run's output."""
    from kubernetes import watch

    cmd = ["make", "--no-print-directory", "adopt", "LOCAL=1", "DEPLOYMENT=dev", "SERVICE=packit", "APPLY=1",
           f"SECRETS_DIR={secrets}", f"LOCAL_CLUSTER_CACHE={local_cluster.cache_dir}",
           f"EXTRA_ARGS=-e config_vars_file={REPO}/vars/packit/dev_template.yml -e project={PROJECT} "
           f"-e sandbox_namespace={SANDBOX}"]
    api = admin.resources.get(api_version=api_version, kind=kind)
    version = api.get(namespace=PROJECT).metadata.resourceVersion
    existed = any(o.metadata.name == name for o in api.get(namespace=PROJECT).items)
    proc = subprocess.Popen(cmd, cwd=REPO, env=env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    deadline = time.monotonic() + 600
    hit = False
    while not hit and proc.poll() is None and time.monotonic() < deadline:
        for event in api.watch(namespace=PROJECT, resource_version=version, timeout=2, watcher=watch.Watch()):
            version = event["object"].metadata.resourceVersion
            if event["object"].metadata.name == name and event["type"] == ("DELETED" if existed else "ADDED"):
                os.killpg(proc.pid, signal.SIGINT)
                hit = True
                break
    out, _ = proc.communicate(timeout=120)
    assert hit, f"the run never {'deleted' if existed else 'created'} {kind}/{name}:\n{out[-3000:]}"
    assert proc.returncode != 0, out[-3000:]
    return out


@pytest.mark.parametrize(("kind", "name", "api_version"), [
    ("Deployment", "dashboard", "apps/v1"),          # the first apply, before anything is deleted
    ("Deployment", "packit-service", "apps/v1"),     # the API's old Deployment gone, its pods serving
    ("Route", "packit-dashboard", "route.openshift.io/v1"),  # a host between its two Routes
    ("Deployment", "postgres-15", "apps/v1"),        # the database stopped, the new one not started
])
def test_an_interrupted_switch_keeps_a_service_per_component_and_a_rerun_finishes_it(
        admin, local_cluster, secrets, kind, name, api_version):
    claims = make_upstream(admin, local_cluster)
    interrupted_adopt(admin, local_cluster, secrets, kind, name, api_version)
    # Every component has its Service (upstream's or this repository's); no host has two Routes.
    for service in ("packit-service", "postgres", "redis", "pushgateway"):
        assert get(admin, "v1", "Service", service), service
    routes = admin.resources.get(api_version="route.openshift.io/v1", kind="Route").get(namespace=PROJECT).items
    hosts = [r.spec.host for r in routes]
    assert len(hosts) == len(set(hosts)), hosts
    claims_kept(admin, PROJECT, claims)
    rerun = make(local_cluster, "adopt", secrets, APPLY="1")
    assert rerun.returncode == 0, rerun.stdout[-3000:]
    for workload, api in (("packit-service", "Deployment"), ("dashboard", "Deployment"), ("postgres", "Deployment"),
                          ("redis", "Deployment"), ("pushgateway", "Deployment"), ("packit-worker", "StatefulSet")):
        have = get(admin, "apps/v1", api, workload)
        assert have["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "packit-deployment", workload
        assert (have.get("status") or {}).get("readyReplicas") == have["spec"]["replicas"], workload
    routes = admin.resources.get(api_version="route.openshift.io/v1", kind="Route").get(namespace=PROJECT).items
    assert sorted((r.metadata.name, r.spec.host) for r in routes) == sorted([
        ("packit-service", API_HOST), ("dashboard", DASHBOARD_HOST), ("pushgateway-nginx", WORKERS_HOST)])
    pods = admin.resources.get(api_version="v1", kind="Pod").get(namespace=PROJECT).to_dict()["items"]
    assert [p["metadata"]["name"] for p in pods if "component" in (p["metadata"].get("labels") or {})] == []
    claims_kept(admin, PROJECT, claims)

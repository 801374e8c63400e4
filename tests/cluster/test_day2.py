"""Day-2 playbooks (roles/day2) against the local control plane.

Objects are made here with the kubernetes client in packit-dev. They carry the
labels of service `stream`, deployment `dev` and names starting with `d2-`, so
the deploy tests' packit objects in the same namespace are neither seen nor touched.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml
from kubernetes.dynamic import DynamicClient
from kubernetes.dynamic.exceptions import NotFoundError
from localcluster.components import INTERNAL_REGISTRY

pytestmark = pytest.mark.cluster

REPO = Path(__file__).resolve().parents[2]
NS = "packit-dev"
SERVICE, DEPLOYMENT = "stream", "dev"
LABELS = {
    "app.kubernetes.io/part-of": SERVICE,
    "app.kubernetes.io/instance": f"{SERVICE}-{DEPLOYMENT}",
    "app.kubernetes.io/managed-by": "packit-deployment",
}
REGISTRY = "quay.io/packit-test"


def digest(char: str) -> str:
    return "sha256:" + char * 64


# ---------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def config_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("vars")
    (root / SERVICE).mkdir()
    (root / SERVICE / f"{DEPLOYMENT}.yml").write_text(yaml.safe_dump({"project": NS}))
    return root


@pytest.fixture(scope="module")
def playbook(local_cluster, config_dir) -> Callable[..., subprocess.CompletedProcess[str]]:
    def run(name: str, *args: str, **extra: Any) -> subprocess.CompletedProcess[str]:
        """playbooks/day2.yml with the job `name` (the make target's name: import-images, check, ...)."""
        extra_vars = {
            "day2_action": name.replace("-", "_"),
            "service": SERVICE,
            "deployment": DEPLOYMENT,
            "config_vars_dir": str(config_dir),
            "config_extra_vars_files": [str(local_cluster.connection_vars)],
            **extra,
        }
        cmd = [str(Path(sys.executable).with_name("ansible-playbook")), str(REPO / "playbooks" / "day2.yml"),
               "-e", json.dumps(extra_vars), *args]
        return subprocess.run(cmd, capture_output=True, text=True, env=ansible_env(), cwd=REPO)

    return run


def ansible_env() -> dict[str, str]:
    env = dict(os.environ, ANSIBLE_ROLES_PATH=str(REPO / "roles"), ANSIBLE_COLLECTIONS_PATH=str(REPO / "collections"),
               ANSIBLE_NOCOLOR="1",
               ANSIBLE_STDOUT_CALLBACK="default", ANSIBLE_LOCALHOST_WARNING="0",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="0")
    env["PATH"] = f"{Path(sys.executable).parent}:{env['PATH']}"
    return env


def res(client: DynamicClient, kind: str):
    api = {"ImageStream": "image.openshift.io/v1",
           "DeploymentConfig": "apps.openshift.io/v1", "ReplicationController": "v1", "ReplicaSet": "apps/v1",
           "Deployment": "apps/v1", "StatefulSet": "apps/v1", "ControllerRevision": "apps/v1"}[kind]
    return client.resources.get(api_version=api, kind=kind)


def get(client: DynamicClient, kind: str, name: str) -> dict | None:
    try:
        return res(client, kind).get(name=name, namespace=NS).to_dict()
    except NotFoundError:
        return None


def delete(client: DynamicClient, kind: str, name: str) -> None:
    try:
        res(client, kind).delete(name=name, namespace=NS, body={"propagationPolicy": "Background"})
    except NotFoundError:
        pass
    wait_until(lambda: get(client, kind, name) is None, f"{kind} {name} deleted")


def wait_until(check: Callable[[], Any], what: str, timeout: float = 90) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def image_stream(client: DynamicClient, name: str, ref: str, scheduled: bool = True) -> dict:
    delete(client, "ImageStream", name)
    body = {"apiVersion": "image.openshift.io/v1", "kind": "ImageStream",
            "metadata": {"name": name, "namespace": NS, "labels": dict(LABELS, **{"app.kubernetes.io/name": name})},
            "spec": {"lookupPolicy": {"local": True},
                     "tags": [{"name": DEPLOYMENT, "from": {"kind": "DockerImage", "name": ref},
                               "importPolicy": {"scheduled": scheduled, "importMode": "Legacy"},
                               "referencePolicy": {"type": "Local"}}]}}
    return res(client, "ImageStream").create(body=body, namespace=NS).to_dict()


def trigger(stream: str, container: str) -> str:
    return json.dumps([{"from": {"kind": "ImageStreamTag", "name": f"{stream}:{DEPLOYMENT}"},
                        "fieldPath": f'spec.template.spec.containers[?(@.name=="{container}")].image'}])


def workload(client: DynamicClient, kind: str, name: str, image: str, stream: str, replicas: int = 1,
             node_selector: dict | None = None) -> dict:
    delete(client, kind, name)
    labels = dict(LABELS, **{"app.kubernetes.io/name": name})
    selector = {"app.kubernetes.io/name": name, "app.kubernetes.io/instance": LABELS["app.kubernetes.io/instance"]}
    pod_spec: dict[str, Any] = {"containers": [{"name": name, "image": image}]}
    if node_selector:
        pod_spec["nodeSelector"] = node_selector
    body: dict[str, Any] = {
        "apiVersion": "apps/v1", "kind": kind,
        "metadata": {"name": name, "namespace": NS, "labels": labels,
                     "annotations": {"image.openshift.io/triggers": trigger(stream, name)}},
        "spec": {"replicas": replicas, "selector": {"matchLabels": selector},
                 "template": {"metadata": {"labels": dict(labels)}, "spec": pod_spec}},
    }
    if kind == "StatefulSet":
        body["spec"]["serviceName"] = name
        body["spec"]["podManagementPolicy"] = "Parallel"
        body["metadata"]["labels"]["packit.dev/worker-pool"] = "short-running"
    return res(client, kind).create(body=body, namespace=NS).to_dict()


def rolled_out(client: DynamicClient, kind: str, name: str) -> bool:
    obj = get(client, kind, name) or {}
    spec, status = obj.get("spec", {}), obj.get("status") or {}
    want = spec.get("replicas", 1)
    ok = (status.get("observedGeneration", 0) >= obj["metadata"]["generation"]
          and status.get("readyReplicas", 0) == want and status.get("updatedReplicas", 0) == want)
    if kind == "Deployment":
        ok = ok and status.get("replicas", 0) == want and status.get("availableReplicas", 0) == want
    else:
        ok = ok and status.get("currentRevision") == status.get("updateRevision")
    return ok


def set_image(client: DynamicClient, kind: str, name: str, image: str) -> None:
    body = {"spec": {"template": {"spec": {"containers": [{"name": name, "image": image}]}}}}
    res(client, kind).patch(body=body, name=name, namespace=NS, content_type="application/strategic-merge-patch+json")
    wait_until(lambda: rolled_out(client, kind, name), f"{kind} {name} rolled out with {image}")


def template_image(obj: dict) -> str:
    return obj["spec"]["template"]["spec"]["containers"][0]["image"]


def play_msg(proc: subprocess.CompletedProcess[str]) -> str:
    return proc.stdout + proc.stderr


# ---------------------------------------------------------------- import-images
#
# The streams import from the local registry (openshift-apiserver's real importer); a new
# digest is pushed there with crane before each import that should find one.

API_REF, WORKER_REF = f"{REGISTRY}/api:stg", f"{REGISTRY}/worker:stg"


def stream_image(client: DynamicClient, name: str) -> str:
    """The image the stream's tag points at now (its newest status item), or ''."""
    stream = get(client, "ImageStream", name) or {}
    for tag in (stream.get("status") or {}).get("tags") or []:
        if tag.get("tag") == DEPLOYMENT and tag.get("items"):
            return tag["items"][0]["image"]
    return ""


def wait_stream(client: DynamicClient, name: str, image: str) -> None:
    wait_until(lambda: stream_image(client, name) == image, f"{name}:{DEPLOYMENT} at {image}", timeout=30)


@pytest.fixture(scope="module")
def streams(admin, local_cluster):
    refs = {"d2-api": API_REF, "d2-worker": WORKER_REF}
    made = {}
    for name, ref in refs.items():
        first = local_cluster.push_image(ref)
        made[name] = image_stream(admin, name, local_cluster.mirror(ref), scheduled=False)
        wait_stream(admin, name, first)  # a new spec tag is imported once by the stream controller
    yield made
    for name in refs:
        delete(admin, "ImageStream", name)


def test_import_images_imports_new_digests(admin, streams, playbook, local_cluster):
    new = {name: local_cluster.push_image(ref) for name, ref in (("d2-api", API_REF), ("d2-worker", WORKER_REF))}
    assert all(stream_image(admin, name) != digest for name, digest in new.items())
    proc = playbook("import-images")
    assert proc.returncode == 0, play_msg(proc)
    for name, digest in new.items():
        assert stream_image(admin, name) == digest
        source = streams[name]["spec"]["tags"][0]["from"]["name"]
        assert f"{name}:{DEPLOYMENT} <- {source} (imported)" in proc.stdout
    assert "changed=1" in proc.stdout
    # again: nothing new in the registry, so nothing changes
    again = playbook("import-images")
    assert again.returncode == 0, play_msg(again)
    assert "(unchanged)" in again.stdout and "changed=0" in again.stdout
    # check mode imports nothing
    newer = local_cluster.push_image(API_REF)
    check = playbook("import-images", "--check", day2_images="d2-api")
    assert check.returncode == 0, play_msg(check)
    assert "would import" in check.stdout
    assert stream_image(admin, "d2-api") == new["d2-api"] != newer


def test_import_images_subset_and_missing_stream(admin, streams, playbook, local_cluster):
    before = {name: stream_image(admin, name) for name in streams}
    api_new, worker_new = local_cluster.push_image(API_REF), local_cluster.push_image(WORKER_REF)
    missing = playbook("import-images", day2_images="d2-api,d2-nope")
    assert missing.returncode != 0
    assert f"ImageStream d2-nope: not found in {NS}" in missing.stdout
    assert {name: stream_image(admin, name) for name in streams} == before, \
        "nothing is imported when a requested stream is missing"
    only = playbook("import-images", day2_images="d2-api")
    assert only.returncode == 0, play_msg(only)
    assert stream_image(admin, "d2-api") == api_new
    assert stream_image(admin, "d2-worker") == before["d2-worker"] != worker_new


def test_import_images_refused_by_the_api(admin, streams, playbook, local_cluster):
    """A stream whose tag is not a DockerImage cannot be imported, and the registry's own
    refusal (an image that is not there) is reported naming the stream."""
    name = "d2-alias"
    body = {"apiVersion": "image.openshift.io/v1", "kind": "ImageStream",
            "metadata": {"name": name, "namespace": NS, "labels": dict(LABELS, **{"app.kubernetes.io/name": name})},
            "spec": {"tags": [{"name": DEPLOYMENT, "from": {"kind": "ImageStreamTag", "name": "d2-api:dev"}}]}}
    delete(admin, "ImageStream", name)
    res(admin, "ImageStream").create(body=body, namespace=NS)
    absent = local_cluster.mirror(f"{REGISTRY}/not-pushed:stg")
    image_stream(admin, "d2-absent", absent, scheduled=False)
    try:
        proc = playbook("import-images", day2_images=name)
        assert proc.returncode != 0
        assert f"ImageStream {name}: tag dev does not come from a DockerImage" in proc.stdout
        gone = playbook("import-images", day2_images="d2-absent")
        assert gone.returncode != 0
        assert f"ImageStream d2-absent: import of {absent} failed:" in gone.stdout
    finally:
        delete(admin, "ImageStream", name)
        delete(admin, "ImageStream", "d2-absent")


# ---------------------------------------------------------------- CronJob and its RBAC


def render_cron(renderer) -> list[dict]:
    """The import-images-cron component of packit stg, rendered by the deploy role (make render)."""
    return renderer.render(SERVICE, "stg", deploy_tags="import-images-cron", project=NS)["import-images-cron"]


def test_cron_manifest_shape(renderer):
    docs = render_cron(renderer)
    kinds = {d["kind"]: d for d in docs}
    assert set(kinds) == {"ConfigMap", "ServiceAccount", "Role", "RoleBinding", "CronJob"}
    # The job runs in the published worker image, which reaches it through its stream.
    (trigger,) = json.loads(kinds["CronJob"]["metadata"]["annotations"]["image.openshift.io/triggers"])
    assert trigger["from"] == {"kind": "ImageStreamTag", "name": "packit-worker:stg"}
    assert trigger["fieldPath"] == 'spec.jobTemplate.spec.template.spec.containers[?(@.name=="import-images")].image'
    for d in docs:
        labels = d["metadata"]["labels"]
        assert labels["app.kubernetes.io/part-of"] == SERVICE
        assert labels["app.kubernetes.io/instance"] == f"{SERVICE}-stg"
        assert labels["app.kubernetes.io/managed-by"] == "packit-deployment"
        assert labels["app.kubernetes.io/component"] == "import-images-cron"
    assert kinds["Role"]["rules"] == [
        {"apiGroups": ["image.openshift.io"], "resources": ["imagestreams"], "verbs": ["get", "list", "watch"]},
        {"apiGroups": ["image.openshift.io"], "resources": ["imagestreamimports"], "verbs": ["create"]}]
    cron = kinds["CronJob"]["spec"]
    assert cron["schedule"] == "0 * * * *"
    pod = cron["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "image-import"
    assert pod["containers"][0]["image"] == f"quay.io/packit/{'hardly' if SERVICE == 'stream' else 'packit-worker'}:stg"
    assert pod["containers"][0]["command"] == ["python3", "/opt/import-images/import_images.py"]
    assert {e["name"] for e in pod["containers"][0]["env"]} == {"SERVICE", "DEPLOYMENT", "PROJECT", "PYTHONDONTWRITEBYTECODE"}
    # The script and the module it imports, as they are in the repository.
    assert kinds["ConfigMap"]["data"] == {
        "import_images.py": (REPO / "cron-jobs/import-images/import_images.py").read_text(),
        "streamimport.py": (REPO / "collections/ansible_collections/packit/deployment/plugins/module_utils/"
                            "streamimport.py").read_text()}


def access(admin: DynamicClient, user: str, verb: str, group: str, resource: str) -> bool:
    review = {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
              "spec": {"user": user, "groups": ["system:serviceaccounts", f"system:serviceaccounts:{NS}", "system:authenticated"],
                       "resourceAttributes": {"namespace": NS, "verb": verb, "group": group, "resource": resource}}}
    answer = admin.resources.get(api_version="authorization.k8s.io/v1", kind="SubjectAccessReview").create(body=review)
    return bool(answer.status.allowed)


def test_cron_rbac_applies_and_allows_only_the_import(admin, local_cluster, streams, renderer, tmp_path):
    deployer = DynamicClient(local_cluster.deployer_client())
    docs = render_cron(renderer)
    for doc in docs:
        kind_res = deployer.resources.get(api_version=doc["apiVersion"], kind=doc["kind"])
        try:
            kind_res.delete(name=doc["metadata"]["name"], namespace=NS)
        except NotFoundError:
            pass
        kind_res.create(body=doc, namespace=NS)  # as the deployer, like the deploy does
    sa = f"system:serviceaccount:{NS}:image-import"
    assert access(admin, sa, "create", "image.openshift.io", "imagestreamimports")
    assert access(admin, sa, "list", "image.openshift.io", "imagestreams")
    assert not access(admin, sa, "get", "", "secrets")
    assert not access(admin, sa, "list", "", "secrets")
    assert not access(admin, sa, "update", "image.openshift.io", "imagestreams")
    assert not access(admin, sa, "delete", "image.openshift.io", "imagestreamimports")

    # The job's script as the ConfigMap holds it, with a token of that service account,
    # imports for real (kwok runs no container, so it runs here, with this machine's Python).
    token = admin.request("POST", f"/api/v1/namespaces/{NS}/serviceaccounts/image-import/token",
                          body={"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                                "spec": {"expirationSeconds": 600}}).status.token
    job = tmp_path / "job"
    job.mkdir()
    for name, text in next(d for d in docs if d["kind"] == "ConfigMap")["data"].items():
        (job / name).write_text(text)
    (tmp_path / "token").write_text(token)
    new = {name: local_cluster.push_image(ref) for name, ref in (("d2-api", API_REF), ("d2-worker", WORKER_REF))}
    env = {"PATH": os.environ["PATH"], "SERVICE": SERVICE, "DEPLOYMENT": DEPLOYMENT, "PROJECT": NS,
           "KUBERNETES_API": local_cluster.host, "KUBERNETES_TOKEN_FILE": str(tmp_path / "token"),
           "KUBERNETES_CA_FILE": str(local_cluster.ca_cert)}
    # As the pod runs it: python3 <script>, whose directory is where its module is.
    proc = subprocess.run([sys.executable, str(job / "import_images.py")], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert {name: stream_image(admin, name) for name in streams} == new
    assert sorted(line.split(":")[0] for line in proc.stdout.splitlines()) == sorted(streams)
    assert all(": imported " in line for line in proc.stdout.splitlines())
    # An unknown stream is refused before anything is imported.
    proc = subprocess.run([sys.executable, str(job / "import_images.py")], capture_output=True, text=True,
                          env=dict(env, IMAGES="d2-api,no-such-stream"))
    assert proc.returncode == 2 and "ImageStream no-such-stream: not found in packit-dev" in proc.stderr


# ---------------------------------------------------------------- history / rollback / unpin
#
# The workloads follow their streams through the real image trigger controller of
# openshift-controller-manager: it writes the stream's image into the pod template.


def follows(admin: DynamicClient, kind: str, name: str, image: str) -> bool:
    obj = get(admin, kind, name)
    return bool(obj) and template_image(obj).endswith(image) and rolled_out(admin, kind, name)


def import_now(playbook, stream: str) -> None:
    proc = playbook("import-images", day2_images=stream)
    assert proc.returncode == 0, play_msg(proc)


@pytest.mark.parametrize("kind,name,stream,ref", [
    ("Deployment", "d2-web", "d2-api", API_REF),
    ("StatefulSet", "d2-worker", "d2-worker", WORKER_REF),
])
def test_rollback_pins_and_unpin_follows_again(admin, streams, playbook, local_cluster, kind, name, stream, ref):
    """A template-only rollback would be undone by the trigger controller within a second;
    the rollback pins the stream tag instead, the controller keeps the old image, and unpin
    brings the newest image back through the same controller."""
    first = stream_image(admin, stream)
    workload(admin, kind, name, local_cluster.mirror(ref), stream)
    wait_until(lambda: follows(admin, kind, name, first), f"{kind} {name} set to the stream's image by the trigger")
    second = local_cluster.push_image(ref)
    import_now(playbook, stream)
    wait_until(lambda: follows(admin, kind, name, second), f"{kind} {name} rolled out to the imported image")
    # As on OpenShift: the trigger writes the stream's pull spec in the internal registry
    # (reference policy Local); the pin below names the source registry's reference instead.
    assert template_image(get(admin, kind, name)) == f"{INTERNAL_REGISTRY}/{NS}/{stream}@{second}"

    history = playbook("history", day2_workload=name)
    assert history.returncode == 0, play_msg(history)
    assert f"trigger {stream}:dev -> container {name}" in history.stdout

    check = playbook("rollback", "--check", day2_workload=name)
    assert check.returncode == 0, play_msg(check)
    assert template_image(get(admin, kind, name)).endswith(second)

    try:
        proc = playbook("rollback", day2_workload=name)
        assert proc.returncode == 0, play_msg(proc)
        pinned = f"{local_cluster.mirror(ref).rsplit(':', 1)[0]}@{first}"
        assert f"pinned {stream}:dev={pinned}" in proc.stdout
        tag = get(admin, "ImageStream", stream)["spec"]["tags"][0]
        assert tag["from"] == {"kind": "DockerImage", "name": pinned}
        assert not tag["importPolicy"].get("scheduled")
        assert json.loads(tag["annotations"]["packit.dev/pinned-from"])["name"] == local_cluster.mirror(ref)
        wait_until(lambda: follows(admin, kind, name, first), f"{kind} {name} rolled back")
        time.sleep(5)  # several trigger-controller passes: the rollback stays
        assert template_image(get(admin, kind, name)).endswith(first)
        assert stream_image(admin, stream) == first
        assert "(pinned:" in playbook("history", day2_workload=name).stdout
        # an import while pinned imports the pinned image: nothing moves
        import_now(playbook, stream)
        assert template_image(get(admin, kind, name)).endswith(first)

        unpin = playbook("unpin", day2_workload=name)
        assert unpin.returncode == 0, play_msg(unpin)
        assert "changed=1" in unpin.stdout
        tag = get(admin, "ImageStream", stream)["spec"]["tags"][0]
        assert tag["from"] == {"kind": "DockerImage", "name": local_cluster.mirror(ref)}
        assert tag["importPolicy"] == {"importMode": "Legacy"}  # as the stream was made (scheduled: false)
        assert not tag.get("annotations")
        wait_until(lambda: follows(admin, kind, name, second), f"{kind} {name} back on the newest image")
        again = playbook("unpin", day2_workload=name)
        assert again.returncode == 0 and "changed=0" in again.stdout
    finally:  # the next tests follow the streams again, whatever failed here
        playbook("unpin", day2_workload=name)


def test_rollback_errors(admin, playbook):
    missing = playbook("rollback", day2_workload="d2-web", day2_revision=42)
    assert missing.returncode != 0 and "Deployment d2-web: no revision 42 (available:" in missing.stdout
    unknown = playbook("rollback", day2_workload="d2-none")
    assert unknown.returncode != 0
    assert "component d2-none: no Deployment, StatefulSet or DeploymentConfig of that name in packit-dev" in unknown.stdout


def dc_body(name: str, image: str, stream: str = "d2-api") -> dict:
    labels = dict(LABELS, **{"app.kubernetes.io/name": name})
    return {"apiVersion": "apps.openshift.io/v1", "kind": "DeploymentConfig",
            "metadata": {"name": name, "namespace": NS, "labels": labels},
            "spec": {"replicas": 1, "selector": {"app.kubernetes.io/name": name},
                     "strategy": {"type": "Rolling"},
                     "triggers": [{"type": "ConfigChange"},
                                  {"type": "ImageChange", "imageChangeParams": {
                                      "automatic": True, "containerNames": [name],
                                      "from": {"kind": "ImageStreamTag", "name": f"{stream}:dev"}}}],
                     "template": {"metadata": {"labels": {"app.kubernetes.io/name": name}},
                                  "spec": {"containers": [{"name": name, "image": image}]}}}}


def dc_state(admin: DynamicClient, name: str) -> tuple[int, str, dict]:
    """(latestVersion, template image, {rc name: (phase, replicas)})."""
    dc = get(admin, "DeploymentConfig", name) or {}
    rcs = res(admin, "ReplicationController").get(namespace=NS, label_selector=f"openshift.io/deployment-config.name={name}")
    phases = {rc["metadata"]["name"]: ((rc["metadata"].get("annotations") or {}).get("openshift.io/deployment.phase"),
                                       rc["spec"].get("replicas"))
              for rc in rcs.to_dict()["items"]}
    image = template_image(dc) if dc else ""
    return int((dc.get("status") or {}).get("latestVersion") or 0), image, phases


def dc_complete(admin: DynamicClient, name: str, version: int, image: str) -> bool:
    latest, template, phases = dc_state(admin, name)
    return (latest == version and template.endswith(image)
            and phases.get(f"{name}-{version}") == ("Complete", 1)
            and all(replicas == 0 for rc, (_, replicas) in phases.items() if rc != f"{name}-{version}"))


def test_deploymentconfig_rollout_rollback_and_unpin(admin, streams, playbook, local_cluster):
    """The real DeploymentConfig controller makes a ReplicationController per version and a
    deployer pod for it; the deployer pods' work (oc's deployer) is done by the local
    cluster's dc-deployer process, because kwok runs no containers."""
    name = "d2-dc"
    delete(admin, "DeploymentConfig", name)
    first = stream_image(admin, "d2-api")
    try:
        res(admin, "DeploymentConfig").create(body=dc_body(name, " "), namespace=NS)
        wait_until(lambda: dc_complete(admin, name, 1, first), "version 1 rolled out", timeout=120)
        none = playbook("rollback", day2_workload=name)
        assert none.returncode != 0
        assert "DeploymentConfig d2-dc: no revision before the current one (1)" in none.stdout

        second = local_cluster.push_image(API_REF)
        import_now(playbook, "d2-api")
        wait_until(lambda: dc_complete(admin, name, 2, second), "an image change rolls out version 2", timeout=120)

        proc = playbook("rollback", day2_workload=name)
        assert proc.returncode == 0, play_msg(proc)
        dc = get(admin, "DeploymentConfig", name)
        assert not dc["spec"]["triggers"][1]["imageChangeParams"].get("automatic")
        wait_until(lambda: dc_complete(admin, name, 3, first), "the rollback rolls out version 3", timeout=120)
        assert "deployment" not in get(admin, "DeploymentConfig", name)["spec"]["template"]["metadata"]["labels"]

        unpin = playbook("unpin", day2_workload=name)
        assert unpin.returncode == 0, play_msg(unpin)
        assert get(admin, "DeploymentConfig", name)["spec"]["triggers"][1]["imageChangeParams"]["automatic"] is True
        wait_until(lambda: dc_complete(admin, name, 4, second), "unpin rolls out the stream's image", timeout=120)

        restart = playbook("restart", day2_workloads=name)
        assert restart.returncode == 0, play_msg(restart)
        dc = get(admin, "DeploymentConfig", name)
        assert "kubectl.kubernetes.io/restartedAt" in dc["spec"]["template"]["metadata"]["annotations"]
        wait_until(lambda: dc_complete(admin, name, 5, second), "the restart rolls out version 5", timeout=120)
    finally:
        delete(admin, "DeploymentConfig", name)


# ---------------------------------------------------------------- restart and check


def test_restart_rolls_out_on_kwok_nodes(admin, playbook):
    for kind, name, stream in (("Deployment", "d2-web", "d2-api"), ("StatefulSet", "d2-worker", "d2-worker")):
        if get(admin, kind, name) is None:
            workload(admin, kind, name, f"{REGISTRY}/x@{digest('c')}", stream)
        wait_until(lambda: rolled_out(admin, kind, name), f"{name} ready")
    before = {n: get(admin, k, n)["metadata"]["generation"] for k, n in (("Deployment", "d2-web"), ("StatefulSet", "d2-worker"))}
    proc = playbook("restart", day2_workloads="d2-web,d2-worker")
    assert proc.returncode == 0, play_msg(proc)
    for kind, name in (("Deployment", "d2-web"), ("StatefulSet", "d2-worker")):
        obj = get(admin, kind, name)
        assert "kubectl.kubernetes.io/restartedAt" in obj["spec"]["template"]["metadata"]["annotations"]
        assert obj["metadata"]["generation"] == before[name] + 1
        assert obj["status"]["readyReplicas"] == obj["spec"]["replicas"]
        assert rolled_out(admin, kind, name)
    missing = playbook("restart", day2_workloads="d2-web,d2-none")
    assert missing.returncode != 0 and "component d2-none" in missing.stdout


def test_restart_of_tags_restarts_the_workloads_of_those_components(admin, playbook):
    """make restart TAGS=packit-worker: the workloads labelled with the component, and no other."""
    for kind, name, stream in (("Deployment", "d2-web", "d2-api"), ("StatefulSet", "d2-worker", "d2-worker")):
        if get(admin, kind, name) is None:
            workload(admin, kind, name, f"{REGISTRY}/x@{digest('c')}", stream)
        wait_until(lambda: rolled_out(admin, kind, name), f"{name} ready")
    res(admin, "StatefulSet").patch(name="d2-worker", namespace=NS, content_type="application/merge-patch+json",
                                    body={"metadata": {"labels": {"app.kubernetes.io/component": "packit-worker"}}})
    before = {n: get(admin, k, n)["metadata"]["generation"] for k, n in (("Deployment", "d2-web"), ("StatefulSet", "d2-worker"))}
    unknown = playbook("restart", day2_tags="packit-worker,nope")
    assert unknown.returncode != 0 and "TAGS: unknown tag nope; valid tags: secrets, postgres" in unknown.stdout
    none = playbook("restart", day2_tags="dashboard")
    assert none.returncode != 0 and "these components have no workloads there" in none.stdout, play_msg(none)
    assert {n: get(admin, k, n)["metadata"]["generation"] for k, n in (("Deployment", "d2-web"), ("StatefulSet", "d2-worker"))} == before
    proc = playbook("restart", day2_tags="packit-worker")
    assert proc.returncode == 0, play_msg(proc)
    assert "d2-worker restarted at" in proc.stdout
    assert get(admin, "StatefulSet", "d2-worker")["metadata"]["generation"] == before["d2-worker"] + 1
    assert get(admin, "Deployment", "d2-web")["metadata"]["generation"] == before["d2-web"]
    assert rolled_out(admin, "StatefulSet", "d2-worker")


def test_check_reports_ready_and_fails_on_unschedulable(admin, streams, playbook):
    for kind, name, stream in (("Deployment", "d2-web", "d2-api"), ("StatefulSet", "d2-worker", "d2-worker")):
        if get(admin, kind, name) is None:
            workload(admin, kind, name, f"{REGISTRY}/x@{digest('c')}", stream)
        image = stream_image(admin, stream)
        wait_until(lambda: follows(admin, kind, name, image), f"{name} ready on its stream's image")
    ok = playbook("check")
    assert ok.returncode == 0, play_msg(ok)
    assert "COMPONENT" in ok.stdout and "d2-web" in ok.stdout and "d2-worker" in ok.stdout
    assert "NOT READY" not in ok.stdout
    web = next(line for line in ok.stdout.splitlines() if line.strip().startswith("d2-web "))
    assert " = d2-api:dev " in web, web  # the trigger controller put the stream's image in the template
    name = "d2-stuck"
    workload(admin, "Deployment", name, f"{REGISTRY}/api:stg", "d2-api", node_selector={"no-such-node": "true"})
    try:
        time.sleep(2)
        bad = playbook("check")
        assert bad.returncode != 0
        assert f"not ready in {NS}: d2-stuck" in bad.stdout
        assert "NOT READY" in bad.stdout
    finally:
        delete(admin, "Deployment", name)


@pytest.fixture(scope="module", autouse=True)
def cleanup_workloads(admin):
    yield
    for kind, name in (("Deployment", "d2-web"), ("StatefulSet", "d2-worker"), ("Deployment", "d2-stuck")):
        delete(admin, kind, name)
    for api_version, kind, name in (("batch/v1", "CronJob", "import-images"), ("v1", "ServiceAccount", "image-import"),
                                    ("rbac.authorization.k8s.io/v1", "Role", "image-import"),
                                    ("rbac.authorization.k8s.io/v1", "RoleBinding", "image-import")):
        try:
            admin.resources.get(api_version=api_version, kind=kind).delete(name=name, namespace=NS)
        except NotFoundError:
            pass

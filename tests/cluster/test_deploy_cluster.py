"""make deploy against the local control plane (real kube-apiserver, controllers, kwok nodes).

The tests run in file order and share one deployment per service: deploy, redeploy,
partial deploy, image and certificate changes, permission and connection failures,
DeploymentConfig mode, cleanup.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import json
import re
import socket
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes.dynamic.exceptions import NotFoundError

from tests.support.deploytools import (
    SECRET_FILES, REPO, all_objects, read_manifests, ref, run_make, source_image, triggered_image, write_secret_files)
from localcluster.components import INTERNAL_REGISTRY

pytestmark = pytest.mark.cluster
WORKLOAD_KINDS = ("Deployment", "StatefulSet")

# The packit and stream dev stacks these tests deploy (conftest).
EMPTIED_AFTER = ("packit-dev", "packit-dev-sandbox", "stream-dev", "stream-dev-sandbox")

@pytest.fixture(scope="module")
def model_secrets(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("deploy-secrets")
    write_secret_files(path)
    return path


def make(local_cluster, target: str, service: str, secrets: Path, extra: str = "", **variables: str):
    """make <target> LOCAL=1 DEPLOYMENT=dev against the fixture's cluster, vars from the dev template."""
    return run_make(target, timeout=1200, LOCAL="1", DEPLOYMENT="dev", SERVICE=service, SECRETS_DIR=str(secrets),
                    LOCAL_CLUSTER_CACHE=str(local_cluster.cache_dir),
                    EXTRA_ARGS=f"-e config_vars_file={REPO}/vars/{service}/dev_template.yml {extra}", **variables)


def recap(result) -> dict[str, int]:
    match = re.search(r"localhost\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", result.stdout)
    assert match, result.stdout[-3000:]
    return dict(zip(("ok", "changed", "unreachable", "failed"), map(int, match.groups())))


_RENDERED: dict[tuple, dict[str, list[dict]]] = {}


def rendered(local_cluster, service: str, secrets: Path, tmp_path: Path, extra: str = "") -> dict[str, list[dict]]:
    """make render's objects (once per settings: they do not depend on the cluster's state)."""
    key = (service, str(secrets), extra)
    if key not in _RENDERED:
        out = tmp_path / f"render-{service}"
        result = make(local_cluster, "render", service, secrets, extra + " -e render_show_secrets=false", OUT=str(out))
        assert result.returncode == 0, result.stdout[-3000:]
        _RENDERED[key] = read_manifests(out)
    return copy.deepcopy(_RENDERED[key])


def live(admin, obj: dict) -> Any:
    resource = admin.resources.get(api_version=obj["apiVersion"], kind=obj["kind"])
    return resource.get(name=obj["metadata"]["name"], namespace=obj["metadata"].get("namespace")).to_dict()


def snapshot(admin, objects: list[dict]) -> dict[tuple, str]:
    """resourceVersion of each object (the cluster's own record of any change)."""
    return {ref(o): live(admin, o)["metadata"]["resourceVersion"] for o in objects}


def generations(admin, objects: list[dict]) -> dict[str, int]:
    return {o["metadata"]["name"]: live(admin, o)["metadata"]["generation"] for o in objects if o["kind"] in WORKLOAD_KINDS}


def is_subset(want: Any, have: Any, path: str = "") -> list[str]:
    """Where the rendered value is not in the live object (server defaults may add fields)."""
    if isinstance(want, dict):
        if not isinstance(have, dict):
            return [f"{path}: {have!r} is not a mapping"]
        return [m for k, v in want.items() for m in is_subset(v, have.get(k), f"{path}.{k}")]
    if isinstance(want, list):
        if not isinstance(have, list) or len(want) != len(have):
            return [f"{path}: list differs"]
        return [m for i, (w, h) in enumerate(zip(want, have)) for m in is_subset(w, h, f"{path}[{i}]")]
    if str(want) != str(have):
        return [f"{path}: want {want!r}, have {have!r}"]
    return []


def stream_images(admin, namespace: str) -> dict[str, str]:
    """<stream>:<tag> -> the image reference its image trigger sets now (the tag's status)."""
    resource = admin.resources.get(api_version="image.openshift.io/v1", kind="ImageStream")
    found = {}
    for stream in resource.get(namespace=namespace).to_dict()["items"]:
        for tag in (stream.get("status") or {}).get("tags") or []:
            if tag.get("items"):
                found[f"{stream['metadata']['name']}:{tag['tag']}"] = triggered_image(stream, tag["tag"])
    return found


def triggered(obj: dict) -> list[tuple[dict, str]]:
    """(container, stream tag) of each container an image trigger of `obj` manages."""
    pods = {"CronJob": lambda o: o["spec"]["jobTemplate"]["spec"]["template"]["spec"]}.get(
        obj["kind"], lambda o: o["spec"]["template"]["spec"])
    containers = {c["name"]: c for c in pods(obj)["containers"]}
    if obj["kind"] == "DeploymentConfig":
        return [(containers[name], t["imageChangeParams"]["from"]["name"]) for t in obj["spec"]["triggers"]
                if t["type"] == "ImageChange" for name in t["imageChangeParams"]["containerNames"]]
    triggers = json.loads((obj["metadata"].get("annotations") or {}).get("image.openshift.io/triggers", "[]"))
    return [(containers[re.search(r'@\.name=="([^"]+)"', t["fieldPath"]).group(1)], t["from"]["name"])
            for t in triggers]


def follow_streams(admin, obj: dict, have: dict) -> dict:
    """The rendered object with each triggered image replaced by the one the trigger
    controller must have set (the stream tag's image), after checking that it did."""
    if obj["kind"] not in (*WORKLOAD_KINDS, "CronJob", "DeploymentConfig"):
        return obj
    want = json.loads(json.dumps(obj))
    images = stream_images(admin, obj["metadata"]["namespace"])
    live = dict((c["name"], c["image"]) for c, _ in triggered(have))
    for container, stream_tag in triggered(want):
        assert live[container["name"]] == images[stream_tag], (ref(obj), container["name"], stream_tag)
        container["image"] = images[stream_tag]
    return want


@pytest.mark.parametrize("service", ["packit", "stream"])
def test_full_deploy(local_cluster, admin, model_secrets, tmp_path, service):
    result = make(local_cluster, "deploy", service, model_secrets)
    assert result.returncode == 0, result.stdout[-4000:]
    objects = all_objects(rendered(local_cluster, service, model_secrets, tmp_path))
    assert len(objects) > 15
    for obj in objects:
        have = live(admin, obj)
        if obj["kind"] == "Secret":
            continue  # rendered redacted; the real values are checked below
        obj = follow_streams(admin, obj, have)
        assert is_subset(obj.get("spec", obj.get("data", {})), have.get("spec", have.get("data", {}))) == [], ref(obj)
        assert is_subset(obj["metadata"]["labels"], have["metadata"]["labels"]) == []
    pg = live(admin, {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "postgres-secret", "namespace": f"{service}-dev"}})
    assert base64.b64decode(pg["data"]["database-password"]).decode() == "s3cret-pg"
    workloads = [o for o in objects if o["kind"] in WORKLOAD_KINDS]
    assert workloads
    for w in workloads:
        status = live(admin, w)["status"]
        assert status.get("readyReplicas", 0) == w["spec"]["replicas"], (w["metadata"]["name"], status)


@pytest.mark.parametrize("service", ["packit", "stream"])
def test_second_run_changes_nothing(local_cluster, admin, model_secrets, tmp_path, service):
    objects = all_objects(rendered(local_cluster, service, model_secrets, tmp_path))
    before = snapshot(admin, objects)
    result = make(local_cluster, "deploy", service, model_secrets)
    assert result.returncode == 0, result.stdout[-3000:]
    assert recap(result)["changed"] == 0
    assert snapshot(admin, objects) == before
    # --check sends server-side dry runs: nothing would change, nothing changed.
    checked = make(local_cluster, "deploy", service, model_secrets, "--check")
    assert checked.returncode == 0, checked.stdout[-3000:]
    assert recap(checked)["changed"] == 0
    assert snapshot(admin, objects) == before


def test_check_diff_previews_changes_without_secret_values(local_cluster, admin, model_secrets, tmp_path):
    """--check --diff: the apply's server-side dry runs report what would change and show the
    differences of everything but Secrets; a new database password is named as a changed
    Secret, its value (plain or base64) is nowhere in the output, and nothing changes."""
    objects = all_objects(rendered(local_cluster, "packit", model_secrets, tmp_path))
    before = snapshot(admin, objects)
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    for f in model_secrets.iterdir():
        (secrets / f.name).write_bytes(f.read_bytes())
    postgres = yaml.safe_load((secrets / "postgres.yml").read_text())
    postgres["database-password"] = "n3w-pg-passw0rd"
    (secrets / "postgres.yml").write_text(yaml.safe_dump(postgres))
    result = make(local_cluster, "deploy", "packit", secrets, "--check --diff -e redis_memory=300Mi")
    assert result.returncode == 0, result.stdout[-3000:]
    output = result.stdout + result.stderr
    assert "Secret/postgres-secret" in output and "Deployment/redis" in output
    assert "300Mi" in output  # the difference of the redis Deployment
    for value in ("n3w-pg-passw0rd", base64.b64encode(b"n3w-pg-passw0rd").decode()):
        assert value not in output
    assert snapshot(admin, objects) == before


def test_partial_deploy_touches_only_its_component(local_cluster, admin, model_secrets, tmp_path):
    objects = all_objects(rendered(local_cluster, "packit", model_secrets, tmp_path))
    before = snapshot(admin, objects)
    result = make(local_cluster, "deploy", "packit", model_secrets, "-e redis_memory=300Mi", TAGS="redis")
    assert result.returncode == 0, result.stdout[-3000:]
    after = snapshot(admin, objects)
    changed = {r for r in before if before[r] != after[r]}
    redis_objects = {ref(o) for o in objects if o["metadata"]["labels"]["app.kubernetes.io/component"] == "redis"}
    # Every other component keeps its resourceVersion; within redis the Deployment changed
    # (its PVC may be touched by the controllers when the pod is replaced).
    assert changed - redis_objects == set()
    assert ("apps/v1", "Deployment", "packit-dev", "redis") in changed
    redis = live(admin, next(o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"] == "redis"))
    assert redis["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] == "300Mi"
    # Back to the vars file's value: the rest of the suite expects the plain deployment.
    assert make(local_cluster, "deploy", "packit", model_secrets, TAGS="redis").returncode == 0


FOLLOWER_KINDS = (*WORKLOAD_KINDS, "CronJob")


def followers(admin, namespace: str, instance: str) -> dict[str, int]:
    """kind/name -> generation of every Deployment, StatefulSet and CronJob of the deployment."""
    found = {}
    for api_version, kind in (("apps/v1", "Deployment"), ("apps/v1", "StatefulSet"), ("batch/v1", "CronJob")):
        resource = admin.resources.get(api_version=api_version, kind=kind)
        for obj in resource.get(namespace=namespace, label_selector=f"app.kubernetes.io/instance={instance}").items:
            found[f"{kind}/{obj.metadata.name}"] = obj.metadata.generation
    return found


def settled_changes(admin, namespace: str, instance: str, before: dict[str, int], expected: set[str],
                    timeout: float = 90) -> set[str]:
    """Wait until every expected workload changed generation, let the controllers settle, and
    return what changed (so that anything else that moved shows up too)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = followers(admin, namespace, instance)
        if {k for k in before if before[k] != now.get(k)} >= expected:
            break
        time.sleep(0.5)
    time.sleep(3)
    now = followers(admin, namespace, instance)
    return {k for k in before if before[k] != now.get(k)}


def test_new_image_source_rolls_out_exactly_its_users(local_cluster, admin, model_secrets, tmp_path):
    """Another registry reference in `images` changes the stream's spec; the stream imports it
    and the trigger controller rolls out the worker and beat (both follow packit-worker)."""
    canary = "quay.io/packit/packit-worker:canary"
    digest = local_cluster.push_image(canary)
    assert make(local_cluster, "deploy", "packit", model_secrets).returncode == 0  # this session's secrets
    before = followers(admin, "packit-dev", "packit-dev")
    images = yaml.safe_load((REPO / "roles/model/defaults/main/images.yml").read_text())["images"]
    images["packit-worker"] = canary
    try:
        result = make(local_cluster, "deploy", "packit", model_secrets, "-e '" + json.dumps({"images": images}) + "'")
        assert result.returncode == 0, result.stdout[-3000:]
        assert settled_changes(admin, "packit-dev", "packit-dev", before,
                               {"StatefulSet/packit-worker", "Deployment/packit-service-beat"}) \
            == {"StatefulSet/packit-worker", "Deployment/packit-service-beat"}
        worker = live(admin, {"apiVersion": "apps/v1", "kind": "StatefulSet",
                              "metadata": {"name": "packit-worker", "namespace": "packit-dev"}})
        # The trigger sets the stream's pull spec in the internal registry (reference policy
        # Local), which serves the canary's digest.
        worker_image = worker["spec"]["template"]["spec"]["containers"][0]["image"]
        assert worker_image == f"{INTERNAL_REGISTRY}/packit-dev/packit-worker@{digest}"
        assert source_image(admin, "packit-dev", worker_image) == \
            f"{local_cluster.mirror(canary).rsplit(':', 1)[0]}@{digest}"
        stream = live(admin, {"apiVersion": "image.openshift.io/v1", "kind": "ImageStream",
                              "metadata": {"name": "packit-worker", "namespace": "packit-dev"}})
        assert stream["spec"]["tags"][0]["from"]["name"] == local_cluster.mirror(canary)
    finally:  # the next tests follow the stream's usual source again, whatever failed here
        assert make(local_cluster, "deploy", "packit", model_secrets).returncode == 0


def test_scheduled_import_rolls_out_exactly_the_followers(local_cluster, admin):
    """dev imports on a schedule: a new digest in the registry reaches exactly the workloads
    that follow that stream, with no command run."""
    before = followers(admin, "packit-dev", "packit-dev")
    local_cluster.push_image("quay.io/packit/packit-worker:stg")
    assert settled_changes(admin, "packit-dev", "packit-dev", before,
                           {"StatefulSet/packit-worker", "Deployment/packit-service-beat"}) \
        == {"StatefulSet/packit-worker", "Deployment/packit-service-beat"}


def test_import_images_rolls_out_exactly_the_followers(local_cluster, admin, model_secrets):
    """Without scheduled import (prod's setting) a new digest stays in the registry until
    make import-images; then exactly the followers of the imported streams roll out,
    the import CronJob included."""
    settings = "-e image_scheduled_import=false -e with_import_images_cron=true"
    streams = admin.resources.get(api_version="image.openshift.io/v1", kind="ImageStream")
    # A stream of the test's own that does import on schedule, from the same source: once it
    # has the new digest, the scheduler has run since the push.
    control = {"apiVersion": "image.openshift.io/v1", "kind": "ImageStream",
               "metadata": {"name": "scheduled-control", "namespace": "packit-dev"},
               "spec": {"tags": [{"name": "stg", "importPolicy": {"scheduled": True},
                                  "from": {"kind": "DockerImage",
                                           "name": local_cluster.mirror("quay.io/packit/packit-service:stg")}}]}}
    try:
        deployed = make(local_cluster, "deploy", "packit", model_secrets, settings)
        assert deployed.returncode == 0, deployed.stdout[-3000:]
        before = followers(admin, "packit-dev", "packit-dev")
        assert "CronJob/import-images" in before
        streams.create(body=control, namespace="packit-dev")
        digests = [local_cluster.push_image(reference)
                   for reference in ("quay.io/packit/packit-service:stg", "quay.io/packit/packit-worker:stg")]
        deadline = time.monotonic() + 60
        while digests[0] not in str(streams.get(name="scheduled-control", namespace="packit-dev").to_dict()
                                    .get("status", {}).get("tags")):
            assert time.monotonic() < deadline, "the scheduled control stream never imported the new digest"
            time.sleep(0.5)
        time.sleep(2)  # what a scheduled import would have set off has had time to show
        assert followers(admin, "packit-dev", "packit-dev") == before
        result = make(local_cluster, "import-images", "packit", model_secrets, IMAGES="packit-service,packit-worker")
        assert result.returncode == 0, result.stdout[-3000:]
        assert "packit-service:dev <- " in result.stdout and "(imported)" in result.stdout
        # The CronJob runs the worker image: it follows the worker's stream with the workers.
        followers_of_both = {"Deployment/packit-service", "CronJob/import-images", "StatefulSet/packit-worker",
                             "Deployment/packit-service-beat"}
        assert settled_changes(admin, "packit-dev", "packit-dev", before, followers_of_both) == followers_of_both
    finally:
        with contextlib.suppress(NotFoundError):
            streams.delete(name="scheduled-control", namespace="packit-dev")
        make(local_cluster, "cleanup", "packit", model_secrets, TAGS="import-images-cron")
        assert make(local_cluster, "deploy", "packit", model_secrets).returncode == 0


def test_changed_certificate_restarts_exactly_its_users(local_cluster, admin, model_secrets, tmp_path):
    """TAGS=secrets make deploy after a certificate renewal rolls out the service, the
    dashboard and the metrics nginx (they mount it) and nothing else; unchanged, nothing."""
    objects = all_objects(rendered(local_cluster, "packit", model_secrets, tmp_path))
    renewed = tmp_path / "renewed"
    write_secret_files(renewed)
    (renewed / "fullchain.pem").write_text(SECRET_FILES["fullchain.pem"] + "# renewed\n")
    before = generations(admin, objects)
    same = make(local_cluster, "deploy", "packit", model_secrets, TAGS="secrets")
    assert same.returncode == 0 and recap(same)["changed"] == 0
    assert generations(admin, objects) == before
    result = make(local_cluster, "deploy", "packit", renewed)
    assert result.returncode == 0, result.stdout[-3000:]
    after = generations(admin, objects)
    assert {n for n in before if before[n] != after[n]} == {"packit-service", "dashboard", "pushgateway-nginx"}
    assert make(local_cluster, "deploy", "packit", model_secrets).returncode == 0


def test_kubeconfig_instead_of_host_and_token(local_cluster, model_secrets):
    """Cluster access by the user's kubeconfig (and context) works as well as host + api_key."""
    result = make(local_cluster, "deploy", "packit", model_secrets,
                  f"-e host= -e api_key= -e ca_cert= -e kubeconfig={local_cluster.deployer_kubeconfig} -e context=deployer",
                  TAGS="redis")
    assert result.returncode == 0, result.stdout[-3000:]
    assert "as deployer" in result.stdout  # the preflight's who-am-I
    assert recap(result)["changed"] == 0


def test_token_without_rights_changes_nothing(local_cluster, admin, model_secrets, tmp_path):
    objects = all_objects(rendered(local_cluster, "packit", model_secrets, tmp_path))
    before = snapshot(admin, objects)
    token_vars = tmp_path / "norights.yml"
    token_vars.write_text(f"api_key: {local_cluster.norights_token}\n")
    token_vars.chmod(0o600)
    result = make(local_cluster, "deploy", "packit", model_secrets, f"-e @{token_vars} -e redis_memory=1Gi")
    assert result.returncode != 0
    line = next(l for l in result.stdout.splitlines() if "is not allowed to" in l)
    assert "norights is not allowed to get secrets in namespace packit-dev" in line
    for missing in ("get imagestreams.image.openshift.io in namespace packit-dev",
                    "create deployments.apps in namespace packit-dev",
                    "patch routes.route.openshift.io in namespace packit-dev",
                    "create rolebindings.rbac.authorization.k8s.io in namespace packit-dev-sandbox"):
        assert missing in line
    assert local_cluster.norights_token not in result.stdout + result.stderr
    assert snapshot(admin, objects) == before


def test_rejected_token_names_the_setting(local_cluster, admin, model_secrets, tmp_path):
    objects = all_objects(rendered(local_cluster, "packit", model_secrets, tmp_path))
    before = snapshot(admin, objects)
    token_vars = tmp_path / "bogus.yml"
    token_vars.write_text("api_key: not-a-token-the-server-knows\n")
    result = make(local_cluster, "deploy", "packit", model_secrets, f"-e @{token_vars} -e redis_memory=1Gi")
    assert result.returncode != 0
    assert (f"the API server at {local_cluster.host} rejected the token (401 Unauthorized): "
            "check api_key in vars/packit/dev.yml") in result.stdout
    assert "not-a-token-the-server-knows" not in result.stdout + result.stderr
    assert snapshot(admin, objects) == before


def test_missing_secret_file_changes_nothing(local_cluster, admin, model_secrets, tmp_path):
    objects = all_objects(rendered(local_cluster, "packit", model_secrets, tmp_path))
    before = snapshot(admin, objects)
    partial = tmp_path / "partial"
    write_secret_files(partial, {k: v for k, v in SECRET_FILES.items() if k != "privkey.pem"})
    result = make(local_cluster, "deploy", "packit", partial, "-e redis_memory=1Gi")
    assert result.returncode != 0
    assert f"{partial}/privkey.pem is missing (needed by secrets, packit-service, dashboard, pushgateway)" in result.stdout
    assert snapshot(admin, objects) == before


def test_api_server_down_gives_a_connection_message(local_cluster, model_secrets):
    """The deploy aimed at an address where no API server listens: a loopback port just freed,
    which the client meets as it meets a stopped kube-apiserver (connection refused). Stopping
    the local kube-apiserver itself is test_local_cluster's test_api_server_can_be_stopped_alone:
    a stop and a start here cost half a minute of every test run."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    down = f"https://127.0.0.1:{port}"
    result = make(local_cluster, "deploy", "packit", model_secrets, f"-e host={down}")
    assert result.returncode != 0
    assert f"cannot reach the API server at {down}: Connection refused" in result.stdout, result.stdout[-2000:]


def test_workload_that_never_gets_ready_fails_with_a_clear_message(local_cluster, admin, model_secrets):
    """A memory request no kwok node can hold keeps the new redis pod Pending: the run waits
    deploy_wait_timeout, then names the workload; the next good run heals it."""
    result = make(local_cluster, "deploy", "packit", model_secrets, "-e redis_memory=500Gi -e deploy_wait_timeout=5", TAGS="redis")
    assert result.returncode != 0
    line = next(l for l in result.stdout.splitlines() if l.startswith("[ERROR]"))
    assert "not ready after 5s: redis (inspect with make check" in line
    healed = make(local_cluster, "deploy", "packit", model_secrets, TAGS="redis")
    assert healed.returncode == 0, healed.stdout[-3000:]


def test_deploymentconfig_mode_rolls_out(local_cluster, admin, model_secrets, tmp_path):
    """DeploymentConfig mode: the real DeploymentConfig controller makes version 1 of each,
    the deployer work (dc-deployer on the local cluster) completes it, the deploy waits for
    that; a second run changes nothing; a new image in a stream rolls out version 2 of
    exactly its followers."""
    extra = "-e workload_kind=DeploymentConfig"
    objects = all_objects(rendered(local_cluster, "stream", model_secrets, tmp_path, extra))
    dcs = [o for o in objects if o["kind"] == "DeploymentConfig"]
    assert dcs
    resource = admin.resources.get(api_version="apps.openshift.io/v1", kind="DeploymentConfig")
    plain = [o for o in all_objects(rendered(local_cluster, "stream", model_secrets, tmp_path / "plain"))
             if o["kind"] in WORKLOAD_KINDS]
    try:
        for workload in plain:  # the same names as Deployments/StatefulSets would select the same pods
            admin.resources.get(api_version=workload["apiVersion"], kind=workload["kind"]).delete(
                name=workload["metadata"]["name"], namespace=workload["metadata"]["namespace"])
        result = make(local_cluster, "deploy", "stream", model_secrets, extra)
        assert result.returncode == 0, result.stdout[-3000:]
        for dc in dcs:
            have = live(admin, dc)
            want = follow_streams(admin, dc, have)
            assert is_subset(want["spec"], have["spec"]) == [], dc["metadata"]["name"]
            assert have["status"]["latestVersion"] >= 1
            assert have["status"]["readyReplicas"] == dc["spec"]["replicas"], dc["metadata"]["name"]
        versions = {dc["metadata"]["name"]: live(admin, dc)["status"]["latestVersion"] for dc in dcs}
        again = make(local_cluster, "deploy", "stream", model_secrets, extra)
        assert recap(again)["changed"] == 0
        assert {dc["metadata"]["name"]: live(admin, dc)["status"]["latestVersion"] for dc in dcs} == versions

        local_cluster.push_image("quay.io/packit/hardly:stg")
        followers_of_worker = {"packit-worker", "packit-service-beat"}
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            now = {dc["metadata"]["name"]: live(admin, dc) for dc in dcs}
            if all(now[n]["status"]["latestVersion"] == versions[n] + 1
                   and now[n]["status"].get("readyReplicas") == now[n]["spec"]["replicas"]
                   for n in followers_of_worker if n in now):
                break
            time.sleep(1)
        time.sleep(3)
        moved = {n for n in versions if live(admin, next(d for d in dcs if d["metadata"]["name"] == n))
                 ["status"]["latestVersion"] != versions[n]}
        assert moved == followers_of_worker & set(versions)
    finally:
        for dc in dcs:
            with contextlib.suppress(NotFoundError):
                resource.delete(name=dc["metadata"]["name"], namespace=dc["metadata"]["namespace"])
        assert make(local_cluster, "deploy", "stream", model_secrets).returncode == 0


def test_cleanup_keeps_the_data(local_cluster, admin, model_secrets, tmp_path):
    objects = all_objects(rendered(local_cluster, "stream", model_secrets, tmp_path))
    v1 = admin.resources.get(api_version="v1", kind="PersistentVolumeClaim")
    claims_before = {c.metadata.name for c in v1.get(namespace="stream-dev").items}
    assert {"redis-pvc", "postgres-15"} <= claims_before
    result = make(local_cluster, "cleanup", "stream", model_secrets)
    assert result.returncode == 0, result.stdout[-3000:]
    for obj in objects:
        if obj["kind"] == "PersistentVolumeClaim":
            assert live(admin, obj)
            continue
        with pytest.raises(NotFoundError):
            live(admin, obj)
    assert {c.metadata.name for c in v1.get(namespace="stream-dev").items} == claims_before
    # Deploying again finds its data where it left it.
    result = make(local_cluster, "deploy", "stream", model_secrets)
    assert result.returncode == 0, result.stdout[-3000:]


def test_cleanup_on_prod_only_when_confirmed_and_keeps_the_data(local_cluster, admin, model_secrets):
    """The prod settings aimed at the deployer's stream-dev namespace (the local cluster grants
    no prod project): without CONFIRM=prod nothing is touched; with it, the redis component's
    objects go and its PVC stays, the same claim (uid) as before."""
    prod = (f"-e config_vars_file={REPO}/vars/stream/prod_template.yml "
            "-e project=stream-dev -e sandbox_namespace=stream-dev-sandbox")
    redis = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "redis", "namespace": "stream-dev"}}
    claim = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "redis-pvc", "namespace": "stream-dev"}}
    before = live(admin, redis)["metadata"]["resourceVersion"], live(admin, claim)["metadata"]["uid"]

    def cleanup(confirm: str):
        return run_make("cleanup", timeout=1200, LOCAL="1", DEPLOYMENT="prod", SERVICE="stream", TAGS="redis",
                        CONFIRM=confirm, SECRETS_DIR=str(model_secrets),
                        LOCAL_CLUSTER_CACHE=str(local_cluster.cache_dir), EXTRA_ARGS=prod)

    refused = cleanup("")
    assert refused.returncode != 0
    assert "make cleanup on prod deletes the running service (PVCs stay)" in refused.stdout + refused.stderr
    assert (live(admin, redis)["metadata"]["resourceVersion"], live(admin, claim)["metadata"]["uid"]) == before

    done = cleanup("prod")
    assert done.returncode == 0, done.stdout[-3000:]
    with pytest.raises(NotFoundError):
        live(admin, redis)
    assert live(admin, claim)["metadata"]["uid"] == before[1]
    restored = make(local_cluster, "deploy", "stream", model_secrets, TAGS="redis")
    assert restored.returncode == 0, restored.stdout[-3000:]

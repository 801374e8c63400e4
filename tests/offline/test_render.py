"""Render every service x deployment x workload kind through the real role and check the
objects: strictly against the pinned Kubernetes schemas and the OpenShift CRDs, and for the
semantics that matter."""

from __future__ import annotations

import base64
import fnmatch
import json
from pathlib import Path

import pytest
import yaml

from scripts import components
from tests.support.deploytools import (
    DEPLOYMENTS,
    KINDS,
    REPO,
    SECRET_FILES,
    SERVICES,
    all_objects,
    failure_line,
    read_manifests,
    ref,
    run_make,
    run_playbook,
)
from scripts.validate_manifests import Schemas
from scripts.validate_manifests import main as validate_main

COMBINATIONS = [(s, d, k) for s in SERVICES for d in DEPLOYMENTS for k in KINDS]
WORKLOADS = ("Deployment", "StatefulSet", "DeploymentConfig")


@pytest.fixture(scope="module")
def schemas() -> Schemas:
    return Schemas(REPO / "schemas" / "kubernetes.json", REPO / "crds")


def component_names() -> list[str]:
    return components.components()


switch = components.switch


@pytest.mark.parametrize(("service", "deployment", "kind"), COMBINATIONS)
def test_every_object_is_valid(renderer, schemas, service, deployment, kind):
    manifests = renderer.render(service, deployment, workload_kind=kind)
    objects = all_objects(manifests)
    assert len(objects) > 10
    problems = {f"{o['kind']}/{o['metadata']['name']}": schemas.errors(o) for o in objects}
    assert {k: v for k, v in problems.items() if v} == {}
    kinds = {o["kind"] for o in objects}
    if kind == "DeploymentConfig":
        assert "DeploymentConfig" in kinds and "Deployment" not in kinds
    else:
        assert "Deployment" in kinds and "DeploymentConfig" not in kinds
    assert "StatefulSet" in kinds  # workers are StatefulSets in both modes
    names = [ref(o) for o in objects]
    assert len(names) == len(set(names)), "an object is rendered twice"
    for o in objects:
        labels = o["metadata"]["labels"]
        assert labels["app.kubernetes.io/instance"] == f"{service}-{deployment}"
        assert labels["app.kubernetes.io/managed-by"] == "packit-deployment"


def test_broken_manifests_fail_validation(renderer, schemas, tmp_path):
    objects = all_objects(renderer.render("packit", "stg"))
    deployment = next(o for o in objects if o["kind"] == "Deployment")
    route = next(o for o in objects if o["kind"] == "Route")
    assert schemas.errors(deployment) == [] and schemas.errors(route) == []

    typo = json.loads(json.dumps(deployment))
    typo["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = "Always"
    assert any("imagePullPolicyy" in e for e in schemas.errors(typo))

    wrong_type = json.loads(json.dumps(deployment))
    wrong_type["spec"]["replicas"] = "two"
    assert any("spec.replicas" in e for e in schemas.errors(wrong_type))

    bad_enum = json.loads(json.dumps(route))
    bad_enum["spec"]["tls"]["termination"] = "terminate"
    assert any("spec.tls.termination" in e for e in schemas.errors(bad_enum))

    missing = json.loads(json.dumps(route))
    del missing["spec"]["to"]
    assert any("'to' is a required property" in e for e in schemas.errors(missing))

    bad_dc = json.loads(json.dumps(next(o for o in all_objects(renderer.render("packit", "stg", workload_kind="DeploymentConfig")) if o["kind"] == "DeploymentConfig")))
    bad_dc["spec"]["template"]["spec"]["containers"][0]["portz"] = []
    assert any("portz" in e for e in schemas.errors(bad_dc))

    # The command line tool fails on the same file and names the problem.
    (tmp_path / "bad.yml").write_text(yaml.safe_dump_all([deployment, typo]))
    assert validate_main([str(tmp_path / "bad.yml")]) == 1
    (tmp_path / "bad.yml").write_text(yaml.safe_dump_all([deployment]))
    assert validate_main([str(tmp_path / "bad.yml")]) == 0


@pytest.mark.parametrize("service", SERVICES)
def test_scheduled_import_everywhere_but_prod(renderer, service):
    for deployment in DEPLOYMENTS:
        streams = [o for o in all_objects(renderer.render(service, deployment)) if o["kind"] == "ImageStream"]
        assert streams
        for stream in streams:
            (tag,) = stream["spec"]["tags"]
            assert tag["name"] == deployment
            assert tag["importPolicy"]["scheduled"] is (deployment != "prod"), stream["metadata"]["name"]


@pytest.mark.parametrize(("service", "deployment", "kind"), [("packit", "stg", "Deployment"), ("packit", "stg", "DeploymentConfig"), ("stream", "prod", "Deployment")])
def test_each_workload_follows_its_own_stream_tag(renderer, service, deployment, kind):
    objects = all_objects(renderer.render(service, deployment, workload_kind=kind))
    streams = {o["metadata"]["name"]: o for o in objects if o["kind"] == "ImageStream"}
    workloads = [o for o in objects if o["kind"] in WORKLOADS + ("CronJob",)]
    assert workloads
    for w in workloads:
        pod_template = w["spec"]["jobTemplate"]["spec"]["template"] if w["kind"] == "CronJob" else w["spec"]["template"]
        containers = {c["name"]: c for c in pod_template["spec"]["containers"]}
        if w["kind"] == "DeploymentConfig":
            triggers = [t["imageChangeParams"] for t in w["spec"]["triggers"] if t["type"] == "ImageChange"]
            assert {"type": "ConfigChange"} in w["spec"]["triggers"]
            pairs = [(t["from"]["name"], name) for t in triggers for name in t["containerNames"]]
        else:
            annotation = json.loads(w["metadata"]["annotations"]["image.openshift.io/triggers"])
            pairs = []
            for trigger in annotation:
                path = trigger["fieldPath"]
                prefix = "spec.jobTemplate.spec.template" if w["kind"] == "CronJob" else "spec.template"
                assert path.startswith(prefix + '.spec.containers[?(@.name=="') and path.endswith('")].image')
                pairs.append((trigger["from"]["name"], path.split('"')[1]))
        assert pairs, w["metadata"]["name"]
        for stream_tag, container in pairs:
            stream, tag = stream_tag.split(":")
            assert tag == deployment
            assert container in containers, f"{w['metadata']['name']}: trigger names missing container {container}"
            assert stream in streams, f"{w['metadata']['name']}: no ImageStream {stream}"
            # The container runs what the stream imports.
            assert containers[container]["image"] == streams[stream]["spec"]["tags"][0]["from"]["name"]


def _env(container: dict) -> dict:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}


def test_worker_pools(renderer):
    one = [o for o in all_objects(renderer.render("packit", "dev")) if o["kind"] == "StatefulSet"]
    assert [o["metadata"]["name"] for o in one] == ["packit-worker"]
    env = _env(one[0]["spec"]["template"]["spec"]["containers"][0])
    assert env["QUEUES"] == "short-running,long-running,rate-limited"

    split = {o["metadata"]["name"]: o for o in all_objects(renderer.render("packit", "prod")) if o["kind"] == "StatefulSet"}
    assert sorted(split) == ["packit-worker-long-running", "packit-worker-short-running"]
    prod_vars = yaml.safe_load((REPO / "vars/packit/prod_template.yml").read_text())
    for pool in ("short-running", "long-running"):
        cfg = prod_vars["worker_" + pool.replace("-", "_")]
        sts = split[f"packit-worker-{pool}"]
        container = sts["spec"]["template"]["spec"]["containers"][0]
        assert sts["spec"]["replicas"] == cfg["replicas"]
        assert container["resources"]["limits"]["memory"] == cfg["memory_limit"]
        assert container["resources"]["requests"]["memory"] == cfg["memory_request"]
        assert _env(container)["QUEUES"] == ",".join(cfg["queues"])
        assert sts["spec"]["template"]["metadata"]["labels"]["packit.dev/worker-pool"] == pool

    custom = {"replicas": 7, "memory_request": "100Mi", "memory_limit": "3Gi", "concurrency": 3, "queues": ["long-running", "extra"]}
    sts = next(o for o in all_objects(renderer.render("packit", "stg", worker_long_running=custom)) if o["kind"] == "StatefulSet" and o["metadata"]["name"] == "packit-worker-long-running")
    assert sts["spec"]["replicas"] == 7
    assert _env(sts["spec"]["template"]["spec"]["containers"][0])["QUEUES"] == "long-running,extra"


def test_repository_cache_follows_its_switch_one_claim_per_long_running_pod(renderer):
    """run_worker.sh names the sandbox cache sandcastle-repository-cache-<pod> for every pod
    that serves the long-running queue; those pods also keep their own cache claim."""
    def claims(manifests):
        return {o["metadata"]["name"]: [c["metadata"]["name"] for c in o["spec"].get("volumeClaimTemplates", [])]
                for o in all_objects(manifests) if o["kind"] == "StatefulSet"}

    def sandbox_claims(manifests):
        return sorted(o["metadata"]["name"] for o in all_objects(manifests)
                      if o["kind"] == "PersistentVolumeClaim" and o["metadata"]["namespace"].endswith("-sandbox"))

    dev = renderer.render("packit", "dev")
    assert claims(dev) == {"packit-worker": ["packit-worker-repository-cache"]}
    assert sandbox_claims(dev) == ["sandcastle-repository-cache-packit-worker-0"]
    assert all(c["spec"]["accessModes"] == ["ReadWriteOnce"] for c in all_objects(dev) if c["kind"] == "PersistentVolumeClaim")
    assert claims(renderer.render("packit", "dev", with_repository_cache=False)) == {"packit-worker": []}

    long_running = {"replicas": 3, "memory_request": "1Gi", "memory_limit": "2Gi", "concurrency": 2,
                    "queues": ["long-running", "rate-limited"]}
    prod = renderer.render("packit", "prod", with_repository_cache=True, worker_long_running=long_running)
    assert claims(prod) == {"packit-worker-short-running": [], "packit-worker-long-running": ["packit-worker-repository-cache"]}
    assert sandbox_claims(prod) == [f"sandcastle-repository-cache-packit-worker-long-running-{i}" for i in range(3)]


@pytest.mark.parametrize(("service", "deployment", "hosts"), [
    # The dashboard image answers only dashboard.localhost when DEPLOYMENT=dev (contracts/dashboard.yml).
    ("packit", "dev", {"packit-service": "dev.packit.dev", "dashboard": "dashboard.localhost", "pushgateway-nginx": "workers.dev.packit.dev"}),
    ("packit", "stg", {"packit-service": "stg.packit.dev", "dashboard": "dashboard.stg.packit.dev", "pushgateway-nginx": "workers.stg.packit.dev"}),
    ("packit", "prod", {"packit-service": "prod.packit.dev", "dashboard": "dashboard.packit.dev", "pushgateway-nginx": "workers.packit.dev"}),
    ("stream", "stg", {"packit-service": "stg.stream.packit.dev"}),
    ("stream", "prod", {"packit-service": "prod.stream.packit.dev"}),
])
def test_host_names(renderer, service, deployment, hosts):
    routes = {o["metadata"]["name"]: o["spec"] for o in all_objects(renderer.render(service, deployment)) if o["kind"] == "Route"}
    assert {n: r["host"] for n, r in routes.items()} == hosts
    for route in routes.values():
        # the pods serve TLS with the deployment's certificate; plain HTTP is redirected
        assert route["tls"] == {"termination": "passthrough", "insecureEdgeTerminationPolicy": "Redirect"}
        assert "path" not in route  # a passthrough Route cannot route by path: nginx serves /metrics only


def test_stream_differs_where_it_should(renderer):
    packit = all_objects(renderer.render("packit", "stg"))
    stream = all_objects(renderer.render("stream", "stg"))
    def worker_env(objects):
        sts = next(o for o in objects if o["kind"] == "StatefulSet")
        c = sts["spec"]["template"]["spec"]["containers"][0]
        return c["image"], _env(c)
    p_image, p_env = worker_env(packit)
    s_image, s_env = worker_env(stream)
    assert p_image == "quay.io/packit/packit-worker:stg" and s_image == "quay.io/packit/hardly:stg"
    assert p_env["APP"] == "packit_service.worker.tasks" and s_env["APP"] == "hardly.tasks"
    assert p_env["DISTGIT_URL"] == "https://src.fedoraproject.org/" and s_env["DISTGIT_URL"] == "https://gitlab.com/"
    assert s_env["DISTGIT_NAMESPACE"] == "packit-service/rpms"  # staging GitLab namespace
    assert s_env["CELERY_RETRY_LIMIT"] == "0"
    assert all(o["metadata"]["namespace"] == "stream-stg" for o in stream if o["metadata"].get("namespace") and o["kind"] != "RoleBinding")
    stream_components = {o["metadata"]["labels"]["app.kubernetes.io/component"] for o in stream}
    # as upstream: Stream runs no beat and no Fedora messaging consumer either
    assert not stream_components & {"dashboard", "pushgateway", "sandcastle", "flower", "redis-commander",
                                    "packit-service-beat", "packit-service-fedmsg"}


def test_public_metrics_nginx_config_is_the_tested_template(renderer):
    """The ConfigMap carries openshift/pushgateway-nginx.conf.j2 as rendered (its behaviour
    is proven with real nginx in test_pushgateway_nginx.py): GET/HEAD of /metrics only."""
    objects = all_objects(renderer.render("packit", "prod"))
    conf = next(o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "pushgateway-nginx")["data"]["nginx.conf"]
    assert "location = /metrics" in conf
    assert "GET|HEAD" in conf and "return 405" in conf
    assert "proxy_pass http://pushgateway/metrics" in conf
    nginx = next(o for o in objects if o["metadata"]["name"] == "pushgateway-nginx" and o["kind"] == "Deployment")
    ports = [p["containerPort"] for p in nginx["spec"]["template"]["spec"]["containers"][0]["ports"]]
    assert f"listen {ports[0]} ssl;" in conf
    assert "ssl_certificate /secrets/fullchain.pem;" in conf


def test_every_switch_removes_exactly_its_component(renderer):
    on = {"with_tokman": True, "with_repository_cache_filler": True, "with_import_images_cron": True,
          "with_fluentd_sidecar": True}
    switched = [c for c in component_names() if c != "secrets"]
    variants = []
    for component in switched:
        overrides = {**on, switch(component): False}
        if component == "repository-cache":
            overrides["with_repository_cache_filler"] = False
        if component == "packit-worker":  # beat and the import job run the worker image
            overrides["with_packit_service_beat"] = False
            overrides["with_import_images_cron"] = False
        variants.append(("packit", "dev", overrides))
    base, *offs = renderer.render_many([("packit", "dev", on), *variants])
    secrets_table = yaml.safe_load((REPO / "roles/model/vars/main.yml").read_text())["model_secrets"]
    base_refs = {c: {ref(o) for o in objs} for c, objs in base.items()}
    assert sorted(base) == sorted(component_names())
    for component, off in zip(switched, offs):
        assert component not in off, component
        # Only the Secrets nobody enabled uses any more may go with it.
        orphaned = {s["name"] for s in secrets_table if s["component"] == "secrets"
                    and all(u == component or u not in off for u in s["used_by"])}
        for other, refs in base_refs.items():
            if other == component or other not in off:
                continue
            expected = {r for r in refs if not (other == "secrets" and r[3] in orphaned)}
            assert {ref(o) for o in off[other]} == expected, f"with {switch(component)}=false changed {other}"


def test_the_registry_names_the_workloads_and_images_each_component_renders(renderer):
    """Every rendered object carries its component's label; its workloads match the record's
    names and its ImageStreams are the record's images; every name and image of a record
    renders in one of these sets (all switches on; prod has the worker pools; Valkey)."""
    records = {r["tag"]: r for r in components.registry()}
    on = {"with_tokman": True, "with_repository_cache": True, "with_repository_cache_filler": True,
          "with_import_images_cron": True, "with_redis_commander": True, "with_flower": True,
          "with_fluentd_sidecar": True}
    seen: dict[str, set[str]] = {tag: set() for tag in records}
    sets = [("packit", "dev", on), ("packit", "prod", on), ("stream", "prod", on), ("packit", "dev", dict(on, kv_database="valkey")),
            ("stream", "dev", dict(on, kv_database="redict"))]
    for rendered in renderer.render_many(sets):
        for tag, objects in rendered.items():
            record = records[tag]
            for o in objects:
                assert o["metadata"]["labels"]["app.kubernetes.io/component"] == tag, ref(o)
                name = o["metadata"]["name"]
                if o["kind"] in (*WORKLOADS, "CronJob", "Pod"):
                    pattern = next((p for p in record["workloads"] if fnmatch.fnmatchcase(name, p)), None)
                    assert pattern, f"{tag}: {o['kind']} {name} is not in its record's workloads {record['workloads']}"
                    seen[tag].add(pattern)
                if o["kind"] == "ImageStream":
                    assert name in record["images"], f"{tag}: ImageStream {name} is not in its record's images"
                    seen[tag].add(name)
    assert {tag: sorted(set(r["workloads"]) | set(r["images"])) for tag, r in records.items()} == \
        {tag: sorted(names) for tag, names in seen.items()}


def test_make_tags_lists_every_component_and_nothing_else():
    result = run_make("tags")
    assert result.returncode == 0, result.stderr
    tags = result.stdout.split()
    templates = sorted(p.name[: -len(".yml.j2")] for p in (REPO / "openshift").glob("*.yml.j2"))
    assert sorted(tags) == templates == sorted(component_names())
    defaults = {}
    for f in (REPO / "roles/model/defaults/main").glob("*.yml"):
        defaults.update(yaml.safe_load(f.read_text()))
    assert sorted(k for k in defaults if k.startswith("with_")) == sorted(switch(t) for t in tags)


def test_tags_render_only_those_components(tmp_path, secrets_dir):
    out = tmp_path / "out"
    result = run_make("render", SERVICE="packit", DEPLOYMENT="dev", TAGS="redis", OUT=str(out), SECRETS_DIR=str(secrets_dir),
                      EXTRA_ARGS=f"-e config_vars_file={REPO}/vars/packit/dev_template.yml")
    assert result.returncode == 0, result.stdout[-3000:]
    manifests = read_manifests(out)
    assert list(manifests) == ["redis"]
    assert {o["metadata"]["labels"]["app.kubernetes.io/component"] for o in manifests["redis"]} == {"redis"}


def test_secret_values_are_redacted_unless_asked_for(renderer, tmp_path, secrets_dir):
    redacted = renderer.render("packit", "dev")
    secrets = [o for o in all_objects(redacted) if o["kind"] == "Secret"]
    assert secrets
    rendered_text = "\n".join((p.read_text()) for p in Path(renderer.workdir).rglob("*.yml"))
    for value in ("s3cret-pg", "s3cret-rc", "s3cret-flower"):
        assert value not in rendered_text
        assert base64.b64encode(value.encode()).decode() not in rendered_text
    for s in secrets:
        assert set(base64.b64decode(v).decode() for v in s["data"].values()) == {"<redacted>"}

    shown = tmp_path / "shown"
    result = run_playbook("deploy.yml", renderer.extra_vars("packit", "dev", shown, render_show_secrets=True))
    assert result.returncode == 0, result.stdout[-2000:]
    assert "s3cret" not in result.stdout  # no_log keeps them out of the log
    assert shown.stat().st_mode & 0o777 == 0o700
    for f in shown.iterdir():
        assert f.stat().st_mode & 0o777 == 0o600, f
    pg = next(o for o in all_objects(read_manifests(shown)) if o["kind"] == "Secret" and o["metadata"]["name"] == "postgres-secret")
    assert base64.b64decode(pg["data"]["database-password"]).decode() == "s3cret-pg"
    tls = next(o for o in all_objects(read_manifests(shown)) if o["kind"] == "Secret" and o["metadata"]["name"] == "packit-secrets")
    assert base64.b64decode(tls["data"]["fullchain.pem"]).decode() == SECRET_FILES["fullchain.pem"]


def test_the_variables_page_documents_every_variable():
    readme = (REPO / "docs" / "variables.md").read_text()
    files = [*sorted((REPO / "roles/model/defaults/main").glob("*.yml")), REPO / "roles/config/defaults/main/config.yml",
             REPO / "roles/deploy/defaults/main.yml"]
    missing = [k for f in files for k in yaml.safe_load(f.read_text()) if f"`{k}`" not in readme]
    assert missing == []


def test_render_all_writes_each_set_as_make_render_does(renderer, tmp_path, secrets_dir):
    """make render-all renders the six service x deployment sets in one run (inventory/render-all.yml,
    a host per set): each set's files equal those of its own make render; a set without its
    secret files fails the run, naming the file, and the others are still written."""
    root = tmp_path / "secrets"
    for service in SERVICES:
        (root / service).mkdir(parents=True)
        for deployment in DEPLOYMENTS:
            (root / service / deployment).symlink_to(secrets_dir)
    out = tmp_path / "out"
    result = run_make("render-all", RENDER_ALL_DIR=str(out), SECRETS_ROOT=str(root))
    assert result.returncode == 0, failure_line(result)
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{s}-{d}" for s in SERVICES for d in DEPLOYMENTS)
    for service in SERVICES:
        for deployment in DEPLOYMENTS:
            assert read_manifests(out / f"{service}-{deployment}") == renderer.render(service, deployment), \
                f"{service}-{deployment}"
    (root / "stream" / "prod").unlink()
    partial = tmp_path / "partial"
    result = run_make("render-all", RENDER_ALL_DIR=str(partial), SECRETS_ROOT=str(root))
    assert result.returncode != 0
    assert f"{root}/stream/prod/" in failure_line(result) and "is missing" in failure_line(result)
    assert not (partial / "stream-prod").exists()
    assert (partial / "stream-stg").is_dir() and (partial / "packit-prod").is_dir()


def _published() -> list[tuple[list[str], str]]:
    """(the image names, their repository) of each row of the README's table of published
    images; `<name>` in a repository stands for one of the row's names, `<version>` for
    PostgreSQL's version."""
    import re

    text = (REPO / "README.md").read_text()
    table = text[text.index("| image | repository"):].split("\n\n", 1)[0]
    rows = [row.split("|") for row in table.splitlines()[2:]]
    return [(re.findall(r"`([a-z-]+)`", row[1]), row[2].strip().strip("`")) for row in rows]


def test_every_pod_runs_a_published_image_through_its_stream(renderer):
    """What runs is published: every container's image is the source of one of the rendered
    ImageStreams (the trigger puts the stream's image there) or itself in the README's list of
    published images (the cache filler's pods in the sandbox namespace pull directly), and
    every source is a repository of that list."""
    import re

    on = {"with_tokman": True, "with_flower": True, "with_redis_commander": True, "with_import_images_cron": True,
          "with_repository_cache": True, "with_repository_cache_filler": True, "with_fluentd_sidecar": True}
    patterns = [re.compile("^" + re.escape(repo).replace(re.escape("<name>"), "(" + "|".join(names) + ")")
                           .replace(re.escape("<version>"), "[0-9]+") + ":[^/]+$") for names, repo in _published()]
    assert not any(p.match("quay.io/packit/deployment-jobs:latest") for p in patterns)  # built nowhere
    sets = [(s, d, dict(on, kv_database=kv)) for s in SERVICES for d in DEPLOYMENTS for kv in ("redis", "valkey", "redict")]
    for (service, deployment, _), rendered in zip(sets, renderer.render_many(sets)):
        objects = all_objects(rendered)
        sources = {o["spec"]["tags"][0]["from"]["name"] for o in objects if o["kind"] == "ImageStream"}
        assert [s for s in sources if not any(p.match(s) for p in patterns)] == [], (service, deployment)
        for o in objects:
            spec = o.get("spec") or {}
            pod = ((spec.get("jobTemplate") or {}).get("spec", spec).get("template") or {}).get("spec") or spec
            for c in (pod.get("containers") or []) + (pod.get("initContainers") or []):
                published = c["image"] in sources or any(p.match(c["image"]) for p in patterns)
                assert published, (service, deployment, ref(o), c["name"], c["image"])

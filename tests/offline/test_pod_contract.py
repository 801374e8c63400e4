"""Every rendered pod honours its image's contract (contracts/*.yml, scripts/pod_contract.py).

Each service x deployment x workload kind is rendered through the real role with the secret
files that `make generate-local-secrets` writes (so the configs it generates must name the
paths the pods mount), every optional component switched on; every container is laid out as
its process sees it and checked item by item. Then single items are broken, one at a time,
and the check must name each; and the pods as the templates rendered them before the
contracts existed must still be refused for the reasons the images would stop on.
"""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path

import pytest

from tests.support.deploytools import DEPLOYMENTS, KINDS, REPO, SERVICES, Renderer, all_objects, run_make, run_playbook, template_vars
from scripts.pod_contract import (
    Context,
    InputError,
    check_objects,
    container_views,
    contract_for,
    load_contracts,
    main as contract_main,
)
from scripts.secret_files import secret_files

COMBINATIONS = [(s, d, k) for s in SERVICES for d in DEPLOYMENTS for k in KINDS]
# Every component an operator may switch on, so that every image's contract is exercised.
ALL_ON = {
    "with_tokman": True,
    "with_flower": True,
    "with_redis_commander": True,
    "with_repository_cache": True,
    "with_repository_cache_filler": True,
    "with_import_images_cron": True,
    "with_fluentd_sidecar": True,
}
PRE_CONTRACT = REPO / "tests" / "support" / "fixtures" / "pre-contract-packit-prod.json"


@pytest.fixture(scope="module")
def contracts() -> dict[str, dict]:
    return load_contracts()


@pytest.fixture(scope="module")
def generated_secrets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """secrets/<service>/dev as make generate-local-secrets fills it, per service."""
    dirs = {}
    for service in SERVICES:
        path = tmp_path_factory.mktemp(f"secrets-{service}")
        result = run_playbook("generate-local-secrets.yml", {"service": service, "secrets_dir": str(path)})
        assert result.returncode == 0, result.stdout[-2000:]
        dirs[service] = path
    return dirs


@pytest.fixture(scope="module")
def contract_render(tmp_path_factory, generated_secrets):
    renderers = {s: Renderer(tmp_path_factory.mktemp(f"contract-{s}"), d) for s, d in generated_secrets.items()}

    def settings(kind: str, **overrides) -> dict:
        return {**ALL_ON, "workload_kind": kind, "render_show_secrets": True, **overrides}

    # Every combination of a service in one run (the tests below take them from the cache).
    for service, renderer in renderers.items():
        renderer.render_many([(s, d, settings(k)) for s, d, k in COMBINATIONS if s == service])

    def render(service: str, deployment: str, kind: str, **overrides) -> dict[str, list[dict]]:
        return renderers[service].render(service, deployment, **settings(kind, **overrides))

    return render


def check(manifests: dict[str, list[dict]], contracts, service: str, deployment: str) -> list[str]:
    return check_objects(all_objects(manifests), contracts, Context(service, deployment, set(manifests)))


@pytest.mark.parametrize(("service", "deployment", "kind"), COMBINATIONS)
def test_every_container_keeps_its_image_contract(contract_render, contracts, service, deployment, kind):
    manifests = contract_render(service, deployment, kind)
    views = container_views(all_objects(manifests))
    assert len(views) >= 8
    assert check(manifests, contracts, service, deployment) == []
    # every container found its contract, and the images the service needs are all among them
    images = {contract_for(contracts, v.container, service)["image"] for v in views}
    expected = {"packit-service", "postgres", "import-images", "tokman", "flower", "redis-commander"}
    expected |= {"hardly"} if service == "stream" else {"packit-worker", "dashboard", "pushgateway", "nginx", "sandcastle"}
    assert expected | {"fluentd"} <= images


@pytest.mark.parametrize("kv_database", ["valkey", "redict"])
def test_the_redis_like_brokers_keep_their_contracts(contract_render, contracts, kv_database):
    manifests = contract_render("stream", "prod", "Deployment", kv_database=kv_database)
    assert check(manifests, contracts, "stream", "prod") == []
    views = [v for v in container_views(all_objects(manifests)) if v.container == kv_database]
    assert [contract_for(contracts, v.container, "stream")["image"] for v in views] == [kv_database]


def test_the_generated_secrets_are_every_file_the_table_lists(generated_secrets):
    for service, path in generated_secrets.items():
        assert {f.name for f in secret_files(service)} <= {p.name for p in path.iterdir()}


def test_the_test_placeholders_cover_every_secret_file():
    from tests.support.deploytools import SECRET_FILES

    listed = {f.name for service in SERVICES for f in secret_files(service)}
    assert listed == set(SECRET_FILES)


# --- breaking one item at a time --------------------------------------------------------

def _container(objects: list[dict], workload: str, container: str) -> tuple[dict, dict]:
    for obj in objects:
        if obj["metadata"]["name"] != workload or obj["kind"] not in ("Deployment", "StatefulSet", "CronJob", "DeploymentConfig", "Pod"):
            continue
        spec = obj["spec"]
        pod = (spec.get("jobTemplate", {}).get("spec", {}).get("template") or spec.get("template") or {}).get("spec") or spec
        for c in pod["containers"]:
            if c["name"] == container:
                return pod, c
    raise AssertionError(f"{workload}/{container} not rendered")


def _drop_env(name):
    def apply(pod, c, objects):
        before = len(c.get("env") or [])
        c["env"] = [e for e in c.get("env") or [] if e["name"] != name]
        assert len(c["env"]) == before - 1
    return apply


def _drop_mount(path):
    def apply(pod, c, objects):
        mounts = [m for m in c["volumeMounts"] if path.startswith(m["mountPath"].rstrip("/") + "/") or path == m["mountPath"]]
        assert mounts
        c["volumeMounts"] = [m for m in c["volumeMounts"] if m not in mounts]
    return apply


def _drop_secret_key(secret, key):
    def apply(pod, c, objects):
        obj = next(o for o in objects if o["kind"] == "Secret" and o["metadata"]["name"] == secret)
        del obj["data"][key]
        for v in pod.get("volumes") or []:   # the pod mounts all keys; a missing key is a missing file
            if v.get("secret", {}).get("secretName") == secret and "items" in v["secret"]:
                v["secret"]["items"] = [i for i in v["secret"]["items"] if i["key"] != key]
    return apply


def _drop_projected(volume, config_map):
    def apply(pod, c, objects):
        v = next(v for v in pod["volumes"] if v["name"] == volume)
        sources = v["projected"]["sources"]
        v["projected"]["sources"] = [s for s in sources if s.get("configMap", {}).get("name") != config_map]
        assert len(v["projected"]["sources"]) == len(sources) - 1
    return apply


def _set(field, value):
    def apply(pod, c, objects):
        c[field] = value
    return apply


def _drop(field):
    def apply(pod, c, objects):
        assert field in c
        del c[field]
    return apply


def _drop_port(port):
    def apply(pod, c, objects):
        c["ports"] = [p for p in c["ports"] if p["containerPort"] != port]
    return apply


def _set_env(name, value):
    def apply(pod, c, objects):
        entry = next(e for e in c["env"] if e["name"] == name)
        entry.pop("valueFrom", None)
        entry["value"] = value
    return apply


def _config(secret, key, edit):
    def apply(pod, c, objects):
        obj = next(o for o in objects if o["kind"] == "Secret" and o["metadata"]["name"] == secret)
        text = base64.b64decode(obj["data"][key]).decode()
        obj["data"][key] = base64.b64encode(edit(text).encode()).decode()
    return apply


# (service, workload, container, how to break it, what the message must say)
BREAKS = [
    ("packit", "packit-worker-long-running", "packit-worker", _drop_env("APP"), "environment variable APP is not set"),
    ("packit", "packit-worker-long-running", "packit-worker", _set_env("APP", "hardly.tasks"), "APP=hardly.tasks is not one of"),
    ("packit", "packit-worker-long-running", "packit-worker", _drop_env("SENTRY_SECRET"), "environment variable SENTRY_SECRET is not set"),
    ("packit", "packit-worker-long-running", "packit-worker", _set_env("SENTRY_SECRET", "https://k@sentry.example/1\n"), "SENTRY_SECRET has a line break"),
    ("packit", "packit-worker-long-running", "packit-worker", _drop_env("POSTGRESQL_PASSWORD"), "POSTGRESQL_PASSWORD is not set"),
    ("packit", "packit-worker-long-running", "packit-worker", _drop_mount("/packit-ssh/id_ed25519"), "file /packit-ssh/id_ed25519* "),
    ("packit", "packit-worker-long-running", "packit-worker", _drop_secret_key("packit-config", "copr"), "file /home/packit/.config/copr "),
    ("packit", "packit-worker-long-running", "packit-worker", _drop_secret_key("packit-secrets", "fedora.keytab"), "file /secrets/fedora.keytab "),
    ("packit", "packit-worker-long-running", "packit-worker", _drop("livenessProbe"), "liveness probe (exec celery -A $APP status) is missing"),
    ("packit", "packit-worker-long-running", "packit-worker", _drop_mount("/repository-cache"), "/repository-cache is not on a writable persistent volume claim"),
    ("packit", "packit-worker-long-running", "packit-worker", _set("command", ["/usr/bin/celery"]), "runs ['/usr/bin/celery'], the image's process is ['/usr/bin/run_worker.sh']"),
    ("packit", "packit-service", "packit-service", _drop_mount("/secrets/fullchain.pem"), "file /secrets/fullchain.pem "),
    ("packit", "packit-service", "packit-service", _drop_port(8443), "port 8443 is not declared"),
    ("packit", "packit-service", "packit-service", _config("packit-config", "packit-service.yaml",
                                                           lambda t: t.replace("/gh-secrets/private-key.pem", "/secrets/private-key.pem")),
     "names authentication.github.com.github_app_private_key_path: /secrets/private-key.pem, which the pod does not mount"),
    ("packit", "packit-service-beat", "packit-service-beat", _drop_mount("/packit-ssh/id_ed25519"), "file /packit-ssh/id_ed25519* "),
    ("packit", "packit-service-fedmsg", "packit-service-fedmsg", _config("packit-config", "fedora.toml",
                                                                         lambda t: t.replace("/etc/fedora-messaging/cacert.pem", "/secrets/fedora-ca.pem")),
     "names tls.ca_cert: /secrets/fedora-ca.pem, which the pod does not mount"),
    ("packit", "packit-service-fedmsg", "packit-service-fedmsg", _drop_env("FEDORA_MESSAGING_CONF"), "FEDORA_MESSAGING_CONF is not set"),
    ("packit", "packit-service-centosmsg", "packit-service-centosmsg", _set_env("MQTT_HOST", "mqtt.stg.centos.org"),
     "MQTT_HOST=mqtt.stg.centos.org is not one of mqtt.git.centos.org"),
    ("packit", "packit-service-centosmsg", "packit-service-centosmsg", _drop_mount("/secrets/centos.cert"), "file /secrets/centos.cert "),
    ("packit", "packit-service-centosmsg", "packit-service-centosmsg", _drop_env("CELERY_DEFAULT_QUEUE"), "CELERY_DEFAULT_QUEUE is not set"),
    ("packit", "dashboard", "dashboard", _drop_mount("/secrets/privkey.pem"), "file /secrets/privkey.pem "),
    ("packit", "valkey", "valkey", _drop_mount("/data"), "/data is not on a writable persistent volume claim"),
    ("packit", "valkey", "valkey", _set("args", []), "argument /etc/redislike/redis.conf is missing"),
    ("packit", "postgres", "postgres", _drop("livenessProbe"), "liveness probe (exec check-container) is missing"),
    ("packit", "postgres", "postgres", _drop_env("POSTGRESQL_DATABASE"), "POSTGRESQL_DATABASE is not set"),
    ("packit", "postgres", "postgres", _drop_env("PG_OOM_ADJUST_FILE"), "PG_OOM_ADJUST_FILE is not set"),
    ("packit", "postgres", "postgres", _drop_mount("/opt/app-root/src/postgresql-cfg/packit.conf"),
     "file /opt/app-root/src/postgresql-cfg/*.conf (Secret key postgres-config/packit.conf) is not mounted"),
    ("packit", "postgres", "postgres", _drop_mount("/dev/shm"), "/dev/shm"),
    ("packit", "packit-service", "packit-service", _drop_mount("/etc/rpkg/centpkg-sig.conf"), "file /etc/rpkg/centpkg-sig.conf "),
    ("packit", "packit-worker-long-running", "packit-worker", _drop_mount("/etc/rpkg/centpkg-sig.conf"),
     "file /etc/rpkg/centpkg-sig.conf "),
    ("packit", "packit-worker-long-running", "packit-worker", _drop_projected("packit-config", "osh-config"),
     "file /home/packit/.config/osh/client.conf "),
    ("packit", "packit-worker-long-running", "packit-worker", _drop_env("PUSHGATEWAY_ADDRESS"),
     "environment variable PUSHGATEWAY_ADDRESS is not set"),
    ("stream", "packit-worker-long-running", "packit-worker", _drop_env("PUSHGATEWAY_ADDRESS"),
     "environment variable PUSHGATEWAY_ADDRESS is not set"),
    ("packit", "flower", "flower", _drop_env("FLOWER_BASIC_AUTH"), "FLOWER_BASIC_AUTH is not set"),
    ("packit", "redis-commander", "redis-commander", _drop_env("HTTP_PASSWORD"), "HTTP_PASSWORD is not set"),
    ("packit", "pushgateway", "pushgateway", _set("args", []), "argument --apiListen=:9091 is missing"),
    ("packit", "pushgateway-nginx", "nginx", _set("command", ["nginx", "-c", "/etc/nginx-pushgateway/nginx.conf"]), "without 'daemon off;'"),
    ("packit", "tokman", "tokman", _drop_env("BIND_ADDR"), "BIND_ADDR is not set"),
    ("packit", "tokman", "tokman", _drop_mount("/access_tokens"), "/access_tokens"),
    ("packit", "import-images", "import-images", _drop_env("SERVICE"), "environment variable SERVICE is not set"),
    ("stream", "packit-worker-long-running", "packit-worker", _set_env("DISTGIT_NAMESPACE", "rpms"), "DISTGIT_NAMESPACE=rpms is not one of redhat/centos-stream/rpms"),
    ("stream", "packit-worker-long-running", "packit-worker", _set_env("PROJECT", "stream-dev"), "PROJECT=stream-dev is not one of stream-prod"),
]


@pytest.mark.parametrize(("service", "workload", "container", "breaker", "message"), BREAKS,
                         ids=[f"{b[1]}-{b[4][:40]}" for b in BREAKS])
def test_a_pod_that_breaks_one_item_is_refused_by_name(contract_render, contracts, service, workload,
                                                       container, breaker, message):
    manifests = copy.deepcopy(contract_render(service, "prod", "Deployment"))
    objects = all_objects(manifests)
    pod, c = _container(objects, workload, container)
    breaker(pod, c, objects)
    problems = check_objects(objects, contracts, Context(service, "prod", set(manifests)))
    assert any(message in p and f"/{workload} container {container}:" in p for p in problems), problems


def test_a_service_pointing_at_an_undeclared_port_is_refused(contract_render, contracts):
    manifests = copy.deepcopy(contract_render("packit", "prod", "Deployment"))
    objects = all_objects(manifests)
    service = next(o for o in objects if o["kind"] == "Service" and o["metadata"]["name"] == "packit-service")
    service["spec"]["ports"][0]["targetPort"] = 8080
    problems = check_objects(objects, contracts, Context("packit", "prod", set(manifests)))
    assert problems == ["Service/packit-service: targetPort 8080 is a port no selected container declares"]


def test_a_mounted_secret_that_is_not_rendered_is_refused(contract_render, contracts):
    manifests = copy.deepcopy(contract_render("packit", "prod", "Deployment"))
    objects = [o for o in all_objects(manifests) if not (o["kind"] == "Secret" and o["metadata"]["name"] == "packit-ssh")]
    problems = check_objects(objects, contracts, Context("packit", "prod", set(manifests)))
    assert "StatefulSet/packit-worker-long-running container packit-worker: mounts Secret packit-ssh, which is not rendered (the pod would not start)" in problems


# --- the pods before the contracts --------------------------------------------------------

def test_the_pods_rendered_before_the_contracts_are_refused(contracts):
    """The packit prod objects as commit 0a781e1 rendered them: no Packit container could start."""
    objects = json.loads(PRE_CONTRACT.read_text())["objects"]
    problems = check_objects(objects, contracts, Context("packit", "prod", {"repository-cache"}))
    expected = [
        "StatefulSet/packit-worker-short-running container packit-worker: environment variable APP is not set",
        "Deployment/packit-service-beat container packit-service-beat: environment variable APP is not set",
        "Deployment/packit-service container packit-service: file /secrets/fullchain.pem",
        "Deployment/packit-service container packit-service: file /home/packit/.config/packit-service.yaml",
        "StatefulSet/packit-worker-long-running container packit-worker: file /packit-ssh/id_ed25519*",
        "StatefulSet/packit-worker-long-running container packit-worker: environment variable SENTRY_SECRET is not set",
        "Deployment/packit-service-fedmsg container packit-service-fedmsg: file /home/packit/.config/fedora.toml",
        "Deployment/packit-service-centosmsg container packit-service-centosmsg: file /secrets/centos.cert",
        "Deployment/packit-service-centosmsg container packit-service-centosmsg: environment variable MQTT_HOST is not set",
        "Deployment/dashboard container dashboard: file /secrets/fullchain.pem",
        "Deployment/redis container redis: /var/lib/redis/data is not on a writable persistent volume claim",
        "Deployment/flower container flower: environment variable FLOWER_BASIC_AUTH is not set",
        "Deployment/tokman container tokman: environment variable BIND_ADDR is not set",
        "Deployment/pushgateway container pushgateway: argument --apiListen=:9091 is missing",
    ]
    missing = [e for e in expected if not any(p.startswith(e) for p in problems)]
    assert missing == [], "\n".join(problems)
    # every Packit container of that render breaks its contract
    packit = {"packit-service", "packit-worker", "packit-service-beat", "packit-service-fedmsg",
              "packit-service-centosmsg", "dashboard"}
    broken = {p.split(" container ")[1].split(":")[0] for p in problems if " container " in p}
    assert packit <= broken


# --- the checker itself ---------------------------------------------------------------------

def test_views_lay_out_items_subpath_projected_and_envfrom():
    """The layout rules on a hand-made pod (no role needed)."""
    def secret(name, data):
        return {"kind": "Secret", "metadata": {"name": name},
                "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}}

    objects = [
        secret("a", {"x": "1", "y": "2"}),
        {"kind": "ConfigMap", "metadata": {"name": "cm"}, "data": {"conf": "c", "K": "v"}},
        {"kind": "Deployment", "metadata": {"name": "w"}, "spec": {"template": {"spec": {
            "containers": [{
                "name": "c",
                "envFrom": [{"configMapRef": {"name": "cm"}, "prefix": "P_"}],
                "env": [{"name": "E", "valueFrom": {"secretKeyRef": {"name": "a", "key": "y"}}},
                        {"name": "F", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                        {"name": "G", "valueFrom": {"secretKeyRef": {"name": "nope", "key": "k"}}}],
                "volumeMounts": [{"name": "s", "mountPath": "/s"}, {"name": "one", "mountPath": "/etc/x.conf", "subPath": "conf"},
                                 {"name": "p", "mountPath": "/p"}, {"name": "tmp", "mountPath": "/work"}],
            }],
            "volumes": [{"name": "s", "secret": {"secretName": "a", "items": [{"key": "x", "path": "sub/x"}]}},
                        {"name": "one", "configMap": {"name": "cm"}},
                        {"name": "p", "projected": {"sources": [{"secret": {"name": "a"}}, {"configMap": {"name": "cm", "items": [{"key": "K", "path": "k"}]}}]}},
                        {"name": "tmp", "emptyDir": {}}],
        }}}},
    ]
    (view,) = container_views(objects)
    assert view.env == {"P_conf": "c", "P_K": "v", "E": "2", "F": "<fieldRef>", "G": None}
    assert view.env_errors == ["env G refers to Secret nope, which is not rendered"]
    assert view.files == {"/s/sub/x": b"1", "/etc/x.conf": b"c", "/p/x": b"1", "/p/y": b"2", "/p/k": b"v"}
    assert [(m.path, m.kind, m.writable) for m in view.mounts] == [
        ("/s", "secret", False), ("/p", "projected", False), ("/work", "emptyDir", True)]


def test_contracts_cite_their_sources(contracts):
    for image, record in contracts.items():
        assert record.get("sources"), image
        for sid, src in record["sources"].items():
            assert {"repo", "commit", "path"} <= set(src), (image, sid)
            assert len(src["commit"]) == 40 and int(src["commit"], 16) >= 0, (image, sid)


def test_a_broken_contract_file_is_refused(tmp_path):
    (tmp_path / "x.yml").write_text("image: x\nsources: {}\nenv:\n  - {name: A, source: nowhere}\n")
    with pytest.raises(InputError, match="source 'nowhere' is not listed"):
        load_contracts(tmp_path)


def test_the_command_line_refuses_redacted_secrets(renderer, capsys):
    out = Path(renderer.workdir) / "redacted"
    result = run_playbook("deploy.yml", renderer.extra_vars("packit", "dev", out))
    assert result.returncode == 0
    assert contract_main([str(out), "--service", "packit", "--deployment", "dev"]) == 2
    assert "Secret values are redacted; render with SHOW_SECRETS=1" in capsys.readouterr().err


def test_make_check_contracts_catches_a_config_naming_an_unmounted_path(generated_secrets, tmp_path):
    """The operator's own files, checked before the cluster is touched; the real-valued render
    it needs lives only in a 0700 directory under the gitignored rendered/, removed after."""
    args = {"SERVICE": "packit", "DEPLOYMENT": "dev",
            "EXTRA_ARGS": f"-e config_vars_file={template_vars('packit', 'dev')}"}
    good = run_make("check-contracts", SECRETS_DIR=str(generated_secrets["packit"]), **args)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "0 problem(s)" in good.stderr

    mine = tmp_path / "mine"
    mine.mkdir()
    for f in generated_secrets["packit"].iterdir():
        (mine / f.name).write_bytes(f.read_bytes())
    values = (mine / "values.yml").read_text().replace("/gh-secrets/private-key.pem", "/secrets/app.pem")
    (mine / "values.yml").write_text(values)
    bad = run_make("check-contracts", SECRETS_DIR=str(mine), **args)
    assert bad.returncode != 0
    assert ("StatefulSet/packit-worker container packit-worker: /home/packit/.config/packit-service.yaml names "
            "authentication.github.com.github_app_private_key_path: /secrets/app.pem, which the pod does not mount") in bad.stdout
    assert not list((REPO / "rendered").glob(".contracts-*")), "the real-valued render was left behind"


def test_a_value_from_a_secret_is_never_printed(contract_render, contracts):
    manifests = copy.deepcopy(contract_render("packit", "prod", "Deployment"))
    objects = all_objects(manifests)
    secret = next(o for o in objects if o["kind"] == "Secret" and o["metadata"]["name"] == "postgres-secret")
    secret["data"]["database-name"] = base64.b64encode(b"s3cret-name").decode()
    contract = copy.deepcopy(contracts)
    pg_env = next(e for e in contract["postgres"]["env"] if e["name"] == "POSTGRESQL_DATABASE")
    pg_env["one_of"] = ["packit"]
    problems = check_objects(objects, contract, Context("packit", "prod", set(manifests)))
    assert any("POSTGRESQL_DATABASE=<from a Secret> is not one of packit" in p for p in problems), problems
    assert not any("s3cret-name" in p for p in problems)

"""Helpers the tests share: run the real playbooks and make targets, read what they wrote."""

from __future__ import annotations

import json
import os
import contextlib
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = REPO / ".venv" / "bin"
SERVICES = ("packit", "stream")
DEPLOYMENTS = ("dev", "stg", "prod")
KINDS = ("Deployment", "DeploymentConfig")


def _keys() -> dict[str, str]:
    """Key files made at run time (none is committed): GitHub app key, SSH pair, the service's
    TLS pair (a self-signed certificate valid for 90 days), the CentOS client's certificate
    and key in one file, and the CentOS server CA."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519
    from cryptography.x509.oid import NameOID

    pem, pkcs8, none = serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()

    def certificate(key, name: str) -> str:
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = dt.datetime.now(dt.timezone.utc)
        cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
                .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
                .not_valid_after(now + dt.timedelta(days=90))
                .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
                .sign(key, hashes.SHA256()))
        return cert.public_bytes(pem).decode()

    ssh = ed25519.Ed25519PrivateKey.generate()
    tls, centos = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    return {
        "private-key.pem": ec.generate_private_key(ec.SECP256R1()).private_bytes(pem, pkcs8, none).decode(),
        "id_ed25519": ssh.private_bytes(pem, serialization.PrivateFormat.OpenSSH, none).decode(),
        "id_ed25519.pub": ssh.public_key().public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode() + " test\n",
        "privkey.pem": tls.private_bytes(pem, pkcs8, none).decode(),
        "fullchain.pem": certificate(tls, "packit.test"),
        "centos.cert": certificate(centos, "packit-test") + centos.private_bytes(pem, pkcs8, none).decode(),
        "centos-server-ca.cert": certificate(ec.generate_private_key(ec.SECP256R1()), "centos-test-ca"),
    }


# Every secret file a component may read (scripts/secret_files.py lists them from the table of
# Secrets); placeholder content except the keys, which are generated when the tests start.
# Mapping files are YAML.
SECRET_FILES: dict[str, str] = {
    # The secret values of the app configuration (config/): what each template takes.
    "values.yml": (
        "packit_service:\n"
        "  fas_password: s3cret-fas\n"
        "  webhook_secret: s3cret-webhook\n"
        "  testing_farm_secret: s3cret-tf\n"
        "  authentication:\n"
        "    github.com: {github_app_id: '1', github_app_private_key_path: /gh-secrets/private-key.pem,\n"
        "                 token: s3cret-github}\n"
        "    gitlab.com: {token: s3cret-gitlab-forge}\n"
        "developer: {fas_user: packit-test, admins: [a-developer]}\n"
        "fedora_messaging: {queue: 6f1c2b8e-3d4a-4c5b-9e7f-1a2b3c4d5e6f}\n"
        "centpkg_sig: {token: s3cret-gitlab}\n"),
    "copr": "[copr-cli]\nlogin = x\nusername = packit\ntoken = y\ncopr_url = https://copr.fedorainfracloud.org\n",
    "fedora.keytab": "",
    **_keys(),
    "sentry_key": "https://key@sentry.example/1",
    "aws.yml": "access-key-id: x\nsecret-access-key: y\n",
    "splunk.yml": "hec-host: splunk.example\nhec-port: \"8088\"\nhec-token: s3cret-hec\n",
    "postgres.yml": "database-name: packit\ndatabase-user: packit\ndatabase-password: s3cret-pg\n",
    "redis-commander.yml": "http-user: admin\nhttp-password: s3cret-rc\n",
    "flower.yml": "basic-auth: admin:s3cret-flower\n",
    "tokman-config.py": "GITHUB_APP_ID = \"1\"\n",
}


def write_secret_files(path: Path, files: dict[str, str] | None = None) -> None:
    path.mkdir(parents=True, exist_ok=True)
    for name, content in (SECRET_FILES if files is None else files).items():
        target = path / name
        target.write_text(content)
        target.chmod(0o600)


def env() -> dict[str, str]:
    result = dict(os.environ)
    result["ANSIBLE_CONFIG"] = str(REPO / "ansible.cfg")
    result["ANSIBLE_NOCOLOR"] = "1"
    result["ANSIBLE_FORCE_COLOR"] = "0"
    # The tests run from whatever checkout CI made: its remote is no business of theirs
    # (tests/offline/test_checkout.py turns the check on where it tests it).
    result["CHECK_UP_TO_DATE"] = "false"
    result["PATH"] = f"{VENV_BIN}:{result.get('PATH', '')}"
    return result


def run_playbook(playbook: str, extra_vars: dict[str, Any], *args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    """ansible-playbook playbooks/<playbook> with extra vars given as JSON (highest precedence)."""
    return subprocess.run(
        [str(VENV_BIN / "ansible-playbook"), f"playbooks/{playbook}", "-e", json.dumps(extra_vars), *args],
        cwd=REPO, env=env(), capture_output=True, text=True, timeout=timeout,
    )


def run_make(*args: str, timeout: int = 900, **variables: str) -> subprocess.CompletedProcess:
    cmd = ["make", "--no-print-directory", *args] + [f"{k}={v}" for k, v in variables.items()]
    return subprocess.run(cmd, cwd=REPO, env=env(), capture_output=True, text=True, timeout=timeout)


def make_in_project(local_cluster, target: str, secrets: Path, project: str, sandbox: str, extra: str = "",
                    **variables: str) -> subprocess.CompletedProcess:
    """make <target> LOCAL=1 for packit dev with the committed dev template, aimed at a test's own
    project and sandbox namespaces (extra: more EXTRA_ARGS)."""
    return run_make(target, timeout=1200, LOCAL="1", DEPLOYMENT="dev", SERVICE="packit", SECRETS_DIR=str(secrets),
                    LOCAL_CLUSTER_CACHE=str(local_cluster.cache_dir),
                    EXTRA_ARGS=f"-e config_vars_file={REPO}/vars/packit/dev_template.yml "
                               f"-e project={project} -e sandbox_namespace={sandbox} {extra}", **variables)


def refused(result: subprocess.CompletedProcess, message: str) -> bool:
    """Whether a run failed with the message (the output's line folding undone)."""
    return result.returncode != 0 and message in " ".join(result.stdout.split())


def template_vars(service: str, deployment: str) -> Path:
    return REPO / "vars" / service / f"{deployment}_template.yml"


def read_manifests(directory: Path) -> dict[str, list[dict]]:
    """component -> objects, from a render directory."""
    return {
        f.stem: [d for d in yaml.safe_load_all(f.read_text()) if d]
        for f in sorted(directory.glob("*.yml"))
    }


def all_objects(manifests: dict[str, list[dict]]) -> list[dict]:
    return [o for objs in manifests.values() for o in objs]


def ref(obj: dict) -> tuple[str, str, str, str]:
    meta = obj.get("metadata", {})
    return (obj["apiVersion"], obj["kind"], meta.get("namespace", ""), meta["name"])


def failure_line(result: subprocess.CompletedProcess) -> str:
    """The `msg` of the failed task, as the user reads it in the log."""
    text = result.stdout + result.stderr
    for line in text.splitlines():
        if line.startswith("[ERROR]:"):
            return line
    return text[-2000:]


@dataclass
class Renderer:
    """Renders through the real playbook (make render's path) and caches by settings."""

    workdir: Path
    secrets_dir: Path

    def __post_init__(self) -> None:
        self._cache: dict[str, dict[str, list[dict]]] = {}

    def extra_vars(self, service: str, deployment: str, out: Path, **overrides: Any) -> dict[str, Any]:
        return {
            "service": service,
            "deployment": deployment,
            "config_vars_file": str(template_vars(service, deployment)),
            "secrets_dir": str(self.secrets_dir),
            "deploy_mode": "render",
            "render_dir": str(out),
            **overrides,
        }

    def render(self, service: str, deployment: str, **overrides: Any) -> dict[str, list[dict]]:
        key = json.dumps([service, deployment, overrides], sort_keys=True)
        if key not in self._cache:
            out = self.workdir / f"r{len(self._cache)}"
            result = run_playbook("deploy.yml", self.extra_vars(service, deployment, out, **overrides))
            if result.returncode != 0:
                raise AssertionError(f"render failed: {failure_line(result)}")
            self._cache[key] = read_manifests(out)
        return self._cache[key]

    def render_many(self, variants: list[tuple[str, str, dict[str, Any]]]) -> list[dict[str, list[dict]]]:
        """render() of each (service, deployment, overrides), the ones not rendered yet in one
        run as make render-all makes it: each variant a host of its own inventory, its
        overrides an extra vars file of the config role (loaded after the vars file, as the
        local cluster's connection is), so a test of many settings pays Ansible's start once."""
        keys = [json.dumps([s, d, o], sort_keys=True) for s, d, o in variants]
        todo = {k: v for k, v in zip(keys, variants) if k not in self._cache}
        if todo:
            batch = Path(tempfile.mkdtemp(prefix="batch", dir=self.workdir))  # a failed batch leaves its own
            hosts = {}
            for n, (service, deployment, overrides) in enumerate(todo.values()):
                settings = {k: v for k, v in self.extra_vars(service, deployment, batch / f"v{n}", **overrides).items()
                            if k != "deploy_mode"}
                for name in overrides:  # what the vars file may set comes from a file of its own
                    settings.pop(name)
                if overrides:
                    (batch / f"v{n}.yml").write_text(yaml.safe_dump(dict(overrides)))
                    settings["config_extra_vars_files"] = [str(batch / f"v{n}.yml")]
                hosts[f"v{n}"] = settings
            (batch / "inventory.yml").write_text(yaml.safe_dump({"variants": {
                "vars": {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"},
                "hosts": hosts}}))
            result = run_playbook("deploy.yml", {"deploy_mode": "render", "deploy_hosts": "variants"},
                                  "-i", str(batch / "inventory.yml"))
            if result.returncode != 0:
                raise AssertionError(f"render failed: {failure_line(result)}")
            for n, key in enumerate(todo):
                self._cache[key] = read_manifests(batch / f"v{n}")
        return [self._cache[k] for k in keys]


# Kinds a deployment of either repository (and the database jobs) puts into a project; the
# cluster tests that own a namespace empty it of these first.
PROJECT_KINDS = (("apps/v1", "Deployment"), ("apps/v1", "StatefulSet"), ("batch/v1", "CronJob"),
                 ("batch/v1", "Job"), ("v1", "Service"), ("route.openshift.io/v1", "Route"),
                 ("image.openshift.io/v1", "ImageStream"), ("v1", "Secret"), ("v1", "ConfigMap"),
                 ("v1", "ServiceAccount"), ("rbac.authorization.k8s.io/v1", "RoleBinding"),
                 ("rbac.authorization.k8s.io/v1", "Role"), ("v1", "PersistentVolumeClaim"), ("v1", "Pod"),
                 ("apps/v1", "ReplicaSet"))
# What the cluster puts into every namespace: not the tests' to delete.
PROJECT_PRESET = {"ConfigMap": ("kube-root-ca.crt", "openshift-service-ca.crt"),
                  "ServiceAccount": ("default", "builder", "deployer"), "RoleBinding": ("deployer-admin",)}


def project_objects(admin, namespaces: tuple[str, ...]) -> dict[tuple, tuple]:
    """(kind, namespace, name) -> what a change would alter: the uid of everything; the spec
    generation and labels of workloads (their controllers keep writing status); the
    resourceVersion of the rest. Pods and ReplicaSets by uid only."""
    found = {}
    for api_version, kind in PROJECT_KINDS:
        resource = admin.resources.get(api_version=api_version, kind=kind)
        for namespace in namespaces:
            for item in resource.get(namespace=namespace).items:
                meta = item.metadata
                state = ((meta.generation, str(meta.labels)) if kind in ("Deployment", "StatefulSet", "CronJob", "Job")
                         else () if kind in ("Pod", "ReplicaSet") else (meta.resourceVersion,))
                found[(kind, namespace, meta.name)] = (meta.uid, *state)
    return found


def empty_project_namespaces(admin, local_cluster, namespaces: tuple[str, ...]) -> None:
    """Delete what an earlier run left in the namespaces (claims too: this is the tests' own
    data), then let the released volumes be bound again."""
    from kubernetes.dynamic.exceptions import NotFoundError

    def left() -> list[tuple]:
        found = []
        for api_version, kind in PROJECT_KINDS:
            resource = admin.resources.get(api_version=api_version, kind=kind)
            for namespace in namespaces:
                found += [(resource, namespace, item) for item in resource.get(namespace=namespace).items
                          if item.metadata.name not in PROJECT_PRESET.get(kind, ())
                          and not (kind == "Secret" and item.type != "Opaque")]
        return found

    for resource, namespace, item in left():
        if not item.metadata.deletionTimestamp:
            with contextlib.suppress(NotFoundError):  # gone with its owner meanwhile
                resource.delete(name=item.metadata.name, namespace=namespace,
                                body={"propagationPolicy": "Foreground", "gracePeriodSeconds": 0})
    # Foreground deletion finishes in the garbage collector: wait until every object is gone.
    deadline = time.monotonic() + 120
    while remaining := left():
        assert time.monotonic() < deadline, [(r.kind, ns, i.metadata.name) for r, ns, i in remaining]
        time.sleep(1)
    local_cluster.recycle_volumes()


def triggered_image(stream: dict, tag: str) -> str:
    """What OpenShift's image trigger writes into a container that follows <stream>:<tag>: the
    stream's pull spec in the internal registry when the tag's reference policy is Local (as
    the templates make them), else the source registry's reference; '' before an import."""
    entry = next((t for t in stream["spec"].get("tags") or [] if t["name"] == tag), {})
    items = next((t.get("items") or [] for t in (stream.get("status") or {}).get("tags") or [] if t["tag"] == tag), [])
    if not items:
        return ""
    if (entry.get("referencePolicy") or {}).get("type") == "Local":
        return f"{stream['status']['dockerImageRepository']}@{items[0]['image']}"
    return items[0]["dockerImageReference"]


def source_image(admin, namespace: str, image: str) -> str:
    """The source registry's reference of an image a container runs through the internal
    registry (found by digest among the namespace's stream history); other references as they are."""
    if "@" not in image:
        return image
    digest = image.rsplit("@", 1)[1]
    streams = admin.resources.get(api_version="image.openshift.io/v1", kind="ImageStream")
    for stream in streams.get(namespace=namespace).to_dict()["items"]:
        for tag in (stream.get("status") or {}).get("tags") or []:
            for item in tag.get("items") or []:
                if item["image"] == digest:
                    return item["dockerImageReference"]
    return image


def task_messages(stdout: str, task: str) -> list[str]:
    """The msg list a debug task printed (the YAML result format folds long lines: parsed back)."""
    import textwrap

    start = stdout.index(f" {task}]")
    body = stdout[start:].split("\n", 1)[1]
    block = []
    for line in body.splitlines()[1:]:  # after "ok: [localhost] =>"
        if line.startswith(("TASK [", "PLAY ")):
            break
        block.append(line)
    msg = (yaml.safe_load(textwrap.dedent("\n".join(block))) or {}).get("msg")
    return msg if isinstance(msg, list) else [msg]


# The debug task of make adopt APPLY=1 that prints the steps and the seconds without a backend.
SWITCH_REPORT = "Takeover | Show the switch and how long each host and Service had no ready backend"


def claims_kept(admin, namespace: str, claims: dict[str, tuple[str, str]], marker: dict[str, str] | None = None) -> None:
    """Each claim is the same object on the same volume (uid, volumeName as given), with the
    marker annotations of the data written before, when given."""
    resource = admin.resources.get(api_version="v1", kind="PersistentVolumeClaim")
    for name, (uid, volume) in claims.items():
        claim = resource.get(name=name, namespace=namespace).to_dict()
        assert (claim["metadata"]["uid"], claim["spec"]["volumeName"]) == (uid, volume), name
        for key, value in (marker or {}).items():
            assert claim["metadata"]["annotations"][key] == value, name

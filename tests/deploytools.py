"""Helpers the tests share: run the real playbooks and make targets, read what they wrote."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = REPO / ".venv" / "bin"
SERVICES = ("packit", "stream")
DEPLOYMENTS = ("dev", "stg", "prod")
KINDS = ("Deployment", "DeploymentConfig")


def _keys() -> dict[str, str]:
    """Key files made at run time (none is committed): GitHub app key, SSH pair, TLS key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519

    pem, pkcs8, none = serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ssh = ed25519.Ed25519PrivateKey.generate()
    return {
        "private-key.pem": ec.generate_private_key(ec.SECP256R1()).private_bytes(pem, pkcs8, none).decode(),
        "id_ed25519": ssh.private_bytes(pem, serialization.PrivateFormat.OpenSSH, none).decode(),
        "id_ed25519.pub": ssh.public_key().public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode() + " test\n",
        "privkey.pem": ec.generate_private_key(ec.SECP256R1()).private_bytes(pem, pkcs8, none).decode(),
    }


# Every secret file a component may read (scripts/secret_files.py lists them from the table of
# Secrets); placeholder content except the keys, which are generated when the tests start.
# Mapping files are YAML.
SECRET_FILES: dict[str, str] = {
    "packit-service.yaml": "deployment: test\n",
    "copr": "[copr-cli]\nlogin = x\nusername = packit\ntoken = y\ncopr_url = https://copr.fedorainfracloud.org\n",
    "fedora.toml": "amqp_url = \"amqps://fedora:@rabbitmq.fedoraproject.org/%2Fpublic_pubsub\"\n",
    "fedora.keytab": "",
    **_keys(),
    "ssh_config": "Host pkgs.fedoraproject.org\n  IdentityFile /home/packit/.ssh/id_ed25519\n",
    "sentry_key": "https://key@sentry.example/1",
    "fullchain.pem": "-----BEGIN CERTIFICATE-----\nplaceholder\n-----END CERTIFICATE-----\n",
    "centos.cert": "cert and key\n",
    "centos-server-ca.cert": "ca\n",
    "aws.yml": "access-key-id: x\nsecret-access-key: y\n",
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
            "deploy_render": True,
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

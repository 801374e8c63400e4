"""make import-config on a secrets directory laid out as upstream packit/deployment renders
it for packit stg (packit-service.yaml with the vault's values and the forges, fedora.toml,
centpkg-sig.conf, ssh_config beside the other secret files): values.yml is written from
it, what the templates render differently is listed, nothing secret is printed, and the
deployment then renders from the templates with the operator's values."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import yaml

from tests.support.deploytools import read_manifests, run_make, template_vars

QUEUE = "0b7e9a52-6f0c-4d3e-8a1b-2c3d4e5f6a7b"
SECRETS = {"github": "ghp_upstreamtoken123", "gitlab": "glpat-upstream456", "pagure": "pagure-upstream789",
           "fas": "fas-upstream-pw", "webhook": "webhook-upstream", "tf": "tf-upstream",
           "itf": "itf-upstream", "logdetective": "ld-upstream-token", "sig": "glpat-sig-upstream"}

UPSTREAM_CONFIG = f"""---
deployment: stg
debug: true
fas_user: packit-stg
keytab_path: /secrets/fedora.keytab
comment_command_prefix: "/packit-stg"
validate_webhooks: true

authentication:
  github.com:
    instance_url: https://github.com
    token: {SECRETS['github']}
    github_app_id: '12345'
    github_app_private_key_path: /gh-secrets/private-key.pem
  gitlab.com:
    instance_url: https://gitlab.com
    token: {SECRETS['gitlab']}
  src.fedoraproject.org:
    instance_url: https://src.fedoraproject.org
    token: {SECRETS['pagure']}

fas_password: {SECRETS['fas']}
webhook_secret: {SECRETS['webhook']}
testing_farm_secret: {SECRETS['tf']}
internal_testing_farm_secret: {SECRETS['itf']}

testing_farm_api_url: https://api.testing-farm.io/v0.1/
command_handler: sandcastle
command_handler_work_dir: /tmp/sandcastle
command_handler_image_reference: quay.io/packit/sandcastle:stg
command_handler_k8s_namespace: packit--stg-sandbox
command_handler_storage_class: aws-ebs
appcode: PCKT-002
server_name: stg.packit.dev
dashboard_url: https://dashboard.stg.packit.dev
rate_limit_threshold: 250
some_new_option: true
logdetective_enabled: true
logdetective_url: https://logdetective.example/
logdetective_token: {SECRETS['logdetective']}
"""
UPSTREAM_FEDORA = f"""amqp_url = "amqps://fedora:@rabbitmq.fedoraproject.org/%2Fpublic_pubsub"
[queues.{QUEUE}]
durable = true
auto_delete = true
exclusive = true
arguments = {{}}

[[bindings]]
queue = "{QUEUE}"
exchange = "amq.topic"
routing_keys = ["org.fedoraproject.prod.copr.build.start"]
"""
UPSTREAM_SIG = f"""[centpkg-sig]
lookaside = https://git.centos.org/sources
kojiprofile = cbs

[centpkg-sig.distgit]
apibaseurl = https://gitlab.com
token = {SECRETS['sig']}
"""
UPSTREAM_SSH = """Host pkgs.fedoraproject.org
  User packit-stg
  IdentitiesOnly yes
  IdentityFile /home/packit/.ssh/id_ed25519

Host gitlab.com
  User git
  IdentitiesOnly yes
  IdentityFile /home/packit/.ssh/id_ed25519
"""


def upstream_dir(tmp_path: Path, secrets_dir: Path) -> Path:
    target = tmp_path / "secrets"
    target.mkdir()
    for f in secrets_dir.iterdir():
        if f.name != "values.yml":
            (target / f.name).write_bytes(f.read_bytes())
    for name, text in (("packit-service.yaml", UPSTREAM_CONFIG), ("fedora.toml", UPSTREAM_FEDORA),
                       ("centpkg-sig.conf", UPSTREAM_SIG), ("ssh_config", UPSTREAM_SSH)):
        (target / name).write_text(text)
    return target


def make(target: str, secrets: Path, **variables: str):
    extra = f"-e config_vars_file={template_vars('packit', 'stg')} -e platform=mpp {variables.pop('EXTRA', '')}"
    return run_make(target, DEPLOYMENT="stg", SECRETS_DIR=str(secrets), EXTRA_ARGS=extra, **variables)


def test_import_writes_the_values_and_names_what_differs(tmp_path, secrets_dir):
    secrets = upstream_dir(tmp_path, secrets_dir)
    # Before: the deploy refuses the rendered files, naming the command.
    refused = make("render", secrets, OUT=str(tmp_path / "refused"))
    assert refused.returncode != 0 and "make import-config DEPLOYMENT=stg moves your values" in \
        " ".join(refused.stdout.split())

    result = make("import-config", secrets)
    assert result.returncode == 0, result.stdout[-3000:]
    output = " ".join((result.stdout + result.stderr).split())
    values_file = secrets / "values.yml"
    assert stat.S_IMODE(values_file.stat().st_mode) == 0o600
    values = yaml.safe_load(values_file.read_text())
    assert values["packit_service"]["authentication"]["gitlab.com"]["token"] == SECRETS["gitlab"]
    assert {k: values["packit_service"][k] for k in ("webhook_secret", "fas_password", "logdetective_token")} == {
        "webhook_secret": SECRETS["webhook"], "fas_password": SECRETS["fas"],
        "logdetective_token": SECRETS["logdetective"]}
    assert values["fedora_messaging"] == {"queue": QUEUE}
    assert values["centpkg_sig"] == {"token": SECRETS["sig"]}
    assert "fas_user" not in values["packit_service"]  # the template's, reviewed
    # What the templates render differently, for a pull request or the vars.
    assert "packit-service.yaml: rate_limit_threshold: yours 250, ours 200" in output
    assert "packit-service.yaml: only yours: some_new_option = True" in output
    assert "packit-service.yaml: only ours: admins" in output
    assert "packit-service.yaml: only yours: command_handler" not in output  # the same as ours
    assert "centpkg-sig.conf: only ours: centpkg-sig.git_excludes" in output
    assert [name for name, value in SECRETS.items() if value in output] == []
    assert "Then delete centpkg-sig.conf, fedora.toml, packit-service.yaml, ssh_config" in output

    # Run again: values.yml is never overwritten.
    again = make("import-config", secrets)
    assert again.returncode != 0 and f"{values_file} exists: it is not overwritten" in " ".join(again.stdout.split())
    assert yaml.safe_load(values_file.read_text()) == values

    # With the rendered files gone, the deployment renders from the templates and the values.
    for name in ("packit-service.yaml", "fedora.toml", "centpkg-sig.conf", "ssh_config"):
        (secrets / name).unlink()
    out = tmp_path / "out"
    rendered = make("render", secrets, OUT=str(out), SHOW_SECRETS="1")
    assert rendered.returncode == 0, rendered.stdout[-3000:]
    secret = next(o for o in read_manifests(out)["secrets"] if o["metadata"]["name"] == "packit-config")
    config = yaml.safe_load(base64.b64decode(secret["data"]["packit-service.yaml"]))
    assert config["authentication"]["github.com"]["token"] == SECRETS["github"]
    assert config["comment_command_prefix"] == "/packit-stg" and config["rate_limit_threshold"] == 200


def test_import_needs_the_rendered_configuration(tmp_path, secrets_dir):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = make("import-config", secrets_dir, FROM=str(empty))
    assert result.returncode != 0
    assert f"{empty}/packit-service.yaml is missing: give the directory of your rendered configuration" in \
        " ".join(result.stdout.split())

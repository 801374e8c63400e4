"""The apps' configuration as reviewed templates (config/) with the secret values in
values.yml: what the six sets render, the review copy that names every value instead of
showing it, an ansible-vault encrypted values file through make, and the keys the apps'
config schema knows."""

from __future__ import annotations

import base64
import configparser
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

from tests.support.deploytools import DEPLOYMENTS, REPO, SERVICES, VENV_BIN, env, read_manifests, run_make, template_vars

# The keys packit-service's ServiceConfigSchema and packit's UserConfigSchema load
# (packit/packit-service b828c3d7 packit_service/schema.py, config.py; packit/packit 69d783e8
# packit/schema.py): unknown keys make the service refuse its configuration.
SCHEMA_KEYS = {
    "deployment", "debug", "fas_user", "fas_password", "keytab_path", "kerberos_realm", "authentication",
    "webhook_secret", "testing_farm_secret", "internal_testing_farm_secret", "testing_farm_api_url",
    "validate_webhooks", "admins", "server_name", "dashboard_url", "koji_logs_url", "koji_web_url",
    "gitlab_token_secret", "gitlab_mr_targets_handled", "enabled_private_namespaces",
    "enabled_projects_for_internal_tf", "enabled_projects_for_srpm_in_copr", "projects_to_sync",
    "comment_command_prefix", "package_config_path_override", "command_handler", "command_handler_work_dir",
    "command_handler_image_reference", "command_handler_k8s_namespace", "command_handler_pvc_volume_specs",
    "command_handler_storage_class", "command_handler_pvc_env_var", "repository_cache",
    "add_repositories_to_repository_cache", "appcode", "pkg_tool", "default_parse_time_macros",
    "rate_limit_threshold", "fedora_ci_run_by_default", "fedora_ci", "logdetective_enabled", "logdetective_url",
    "logdetective_token", "redhat_api_refresh_token", "upstream_git_remote",
}
SECRETS = ("s3cret-fas", "s3cret-webhook", "s3cret-tf", "s3cret-github", "s3cret-gitlab",
           "6f1c2b8e-3d4a-4c5b-9e7f-1a2b3c4d5e6f")


def config_of(manifests: dict[str, list[dict]]) -> dict[str, str]:
    """The app configurations in the rendered Secrets (rendered with SHOW_SECRETS)."""
    found = {}
    for obj in manifests.get("secrets", []):
        for key, value in (obj.get("data") or {}).items():
            if key in ("packit-service.yaml", "fedora.toml", "centpkg-sig.conf") or \
                    (obj["metadata"]["name"], key) == ("packit-ssh", "config"):
                found[key] = base64.b64decode(value).decode()
    return found


@pytest.fixture(scope="module")
def six(tmp_path_factory, secrets_dir) -> dict[tuple[str, str], Path]:
    """make render-all of the six sets with real values, into a gitignored-like temp dir."""
    root = tmp_path_factory.mktemp("six")
    secrets = root / "secrets"
    for service in SERVICES:
        for deployment in DEPLOYMENTS:
            target = secrets / service / deployment
            target.mkdir(parents=True)
            for f in secrets_dir.iterdir():
                (target / f.name).write_bytes(f.read_bytes())
    out = root / "out"
    result = run_make("render-all", RENDER_ALL_DIR=str(out), SECRETS_ROOT=str(secrets),
                      EXTRA_ARGS="-e render_show_secrets=true -e with_repository_cache=true")
    assert result.returncode == 0, result.stdout[-3000:]
    return {(s, d): out / f"{s}-{d}" for s in SERVICES for d in DEPLOYMENTS}


@pytest.mark.parametrize(("service", "deployment"), [(s, d) for s in SERVICES for d in DEPLOYMENTS])
def test_each_set_renders_its_configuration_with_the_values(six, service, deployment):
    rendered = config_of(read_manifests(six[(service, deployment)]))
    config = yaml.safe_load(rendered["packit-service.yaml"])
    assert config["deployment"] == deployment
    assert set(config) <= SCHEMA_KEYS, sorted(set(config) - SCHEMA_KEYS)
    assert config["webhook_secret"] == "s3cret-webhook"
    assert config["authentication"]["github.com"]["token"] == "s3cret-github"
    assert config["server_name"] == (f"{deployment}.packit.dev" if service == "packit" else
                                     f"{deployment}.stream.packit.dev")
    fedora = tomllib.loads(rendered.get("fedora.toml", ""))  # Stream runs the consumer where its vars say
    if service == "packit" or fedora:
        assert fedora["bindings"][0]["queue"] == "6f1c2b8e-3d4a-4c5b-9e7f-1a2b3c4d5e6f"
        assert "6f1c2b8e-3d4a-4c5b-9e7f-1a2b3c4d5e6f" in fedora["queues"]
    if service == "packit":
        assert config["command_handler_k8s_namespace"] == f"packit-{deployment}-sandbox"
        assert config["fas_user"] == {"dev": "packit-test", "stg": "packit-stg", "prod": "packit"}[deployment]
        sig = configparser.ConfigParser(interpolation=None)
        sig.read_string(rendered["centpkg-sig.conf"])
        assert sig["centpkg-sig.distgit"]["token"] == "s3cret-gitlab"
        assert f"User {config['fas_user']}" in rendered["config"]
        if deployment != "dev":  # the reviewed settings of upstream's stg and prod
            assert len(config["enabled_projects_for_internal_tf"]) == 42
            assert config["fedora_ci_run_by_default"] is (deployment == "prod")
            assert len(fedora["bindings"][0]["routing_keys"]) == 15
    else:
        assert config["pkg_tool"] == "centpkg" and "centpkg-sig.conf" not in rendered
        assert config["gitlab_mr_targets_handled"][0]["repo"] == (
            "redhat/centos-stream/src/.+" if deployment == "prod" else "packit-service/src/.+")


@pytest.mark.parametrize(("service", "deployment"), [("packit", "prod"), ("stream", "stg")])
def test_the_review_copy_names_each_value_and_shows_none(six, service, deployment):
    out = six[(service, deployment)]
    review = {f.name: f.read_text() for f in out.glob("config-*")}
    assert "config-packit-service.yaml" in review
    text = "".join(review.values())
    assert [s for s in SECRETS if s in text] == []
    config = yaml.safe_load(review["config-packit-service.yaml"])
    assert config["webhook_secret"] == "<values.yml: packit_service.webhook_secret>"
    assert config["authentication"]["github.com"]["token"] == \
        "<values.yml: packit_service.authentication.github.com.token>"
    assert config["deployment"] == deployment  # the reviewed part as it is


def test_an_encrypted_values_file_through_make(tmp_path, secrets_dir):
    """values.yml encrypted with ansible-vault: make render with VAULT_PASSWORD_FILE renders
    the real values; without the password nothing is rendered and the file is named."""
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    for f in secrets_dir.iterdir():
        (secrets / f.name).write_bytes(f.read_bytes())
    password = tmp_path / "vault-pass"
    password.write_text("correct horse battery staple\n")
    subprocess.run([str(VENV_BIN / "ansible-vault"), "encrypt", "--vault-password-file", str(password),
                    str(secrets / "values.yml")], check=True, env=env(), capture_output=True)
    assert (secrets / "values.yml").read_text().startswith("$ANSIBLE_VAULT;")
    common = {"DEPLOYMENT": "prod", "SECRETS_DIR": str(secrets),
              "EXTRA_ARGS": f"-e config_vars_file={template_vars('packit', 'prod')}"}
    out = tmp_path / "out"
    result = run_make("render", OUT=str(out), SHOW_SECRETS="1", VAULT_PASSWORD_FILE=str(password), **common)
    assert result.returncode == 0, result.stdout[-3000:]
    assert yaml.safe_load(config_of(read_manifests(out))["packit-service.yaml"])["webhook_secret"] == "s3cret-webhook"

    refused = tmp_path / "refused"
    result = run_make("render", OUT=str(refused), **common)
    assert result.returncode != 0 and not refused.exists()
    assert f"render: {secrets}/values.yml cannot be read" in " ".join(result.stdout.split())


def test_a_config_template_change_shows_in_the_review_copy(tmp_path, secrets_dir):
    """What a reviewer sees of a change to a template: exactly the changed line in make
    render's config-* copy, and no value of values.yml."""
    import difflib
    import shutil

    config = tmp_path / "config"
    shutil.copytree(REPO / "config", config)
    changed = config / "packit" / "packit-service.yaml.j2"
    changed.write_text(changed.read_text().replace("rate_limit_threshold: 200", "rate_limit_threshold: 300"))
    copies = []
    for name, where in (("before", REPO / "config"), ("after", config)):
        out = tmp_path / name
        result = run_make("render", OUT=str(out), DEPLOYMENT="prod", SECRETS_DIR=str(secrets_dir), TAGS="secrets",
                          EXTRA_ARGS=f"-e config_vars_file={template_vars('packit', 'prod')} -e deploy_config_dir={where}")
        assert result.returncode == 0, result.stdout[-3000:]
        copies.append((out / "config-packit-service.yaml").read_text().splitlines())
    diff = [line for line in difflib.unified_diff(*copies, lineterm="", n=0) if line[:1] in "+-"
            and not line.startswith(("+++", "---"))]
    assert diff == ["-rate_limit_threshold: 200", "+rate_limit_threshold: 300"]

"""Bad input stops before anything is rendered or applied, with one line naming what to fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from deploytools import REPO, failure_line, run_make, run_playbook, template_vars


def render(tmp_path: Path, secrets_dir: Path, **variables: str):
    out = tmp_path / "out"
    variables.setdefault("SERVICE", "packit")
    variables.setdefault("DEPLOYMENT", "stg")
    extra = variables.pop("EXTRA", "")
    if "config_vars_dir" not in extra:
        extra += f" -e config_vars_file={template_vars(variables['SERVICE'], variables['DEPLOYMENT'])}"
    result = run_make("render", OUT=str(out), SECRETS_DIR=str(secrets_dir), EXTRA_ARGS=extra, **variables)
    return result, out


def assert_refused(result, out: Path, *fragments: str) -> str:
    assert result.returncode != 0
    assert not out.exists() or not any(out.iterdir()), "something was rendered"
    text = result.stdout + result.stderr
    line = next((l for l in text.splitlines() if all(f in l for f in fragments)), None)
    assert line is not None, f"no line with {fragments} in:\n{text[-3000:]}"
    return line


@pytest.mark.parametrize(("variables", "fragments"), [
    ({"SERVICE": "foo"}, ["SERVICE=foo is not one of packit, stream"]),
    ({"DEPLOYMENT": ""}, ["DEPLOYMENT is not set: one of dev, stg, prod"]),
    ({"DEPLOYMENT": "qa"}, ["DEPLOYMENT=qa is not one of dev, stg, prod"]),
])
def test_make_refuses_unknown_service_or_deployment(tmp_path, secrets_dir, variables, fragments):
    out = tmp_path / "out"
    base = {"SERVICE": "packit", "DEPLOYMENT": "stg", **variables}
    result = run_make("render", OUT=str(out), SECRETS_DIR=str(secrets_dir), **base)
    assert result.returncode == 2
    assert_refused(result, out, *fragments)


def test_playbook_refuses_unknown_service(tmp_path, renderer):
    out = tmp_path / "out"
    result = run_playbook("deploy.yml", renderer.extra_vars("nosuch", "stg", out) | {"config_vars_file": str(template_vars("packit", "stg"))})
    line = failure_line(result)
    assert result.returncode != 0 and not out.exists()
    assert "service must be one of: packit, stream, got: nosuch" in result.stdout + result.stderr, line


def test_missing_vars_file_names_the_template(tmp_path, secrets_dir):
    result, out = render(tmp_path, secrets_dir, DEPLOYMENT="prod", SERVICE="stream", EXTRA=f"-e config_vars_dir={tmp_path}")
    assert_refused(result, out, "vars/stream/prod.yml is missing: copy vars/stream/prod_template.yml to vars/stream/prod.yml")


def test_missing_secret_file_names_file_and_component(tmp_path, secrets_dir):
    partial = tmp_path / "secrets"
    partial.mkdir()
    for f in secrets_dir.iterdir():
        if f.name not in ("fedora.toml", "flower.yml"):
            (partial / f.name).write_bytes(f.read_bytes())
    result, out = render(tmp_path, partial, DEPLOYMENT="dev")
    line = assert_refused(result, out, f"{partial}/fedora.toml is missing (needed by secrets, packit-service-fedmsg)")
    assert "also missing: flower.yml" in line
    # Only the components selected need their files: redis needs none.
    ok, out2 = render(tmp_path, partial, DEPLOYMENT="dev", TAGS="redis")
    assert ok.returncode == 0, failure_line(ok)


@pytest.mark.parametrize(("extra", "fragments"), [
    ("-e with_redis=maybe", ["with_redis", "unable to convert to bool"]),
    ("-e workload_kind=Pod", ["value of workload_kind must be one of: Deployment, DeploymentConfig, got: Pod"]),
    ("-e '{\"worker_short_running\": {\"replicas\": \"many\", \"memory_request\": \"1Gi\", \"memory_limit\": \"1Gi\", \"concurrency\": 1, \"queues\": [\"a\"]}}'",
     ["replicas", "worker_short_running", "int"]),
    ("-e '{\"worker_long_running\": {\"replicas\": 1}}'", ["missing required arguments", "worker_long_running"]),
    ("-e '{\"images\": \"quay.io/x\"}'", ["images", "dict"]),
])
def test_wrong_type_or_value_names_the_variable(tmp_path, secrets_dir, extra, fragments):
    result, out = render(tmp_path, secrets_dir, EXTRA=extra)
    assert_refused(result, out, *fragments)


def test_unknown_tag_lists_the_valid_ones(tmp_path, secrets_dir):
    result, out = render(tmp_path, secrets_dir, TAGS="redis,rediss")
    line = assert_refused(result, out, "TAGS: unknown tag rediss; valid tags: secrets, postgres, redis")
    assert "(make tags)" in line


def test_tag_of_a_disabled_component_names_its_switch(tmp_path, secrets_dir):
    result, out = render(tmp_path, secrets_dir, TAGS="tokman")
    assert_refused(result, out, "TAGS: tokman is switched off (with_tokman false in vars/packit/stg.yml)")


def test_rules_between_settings(tmp_path, secrets_dir):
    result, out = render(tmp_path, secrets_dir, DEPLOYMENT="prod", EXTRA="-e image_scheduled_import=true")
    assert_refused(result, out, "image_scheduled_import must be false on prod")
    result, out = render(tmp_path, secrets_dir, EXTRA="-e with_packit_worker=false")
    assert_refused(result, out, "with_packit_service_beat needs with_packit_worker")


def test_real_secrets_only_into_ignored_places(tmp_path, secrets_dir):
    out = REPO / "docs" / "leak-test"
    result = run_make("render", SERVICE="packit", DEPLOYMENT="stg", OUT=str(out), SECRETS_DIR=str(secrets_dir), SHOW_SECRETS="1",
                      EXTRA_ARGS=f"-e config_vars_file={template_vars('packit', 'stg')}")
    assert_refused(result, out, f"OUT={out} is inside the repository but not under rendered/")


@pytest.mark.parametrize("confirm", ["", "stg"])
def test_cleanup_on_prod_needs_the_deployment_named(tmp_path, secrets_dir, confirm):
    """No cluster is needed: the refusal comes before the first API call."""
    out = tmp_path / "out"
    result = run_make("cleanup", SERVICE="packit", DEPLOYMENT="prod", CONFIRM=confirm, SECRETS_DIR=str(secrets_dir),
                      EXTRA_ARGS=f"-e config_vars_file={template_vars('packit', 'prod')} -e host=https://127.0.0.1:9")
    assert result.returncode != 0
    line = assert_refused(result, out, "make cleanup on prod deletes the running service (PVCs stay)")
    assert "CONFIRM=prod make cleanup DEPLOYMENT=prod" in line
    assert "TASK [deploy : Cleanup |" not in result.stdout, "a cleanup task ran"


def test_registry_mirror_with_a_scheme_is_refused(tmp_path, secrets_dir):
    result, out = render(tmp_path, secrets_dir, EXTRA="-e image_registry_mirror=https://mirror.example.com")
    assert_refused(result, out, "image_registry_mirror=https://mirror.example.com is not host[:port][/path]")

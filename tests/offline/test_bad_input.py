"""Bad input stops before anything is rendered or applied, with one line naming what to fix."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.support.deploytools import REPO, failure_line, run_make, run_playbook, template_vars


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
    # The file the run looked for (config_vars_dir here; vars/stream/prod.yml by default).
    assert_refused(result, out, f"{tmp_path}/stream/prod.yml is missing: copy vars/stream/prod_template.yml to "
                                f"{tmp_path}/stream/prod.yml and fill it in")


def test_missing_secret_file_names_file_and_component(tmp_path, secrets_dir):
    partial = tmp_path / "secrets"
    partial.mkdir()
    for f in secrets_dir.iterdir():
        if f.name not in ("copr", "flower.yml"):
            (partial / f.name).write_bytes(f.read_bytes())
    result, out = render(tmp_path, partial, DEPLOYMENT="dev")
    line = assert_refused(result, out, f"{partial}/copr is missing (needed by secrets, packit-worker)")
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


def vars_file(tmp_path: Path, text: str, replace: bool = False) -> str:
    """A vars directory with packit/stg.yml, the template and this text, as config_vars_dir.
    replace: without the template's lines of the top-level names the text sets (a name twice
    is refused)."""
    (tmp_path / "vars" / "packit").mkdir(parents=True)
    names = {line.split(":")[0] for line in text.splitlines()} if replace else set()
    kept = [line for line in template_vars("packit", "stg").read_text().splitlines(keepends=True)
            if line.split(":")[0] not in names]
    (tmp_path / "vars" / "packit" / "stg.yml").write_text("".join(kept) + text)
    return f"-e config_vars_dir={tmp_path}/vars"


@pytest.mark.parametrize(("text", "fragment"), [
    ("with_redis_comander: false\n",
     "stg.yml: unknown variable with_redis_comander (did you mean with_redis_commander?): no role reads it, so it "
     "would be ignored; fix or remove it (the README lists every variable); nothing was changed"),
    ("workload_kid: DeploymentConfig\nno_such_setting: 1\n",
     "stg.yml: unknown variables workload_kid (did you mean workload_kind?), no_such_setting: no role reads them"),
])
def test_a_misspelt_variable_in_the_vars_file_is_refused(tmp_path, secrets_dir, text, fragment):
    result, out = render(tmp_path, secrets_dir, EXTRA=vars_file(tmp_path, text))
    assert_refused(result, out, fragment)


@pytest.mark.parametrize(("text", "fragment"), [
    ("extra_list: [1, 2\n", "not valid YAML: expected ',' or ']', but got '<stream end>' (while parsing a flow "
                            "sequence that starts at line"),
    ("  indented: wrong\n", "not valid YAML: "),
])
def test_a_yaml_error_in_the_vars_file_names_line_and_column(tmp_path, secrets_dir, text, fragment):
    result, out = render(tmp_path, secrets_dir, EXTRA=vars_file(tmp_path, text))
    lines = len(template_vars("packit", "stg").read_text().splitlines())
    line = assert_refused(result, out, f"{tmp_path}/vars/packit/stg.yml line ", fragment)
    assert f"line {lines + 1}, column" in line or f"line {lines + 2}, column" in line, line
    assert "Unknown error" not in result.stdout



@pytest.mark.parametrize(("text", "what", "first", "second", "value"), [
    ('api_key: "sha256~t0ken-value"\n', "variable api_key", "api_key", 1, "t0ken-value"),
    ("images:\n  redis: quay.io/a/redis:1\n  valkey: quay.io/a/valkey:1\n  redis: quay.io/b/redis:1\n",
     "key redis in images", 2, 4, "quay.io/b/redis"),
])
def test_a_duplicate_key_in_the_vars_file_is_refused_without_its_value(tmp_path, secrets_dir, text, what, first,
                                                                        second, value):
    """YAML would keep the last value silently, and Ansible's loader warns with the source line,
    which may be the token: the check names the key and its lines only. first, second: a line
    of the text appended to the template (its number there), or the template's line of a
    variable (its name)."""
    template = template_vars("packit", "stg").read_text().splitlines()

    def line(at: int | str) -> int:
        return len(template) + at if isinstance(at, int) else next(
            n for n, text in enumerate(template, 1) if text.startswith(f"{at}:"))

    result, out = render(tmp_path, secrets_dir, EXTRA=vars_file(tmp_path, text))
    assert_refused(result, out, f"{tmp_path}/vars/packit/stg.yml: duplicate {what} at lines {line(first)} and "
                                f"{line(second)} (YAML would keep only the last value): remove one of them; nothing "
                                "was changed")
    assert value not in result.stdout + result.stderr


def trimmed_vars_file(tmp_path: Path, deployment: str, *names: str) -> str:
    """A vars directory with packit/<deployment>.yml: its template without the lines that set
    names, as config_vars_dir."""
    (tmp_path / "vars" / "packit").mkdir(parents=True)
    kept = [line for line in template_vars("packit", deployment).read_text().splitlines(keepends=True)
            if line.split(":")[0] not in names]
    (tmp_path / "vars" / "packit" / f"{deployment}.yml").write_text("".join(kept))
    return f"-e config_vars_dir={tmp_path}/vars"


def test_a_prod_vars_file_that_lacks_a_variable_of_its_template_is_refused(tmp_path, secrets_dir):
    """Names only: kv_database's value in the template (valkey) is not shown. host is a connection
    setting, an alternative to kubeconfig: a file may leave it out."""
    extra = trimmed_vars_file(tmp_path, "prod", "kv_database", "workload_kind", "host")
    result, out = render(tmp_path, secrets_dir, DEPLOYMENT="prod", TAGS="redis", EXTRA=extra)
    line = assert_refused(result, out, f"{tmp_path}/vars/packit/prod.yml lacks 2 variables "
                                       "vars/packit/prod_template.yml sets: workload_kind, kv_database (the role "
                                       "defaults would apply instead); copy them from the template, or set "
                                       "check_vars_template_diff: false if that is meant; nothing was changed")
    assert "valkey" not in line and "host" not in line
    # Said explicitly (here, or in the vars file itself), prod renders.
    allowed, out = render(tmp_path, secrets_dir, DEPLOYMENT="prod", TAGS="redis",
                          EXTRA=f"{extra} -e check_vars_template_diff=false")
    assert allowed.returncode == 0, failure_line(allowed)
    assert any(out.iterdir()) and "lacks" not in allowed.stdout


def test_a_stg_vars_file_that_lacks_a_variable_of_its_template_is_a_warning(tmp_path, secrets_dir):
    result, out = render(tmp_path, secrets_dir, TAGS="redis", EXTRA=trimmed_vars_file(tmp_path, "stg", "kv_database"))
    assert result.returncode == 0, failure_line(result)
    assert any(out.iterdir())
    assert (f"[WARNING]: {tmp_path}/vars/packit/stg.yml lacks a variable vars/packit/stg_template.yml sets: "
            "kv_database (the role default applies instead); copy it from the template, or set "
            "check_vars_template_diff: false if that is meant") in " ".join((result.stdout + result.stderr).split())


def test_a_wrong_choice_prints_one_line_not_the_argument_spec(tmp_path, secrets_dir):
    result, out = render(tmp_path, secrets_dir, EXTRA="-e workload_kind=ReplicaSet")
    line = assert_refused(result, out, "invalid settings: value of workload_kind must be one of: Deployment, "
                                       "DeploymentConfig, got: ReplicaSet")
    assert line.startswith("fatal: [localhost]: ")
    # The default callback printed the whole argument spec (about 400 lines) after that line.
    assert "argument_spec_data" not in result.stdout and "beat_memory" not in result.stdout
    failed = result.stdout[result.stdout.index(line):]
    assert len(failed.strip().splitlines()) <= 4, failed


def tls_pair(directory: Path, *, days_left: int, own_key: bool = True) -> None:
    """fullchain.pem for privkey.pem's key (or another key), valid until days_left from now."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = serialization.load_pem_private_key((directory / "privkey.pem").read_bytes(), password=None)
    signer = key if own_key else ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "packit.test")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(signer.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=400))
            .not_valid_after(now + dt.timedelta(days=days_left)).sign(signer, hashes.SHA256()))
    (directory / "fullchain.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))


@pytest.mark.parametrize(("days_left", "own_key", "fragment"), [
    (-3, True, "fullchain.pem: certificate expired on "),
    (60, False, "privkey.pem: private key does not match "),
])
def test_deploy_refuses_an_expired_or_mismatched_tls_pair(tmp_path, secrets_dir, days_left, own_key, fragment):
    """No cluster is needed: the refusal comes before the first API call (the host is a closed port)."""
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    for f in secrets_dir.iterdir():
        (secrets / f.name).write_bytes(f.read_bytes())
    tls_pair(secrets, days_left=days_left, own_key=own_key)
    base = dict(SERVICE="packit", DEPLOYMENT="stg", SECRETS_DIR=str(secrets),
                EXTRA_ARGS=f"-e config_vars_file={template_vars('packit', 'stg')} -e host=https://127.0.0.1:9")
    result = run_make("deploy", **base)
    line = assert_refused(result, tmp_path / "out", f"{secrets}/", fragment,
                          "renew it (docs/certificates.md, make check-certs) or deploy it anyway with "
                          "ALLOW_EXPIRED_CERTS=1; nothing was changed")
    assert "TASK [deploy : Apply | Check the cluster" not in result.stdout, line
    # Said explicitly, the run goes on to the cluster (here: the closed port).
    allowed = run_make("deploy", ALLOW_EXPIRED_CERTS="1", **base)
    assert allowed.returncode != 0
    assert "renew it" not in allowed.stdout and "TASK [deploy : Apply | Check the cluster" in allowed.stdout
    # A certificate change that keeps the pair valid is no reason to stop (e.g. a renewal).
    tls_pair(secrets, days_left=30)
    renewed = run_make("deploy", **base)
    assert "renew it" not in renewed.stdout and "TASK [deploy : Apply | Check the cluster" in renewed.stdout


def test_one_mode_per_run(tmp_path, renderer):
    """deploy_mode is one of apply, render, cleanup: a run cannot both write and delete."""
    out = tmp_path / "out"
    result = run_playbook("deploy.yml", renderer.extra_vars("packit", "stg", out, deploy_mode="delete"))
    assert_refused(result, out, "invalid settings: value of deploy_mode must be one of: apply, render, cleanup, "
                                "got: delete")


@pytest.mark.parametrize(("text", "fragment"), [
    ("validate_certs: maybe\n", "invalid settings: argument 'validate_certs' is of type str and we were unable to "
                                "convert to bool: The value 'maybe' is not a valid boolean."),
    ("ca_cert: /nonexistent/ca.crt\n", "ca_cert: /nonexistent/ca.crt does not exist; fix it in the vars file or the "
                                       "extra vars"),
])
def test_connection_settings_of_the_vars_file_are_checked(tmp_path, secrets_dir, text, fragment):
    """The role's argument specs run before the vars file is loaded: the connection settings it
    sets are checked after (validate_certs: maybe was taken as false: no TLS verification)."""
    result, out = render(tmp_path, secrets_dir, EXTRA=vars_file(tmp_path, text, replace=True))
    assert_refused(result, out, fragment)


def test_a_template_error_in_a_component_with_secrets_is_shown_not_hidden(tmp_path, secrets_dir):
    """Components with Secrets render under no_log (the real values are kept for the apply);
    a failure is rendered again with the Secrets redacted so that its message is shown."""
    result, out = render(tmp_path, secrets_dir, TAGS="postgres", EXTRA="-e model_common_labels={{nosuchvariable}}")
    assert_refused(result, out, "nosuchvariable", "is undefined")
    assert "the output has been hidden" in result.stdout  # the no_log render failed first
    password = yaml.safe_load((secrets_dir / "postgres.yml").read_text())["database-password"]
    assert password not in result.stdout + result.stderr


def test_missing_values_file_names_it_and_its_users(tmp_path, secrets_dir):
    """The app configuration's secret values (values.yml) are a secret file like the others."""
    partial = tmp_path / "secrets"
    partial.mkdir()
    for f in secrets_dir.iterdir():
        if f.name != "values.yml":
            (partial / f.name).write_bytes(f.read_bytes())
    result, out = render(tmp_path, partial, DEPLOYMENT="prod")
    assert_refused(result, out, f"{partial}/values.yml is missing (needed by secrets, packit-service, packit-worker")


def test_a_value_the_configuration_needs_is_named(tmp_path, secrets_dir):
    values = tmp_path / "secrets"
    values.mkdir()
    for f in secrets_dir.iterdir():
        (values / f.name).write_bytes(f.read_bytes())
    (values / "values.yml").write_text("packit_service: {webhook_secret: s3cret-only-this}\n")
    result, out = render(tmp_path, values, DEPLOYMENT="prod")
    assert_refused(result, out, "config/fedora.toml.j2", "fedora_messaging", "a value missing from")
    assert "s3cret-only-this" not in result.stdout + result.stderr


def test_a_config_file_in_the_secrets_directory_is_refused(tmp_path, secrets_dir):
    """upstream's layout (rendered packit-service.yaml, fedora.toml, ... beside the secrets)
    would be ignored: refused, naming the command that moves its values."""
    old = tmp_path / "secrets"
    old.mkdir()
    for f in secrets_dir.iterdir():
        (old / f.name).write_bytes(f.read_bytes())
    (old / "packit-service.yaml").write_text("deployment: prod\n")
    (old / "ssh_config").write_text("Host x\n")
    result, out = render(tmp_path, old, DEPLOYMENT="prod")
    assert_refused(result, out, f"{old}/packit-service.yaml, ssh_config: no longer read",
                   "make import-config DEPLOYMENT=prod moves your values")

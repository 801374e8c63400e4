"""playbooks/generate-local-secrets.yml run for real through ansible-playbook."""

from __future__ import annotations

import os
import re
import shutil
import stat
import uuid
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from scripts.secret_files import secret_files

REPO = Path(__file__).resolve().parents[2]
PLAYBOOK = REPO / "playbooks" / "generate-local-secrets.yml"
ANSIBLE_PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"
CHECK_CERTS = REPO / "scripts" / "check_certs.py"
RECAP = re.compile(r"^localhost\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=0\s+failed=(\d+)",
                   re.MULTILINE)


def run_playbook(*extra: str, playbook: Path = PLAYBOOK, service: str | None = None,
                 cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    env = {"PATH": f"{ANSIBLE_PLAYBOOK.parent}:/usr/bin:/bin", "HOME": os.environ.get("HOME", "/root"),
           "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.default", "ANSIBLE_NOCOLOR": "1",
           "ANSIBLE_LOCALHOST_WARNING": "0", "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0"}
    if service:
        env["SERVICE"] = service
    return subprocess.run([str(ANSIBLE_PLAYBOOK), str(playbook), *extra], capture_output=True,
                          text=True, timeout=300, env=env, cwd=cwd)


def changed(result: subprocess.CompletedProcess[str]) -> int:
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    match = RECAP.search(result.stdout)
    assert match, result.stdout[-2000:]
    return int(match.group(2))


def snapshot(directory: Path) -> dict[str, tuple[int, bytes, int]]:
    return {path.name: (path.stat().st_mtime_ns, path.read_bytes(), stat.S_IMODE(path.stat().st_mode))
            for path in sorted(directory.iterdir())}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """One run into an empty temp dir, without a local values file (defaults only)."""
    base = tmp_path_factory.mktemp("generated")
    target = base / "secrets" / "packit" / "dev"
    result = run_playbook("-e", f"secrets_dir={target}",
                          "-e", f"local_values_file={base / 'absent.yml'}")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    return target, result


def test_every_secret_file_exists_with_mode_0600(generated) -> None:
    target, result = generated
    assert changed(result) > 0
    # every file of the table of Secrets, and the CentOS client pair centos.cert is made of
    expected = [f.name for f in secret_files("packit")] + ["centos-client.crt", "centos-client.key"]
    assert sorted(p.name for p in target.iterdir()) == sorted(expected)
    for path in target.iterdir():
        assert path.is_file()
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE(target.stat().st_mode) == 0o700


def test_tls_pairs_pass_check_certs_with_the_dev_names(generated) -> None:
    target, _ = generated
    result = subprocess.run([sys.executable, str(CHECK_CERTS), "--dir", str(target)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SANs:      *.dev.packit.dev, dev.packit.dev" in result.stdout
    assert result.stdout.count("key:       matches") == 2
    # The broker CA placeholder is the self-signed client certificate itself.
    assert (target / "centos-server-ca.cert").read_bytes() == (target / "centos-client.crt").read_bytes()


def test_ssh_public_key_is_derived_from_the_private_key(generated) -> None:
    target, _ = generated
    private = serialization.load_ssh_private_key((target / "id_ed25519").read_bytes(), None)
    derived = private.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                                serialization.PublicFormat.OpenSSH).decode()
    assert (target / "id_ed25519.pub").read_text().split()[:2] == derived.split()[:2]
    assert (target / "id_ed25519.pub").read_text().startswith("ssh-ed25519 ")
    # And the real ssh-keygen agrees, when it is installed.
    if shutil.which("ssh-keygen"):
        out = subprocess.run(["ssh-keygen", "-y", "-f", str(target / "id_ed25519")],
                             capture_output=True, text=True, check=True).stdout
        assert out.split()[:2] == derived.split()[:2]


def test_configs_are_parseable_and_passwords_random(generated) -> None:
    target, _ = generated
    postgres = yaml.safe_load((target / "postgres.yml").read_text())
    assert set(postgres) == {"database-name", "database-user", "database-password"}
    redis = yaml.safe_load((target / "redis-commander.yml").read_text())
    assert set(redis) == {"http-user", "http-password"}
    user, _, flower = yaml.safe_load((target / "flower.yml").read_text())["basic-auth"].partition(":")
    assert user and len(flower) == 32
    passwords = {postgres["database-password"], redis["http-password"], flower}
    assert len(passwords) == 3 and all(len(p) >= 32 for p in passwords)
    # The app configuration's values (its templates are config/ of the repository).
    values = yaml.safe_load((target / "values.yml").read_text())
    assert set(values) == {"packit_service", "developer", "fedora_messaging", "centpkg_sig"}
    assert len(values["packit_service"]["webhook_secret"]) == 40
    assert str(uuid.UUID(values["fedora_messaging"]["queue"])) == values["fedora_messaging"]["queue"]
    assert values["developer"] == {"fas_user": "packit", "admins": []}
    assert set(yaml.safe_load((target / "aws.yml").read_text())) == {"access-key-id", "secret-access-key"}
    # the paths the values name are the ones the pods mount (tests/offline/test_pod_contract.py checks all)
    assert values["packit_service"]["authentication"]["github.com"]["github_app_private_key_path"] == \
        "/gh-secrets/private-key.pem"
    assert not {"packit-service.yaml", "fedora.toml", "ssh_config", "centpkg-sig.conf"} & {f.name for f in target.iterdir()}
    # the CentOS client PEM holds certificate and key, as the consumer reads it
    centos = (target / "centos.cert").read_bytes()
    assert x509.load_pem_x509_certificate(centos) and serialization.load_pem_private_key(centos, None)
    key = serialization.load_pem_private_key((target / "private-key.pem").read_bytes(), None)
    assert isinstance(key, rsa.RSAPrivateKey)


def test_rerun_changes_nothing(generated) -> None:
    target, _ = generated
    before = snapshot(target)
    result = run_playbook("-e", f"secrets_dir={target}",
                          "-e", f"local_values_file={target.parent / 'absent.yml'}")
    assert changed(result) == 0
    assert snapshot(target) == before


def test_secret_values_are_not_printed(generated) -> None:
    target, result = generated
    output = result.stdout + result.stderr
    postgres = yaml.safe_load((target / "postgres.yml").read_text())
    assert postgres["database-password"] not in output
    assert yaml.safe_load((target / "flower.yml").read_text())["basic-auth"].split(":")[1] not in output
    values = yaml.safe_load((target / "values.yml").read_text())
    assert values["packit_service"]["webhook_secret"] not in output
    assert values["fedora_messaging"]["queue"] not in output
    assert "PRIVATE KEY" not in output


def test_existing_files_and_local_values_are_respected(tmp_path: Path) -> None:
    target = tmp_path / "secrets" / "stream" / "dev"
    target.mkdir(parents=True)
    own_config = "# mine, keep it\n"
    (target / "values.yml").write_text(own_config)
    own_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    own_key_pem = own_key.private_bytes(serialization.Encoding.PEM,
                                        serialization.PrivateFormat.TraditionalOpenSSL,
                                        serialization.NoEncryption())
    (target / "privkey.pem").write_bytes(own_key_pem)
    app_key = tmp_path / "my-app.pem"
    app_key.write_bytes(rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption()))
    values = tmp_path / "local-values.yml"
    values.write_text(yaml.safe_dump({"github_app_private_key_path": str(app_key),
                                      "sentry_dsn": "https://abc@sentry.example/1",
                                      "fas_user": "jdoe", "github_app_id": 12345}))
    result = run_playbook("-e", f"secrets_dir={target}", "-e", f"local_values_file={values}",
                          service="stream")
    assert changed(result) > 0
    assert (target / "values.yml").read_text() == own_config
    assert (target / "privkey.pem").read_bytes() == own_key_pem
    assert (target / "private-key.pem").read_bytes() == app_key.read_bytes()
    assert (target / "sentry_key").read_text() == "https://abc@sentry.example/1\n"
    assert 'GITHUB_APP_ID = "12345"' in (target / "tokman-config.py").read_text()
    # The certificate was made for the key that was already there, with the stream names.
    cert = x509.load_pem_x509_certificate((target / "fullchain.pem").read_bytes())
    assert cert.public_key().public_numbers() == own_key.public_key().public_numbers()
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["*.dev.stream.packit.dev",
                                                      "dev.stream.packit.dev"]
    assert stat.S_IMODE((target / "values.yml").stat().st_mode) == 0o600


@pytest.mark.parametrize(("values", "message"), [
    ({"github_app_private_key_path": "/nonexistent/app.pem"},
     "github_app_private_key_path /nonexistent/app.pem is not a readable file"),
    ({"sentry_dns": "typo"}, "unknown key(s) sentry_dns"),
])
def test_bad_local_values_fail_and_write_nothing(tmp_path: Path, values: dict, message: str) -> None:
    target = tmp_path / "secrets" / "packit" / "dev"
    local_values = tmp_path / "local-values.yml"
    local_values.write_text(yaml.safe_dump(values))
    result = run_playbook("-e", f"secrets_dir={target}", "-e", f"local_values_file={local_values}")
    assert result.returncode != 0
    assert message in result.stdout
    assert str(local_values) in result.stdout
    assert not target.exists() and not (tmp_path / "secrets").exists()


def test_unknown_service_fails_and_writes_nothing(tmp_path: Path) -> None:
    target = tmp_path / "secrets" / "nope" / "dev"
    result = run_playbook("-e", f"secrets_dir={target}", service="nope")
    assert result.returncode != 0
    assert "SERVICE=nope is not a service: use one of packit, stream" in result.stdout
    assert not (tmp_path / "secrets").exists()


def test_default_target_in_the_repo_is_ignored_by_git(tmp_path: Path) -> None:
    """Copy the committed layout into a fresh git repository and run with the default target."""
    clone = tmp_path / "repo"
    for relative in (".gitignore", "ansible.cfg", "playbooks/generate-local-secrets.yml",
                     "secrets/local-values_template.yml", "scripts/secret_files.py",
                     "roles/model/vars/main.yml"):
        (clone / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / relative, clone / relative)
    shutil.copytree(REPO / "secrets" / "templates", clone / "secrets" / "templates")
    shutil.copytree(REPO / "collections", clone / "collections", ignore=shutil.ignore_patterns("__pycache__"))
    git = ["git", "-C", str(clone), "-c", "user.name=test", "-c", "user.email=test@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "layout"], check=True)

    result = run_playbook(playbook=clone / "playbooks" / "generate-local-secrets.yml", cwd=clone)
    assert changed(result) > 0
    written = sorted((clone / "secrets" / "packit" / "dev").iterdir())
    expected = [f.name for f in secret_files("packit")] + ["centos-client.crt", "centos-client.key"]
    assert sorted(p.name for p in written) == sorted(expected)

    # Nothing shows up as untracked, `git add -A` stages none of it, and every file is ignored.
    status = subprocess.run([*git, "status", "--porcelain"], capture_output=True, text=True,
                            check=True).stdout
    assert status == ""
    subprocess.run([*git, "add", "-A"], check=True)
    tracked = subprocess.run([*git, "ls-files", "secrets/packit"], capture_output=True, text=True,
                             check=True).stdout
    assert tracked == ""
    relative = [str(p.relative_to(clone)) for p in written]
    ignored = subprocess.run([*git, "check-ignore", *relative], capture_output=True, text=True)
    assert ignored.returncode == 0
    assert sorted(ignored.stdout.split()) == sorted(relative)
    # The committed templates are not ignored.
    assert subprocess.run([*git, "check-ignore", "secrets/templates/postgres.yml.j2",
                           "secrets/local-values_template.yml"]).returncode == 1


def test_every_template_renders_a_secret_file_of_the_table() -> None:
    """The generator renders secrets/templates/<file>.j2 for the files the table lists; a
    template for a file no Secret reads would be dead."""
    templates = {p.name.removesuffix(".j2") for p in (REPO / "secrets" / "templates").iterdir()}
    listed = {f.name for service in ("packit", "stream") for f in secret_files(service)}
    assert templates <= listed

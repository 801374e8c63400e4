"""scripts/check_certs.py run for real on certificates made here."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "check_certs.py"
NOW = dt.datetime.now(dt.timezone.utc)


def new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def make_cert(key: object, common_name: str, *, days_left: float, sans: tuple[str, ...] = (),
              issuer_key: object | None = None, issuer_name: str | None = None,
              not_before: dt.datetime | None = None) -> x509.Certificate:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    issuer = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_name or common_name)])
    builder = (x509.CertificateBuilder()
               .subject_name(subject).issuer_name(issuer)
               .public_key(key.public_key())  # type: ignore[attr-defined]
               .serial_number(x509.random_serial_number())
               .not_valid_before(not_before or NOW - dt.timedelta(days=30))
               .not_valid_after(NOW + dt.timedelta(days=days_left)))
    if sans:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(name) for name in sans]), critical=False)
    return builder.sign(issuer_key or key, hashes.SHA256())  # type: ignore[arg-type]


def pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def key_pem(key: object) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM,  # type: ignore[attr-defined]
                             serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def write_pair(directory: Path, cert_name: str, key_name: str, *, days_left: float = 80,
               sans: tuple[str, ...] = (), mismatched: bool = False) -> None:
    key = new_key()
    cert = make_cert(key, sans[0] if sans else cert_name, days_left=days_left, sans=sans)
    key_bytes = key_pem(new_key() if mismatched else key)
    if cert_name == key_name:   # one PEM with both, as the CentOS consumer reads it
        (directory / cert_name).write_bytes(pem(cert) + key_bytes)
        return
    (directory / cert_name).write_bytes(pem(cert))
    (directory / key_name).write_bytes(key_bytes)


@pytest.fixture
def secrets(tmp_path: Path) -> Path:
    """A deployment directory with both valid pairs and the CA file, as in the repo."""
    directory = tmp_path / "secrets" / "packit" / "prod"
    directory.mkdir(parents=True)
    # The service pair is a leaf plus its intermediate, like certbot's fullchain.pem.
    ca_key, leaf_key = rsa.generate_private_key(public_exponent=65537, key_size=2048), new_key()
    intermediate = make_cert(ca_key, "Test Intermediate R1", days_left=900)
    leaf = make_cert(leaf_key, "*.prod.packit.dev", days_left=60,
                     sans=("*.prod.packit.dev", "prod.packit.dev"),
                     issuer_key=ca_key, issuer_name="Test Intermediate R1")
    (directory / "fullchain.pem").write_bytes(pem(leaf) + pem(intermediate))
    (directory / "privkey.pem").write_bytes(key_pem(leaf_key))
    write_pair(directory, "centos.cert", "centos.cert", days_left=300)
    (directory / "centos-server-ca.cert").write_bytes(pem(make_cert(new_key(), "CentOS CA", days_left=1000)))
    return directory


def run(*args: str, days_env: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin"}
    if days_env is not None:
        env["DAYS"] = days_env
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True,
                          timeout=60, env=env)


def test_valid_pairs_are_described_and_pass(secrets: Path) -> None:
    result = run("--dir", str(secrets))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "subject:   CN=*.prod.packit.dev" in out
    assert "SANs:      *.prod.packit.dev, prod.packit.dev" in out
    assert "issuer:    CN=Test Intermediate R1" in out
    assert f"not after: {(NOW + dt.timedelta(days=60)):%Y-%m-%d}" in out
    assert "days left: 59" in out or "days left: 60" in out
    assert out.count("key:       matches") == 2
    assert "chain:     2 certificate(s)" in out
    assert "centos-server-ca.cert" in out
    assert result.stderr == ""


def test_default_directory_follows_service_and_deployment(secrets: Path) -> None:
    root = secrets.parent.parent.parent
    result = run("--root", str(root), "--service", "packit", "--deployment", "prod")
    assert result.returncode == 0, result.stderr
    result = run("--root", str(root), "--service", "stream", "--deployment", "prod")
    assert result.returncode == 2
    assert "secrets/stream/prod: no such directory" in result.stderr


def test_expiring_certificate_fails_within_threshold(secrets: Path) -> None:
    write_pair(secrets, "fullchain.pem", "privkey.pem", days_left=10, sans=("prod.packit.dev",))
    result = run("--dir", str(secrets))
    assert result.returncode == 1
    assert "fullchain.pem: certificate expires in 9 days (threshold 14 days)" in result.stderr
    assert "days left: 9" in result.stdout
    # A smaller threshold, from the option or from DAYS, lets it pass.
    assert run("--dir", str(secrets), "--days", "5").returncode == 0
    assert run("--dir", str(secrets), days_env="5").returncode == 0
    assert run("--dir", str(secrets), days_env="30").returncode == 1


def test_expired_certificate_fails(secrets: Path) -> None:
    write_pair(secrets, "centos.cert", "centos.cert", days_left=-3)
    result = run("--dir", str(secrets), "--days", "0")
    assert result.returncode == 1
    assert "centos.cert: certificate expired on" in result.stderr


def test_expired_intermediate_and_ca_fail(secrets: Path) -> None:
    ca_key, leaf_key = new_key(), new_key()
    expired_intermediate = make_cert(ca_key, "Old Intermediate", days_left=-1)
    leaf = make_cert(leaf_key, "prod.packit.dev", days_left=60, issuer_key=ca_key,
                     issuer_name="Old Intermediate")
    (secrets / "fullchain.pem").write_bytes(pem(leaf) + pem(expired_intermediate))
    (secrets / "privkey.pem").write_bytes(key_pem(leaf_key))
    (secrets / "centos-server-ca.cert").write_bytes(pem(make_cert(new_key(), "CentOS CA", days_left=-9)))
    result = run("--dir", str(secrets))
    assert result.returncode == 1
    assert "chain certificate 1 (CN=Old Intermediate) expired" in result.stderr
    assert "centos-server-ca.cert: CA CN=CentOS CA expired" in result.stderr


def test_not_yet_valid_certificate_fails(secrets: Path) -> None:
    key = new_key()
    cert = make_cert(key, "future", days_left=90, not_before=NOW + dt.timedelta(days=2))
    (secrets / "centos.cert").write_bytes(pem(cert) + key_pem(key))
    result = run("--dir", str(secrets))
    assert result.returncode == 1
    assert "centos.cert: certificate is not valid before" in result.stderr


def test_mismatched_key_fails(secrets: Path) -> None:
    write_pair(secrets, "centos.cert", "centos.cert", mismatched=True)
    result = run("--dir", str(secrets))
    assert result.returncode == 1
    assert f"{secrets / 'centos.cert'}: private key does not match" in result.stderr
    assert "key:       DOES NOT MATCH" in result.stdout


def test_rsa_key_of_another_type_is_a_mismatch(secrets: Path) -> None:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (secrets / "privkey.pem").write_bytes(key_pem(rsa_key))
    result = run("--dir", str(secrets))
    assert result.returncode == 1
    assert "privkey.pem: private key does not match" in result.stderr


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: (d / "privkey.pem").unlink(), "privkey.pem: missing, but fullchain.pem is there"),
    (lambda d: (d / "centos.cert").write_text("garbage\n"), "centos.cert: no PEM certificate"),
    (lambda d: (d / "centos.cert").write_bytes(pem(make_cert(new_key(), "c", days_left=9))),
     "centos.cert: not a PEM private key"),
    (lambda d: [(d / n).unlink() for n in os.listdir(d)], "no TLS pair found"),
])
def test_bad_input_is_one_line_and_exit_2(secrets: Path, change, message: str) -> None:
    change(secrets)
    result = run("--dir", str(secrets))
    assert result.returncode == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_encrypted_key_is_refused(secrets: Path) -> None:
    key = new_key()
    (secrets / "fullchain.pem").write_bytes(pem(make_cert(key, "x", days_left=90)))
    (secrets / "privkey.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"passphrase")))
    result = run("--dir", str(secrets))
    assert result.returncode == 2
    assert "privkey.pem: the private key is encrypted" in result.stderr


def test_usage_errors(secrets: Path) -> None:
    result = run()
    assert result.returncode == 2 and "DEPLOYMENT is not set" in result.stderr
    result = run("--dir", str(secrets), days_env="soon")
    assert result.returncode == 2 and "DAYS" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


REPO = SCRIPT.parent.parent


@pytest.mark.parametrize("target", ["check-certs", "zuul-secrets"])
def test_make_targets_require_deployment(target: str) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DEPLOYMENT", "MAKEFLAGS")}
    result = subprocess.run(["make", "-s", target], cwd=REPO, capture_output=True, text=True,
                            env=env, timeout=120)
    assert result.returncode != 0
    # The first line is the message; make adds its own "Error 2" line after it.
    assert result.stderr.startswith("DEPLOYMENT is not set: one of dev, stg, prod")


def test_make_check_certs_passes_days_through(secrets: Path) -> None:
    """`make check-certs` runs the script for SERVICE/DEPLOYMENT with DAYS as the threshold."""
    result = subprocess.run(["make", "-s", "-n", "check-certs", "SERVICE=stream",
                             "DEPLOYMENT=prod", "DAYS=30"], cwd=REPO, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    command = " ".join(result.stdout.replace("\\\n", " ").split())
    assert '-m scripts.check_certs --service "stream" --deployment "prod" --days "30"' in command

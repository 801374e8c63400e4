"""The check of a deployment's TLS pairs (scripts/check_certs.py, make check-certs; the
check_certs action runs it in the deploy): expiry within some days, and whether each key
belongs to its certificate. Needs the cryptography package (a dependency of ansible-core)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

try:
    from cryptography import x509
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization

    HAS_CRYPTOGRAPHY = True
except ImportError:  # ansible-core requires it; the action says so should it be missing
    HAS_CRYPTOGRAPHY = False

# (certificate, key): the service's TLS pair, and the CentOS MQTT client whose consumer reads
# certificate and key from one PEM file.
TLS_PAIRS = (
    ("fullchain.pem", "privkey.pem"),
    ("centos.cert", "centos.cert"),
)
CA_FILES = ("centos-server-ca.cert",)
DEFAULT_DAYS = 14


class InputError(Exception):
    """Bad input; the message is one line naming the file to fix."""


@dataclass
class Report:
    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def load_certificates(path: Path) -> list[x509.Certificate]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        certificates = x509.load_pem_x509_certificates(data)
    except ValueError:
        raise InputError(f"{path}: no PEM certificate in it") from None
    return certificates


def load_private_key(path: Path) -> object:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        return serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise InputError(f"{path}: the private key is encrypted; a deployment needs it "
                         "without a passphrase") from None
    except (ValueError, UnsupportedAlgorithm):
        raise InputError(f"{path}: not a PEM private key") from None


def public_key_bytes(key: object) -> bytes:
    return key.public_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def subject_alt_names(certificate: x509.Certificate) -> list[str]:
    try:
        extension = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return []
    names: list[str] = [str(name) for name in extension.value.get_values_for_type(x509.DNSName)]
    names += [str(ip) for ip in extension.value.get_values_for_type(x509.IPAddress)]
    return names


def check_validity(path: Path, certificate: x509.Certificate, label: str, days: int,
                   now: dt.datetime, report: Report) -> dt.timedelta:
    left = certificate.not_valid_after_utc - now
    if certificate.not_valid_before_utc > now:
        report.problems.append(f"{path}: {label} is not valid before "
                               f"{certificate.not_valid_before_utc:%Y-%m-%d %H:%M} UTC")
    if left <= dt.timedelta(0):
        report.problems.append(f"{path}: {label} expired on "
                               f"{certificate.not_valid_after_utc:%Y-%m-%d %H:%M} UTC")
    elif left < dt.timedelta(days=days):
        report.problems.append(f"{path}: {label} expires in {left.days} days "
                               f"(threshold {days} days); renew it (docs/certificates.md)")
    return left


def check_pair(directory: Path, cert_name: str, key_name: str, days: int, now: dt.datetime,
               report: Report) -> None:
    cert_path, key_path = directory / cert_name, directory / key_name
    certificates = load_certificates(cert_path)
    key = load_private_key(key_path)
    leaf = certificates[0]
    left = check_validity(cert_path, leaf, "certificate", days, now, report)
    for index, extra in enumerate(certificates[1:], start=1):
        check_validity(cert_path, extra, f"chain certificate {index} ({extra.subject.rfc4514_string()})",
                       days, now, report)
    key_public = key.public_key()  # type: ignore[attr-defined]
    matches = public_key_bytes(leaf.public_key()) == public_key_bytes(key_public)
    if not matches:
        report.problems.append(f"{key_path}: private key does not match {cert_path}")
    report.lines += [
        f"{cert_path} + {key_name}",
        f"  subject:   {leaf.subject.rfc4514_string()}",
        f"  SANs:      {', '.join(subject_alt_names(leaf)) or '(none)'}",
        f"  issuer:    {leaf.issuer.rfc4514_string()}",
        f"  not after: {leaf.not_valid_after_utc:%Y-%m-%d %H:%M} UTC",
        f"  days left: {left.days}",
        f"  key:       {'matches' if matches else 'DOES NOT MATCH'}",
        f"  chain:     {len(certificates)} certificate(s)",
    ]


def check_directory(directory: Path, days: int, now: dt.datetime) -> Report:
    if not directory.is_dir():
        raise InputError(f"{directory}: no such directory (fill it as secrets/README.md says)")
    report = Report()
    pairs = 0
    for cert_name, key_name in TLS_PAIRS:
        cert_exists, key_exists = (directory / cert_name).exists(), (directory / key_name).exists()
        if cert_exists != key_exists:
            present, absent = (cert_name, key_name) if cert_exists else (key_name, cert_name)
            raise InputError(f"{directory / absent}: missing, but {present} is there "
                             "(a TLS pair needs both files)")
        if cert_exists:
            pairs += 1
            check_pair(directory, cert_name, key_name, days, now, report)
    if not pairs:
        raise InputError(f"{directory}: no TLS pair found (expected e.g. fullchain.pem + privkey.pem)")
    for ca_name in CA_FILES:
        ca_path = directory / ca_name
        if ca_path.exists():
            for certificate in load_certificates(ca_path):
                left = check_validity(ca_path, certificate,
                                      f"CA {certificate.subject.rfc4514_string()}", days, now,
                                      report)
                report.lines.append(f"{ca_path}: {certificate.subject.rfc4514_string()}, "
                                    f"{left.days} days left")
    return report

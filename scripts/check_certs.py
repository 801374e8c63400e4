#!/usr/bin/env python3
"""Show the TLS pairs of a deployment's secrets and fail on expiry or mismatch.

For every pair present in the directory (fullchain.pem + privkey.pem, and
centos.cert, which holds certificate and key in one PEM) print the
leaf certificate's subject, SANs, issuer, not-after and days left, and check
that the private key belongs to it. A CA file present (centos-server-ca.cert)
and the rest of a chain are checked for expiry as well.

Exit codes: 0 all good, 1 a certificate is expired, not yet valid, expires
within --days, or does not match its key; 2 bad input (unreadable files, no
pair found, half a pair).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

REPO_ROOT = Path(__file__).resolve().parent.parent
SERVICES = ("packit", "stream")
DEPLOYMENTS = ("dev", "stg", "prod")
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


def days_default() -> int:
    value = os.environ.get("DAYS") or str(DEFAULT_DAYS)
    try:
        return int(value)
    except ValueError:
        return -1  # reported by main() with the variable's name


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--service", default=os.environ.get("SERVICE") or "packit",
                        choices=SERVICES)
    parser.add_argument("--deployment", default=os.environ.get("DEPLOYMENT") or None,
                        choices=DEPLOYMENTS)
    parser.add_argument("--root", type=Path, default=REPO_ROOT,
                        help="repository root holding secrets/")
    parser.add_argument("--dir", type=Path, dest="directory",
                        help="check this directory instead of secrets/<service>/<deployment>")
    parser.add_argument("--days", type=int, default=days_default(),
                        help=f"fail when a certificate expires within this many days "
                             f"(default: DAYS or {DEFAULT_DAYS})")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        if args.days < 0:
            raise InputError(f"DAYS / --days must be a whole number of days >= 0, "
                             f"got {os.environ.get('DAYS') if args.days == -1 else args.days!r}")
        if args.directory is None:
            if not args.deployment:
                raise InputError("DEPLOYMENT is not set: pass --deployment, set DEPLOYMENT "
                                 "or pass --dir")
            args.directory = args.root / "secrets" / args.service / args.deployment
        report = check_directory(args.directory, args.days, dt.datetime.now(dt.timezone.utc))
    except InputError as exc:
        print(f"check_certs: {exc}", file=sys.stderr)
        return 2
    print("\n".join(report.lines))
    for problem in report.problems:
        print(f"check_certs: {problem}", file=sys.stderr)
    if report.problems:
        return 1
    print(f"OK: every certificate is valid for at least {args.days} more days and matches its key")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Certificates and keys of the local control plane.

Two certificate authorities live in the PKI directory: `ca` signs every serving
and client certificate, `front-proxy-ca` signs only the client certificate the
kube-apiserver presents when it proxies to an aggregated API server (the
request-header authentication of openshift-apiserver trusts that CA alone).
Files are created once and kept across restarts; a leaf whose CA is newer than
itself, or whose names changed, is issued again. Private keys are written 0600.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from localcluster import openshift
from localcluster.layout import HOST, REAL_NODE_IP, REAL_NODE_NAME, SERVICE_FIRST_IP, Layout


def write_private(path: Path, data: bytes) -> None:
    """Write a file only its owner can read, whatever the umask."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(path, 0o600)


def key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _key_usage(ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=True, key_encipherment=not ca, key_cert_sign=ca, crl_sign=ca,
                         content_commitment=False, data_encipherment=False, key_agreement=False,
                         encipher_only=False, decipher_only=False)


def certificate(subject: str, key: ec.EllipticCurvePrivateKey, issuer: x509.Certificate | None,
                issuer_key: ec.EllipticCurvePrivateKey | None, sans: Iterable[x509.GeneralName] = (),
                ca: bool = False, server: bool = True, client: bool = False,
                organization: str | None = None) -> x509.Certificate:
    """A CA (self-signed when no issuer) or a leaf for server and/or client use."""
    now = datetime.datetime.now(datetime.timezone.utc)
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, subject)]
    if organization:
        attributes.insert(0, x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    name = x509.Name(attributes)
    builder = (x509.CertificateBuilder()
               .subject_name(name)
               .issuer_name(issuer.subject if issuer else name)
               .public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(hours=1))
               .not_valid_after(now + datetime.timedelta(days=3650 if ca else 825))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
               .add_extension(_key_usage(ca), critical=True))
    if not ca:
        usages = ([ExtendedKeyUsageOID.SERVER_AUTH] if server else []) + \
                 ([ExtendedKeyUsageOID.CLIENT_AUTH] if client else [])
        builder = builder.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
    sans = list(sans)
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(issuer_key or key, hashes.SHA256())


def names(dns: Iterable[str] = (), ips: Iterable[str] = ()) -> list[x509.GeneralName]:
    return [x509.DNSName(n) for n in dns] + [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]


@dataclass(frozen=True)
class Leaf:
    """One certificate to issue: file stem, CA stem, subject, names and uses."""

    stem: str
    ca: str
    subject: str
    dns: tuple[str, ...] = ()
    ips: tuple[str, ...] = ()
    server: bool = True
    client: bool = False
    organization: str | None = None


def ensure_ca(pki: Path, stem: str) -> None:
    if (pki / f"{stem}.crt").exists() and (pki / f"{stem}.key").exists():
        return
    key = ec.generate_private_key(ec.SECP256R1())
    cert = certificate(f"local-cluster-{stem}", key, None, None, ca=True)
    write_private(pki / f"{stem}.key", key_pem(key))
    (pki / f"{stem}.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _current(pki: Path, leaf: Leaf) -> bool:
    """The leaf exists, was signed by the present CA and carries the wanted names."""
    crt, key = pki / f"{leaf.stem}.crt", pki / f"{leaf.stem}.key"
    if not (crt.exists() and key.exists()):
        return False
    cert = x509.load_pem_x509_certificate(crt.read_bytes())
    ca = x509.load_pem_x509_certificate((pki / f"{leaf.ca}.crt").read_bytes())
    if cert.issuer != ca.subject:
        return False
    try:
        ca.public_key().verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm))
    except Exception:  # noqa: BLE001 - any failure means: issue it again
        return False
    try:
        present = set(cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value)
    except x509.ExtensionNotFound:
        present = set()
    return present == set(names(leaf.dns, leaf.ips))


def ensure_leaf(pki: Path, leaf: Leaf) -> None:
    if _current(pki, leaf):
        return
    ca_key = serialization.load_pem_private_key((pki / f"{leaf.ca}.key").read_bytes(), None)
    ca_cert = x509.load_pem_x509_certificate((pki / f"{leaf.ca}.crt").read_bytes())
    key = ec.generate_private_key(ec.SECP256R1())
    cert = certificate(leaf.subject, key, ca_cert, ca_key, sans=names(leaf.dns, leaf.ips),
                       server=leaf.server, client=leaf.client, organization=leaf.organization)
    write_private(pki / f"{leaf.stem}.key", key_pem(key))
    (pki / f"{leaf.stem}.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def ensure_service_account_keys(pki: Path) -> None:
    if (pki / "sa.key").exists():
        return
    key = ec.generate_private_key(ec.SECP256R1())
    write_private(pki / "sa.key", key_pem(key))
    (pki / "sa.pub").write_bytes(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))


# Every certificate of the cluster: serving certificates, etcd's client certificate and
# the front-proxy client certificate the aggregator presents to openshift-apiserver.
LEAVES = (
    Leaf("apiserver", "ca", "kube-apiserver",
         dns=("localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
              "kubernetes.default.svc.cluster.local"), ips=(HOST, SERVICE_FIRST_IP)),
    Leaf("etcd-server", "ca", "etcd", dns=("localhost",), ips=(HOST,), client=True),
    Leaf("etcd-client", "ca", "etcd-client", server=False, client=True),
    Leaf("front-proxy-client", "front-proxy-ca", "front-proxy-client", server=False, client=True),
    Leaf("openshift-apiserver", "ca", "openshift-apiserver",
         dns=(f"{openshift.SERVICE}.{openshift.NAMESPACE}.svc",
              f"{openshift.SERVICE}.{openshift.NAMESPACE}.svc.cluster.local", "localhost"), ips=(HOST,)),
    Leaf("openshift-controller-manager", "ca", "openshift-controller-manager", dns=("localhost",), ips=(HOST,)),
    Leaf("registry", "ca", "local-registry", dns=("localhost",), ips=(HOST,)),
    # The real node: the kubelet's serving certificate, and the API server's client
    # certificate for the kubelet (logs, exec, port-forward).
    Leaf("kubelet", "ca", REAL_NODE_NAME, dns=(REAL_NODE_NAME,), ips=(REAL_NODE_IP,)),
    Leaf("apiserver-kubelet-client", "ca", "kube-apiserver-kubelet-client", server=False, client=True,
         organization="system:masters"),
)


def ensure_pki(layout: Layout) -> None:
    """CAs, certificates and the service-account key pair (kept across restarts), and the
    cluster CA where clients find it (layout.ca_cert)."""
    pki = layout.pki_dir
    pki.mkdir(parents=True, exist_ok=True)
    for ca in ("ca", "front-proxy-ca"):
        ensure_ca(pki, ca)
    for leaf in LEAVES:
        ensure_leaf(pki, leaf)
    ensure_service_account_keys(pki)
    shutil.copyfile(pki / "ca.crt", layout.ca_cert)

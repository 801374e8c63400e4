#!/usr/bin/env python3
"""Encrypt a deployment's secret files as a Zuul secret.

The public key of the Zuul project is fetched from the Zuul API (or read from
a local file), every secret file is encrypted with RSA PKCS#1 OAEP (SHA-1,
MGF1-SHA1) in chunks of (key bytes - 42) plaintext bytes, and the result is
written as one ``- secret:`` YAML document whose data maps each file name to a
``!encrypted/pkcs1-oaep`` list of base64 chunks.

Zuul decodes every decrypted chunk as UTF-8 on its own, so chunks are cut only
at UTF-8 character boundaries and files must be UTF-8 text.

Exit codes: 0 written, 2 bad input (missing file, bad key, unreachable Zuul);
nothing is written unless every file was encrypted.
"""

from __future__ import annotations

import argparse
import base64
import os
import sys
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path

import requests
import yaml
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from scripts.secret_files import secret_files

REPO_ROOT = Path(__file__).resolve().parent.parent
SERVICES = ("packit", "stream")
DEPLOYMENTS = ("dev", "stg", "prod")
DEFAULT_ZUUL_URL = "https://softwarefactory-project.io/zuul"
DEFAULT_ZUUL_TENANT = "packit-service"
DEFAULT_ZUUL_PROJECT = "packit-service/deployment"
# PKCS#1 OAEP with SHA-1 costs 2 * 20 + 2 bytes of every RSA block.
OAEP_SHA1_OVERHEAD = 42
WRAP_WIDTH = 79


class InputError(Exception):
    """Bad input; the message is one line naming what to fix."""


@dataclass(frozen=True)
class ZuulTarget:
    url: str
    tenant: str
    project: str

    @property
    def key_url(self) -> str:
        return f"{self.url.rstrip('/')}/api/tenant/{self.tenant}/key/{self.project}.pub"


def read_zuul_target(vars_file: Path, args: argparse.Namespace) -> ZuulTarget:
    """Zuul settings: command line, else the vars file, else the defaults."""
    settings: dict = {}
    if vars_file.is_file():
        try:
            loaded = yaml.safe_load(vars_file.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise InputError(f"{vars_file}: not valid YAML ({type(exc).__name__})") from None
        if loaded is not None and not isinstance(loaded, dict):
            raise InputError(f"{vars_file}: expected a mapping of settings")
        settings = loaded or {}
    values = {}
    for key, default in (
        ("zuul_url", DEFAULT_ZUUL_URL),
        ("zuul_tenant", DEFAULT_ZUUL_TENANT),
        ("zuul_project", DEFAULT_ZUUL_PROJECT),
    ):
        value = getattr(args, key) or settings.get(key) or default
        if not isinstance(value, str) or not value.strip():
            raise InputError(f"{vars_file}: {key} must be a non-empty string")
        values[key] = value.strip()
    return ZuulTarget(values["zuul_url"], values["zuul_tenant"], values["zuul_project"])


def fetch_public_key(target: ZuulTarget, timeout: float) -> bytes:
    url = target.key_url
    try:
        response = requests.get(url, timeout=timeout)
    except requests.ConnectionError:
        raise InputError(f"cannot fetch the Zuul project key from {url}: connection failed "
                         "(check zuul_url)") from None
    except requests.RequestException as exc:
        raise InputError(f"cannot fetch the Zuul project key from {url}: "
                         f"{type(exc).__name__}") from None
    if response.status_code != 200:
        raise InputError(f"cannot fetch the Zuul project key from {url}: HTTP "
                         f"{response.status_code} (check zuul_url, zuul_tenant, zuul_project)")
    return response.content


def load_rsa_public_key(data: bytes, origin: str) -> rsa.RSAPublicKey:
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError):
        raise InputError(f"{origin}: not a PEM public key") from None
    if not isinstance(key, rsa.RSAPublicKey):
        kind = "an elliptic-curve" if isinstance(key, ec.EllipticCurvePublicKey) else "a non-RSA"
        raise InputError(f"{origin}: {kind} key; Zuul project keys are RSA")
    return key


def utf8_chunks(data: bytes, limit: int) -> list[bytes]:
    """Split UTF-8 bytes into pieces of at most `limit` bytes, never inside a character."""
    chunks = []
    start = 0
    while start < len(data):
        end = min(start + limit, len(data))
        # Step back over continuation bytes (10xxxxxx) so the cut sits before a lead byte.
        while end < len(data) and end > start and (data[end] & 0xC0) == 0x80:
            end -= 1
        chunks.append(data[start:end])
        start = end
    return chunks


def encrypt(data: bytes, key: rsa.RSAPublicKey) -> list[str]:
    limit = key.key_size // 8 - OAEP_SHA1_OVERHEAD
    oaep = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA1()),
                        algorithm=hashes.SHA1(), label=None)
    # An empty file still gets one chunk, so every value decrypts to its text.
    return [base64.b64encode(key.encrypt(chunk, oaep)).decode("ascii")
            for chunk in utf8_chunks(data, limit) or [b""]]


def read_secret_files(directory: Path, names: list[str]) -> dict[str, bytes]:
    contents = {}
    for name in names:
        path = directory / name
        if not path.is_file():
            raise InputError(f"{path}: secret file missing (see secrets/README.md)")
        data = path.read_bytes()
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            raise InputError(f"{path}: not UTF-8 text; Zuul secrets carry text only") from None
        contents[name] = data
    return contents


def render_secret(name: str, encrypted: dict[str, list[str]]) -> str:
    wrapper = textwrap.TextWrapper(width=WRAP_WIDTH, initial_indent=" " * 8,
                                   subsequent_indent=" " * 10, break_on_hyphens=False)
    lines = ["# Generated by `make zuul-secrets`; encrypted for the Zuul project's key.",
             "- secret:", f"    name: {name}", "    data:"]
    for file_name, chunks in encrypted.items():
        lines.append(f"      {yaml.safe_dump(file_name).splitlines()[0]}: !encrypted/pkcs1-oaep")
        lines.extend(wrapper.fill(f"- {chunk}") for chunk in chunks)
    return "\n".join(lines) + "\n"


def write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--service", default=os.environ.get("SERVICE") or "packit",
                        choices=SERVICES)
    parser.add_argument("--deployment", default=os.environ.get("DEPLOYMENT") or None,
                        choices=DEPLOYMENTS, help="required (or DEPLOYMENT in the environment)")
    parser.add_argument("--root", type=Path, default=REPO_ROOT,
                        help="repository root holding vars/ and secrets/")
    parser.add_argument("--secrets-dir", type=Path,
                        help="default: <root>/secrets/<service>/<deployment>")
    parser.add_argument("--file", action="append", dest="files", metavar="NAME",
                        help="encrypt only this file (repeatable); default: every secret file")
    parser.add_argument("--zuul-url", dest="zuul_url", help="overrides zuul_url from the vars file")
    parser.add_argument("--tenant", dest="zuul_tenant", help="overrides zuul_tenant")
    parser.add_argument("--project", dest="zuul_project", help="overrides zuul_project")
    parser.add_argument("--key-file", type=Path,
                        help="PEM public key of the project, instead of asking Zuul")
    parser.add_argument("--name", help="secret name; default: <service>_<deployment>_secrets")
    parser.add_argument("--output", type=Path,
                        help="default: <root>/zuul-secrets/<service>-<deployment>.yaml")
    parser.add_argument("--timeout", type=float, default=30.0, help="HTTP timeout in seconds")
    return parser.parse_args(argv)


def run(args: argparse.Namespace) -> Path:
    vars_file = args.root / "vars" / args.service / f"{args.deployment}.yml"
    secrets_dir = args.secrets_dir or args.root / "secrets" / args.service / args.deployment
    output = args.output or args.root / "zuul-secrets" / f"{args.service}-{args.deployment}.yaml"
    # Every secret file of the service (roles/model/vars/main.yml): those only optional
    # components need are taken when present.
    names = args.files or [f.name for f in secret_files(args.service)
                           if not f.optional or (secrets_dir / f.name).is_file()]
    for name in names:
        if not name or "/" in name or name.startswith("."):
            raise InputError(f"--file {name!r}: expected a plain file name inside {secrets_dir}")

    contents = read_secret_files(secrets_dir, names)
    if args.key_file:
        try:
            key_data = args.key_file.read_bytes()
        except OSError as exc:
            raise InputError(f"{args.key_file}: cannot read the key file ({exc.strerror})") from None
        key = load_rsa_public_key(key_data, str(args.key_file))
    else:
        target = read_zuul_target(vars_file, args)
        key = load_rsa_public_key(fetch_public_key(target, args.timeout), target.key_url)
    if key.key_size // 8 - OAEP_SHA1_OVERHEAD < 4:
        raise InputError(f"key of {key.key_size} bits is too small for PKCS#1 OAEP")

    encrypted = {name: encrypt(data, key) for name, data in contents.items()}
    name = args.name or f"{args.service}_{args.deployment}_secrets"
    write_atomically(output, render_secret(name, encrypted))
    return output


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        if not args.deployment:
            raise InputError("DEPLOYMENT is not set: pass --deployment or set DEPLOYMENT "
                             "(dev, stg, prod)")
        output = run(args)
    except InputError as exc:
        print(f"zuul_secrets: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

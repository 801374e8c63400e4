"""scripts/zuul_secrets.py run for real against a Zuul-like key server on loopback."""

from __future__ import annotations

import base64
import random
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import pytest
import yaml
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from scripts import zuul_secrets
from scripts.secret_files import secret_files

REPO = Path(__file__).resolve().parents[2]
TENANT = "packit-service"
PROJECT = "packit-service/deployment"
KEY_PATH = f"/zuul/api/tenant/{TENANT}/key/{PROJECT}.pub"


class KeyServer:
    """A real HTTP server on 127.0.0.1 that serves one public key like Zuul's API."""

    def __init__(self, pem: bytes) -> None:
        self.pem = pem
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server API)
                server.requests.append(self.path)
                if self.path == KEY_PATH:
                    self.send_response(200)
                    self.send_header("Content-Type", "text/plain")
                    self.end_headers()
                    self.wfile.write(server.pem)
                else:
                    self.send_error(404)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/zuul"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def public_pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def key_server(rsa_key: rsa.RSAPrivateKey) -> Iterator[KeyServer]:
    server = KeyServer(public_pem(rsa_key))
    yield server
    server.close()


def multibyte_text() -> str:
    rng = random.Random(7)
    alphabet = ["a", "ß", "é", "€", "ř", "😀", "漢", "\n"]
    return "".join(rng.choice(alphabet) for _ in range(1500))


@pytest.fixture
def repo(tmp_path: Path, key_server: KeyServer) -> Path:
    """A repository root with a vars file pointing at the key server and every secret file."""
    vars_dir = tmp_path / "vars" / "packit"
    vars_dir.mkdir(parents=True)
    (vars_dir / "dev.yml").write_text(yaml.safe_dump({
        "zuul_url": key_server.url, "zuul_tenant": TENANT, "zuul_project": PROJECT}))
    secrets = tmp_path / "secrets" / "packit" / "dev"
    secrets.mkdir(parents=True)
    for f in secret_files("packit"):
        (secrets / f.name).write_text(f"content of {f.name}\n")
    # Longer than several chunks of a 2048-bit key (214 bytes each).
    (secrets / "values.yml").write_text(
        "".join(f"key_{i}: value number {i} of the service configuration\n" for i in range(120)))
    (secrets / "tokman-config.py").write_text(multibyte_text(), encoding="utf-8")
    (secrets / "sentry_key").write_text("")
    return tmp_path


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "scripts.zuul_secrets", *args], capture_output=True,
                          text=True, cwd=REPO, timeout=120, env={"PATH": "/usr/bin:/bin"})


class ZuulLoader(yaml.SafeLoader):
    """Reads `!encrypted/pkcs1-oaep` like Zuul: a scalar or a list of base64 chunks."""


def _construct_encrypted(loader: yaml.SafeLoader, node: yaml.Node) -> list[bytes]:
    values = ([loader.construct_scalar(item) for item in node.value]
              if isinstance(node, yaml.SequenceNode) else [loader.construct_scalar(node)])
    return [base64.b64decode(value) for value in values]


ZuulLoader.add_constructor("!encrypted/pkcs1-oaep", _construct_encrypted)


def decrypt_like_zuul(chunks: list[bytes], key: rsa.RSAPrivateKey) -> str:
    """Zuul decrypts every chunk and decodes each one as UTF-8 on its own, then joins."""
    oaep = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA1()), algorithm=hashes.SHA1(),
                        label=None)
    return "".join(key.decrypt(chunk, oaep).decode("utf8") for chunk in chunks)


def load_secret(path: Path) -> dict:
    documents = yaml.load(path.read_text(), Loader=ZuulLoader)
    assert isinstance(documents, list) and len(documents) == 1
    return documents[0]["secret"]


def test_every_file_round_trips_through_zuul_decryption(
        repo: Path, key_server: KeyServer, rsa_key: rsa.RSAPrivateKey) -> None:
    result = run("--root", str(repo), "--service", "packit", "--deployment", "dev")
    assert result.returncode == 0, result.stderr
    output = repo / "zuul-secrets" / "packit-dev.yaml"
    assert key_server.requests == [KEY_PATH]
    secret = load_secret(output)
    assert secret["name"] == "packit_dev_secrets"
    assert list(secret["data"]) == [f.name for f in secret_files("packit")]
    secrets = repo / "secrets" / "packit" / "dev"
    limit = rsa_key.key_size // 8 - 42
    for name, chunks in secret["data"].items():
        original = (secrets / name).read_bytes()
        assert all(len(chunk) == rsa_key.key_size // 8 for chunk in chunks)
        assert decrypt_like_zuul(chunks, rsa_key).encode("utf-8") == original, name
        assert len(chunks) == max(1, -(-len(original) // limit)) or name == "tokman-config.py"
    assert len(secret["data"]["values.yml"]) > 5
    # The UTF-8 file is cut at character boundaries where a blind byte cut would split one.
    tokman = (secrets / "tokman-config.py").read_bytes()
    assert any(tokman[i] & 0xC0 == 0x80 for i in range(limit, len(tokman), limit))
    assert len(secret["data"]["tokman-config.py"]) > 5
    # No plaintext leaks into the output.
    assert "value number" not in output.read_text()
    assert "content of" not in output.read_text()


def test_local_key_file_selected_files_and_options(
        repo: Path, tmp_path: Path, rsa_key: rsa.RSAPrivateKey) -> None:
    big_key = rsa.generate_private_key(public_exponent=65537, key_size=4096)
    key_file = tmp_path / "project.pub"
    key_file.write_bytes(public_pem(big_key))
    output = tmp_path / "out" / "secret.yaml"
    result = run("--root", str(repo), "--deployment", "dev", "--key-file", str(key_file),
                 "--file", "values.yml", "--file", "tokman-config.py",
                 "--name", "deploy_secret", "--output", str(output))
    assert result.returncode == 0, result.stderr
    secret = load_secret(output)
    assert secret["name"] == "deploy_secret"
    assert set(secret["data"]) == {"values.yml", "tokman-config.py"}
    secrets = repo / "secrets" / "packit" / "dev"
    for name, chunks in secret["data"].items():
        assert all(len(chunk) == 512 for chunk in chunks)
        assert decrypt_like_zuul(chunks, big_key).encode() == (secrets / name).read_bytes()
    for line in output.read_text().splitlines():
        assert len(line) <= 79


def test_command_line_url_overrides_vars_file(repo: Path, key_server: KeyServer) -> None:
    (repo / "vars" / "packit" / "dev.yml").write_text("zuul_url: http://127.0.0.1:9/nothing\n")
    result = run("--root", str(repo), "--deployment", "dev", "--zuul-url", key_server.url)
    assert result.returncode == 0, result.stderr
    assert key_server.requests == [KEY_PATH]


def assert_refused(result: subprocess.CompletedProcess[str], repo: Path, *needles: str) -> None:
    assert result.returncode != 0
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1, message
    for needle in needles:
        assert needle in message
    assert "Traceback" not in result.stderr
    assert not (repo / "zuul-secrets").exists()


def test_unknown_project_is_a_404(repo: Path, key_server: KeyServer) -> None:
    result = run("--root", str(repo), "--deployment", "dev", "--project", "other/project")
    assert_refused(result, repo, "HTTP 404", "other/project.pub")


def test_connection_refused(repo: Path) -> None:
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = run("--root", str(repo), "--deployment", "dev",
                 "--zuul-url", f"http://127.0.0.1:{port}/zuul")
    assert_refused(result, repo, "connection failed", f"127.0.0.1:{port}")


def test_elliptic_curve_key_is_refused(repo: Path, key_server: KeyServer) -> None:
    key_server.pem = public_pem(ec.generate_private_key(ec.SECP256R1()))
    result = run("--root", str(repo), "--deployment", "dev")
    assert_refused(result, repo, "elliptic-curve key", "RSA")


def test_garbage_key_is_refused(repo: Path, key_server: KeyServer) -> None:
    key_server.pem = b"<html>not a key</html>"
    result = run("--root", str(repo), "--deployment", "dev")
    assert_refused(result, repo, "not a PEM public key")


def test_missing_secret_file_is_named(repo: Path, key_server: KeyServer) -> None:
    missing = repo / "secrets" / "packit" / "dev" / "privkey.pem"
    missing.unlink()
    result = run("--root", str(repo), "--deployment", "dev")
    assert_refused(result, repo, str(missing), "missing")
    assert key_server.requests == []


def test_binary_file_is_refused(repo: Path, key_server: KeyServer) -> None:
    binary = repo / "secrets" / "packit" / "dev" / "aws.yml"
    binary.write_bytes(b"\xff\xfe\x00binary")
    result = run("--root", str(repo), "--deployment", "dev")
    assert_refused(result, repo, str(binary), "UTF-8")


def test_files_of_optional_components_are_taken_when_present(repo: Path, key_server: KeyServer) -> None:
    """tokman, Flower, Redis Commander, the consumers are switched on by choice: their files
    go into the secret when they are there, and their absence is no error."""
    secrets = repo / "secrets" / "packit" / "dev"
    optional = [f.name for f in secret_files("packit") if f.optional]
    assert {"tokman-config.py", "flower.yml", "centos.cert"} <= set(optional)
    (secrets / "flower.yml").unlink()
    result = run("--root", str(repo), "--deployment", "dev")
    assert result.returncode == 0, result.stderr
    data = load_secret(repo / "zuul-secrets" / "packit-dev.yaml")["data"]
    assert "flower.yml" not in data and "tokman-config.py" in data


def test_failed_run_keeps_previous_output(repo: Path, key_server: KeyServer) -> None:
    assert run("--root", str(repo), "--deployment", "dev").returncode == 0
    output = repo / "zuul-secrets" / "packit-dev.yaml"
    before = output.read_bytes()
    key_server.pem = b"broken"
    result = run("--root", str(repo), "--deployment", "dev")
    assert result.returncode != 0
    assert output.read_bytes() == before
    assert [p.name for p in output.parent.iterdir()] == ["packit-dev.yaml"]


def test_deployment_is_required(repo: Path) -> None:
    result = run("--root", str(repo))
    assert_refused(result, repo, "DEPLOYMENT is not set")


def test_bad_vars_file_is_named(repo: Path) -> None:
    vars_file = repo / "vars" / "packit" / "dev.yml"
    vars_file.write_text("zuul_url: [unclosed\n")
    result = run("--root", str(repo), "--deployment", "dev")
    assert_refused(result, repo, str(vars_file))


def test_utf8_chunks_never_split_a_character() -> None:
    data = multibyte_text().encode()
    for limit in (4, 5, 7, 214):
        chunks = zuul_secrets.utf8_chunks(data, limit)
        assert b"".join(chunks) == data
        assert all(0 < len(chunk) <= limit for chunk in chunks)
        for chunk in chunks:
            chunk.decode("utf-8")

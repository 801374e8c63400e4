"""openshift/pushgateway-nginx.conf.j2 with Debian's real nginx and pushgateway on loopback."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Iterator

import jinja2
import pytest
import requests

from tests.support.systemtools import free_port, require

pytestmark = pytest.mark.system

TEMPLATE = Path(__file__).resolve().parents[2] / "openshift" / "pushgateway-nginx.conf.j2"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
PUSHGATEWAY = shutil.which("prometheus-pushgateway") or "/usr/bin/prometheus-pushgateway"
METRIC = 'packit_test_pushed_total{instance="",job="worker"} 42'


def wait_for(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{process.args[0]} exited with {process.returncode}: {log.read_text()}")
        try:
            requests.get(url, timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.1)
    pytest.fail(f"{url} did not answer within 20s: {log.read_text()}")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Stack:
    def __init__(self, gateway: str, proxy: str) -> None:
        self.gateway = gateway
        self.proxy = proxy

    def gateway_metrics(self) -> str:
        response = requests.get(f"{self.gateway}/metrics", timeout=5)
        response.raise_for_status()
        return response.text


def self_signed_pair(directory: Path) -> Path:
    """fullchain.pem + privkey.pem for 127.0.0.1, as the deployment's packit-tls Secret has."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "workers.test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    directory.mkdir(mode=0o755)
    (directory / "fullchain.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / "privkey.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return directory / "fullchain.pem"


@pytest.fixture(scope="module", params=["http", "https"])
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Plain HTTP, and TLS with a mounted certificate pair as the deployment runs it."""
    require(NGINX, "nginx")
    require(PUSHGATEWAY, "prometheus-pushgateway")
    workdir = tmp_path_factory.mktemp("pushgateway-nginx")
    os.chmod(workdir, 0o755)  # nginx workers run as nobody when the tests run as root
    gateway_port, nginx_port = free_port(), free_port()
    gateway_log, nginx_log = workdir / "pushgateway.log", workdir / "nginx.log"
    processes: list[subprocess.Popen[bytes]] = []
    try:
        with gateway_log.open("wb") as log:
            processes.append(subprocess.Popen(
                [PUSHGATEWAY, f"--web.listen-address=127.0.0.1:{gateway_port}",
                 "--web.enable-admin-api"], stdout=log, stderr=subprocess.STDOUT))
        gateway = f"http://127.0.0.1:{gateway_port}"
        wait_for(f"{gateway}/-/ready", processes[0], gateway_log)

        tls = {}
        if request.param == "https":
            ca = self_signed_pair(workdir / "tls")
            tls = {"pushgateway_nginx_tls_dir": str(workdir / "tls")}
            saved_bundle = os.environ.get("REQUESTS_CA_BUNDLE")
            os.environ["REQUESTS_CA_BUNDLE"] = str(ca)  # requests verifies against it
            request.addfinalizer(lambda: os.environ.pop("REQUESTS_CA_BUNDLE") if saved_bundle is None
                                 else os.environ.__setitem__("REQUESTS_CA_BUNDLE", saved_bundle))
        config = jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(
            TEMPLATE.read_text()).render(
                pushgateway_nginx_port=f"127.0.0.1:{nginx_port}",
                pushgateway_upstream=gateway,
                pushgateway_nginx_tmp=str(workdir), **tls)
        config_file = workdir / "nginx.conf"
        config_file.write_text(config)
        check = subprocess.run([NGINX, "-t", "-e", "stderr", "-p", str(workdir), "-c",
                                str(config_file)], capture_output=True, text=True)
        assert check.returncode == 0, check.stderr
        with nginx_log.open("wb") as log:
            processes.append(subprocess.Popen(
                [NGINX, "-e", "stderr", "-p", str(workdir), "-c", str(config_file),
                 "-g", "daemon off;"], stdout=log, stderr=subprocess.STDOUT))
        proxy = f"{request.param}://127.0.0.1:{nginx_port}"
        wait_for(f"{proxy}/metrics", processes[1], nginx_log)

        # A worker pushes straight to the pushgateway, not through nginx.
        pushed = requests.put(f"{gateway}/metrics/job/worker",
                              data="# TYPE packit_test_pushed_total counter\n"
                                   "packit_test_pushed_total 42\n", timeout=5)
        assert pushed.status_code == 200, pushed.text
        yield Stack(gateway, proxy)
    finally:
        for process in reversed(processes):
            stop(process)


def test_get_metrics_through_nginx_shows_pushed_metric(stack: Stack) -> None:
    response = requests.get(f"{stack.proxy}/metrics", timeout=5)
    assert response.status_code == 200
    assert METRIC in response.text
    assert response.headers["Server"] == "nginx"  # server_tokens off: no version


def test_head_metrics_works(stack: Stack) -> None:
    response = requests.head(f"{stack.proxy}/metrics", timeout=5)
    assert response.status_code == 200
    assert response.text == ""
    assert response.headers["Content-Type"].startswith("text/plain")


def test_query_string_still_serves_metrics(stack: Stack) -> None:
    response = requests.get(f"{stack.proxy}/metrics?format=text", timeout=5)
    assert response.status_code == 200 and METRIC in response.text


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_writes_on_metrics_are_refused_and_change_nothing(stack: Stack, method: str) -> None:
    before = stack.gateway_metrics()
    response = requests.request(method, f"{stack.proxy}/metrics",
                                data="packit_test_pushed_total 7\n", timeout=5)
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, HEAD"
    after = stack.gateway_metrics()
    assert METRIC in after
    assert "packit_test_pushed_total 7" not in after
    assert metric_lines(after) == metric_lines(before)


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE"])
@pytest.mark.parametrize("path", ["/metrics/job/worker", "/metrics/job/x", "/metrics/",
                                  "/api/v1/status", "/api/v1/metrics", "/api/v1/admin/wipe",
                                  "/", "/-/ready", "/metrics/../api/v1/status",
                                  "/%6Detrics/job/worker"])
def test_other_paths_are_404_and_change_nothing(stack: Stack, method: str, path: str) -> None:
    before = stack.gateway_metrics()
    response = requests.request(method, f"{stack.proxy}{path}",
                                data="packit_test_pushed_total 7\n", timeout=5)
    assert response.status_code == 404, (method, path)
    assert "packit_test_pushed_total" not in response.text
    after = stack.gateway_metrics()
    assert METRIC in after
    assert metric_lines(after) == metric_lines(before)


def test_direct_push_path_still_works(stack: Stack) -> None:
    """The pushgateway itself stays writable for workers in the namespace."""
    response = requests.put(f"{stack.gateway}/metrics/job/other",
                            data="packit_test_other 1\n", timeout=5)
    assert response.status_code == 200
    assert 'packit_test_other{instance="",job="other"} 1' in requests.get(
        f"{stack.proxy}/metrics", timeout=5).text


def metric_lines(text: str) -> list[str]:
    """Pushed samples only; the gateway's own process and push-time metrics move by themselves."""
    return sorted(line for line in text.splitlines()
                  if line.startswith(("packit_test_pushed", 'push_time_seconds{instance="",job="worker"}')))

"""The registry's content: a small single-layer image, pushed with crane, for every image
reference of the dev deployments, under the reference's full name
(`<registry>/quay.io/packit/...`), so that the local connection vars can point
`image_registry_mirror` at the registry. Every push is a new digest."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import tarfile
import time
from pathlib import Path
from typing import Iterable, Iterator

import yaml

from localcluster import openshift
from localcluster.layout import Layout
from localcluster.pins import REPO_ROOT

IMAGES_FILE = REPO_ROOT / "roles" / "model" / "defaults" / "main" / "images.yml"


def mirror_reference(registry: str, reference: str) -> str:
    """`quay.io/packit/x:stg` as the local registry holds it: `<registry>/quay.io/packit/x:stg`."""
    return f"{registry}/{reference}"


# PostgreSQL major versions the registry holds besides the dev vars' own (postgres_version): 13
# (upstream Stream's, which the takeover tests start from), the next one (the refusals of a
# version without a claim) and UPGRADE_POSTGRES_VERSION, make db-upgrade's target in the
# cluster tests: the next version Debian packages (trixie; bookworm has 15 only), which the
# real node runs (nodeimages).
UPGRADE_POSTGRES_VERSION = 17


def postgres_versions(default: int) -> tuple[int, ...]:
    """The PostgreSQL versions the dev image references are rendered for."""
    return tuple(sorted({13, default, default + 1, UPGRADE_POSTGRES_VERSION}))


def _rendered_images(images_file: Path, services: Iterable[str]) -> Iterator[tuple[str, str]]:
    """(stream name, reference) of the role's `images` defaults, rendered for each service of
    dev and each PostgreSQL version of postgres_versions."""
    import jinja2

    raw = yaml.safe_load(images_file.read_text())
    data = yaml.safe_load((images_file.parent / "data.yml").read_text())  # postgres_version
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    for service in services:
        for postgres_version in postgres_versions(data["postgres_version"]):
            values = {"service": service, "deployment": "dev", "postgres_version": postgres_version}
            values["image_tag"] = env.from_string(str(raw["image_tag"])).render(values)
            for name, reference in raw["images"].items():
                yield name, env.from_string(str(reference)).render(values)


def dev_image_references(images_file: Path = IMAGES_FILE, services: Iterable[str] = ("packit", "stream")) -> list[str]:
    """Every image reference the dev deployments use (the role's `images` defaults rendered
    for each service and PostgreSQL version), plus the DeploymentConfig deployer image."""
    return sorted({openshift.DEPLOYER_IMAGE} | {reference for _, reference in _rendered_images(images_file, services)})


def dev_image_streams(images_file: Path = IMAGES_FILE, services: Iterable[str] = ("packit", "stream")) -> dict[str, set[str]]:
    """reference -> the names of the ImageStreams that import it in the dev deployments (the
    keys of the role's `images`)."""
    streams: dict[str, set[str]] = {}
    for name, reference in _rendered_images(images_file, services):
        streams.setdefault(reference, set()).add(name)
    return streams


def layer_tar(reference: str, generation: int) -> bytes:
    """A one-file layer naming the reference and a generation, so every push is a new digest."""
    content = f"{reference}\ngeneration {generation}\n".encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("etc/local-cluster-image")
        info.size, info.mtime, info.mode = len(content), 0, 0o644
        tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def crane(binary: Path, ca_file: Path, args: Iterable[str]) -> str:
    """Run crane trusting the cluster CA (the registry's certificate) and nothing in $HOME."""
    env = dict(os.environ, SSL_CERT_FILE=str(ca_file), HOME=str(binary.parent))
    result = subprocess.run([str(binary), *args], env=env, capture_output=True)
    if result.returncode != 0:
        raise RuntimeError(f"crane {' '.join(args)}: {result.stderr.decode(errors='replace').strip()[-300:]}")
    return result.stdout.decode().strip()


def push_image(binary: Path, ca_file: Path, registry: str, reference: str, generation: int, work: Path) -> str:
    """Push a new single-layer image to the mirror of `reference`; returns its digest."""
    target = mirror_reference(registry, reference)
    work.mkdir(parents=True, exist_ok=True)
    name = hashlib.sha256(target.encode()).hexdigest()[:16]
    layer = work / f"{name}.tar"
    layer.write_bytes(layer_tar(reference, generation))
    try:
        crane(binary, ca_file, ["append", "--new_layer", str(layer), "--new_tag", target,
                                "--platform", "linux/amd64"])
        return crane(binary, ca_file, ["digest", target])
    finally:
        layer.unlink(missing_ok=True)


def digest(binary: Path, ca_file: Path, registry: str, reference: str) -> str:
    """The digest the local registry holds under `reference` (RuntimeError if none)."""
    return crane(binary, ca_file, ["digest", mirror_reference(registry, reference)])


def image_present(binary: Path, ca_file: Path, registry: str, reference: str) -> bool:
    try:
        digest(binary, ca_file, registry, reference)
    except RuntimeError:
        return False
    return True


def ensure_images(layout: Layout) -> list[str]:
    """Push a test image for every image reference of the dev deployments that the registry
    does not hold yet; returns the references pushed."""
    pushed = []
    for reference in dev_image_references():
        if not image_present(layout.binary("crane"), layout.ca_cert, layout.registry, reference):
            push_image(layout.binary("crane"), layout.ca_cert, layout.registry, reference, 0,
                       layout.cache_dir / "tmp")
            pushed.append(reference)
    return pushed


def push_new_digest(layout: Layout, reference: str) -> str:
    """Push a new image (new digest) under `reference` in the local registry; returns the digest."""
    return push_image(layout.binary("crane"), layout.ca_cert, layout.registry, reference, time.time_ns(),
                      layout.cache_dir / "tmp")


def registry_digest(layout: Layout, reference: str) -> str:
    return digest(layout.binary("crane"), layout.ca_cert, layout.registry, reference)

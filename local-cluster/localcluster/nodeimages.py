"""Real container images for a kubelet node: Debian stand-ins for the images the OpenShift
manifests pull (PostgreSQL, Redis, nginx and the push gateway), for linux/amd64.

An image is one layer: a Debian root filesystem made by mmdebstrap (variant essential plus the
recipe's pinned packages, no recommends, no documentation), our own start scripts and config
files from local-cluster/node-images/<name>/ (the same paths as in the image), the directories
the contract wants writable for an arbitrary uid in group 0, and /etc/local-cluster-image naming
what the image stands in for. crane turns the layer into an OCI image (appended to an empty OCI
base, then the config mutated) inside a throwaway in-memory registry of its own (`crane registry
serve` on 127.0.0.1) and pulls it back as an OCI image layout. The cache keeps that layout as
one tar file (an oci-archive), `<name>-<key>.tar`, which push_image pushes under any references.

Building needs root (mmdebstrap --mode=root, file ownership), mmdebstrap, tar and
deb.debian.org; mtimes are clamped to SOURCE_DATE_EPOCH and the tars are sorted, so the same
recipe and the same mirror content give the same layer.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import os
import re
import shutil
import stat
import subprocess
import tarfile
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from localcluster.pins import GO_MODULE_DIR

NODE_IMAGES_DIR = GO_MODULE_DIR / "node-images"
# Bump when the build steps below change what an image holds: it is part of every key.
BUILD_FORMAT = 1
# One-line apt sources; {suite} is the recipe's.
MIRRORS = (
    "deb http://deb.debian.org/debian {suite} main",
    "deb http://deb.debian.org/debian {suite}-updates main",
    "deb http://deb.debian.org/debian-security {suite}-security main",
)
MMDEBSTRAP_OPTIONS = (
    "--variant=essential",
    "--mode=root",
    "--format=directory",
    # Merged /usr by symlinks and usr-is-merged, not the usrmerge package (which needs perl).
    "--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr",
    "--aptopt=APT::Install-Recommends \"false\"",
    "--dpkgopt=path-exclude=/usr/share/doc/*",
    "--dpkgopt=path-include=/usr/share/doc/*/copyright",
    "--dpkgopt=path-exclude=/usr/share/man/*",
    "--dpkgopt=path-exclude=/usr/share/info/*",
    "--dpkgopt=path-exclude=/usr/share/locale/*",
)
# Every mtime is clamped to this (2025-01-01T00:00:00Z).
SOURCE_DATE_EPOCH = 1735689600
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass(frozen=True)
class Recipe:
    """One image: what it stands in for, what it is made of and how it starts."""

    name: str  # the archive's name in the cache
    references: tuple[str, ...]  # the image references it stands in for
    packages: tuple[str, ...]  # "name=version", each one pinned
    files: tuple[tuple[str, int], ...] = ()  # (path in the image, mode), from node-images/<files_dir>/<path>
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    user: str = ""
    workdir: str = "/"
    env: tuple[tuple[str, str], ...] = (("PATH", DEFAULT_PATH),)
    ports: tuple[str, ...] = ()  # exposed, "5432/tcp"
    writable: tuple[tuple[str, str], ...] = ()  # (directory, "uid:gid"): owned recursively, group rwX
    accounts: tuple[str, ...] = ()  # "name:uid:gid:home", added to /etc/passwd and /etc/group
    remove: tuple[str, ...] = ()  # paths (glob patterns) the packages install that the image must not hold
    suite: str = "bookworm"
    files_dir: str = ""  # the directory of its files under node-images/, if not `name`


def postgres_recipe(version: int, suite: str, packages: tuple[str, ...], llvm: str) -> Recipe:
    """A stand-in of quay.io/sclorg/postgresql-<version>-c9s: Debian's PostgreSQL of `version`
    (`packages`: server, client, libpq5, postgresql-common, nss_wrapper) and the start scripts of
    node-images/postgres/, which read POSTGRESQL_VERSION as the sclorg image sets it."""
    return Recipe(
        name="postgres" if version == 15 else f"postgres-{version}",
        files_dir="postgres",
        references=(f"quay.io/sclorg/postgresql-{version}-c9s:c9s",),
        packages=packages,
        files=(("/usr/bin/container-entrypoint", 0o755), ("/usr/bin/run-postgresql", 0o755),
               ("/usr/libexec/check-container", 0o755), ("/opt/app-root/src/postgresql-cfg/README", 0o644)),
        entrypoint=("container-entrypoint",),
        cmd=("run-postgresql",),
        user="26",
        workdir="/var/lib/pgsql",
        env=(("PATH", f"/usr/lib/postgresql/{version}/bin:" + DEFAULT_PATH), ("HOME", "/var/lib/pgsql"),
             ("PGUSER", "postgres"), ("LANG", "C.UTF-8"), ("POSTGRESQL_VERSION", str(version))),
        ports=("5432/tcp",),
        writable=(("/var/lib/pgsql", "26:0"), ("/var/lib/pgsql/data", "26:0"), ("/run/postgresql", "26:0")),
        # The cluster postgresql-common creates on installation, the key pair ssl-cert generates
        # (and its hash link; no CA certificates are installed), and the JIT (llvmjit and LLVM,
        # 150 MB), which the sclorg image does not install either: without llvmjit.so,
        # PostgreSQL runs without JIT.
        remove=(f"/etc/postgresql/{version}", f"/var/lib/postgresql/{version}",
                "/etc/ssl/private/ssl-cert-snakeoil.key", "/etc/ssl/certs/*",
                f"/usr/lib/postgresql/{version}/lib/llvmjit*", f"/usr/lib/postgresql/{version}/lib/bitcode",
                f"/usr/lib/x86_64-linux-gnu/{llvm}*", "/usr/lib/x86_64-linux-gnu/libz3.so.4*"),
        suite=suite,
    )


IMAGES = (
    postgres_recipe(15, "bookworm", ("postgresql-15=15.20-0+deb12u1", "postgresql-client-15=15.20-0+deb12u1",
                                     "libpq5=15.20-0+deb12u1", "postgresql-common=248+deb12u2",
                                     "postgresql-client-common=248+deb12u2", "libnss-wrapper=1.1.12-1"),
                    llvm="libLLVM-14.so"),
    # The next major version Debian has (trixie), make db-upgrade's target in the cluster tests:
    # bookworm has no PostgreSQL 16.
    postgres_recipe(17, "trixie", ("postgresql-17=17.12-0+deb13u1", "postgresql-client-17=17.12-0+deb13u1",
                                   "libpq5=17.12-0+deb13u1", "postgresql-common=278+deb13u1",
                                   "postgresql-client-common=278+deb13u1", "libnss-wrapper=1.1.16-1"),
                    llvm="libLLVM.so.19"),
    Recipe(
        name="redis",
        references=("quay.io/sclorg/redis-7-c9s:c9s",),
        packages=("redis-server=5:7.0.15-1~deb12u10", "redis-tools=5:7.0.15-1~deb12u10"),
        files=(("/usr/bin/container-entrypoint", 0o755), ("/usr/bin/run-redis", 0o755),
               ("/etc/redis/redis.conf", 0o664)),
        entrypoint=("container-entrypoint",),
        cmd=("run-redis",),
        user="1001",
        workdir="/var/lib/redis",
        env=(("PATH", DEFAULT_PATH), ("HOME", "/var/lib/redis")),
        ports=("6379/tcp",),
        writable=(("/var/lib/redis", "1001:0"), ("/var/lib/redis/data", "1001:0"), ("/etc/redis", "1001:0")),
    ),
    Recipe(
        name="valkey",
        references=("docker.io/valkey/valkey:8",),
        packages=("valkey-server=8.1.1+dfsg1-3+deb13u3", "valkey-tools=8.1.1+dfsg1-3+deb13u3"),
        files=(("/usr/local/bin/docker-entrypoint.sh", 0o755),),
        entrypoint=("docker-entrypoint.sh",),
        cmd=("valkey-server",),
        workdir="/data",
        ports=("6379/tcp",),
        # The official image's user (it has no USER: started as root, the entrypoint drops to it).
        writable=(("/data", "999:999"),),
        suite="trixie",
    ),
    Recipe(
        name="nginx",
        references=("docker.io/nginxinc/nginx-unprivileged:stable", "docker.io/nginxinc/nginx-unprivileged:1.27"),
        packages=("nginx=1.22.1-9+deb12u11", "nginx-common=1.22.1-9+deb12u11"),
        files=(("/docker-entrypoint.sh", 0o755), ("/etc/nginx/nginx.conf", 0o644),
               ("/etc/nginx/conf.d/default.conf", 0o644)),
        entrypoint=("/docker-entrypoint.sh",),
        cmd=("nginx", "-g", "daemon off;"),
        user="101",
        ports=("8080/tcp",),
        writable=(("/etc/nginx", "101:0"), ("/var/cache/nginx", "101:0"), ("/var/log/nginx", "101:0"),
                  ("/var/lib/nginx", "101:0")),
        accounts=("nginx:101:101:/nonexistent",),
    ),
    Recipe(
        name="pushgateway",
        references=("ghcr.io/zapier/prom-aggregation-gateway:v0.7.0",),
        packages=("prometheus-pushgateway=1.5.1-2+b5", "nginx=1.22.1-9+deb12u11", "nginx-common=1.22.1-9+deb12u11"),
        files=(("/prom-aggregation-gateway", 0o755),),
        entrypoint=("/prom-aggregation-gateway",),
        env=(("PATH", DEFAULT_PATH), ("GIN_MODE", "release")),
        ports=("9091/tcp", "8888/tcp"),
    ),
)


def recipe(name: str) -> Recipe:
    """The recipe of IMAGES named `name`."""
    for candidate in IMAGES:
        if candidate.name == name:
            return candidate
    raise KeyError(name)


def source_file(recipe: Recipe, path: str) -> Path:
    """Where the file `path` of the image comes from: node-images/<files_dir or name>/<path>."""
    return NODE_IMAGES_DIR / (recipe.files_dir or recipe.name) / path.lstrip("/")


def image_key(recipe: Recipe) -> str:
    """16 hex digits of a hash of all an image is made of: the recipe (suite, pinned packages,
    files, config), the contents of its files and the build's own settings."""
    digest = hashlib.sha256()
    settings = {"recipe": dataclasses.asdict(recipe), "format": BUILD_FORMAT, "mirrors": MIRRORS,
                "mmdebstrap": MMDEBSTRAP_OPTIONS, "epoch": SOURCE_DATE_EPOCH}
    digest.update(json.dumps(settings, sort_keys=True).encode())
    for path, _ in recipe.files:
        content = source_file(recipe, path).read_bytes()
        digest.update(f"\0{path}\0{len(content)}\0".encode() + content)
    return digest.hexdigest()[:16]


def build_image(recipe: Recipe, crane: Path, cache: Path) -> Path:
    """The image as an OCI archive, cache/<name>-<key>.tar (a tar of an OCI image layout), built
    only when the cache does not hold it yet."""
    key = image_key(recipe)
    target = cache / f"{recipe.name}-{key}.tar"
    if target.exists():
        return target
    if os.geteuid() != 0 or not shutil.which("mmdebstrap"):
        raise RuntimeError(f"building image {recipe.name} needs root and mmdebstrap (--mode=root)")
    cache.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{recipe.name}-", dir=cache))
    try:
        root = work / "rootfs"
        bootstrap(recipe, root)
        customize(recipe, root)
        pack_rootfs(root, work / "rootfs.tar", recipe.name)
        make_image(recipe, key, crane, work / "rootfs.tar", work / "layout")
        write_archive(work / "layout", work / "image.tar")
        os.replace(work / "image.tar", target)
    finally:
        remove_tree(work)
    return target


def build_images(crane: Path, cache: Path, push: Callable[[Recipe, Path], None] | None = None,
                 images: tuple[Recipe, ...] = IMAGES) -> dict[str, Path]:
    """Build (or find in the cache) every image; with `push`, call push(recipe, archive) for
    each. Returns the archives by image name."""
    archives = {}
    for each in images:
        archives[each.name] = build_image(each, crane, cache)
        if push:
            push(each, archives[each.name])
    return archives


def push_image(tar: Path, crane: Path, references: list[str], env: dict[str, str] | None = None) -> list[str]:
    """Push the OCI archive `tar` under each of `references` (`crane push` of its layout,
    unpacked once); `env` adds to crane's environment (SSL_CERT_FILE, HOME for registry
    credentials). Returns the pushed digest references."""
    pushed = []
    with tempfile.TemporaryDirectory(prefix="oci-layout-") as layout:
        with tarfile.open(tar) as archive:
            archive.extractall(layout, filter="data")
        for reference in references:
            output = run([str(crane), "push", layout, reference], f"crane push of {tar.name} to {reference}",
                         env=dict(os.environ, **(env or {})))
            pushed.append(output.strip())
    return pushed


def run(args: list[str], what: str, env: dict[str, str] | None = None) -> str:
    """Run a command; its stdout, or a one-line RuntimeError naming `what` with the last line of
    the command's stderr."""
    result = subprocess.run(args, env=env, capture_output=True, text=True, errors="replace")
    if result.returncode != 0:
        lines = [line.strip() for line in result.stderr.splitlines() if line.strip()]
        raise RuntimeError(f"{what} failed (exit {result.returncode}): {lines[-1] if lines else 'no message'}")
    return result.stdout


def bootstrap(recipe: Recipe, root: Path) -> None:
    """The Debian root filesystem: essential packages plus the recipe's pinned ones."""
    run(["mmdebstrap", *MMDEBSTRAP_OPTIONS, f"--include={','.join(recipe.packages)}", recipe.suite, str(root),
         *(mirror.format(suite=recipe.suite) for mirror in MIRRORS)],
        f"mmdebstrap of image {recipe.name}", env=dict(os.environ, SOURCE_DATE_EPOCH=str(SOURCE_DATE_EPOCH)))


def inside(root: Path, path: str) -> Path:
    """`path` of the image under `root`, refusing a path whose parent leads out of root (through
    an absolute symlink such as /var/run -> /run, which would resolve on the host)."""
    target = root / path.lstrip("/")
    real_root = os.path.realpath(root)
    if os.path.commonpath([real_root, os.path.realpath(target.parent)]) != real_root:
        raise RuntimeError(f"{path} of the image leads out of its root filesystem")
    return target


def customize(recipe: Recipe, root: Path) -> None:
    """The removals, our files, /etc/local-cluster-image, the accounts and the group-0 writable
    directories."""
    for pattern in recipe.remove:
        for target in sorted(root.glob(pattern.lstrip("/"))):
            inside(root, str(target.relative_to(root)))
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            else:
                target.unlink()
    for path, mode in recipe.files:
        target = inside(root, path)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source_file(recipe, path), target)
        os.chmod(target, mode)
        os.chown(target, 0, 0)
    marker = (f"{recipe.name}: a Debian {recipe.suite} stand-in of the local cluster for\n"
              + "".join(f"  {reference}\n" for reference in recipe.references)
              + "built from\n" + "".join(f"  {package}\n" for package in recipe.packages))
    inside(root, "/etc/local-cluster-image").write_text(marker)
    for path in ("/etc/hostname", "/etc/resolv.conf"):  # the build host's; the runtime mounts its own
        inside(root, path).write_text("")
        os.chmod(inside(root, path), 0o644)
    for account in recipe.accounts:
        add_account(root, account)
    for path, owner in recipe.writable:
        uid, gid = (int(part) for part in owner.split(":"))
        directory = inside(root, path)
        directory.mkdir(parents=True, exist_ok=True)
        entries = [str(directory)]
        for parent, dirs, files in os.walk(directory):
            entries += (os.path.join(parent, name) for name in dirs + files)
        for entry in entries:
            os.lchown(entry, uid, gid)
            mode = os.lstat(entry).st_mode
            if not stat.S_ISLNK(mode):  # group rw, and x where the owner has it (and on directories)
                os.chmod(entry, mode | 0o060 | (mode & 0o100) >> 3 | (0o010 if stat.S_ISDIR(mode) else 0))


def add_account(root: Path, account: str) -> None:
    """Add "name:uid:gid:home" to the image's /etc/passwd and (the group, named alike) /etc/group."""
    name, uid, gid, home = account.split(":")
    for table, number, line in (("passwd", uid, f"{name}:x:{uid}:{gid}::{home}:/usr/sbin/nologin\n"),
                                ("group", gid, f"{name}:x:{gid}:\n")):
        path = inside(root, f"/etc/{table}")
        rows = [row.split(":") for row in path.read_text().splitlines()]
        if any(row[0] == name or row[2] == number for row in rows):
            raise RuntimeError(f"account {account}: the name or id is taken in /etc/{table} of the image")
        with path.open("a") as file:
            file.write(line)


def pack_rootfs(root: Path, out: Path, name: str) -> None:
    """The layer: the root filesystem as a sorted pax tar with clamped mtimes, numeric owners
    and extended attributes; /dev stays, empty (the runtime mounts its own)."""
    run(["tar", "--create", f"--file={out}", f"--directory={root}", "--sort=name", f"--mtime=@{SOURCE_DATE_EPOCH}",
         "--clamp-mtime", "--numeric-owner", "--one-file-system", "--format=pax",
         "--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime", "--xattrs",
         "--exclude=./dev/*", "."], f"tar of the root filesystem of image {name}")


@contextmanager
def build_registry(crane: Path, work: Path) -> Iterator[str]:
    """A throwaway in-memory registry (`crane registry serve`) on 127.0.0.1; yields host:port."""
    log = work / "registry.log"
    with log.open("w") as stderr:
        process = subprocess.Popen([str(crane), "registry", "serve", "--address=127.0.0.1:0"],
                                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        deadline = time.monotonic() + 30
        while not (found := re.search(r"serving on port (\d+)", log.read_text())):
            if process.poll() is not None or time.monotonic() > deadline:
                lines = log.read_text().strip().splitlines() or ["no message"]
                raise RuntimeError(f"crane registry serve did not start: {lines[-1]}")
            time.sleep(0.05)
        yield f"127.0.0.1:{found.group(1)}"
    finally:
        process.terminate()
        process.wait()


def flag_list(values: tuple[str, ...]) -> str:
    """A list as one value of a crane string-slice flag (comma-separated, CSV-quoted)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(values)
    return buffer.getvalue()


def config_flags(recipe: Recipe) -> list[str]:
    """The `crane mutate` flags that set the recipe's image config."""
    flags = ["--set-platform=linux/amd64", f"--workdir={recipe.workdir}"]
    if recipe.entrypoint:
        flags.append(f"--entrypoint={flag_list(recipe.entrypoint)}")
    if recipe.cmd:
        flags.append(f"--cmd={flag_list(recipe.cmd)}")
    if recipe.user:
        flags.append(f"--user={recipe.user}")
    if recipe.ports:
        flags.append(f"--exposed-ports={flag_list(recipe.ports)}")
    for name, value in recipe.env:
        flags.append(f"--env={name}={value}")
    return flags


def make_image(recipe: Recipe, key: str, crane: Path, layer: Path, layout: Path) -> None:
    """The OCI image of the layer and the recipe's config, as an OCI image layout."""
    with build_registry(crane, layout.parent) as registry:
        reference = f"{registry}/{recipe.name}:{key}"
        env = dict(os.environ, HOME=str(layout.parent))  # no registry credentials of the user
        run([str(crane), "append", "--oci-empty-base", f"--new_layer={layer}", f"--new_tag={reference}"],
            f"crane append of image {recipe.name}", env=env)
        run([str(crane), "mutate", reference, f"--tag={reference}", *config_flags(recipe)],
            f"crane mutate of image {recipe.name}", env=env)
        run([str(crane), "pull", "--format=oci", reference, str(layout)], f"crane pull of image {recipe.name}", env=env)


def write_archive(layout: Path, out: Path) -> None:
    """The OCI layout as a tar file: sorted, root-owned, mtime 0."""
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as archive:
        for path in sorted(layout.rglob("*")):
            info = archive.gettarinfo(path, path.relative_to(layout).as_posix())
            info.uid = info.gid = info.mtime = 0
            info.uname = info.gname = ""
            info.mode = 0o755 if path.is_dir() else 0o644
            if path.is_file():
                with path.open("rb") as file:
                    archive.addfile(info, file)
            else:
                archive.addfile(info)


def remove_tree(path: Path) -> None:
    """Remove a build directory, unless something is still mounted under it (mmdebstrap mounts
    /dev, /proc and /sys into the root filesystem while it runs)."""
    real = os.path.realpath(path)
    with open("/proc/self/mountinfo") as mountinfo:
        points = [line.split()[4].encode().decode("unicode_escape") for line in mountinfo]
    if any(point == real or point.startswith(real + "/") for point in points):
        raise RuntimeError(f"{path} still has mounts under it; not removing it")
    shutil.rmtree(path, ignore_errors=True)

"""Writing rendered manifests into a directory and keeping secret files private (the actions
write_manifests and private_files, on the controller, where make render's OUT and the secrets
directory are)."""

from __future__ import annotations

import os
import tempfile

ARGUMENT_SPEC = dict(
    path=dict(type="path", required=True),
    files=dict(type="dict", required=True),
    mode=dict(type="str", default="0644"),
    dir_mode=dict(type="str", default="0755"),
    prune=dict(type="bool", default=False),
)


def write_files(path: str, files: dict, mode: int, dir_mode: int, prune: bool,
                check_mode: bool) -> tuple[list[str], list[str]]:
    """(written, removed): each file whose content or mode differs is replaced atomically;
    with prune, other *.yml files of the directory are removed. ValueError on a bad name."""
    written: list[str] = []
    removed: list[str] = []
    for name in files:
        if "/" in name or name.startswith("."):
            raise ValueError(f"write_manifests: bad file name {name!r}")
    if not os.path.isdir(path) and not check_mode:
        os.makedirs(path, mode=dir_mode)
    for name, content in sorted(files.items()):
        target = os.path.join(path, name)
        data = str(content).encode()
        if os.path.isfile(target):
            with open(target, "rb") as handle:
                if handle.read() == data and (os.stat(target).st_mode & 0o7777) == mode:
                    continue
        written.append(name)
        if check_mode:
            continue
        fd, tmp = tempfile.mkstemp(dir=path, prefix=".tmp-")
        try:
            os.fchmod(fd, mode)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    if prune and os.path.isdir(path):
        for name in sorted(os.listdir(path)):
            if name.endswith(".yml") and name not in files:
                removed.append(name)
                if not check_mode:
                    os.unlink(os.path.join(path, name))
    return written, removed


def keep_private(path: str, create: dict[str, str], private: list[str], mode: int, dir_mode: int,
                 check_mode: bool) -> tuple[list[str], list[str]]:
    """(created, restricted): the directory gets dir_mode; each file of `create` that does not
    exist is written with its content and `mode` (never replacing a file, also one that appears
    meanwhile); each file of `private` (and every created one) gets `mode`. A file of `private`
    that does not exist is a ValueError naming it, before anything is written."""
    for name in [*create, *private]:
        if not name or "/" in name or name.startswith("."):
            raise ValueError(f"private_files: bad file name {name!r}")
    missing = [n for n in private if n not in create and not os.path.isfile(os.path.join(path, n))]
    if missing:
        raise ValueError(f"private_files: {os.path.join(path, missing[0])} does not exist"
                         + (f" (nor {', '.join(missing[1:])})" if missing[1:] else ""))
    created: list[str] = []
    restricted: list[str] = []
    if os.path.isdir(path):
        if os.stat(path).st_mode & 0o7777 != dir_mode:
            restricted.append(".")
            if not check_mode:
                os.chmod(path, dir_mode)
    else:
        restricted.append(".")
        if not check_mode:
            os.makedirs(path, mode=dir_mode)
            os.chmod(path, dir_mode)  # makedirs' mode is masked by the umask
    for name, content in sorted(create.items()):
        target = os.path.join(path, name)
        if os.path.lexists(target):
            continue
        created.append(name)
        if check_mode:
            continue
        # O_EXCL: a file that appeared since the check is kept, never replaced.
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(str(content).encode())
    for name in sorted(set(private) - set(created)):
        target = os.path.join(path, name)
        if not os.path.isfile(target) and check_mode:
            continue
        if os.stat(target).st_mode & 0o7777 != mode:
            restricted.append(name)
            if not check_mode:
                os.chmod(target, mode)
    return created, restricted

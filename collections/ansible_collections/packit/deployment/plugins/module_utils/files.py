"""Writing rendered manifests into a directory (modules/write_manifests.py; the action of that
name runs it on the controller, where make render's OUT is)."""

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

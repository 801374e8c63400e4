#!/usr/bin/python
"""Write one manifest file per component into a directory in one step."""

from __future__ import annotations

DOCUMENTATION = r"""
module: write_manifests
short_description: Write rendered manifests, one file per component
description:
  - Writes C(files) (file name to text) into C(path) with C(mode), only where the content
    differs, and with C(prune) removes other C(*.yml) files there.
  - Supports check and diff mode.
options:
  path: {description: Directory to write into (created with dir_mode)., type: path, required: true}
  files: {description: File name to content., type: dict, required: true}
  mode: {description: Mode of the files., type: str, default: "0644"}
  dir_mode: {description: Mode of the directory when created., type: str, default: "0755"}
  prune: {description: Remove other *.yml files in the directory., type: bool, default: false}
notes:
  - One task for all files instead of a copy loop (one module run per file); files are replaced
    atomically.
"""

EXAMPLES = r"""
- name: Write the rendered manifests of packit dev
  packit.deployment.write_manifests:
    path: rendered/packit/dev
    files:
      redis.yml: "{{ redis_manifest_text }}"
    prune: true
"""

RETURN = r"""
written: {description: Files written or changed., type: list, elements: str, returned: always}
removed: {description: Files removed by prune., type: list, elements: str, returned: always}
"""

import os
import tempfile

from ansible.module_utils.basic import AnsibleModule


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            files=dict(type="dict", required=True),
            mode=dict(type="str", default="0644"),
            dir_mode=dict(type="str", default="0755"),
            prune=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    p = module.params
    mode = int(p["mode"], 8)
    path = p["path"]
    written: list[str] = []
    removed: list[str] = []
    if not os.path.isdir(path):
        if not module.check_mode:
            os.makedirs(path, mode=int(p["dir_mode"], 8))
    for name, content in sorted(p["files"].items()):
        if "/" in name or name.startswith("."):
            module.fail_json(msg=f"write_manifests: bad file name {name!r}")
        target = os.path.join(path, name)
        data = str(content).encode()
        same = False
        if os.path.isfile(target):
            with open(target, "rb") as handle:
                same = handle.read() == data
            same = same and (os.stat(target).st_mode & 0o7777) == mode
        if same:
            continue
        written.append(name)
        if module.check_mode:
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
    if p["prune"] and os.path.isdir(path):
        for name in sorted(os.listdir(path)):
            if name.endswith(".yml") and name not in p["files"]:
                removed.append(name)
                if not module.check_mode:
                    os.unlink(os.path.join(path, name))
    module.exit_json(changed=bool(written or removed), written=written, removed=removed)


if __name__ == "__main__":
    main()

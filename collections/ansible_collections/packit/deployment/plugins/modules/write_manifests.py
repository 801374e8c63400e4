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
  - An action of the same name runs it on the controller, where the directory is (no module
    process).
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

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.packit.deployment.plugins.module_utils.files import ARGUMENT_SPEC, write_files

def main() -> None:
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    p = module.params
    try:
        written, removed = write_files(p["path"], p["files"], int(p["mode"], 8), int(p["dir_mode"], 8),
                                       p["prune"], module.check_mode)
    except ValueError as err:
        module.fail_json(msg=str(err))
    module.exit_json(changed=bool(written or removed), written=written, removed=removed)


if __name__ == "__main__":
    main()

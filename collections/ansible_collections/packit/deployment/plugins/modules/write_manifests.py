"""Documentation of the write_manifests action (plugins/action/write_manifests.py); it runs on the controller."""

from __future__ import annotations

DOCUMENTATION = r"""
module: write_manifests
short_description: Write rendered manifests, one file per component
author: Packit team (@packit)
description:
  - Writes C(files) (file name to text) into C(path) with C(mode), creating C(path) with
    C(dir_mode) when it is missing; a file is written only where its content or its mode
    differs, and replaced atomically. With C(prune), removes the other C(*.yml) files there.
  - A file name with a C(/) or starting with C(.) fails the task before anything is written.
  - An action that runs on the controller, where C(make render)'s directory is; supports check
    mode.
options:
  path:
    description: Directory to write into (created with C(dir_mode)).
    type: path
    required: true
  files:
    description: File name to content.
    type: dict
    required: true
  mode:
    description: Mode of the files.
    type: str
    default: "0644"
  dir_mode:
    description: Mode of the directory when it is created.
    type: str
    default: "0755"
  prune:
    description: Remove the other C(*.yml) files of the directory.
    type: bool
    default: false
notes:
  - One task for all files instead of a copy loop (one module run per file).
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
written:
  description: Files written or changed (or that would be, in check mode).
  type: list
  elements: str
  returned: success
removed:
  description: Files removed by C(prune) (or that would be, in check mode).
  type: list
  elements: str
  returned: success
"""

"""Documentation of the private_files action (plugins/action/private_files.py); it runs on the controller."""

from __future__ import annotations

DOCUMENTATION = r"""
module: private_files
short_description: Create missing secret files and keep a directory's secret files private
author: Packit team (@packit)
description:
  - Gives C(path) the mode C(dir_mode), creating it when missing.
  - Writes each file of C(files), and each file of C(templates) (C(<template_dir>/<file>.j2)
    rendered over the task's variables), that does not exist yet, with C(mode); an existing
    file is never replaced nor rendered again.
  - Gives every file of C(private) the mode C(mode); one of them that does not exist fails the
    task before anything is written.
  - An action that runs on the controller, where the secrets directory is; supports check mode.
options:
  path: {description: The directory of the files., type: path, required: true}
  files:
    description: File name to content, written where the file is missing.
    type: dict
    default: {}
  templates: {description: Files rendered from C(<template_dir>/<file>.j2) where the file is missing., type: list, elements: str, default: []}
  template_dir: {description: The directory of the templates; required with C(templates)., type: path}
  private: {description: Files that must exist and get C(mode)., type: list, elements: str, default: []}
  mode: {description: Mode of the files., type: str, default: "0600"}
  dir_mode: {description: Mode of the directory., type: str, default: "0700"}
notes:
  - One task for what a loop of copy, template and file tasks did with a module run per file.
  - Give the task C(no_log) when C(files) holds secret values or the templates render them.
"""

EXAMPLES = r"""
- name: Write the missing configs and keep every secret file private
  packit.deployment.private_files:
    path: secrets/packit/dev
    files:
      fedora.keytab: ""
    templates: [postgres.yml]
    template_dir: secrets/templates
    private: [fullchain.pem, privkey.pem]
  no_log: true
"""

RETURN = r"""
created:
  description: Files written (or that would be, in check mode).
  type: list
  elements: str
  returned: success
restricted:
  description: Files (C(.) for the directory) whose mode was changed, or that would be, in check mode.
  type: list
  elements: str
  returned: success
"""

"""Rendering a template file with Ansible's own templar over a task's variables, without
copying them (the render, import_config and private_files actions). Public API of ansible-core
2.19 only (ansible.template), as meta/runtime.yml's requires_ansible says."""

from __future__ import annotations

import os
from collections import ChainMap
from typing import Any

from ansible.errors import AnsibleActionFail, AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.template import generate_ansible_template_vars, trust_as_template


def render_file(templar, loader, path: str, task_vars: dict, extra: dict[str, Any] | None = None,
                label: str | None = None) -> str:
    """The text of template `path` rendered over `extra` and the task's variables (a ChainMap:
    the template lookup deep-copies every variable of the play for each call), with the
    template's variables of ansible.builtin.template (template_path, ...; ansible_managed unless
    the task has one). A failure is an AnsibleActionFail naming `label` (the file name by
    default)."""
    template_vars = generate_ansible_template_vars(path=os.path.basename(path), fullpath=path)
    if "ansible_managed" in task_vars:
        del template_vars["ansible_managed"]
    templar.available_variables = ChainMap({**(extra or {}), **template_vars}, task_vars)
    try:
        data = trust_as_template(loader.get_text_file_contents(path))
        return to_text(templar.template(data, escape_backslashes=False))
    except AnsibleError as err:
        raise AnsibleActionFail(f"{label or os.path.basename(path)}: {err}") from err

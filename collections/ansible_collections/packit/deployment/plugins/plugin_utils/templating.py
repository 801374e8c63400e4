"""Rendering a template file with Ansible's own templar over a task's variables, without
copying them (the render and private_files actions)."""

from __future__ import annotations

import os
from collections import ChainMap
from typing import Any

from ansible.errors import AnsibleActionFail, AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.template import trust_as_template
from ansible._internal._templating import _template_vars
from ansible._internal._templating._engine import TemplateOptions


def render_file(templar, loader, path: str, task_vars: dict, extra: dict[str, Any] | None = None,
                label: str | None = None) -> str:
    """The text of template `path` rendered over `extra` and the task's variables (a ChainMap:
    the template lookup deep-copies every variable of the play for each call). A failure is
    an AnsibleActionFail naming `label` (the file name by default)."""
    template_vars = _template_vars.generate_ansible_template_vars(
        path=os.path.basename(path), fullpath=path, include_ansible_managed="ansible_managed" not in task_vars)
    templar.available_variables = ChainMap({**(extra or {}), **template_vars}, task_vars)
    try:
        data = trust_as_template(loader.get_text_file_contents(path))
        return to_text(templar._engine.template(data, options=TemplateOptions(escape_backslashes=False)))
    except AnsibleError as err:
        raise AnsibleActionFail(f"{label or os.path.basename(path)}: {err}") from err

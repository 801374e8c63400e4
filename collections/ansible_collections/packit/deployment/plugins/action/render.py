"""Render the Jinja2 templates of some components into Kubernetes objects, in one task.

The documentation is in plugins/modules/render.py. This runs on the controller, where the
templates, the vars and the secret files are: each template is rendered once with Ansible's
own templar (its filters, lookups and lazy variables), over the task's variables plus
`component`. The template lookup in a loop did the same but deep-copied every variable of
the play for every template; that copy was most of the render time.
"""

from __future__ import annotations

import os
from collections import ChainMap

import yaml
from ansible.errors import AnsibleActionFail, AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible.template import trust_as_template
from ansible._internal._templating import _template_vars
from ansible._internal._templating._engine import TemplateOptions

from ansible_collections.packit.deployment.plugins.module_utils.manifests import WORKLOAD_KINDS, docs, redact, refs

Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        args = self._task.args
        unknown = set(args) - {"components", "template_dir", "redact_secrets", "return_secrets"}
        if unknown:
            raise AnsibleActionFail(f"render: unknown option(s) {', '.join(sorted(unknown))}")
        components = list(args.get("components") or [])
        template_dir = str(args.get("template_dir") or "")
        redact_secrets = boolean(args.get("redact_secrets", True))
        return_secrets = boolean(args.get("return_secrets", True))
        if not template_dir or not os.path.isdir(template_dir):
            raise AnsibleActionFail(f"render: template_dir {template_dir!r} is not a directory")
        task_vars = task_vars or {}
        objects: dict[str, list] = {}
        secrets: dict[str, list] = {}
        for component in components:
            path = os.path.join(template_dir, f"{component}.yml.j2")
            if not os.path.isfile(path):
                raise AnsibleActionFail(f"render: {path} does not exist (component {component})")
            text = self._render(path, component, task_vars)
            try:
                rendered = docs(yaml.load_all(text.encode(), Loader=Loader))
            except yaml.YAMLError as err:
                raise AnsibleActionFail(f"render: {component}.yml.j2 does not render to YAML: {err}") from err
            secrets[component] = [o for o in rendered if o.get("kind") == "Secret"]
            objects[component] = redact(rendered) if redact_secrets or not return_secrets else rendered
        plan = {component: refs(found) for component, found in objects.items()}
        workloads = [ref for found in plan.values() for ref in found if ref["kind"] in WORKLOAD_KINDS]
        result.update(changed=False, objects=objects, plan=plan, workloads=workloads)
        if return_secrets:
            result["secrets"] = secrets
        return result

    def _render(self, path: str, component: str, task_vars: dict) -> str:
        # One templar (one Jinja2 environment) for all components of the task, so that what
        # they import (macros.j2) is compiled once; only the variables change.
        if getattr(self, "_component_templar", None) is None:
            self._component_templar = self._templar.copy_with_new_env(searchpath=[os.path.dirname(path)])
        template_vars = _template_vars.generate_ansible_template_vars(
            path=os.path.basename(path), fullpath=path,
            include_ansible_managed="ansible_managed" not in task_vars)
        templar = self._component_templar
        templar.available_variables = ChainMap({"component": component, **template_vars}, task_vars)
        try:
            data = trust_as_template(self._loader.get_text_file_contents(path))
            return to_text(templar._engine.template(data, options=TemplateOptions(escape_backslashes=False)))
        except AnsibleError as err:
            raise AnsibleActionFail(f"render: {component}.yml.j2: {err}") from err

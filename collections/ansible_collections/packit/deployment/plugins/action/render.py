"""Render the Jinja2 templates of some components into Kubernetes objects, in one task.

The documentation is in plugins/modules/render.py. This runs on the controller, where the
templates, the vars and the secret files are: each template is rendered once with Ansible's
own templar (its filters, lookups and lazy variables), over the task's variables plus
`component`. The template lookup in a loop did the same but deep-copied every variable of
the play for every template; that copy was most of the render time.
"""

from __future__ import annotations

import os

import yaml
from ansible.errors import AnsibleActionFail, AnsibleError

from ansible_collections.packit.deployment.plugins.module_utils.appconfig import (
    duplicate_keys, find_config, placeholders, secret_leaves)
from ansible_collections.packit.deployment.plugins.module_utils.manifests import (
    WORKLOAD_KINDS, docs, missing_secret_keys, plain, redact, refs)
from ansible_collections.packit.deployment.plugins.plugin_utils.controller import ControllerAction
from ansible_collections.packit.deployment.plugins.plugin_utils.templating import render_file

Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class ActionModule(ControllerAction):
    ARGUMENT_SPEC = {
        "components": {"type": "list", "elements": "str", "required": True},
        "template_dir": {"type": "path", "required": True},
        "redact_secrets": {"type": "bool", "default": True},
        "return_secrets": {"type": "bool", "default": True},
        "config": {"type": "dict", "options": {
            "names": {"type": "list", "elements": "str", "default": []},
            "dirs": {"type": "list", "elements": "path", "required": True},
            "values_file": {"type": "path", "required": True},
            "display": {"type": "str", "default": ""},
        }},
        "secret_files": {"type": "dict", "default": {}},
    }

    def app_config(self, config: dict, task_vars: dict) -> tuple[dict[str, str], dict[str, dict], list[str]]:
        """The app configurations (config/), rendered with the values file's values, and for
        review with each value replaced by its name, and the values to mask where a text is
        shown: (name -> text, name -> {template, text}, values)."""
        if not config or not config["names"]:
            return {}, {}, []
        shown = config["display"] or config["values_file"]
        if not os.path.isfile(config["values_file"]):
            raise AnsibleActionFail(f"render: {shown} is missing (the secret values of the app configuration)")
        try:  # the loader decrypts an ansible-vault file with the run's vault password
            values = plain(self._loader.load_from_file(config["values_file"]) or {})
        except AnsibleError as err:
            raise AnsibleActionFail(f"render: {shown} cannot be read: {' '.join(str(err).split()[:30])}") from err
        if not isinstance(values, dict):
            raise AnsibleActionFail(f"render: {shown} must be a mapping of names to values")
        templar = self._templar.copy_with_new_env(searchpath=config["dirs"])
        real, review = {}, {}
        for name in config["names"]:
            try:
                path = find_config(config["dirs"], name)
            except ValueError as err:
                raise AnsibleActionFail(f"render: {err}") from err
            label = f"render: {os.path.relpath(path, os.path.dirname(config['dirs'][-1]))}"
            real[name] = render_file(templar, self._loader, path, task_vars, {"values": values},
                                     label=f"{label} (a value missing from {shown}?)")
            twice = duplicate_keys(real[name]) if name.endswith((".yaml", ".yml")) else []
            if twice:
                raise AnsibleActionFail(f"{label}: {', '.join(twice)} set twice (by the template and by "
                                        f"{shown}?): keep one")
            review[name] = {"template": label.removeprefix("render: "),
                            "text": render_file(templar, self._loader, path, task_vars,
                                                {"values": placeholders(values)}, label=label)}
        return real, review, secret_leaves(values)

    @staticmethod
    def check_secret_keys(objects: list[dict], secret_files: dict[str, str]) -> None:
        """Refuse a rendered Secret that lacks a key a rendered container reads from it."""
        missing = missing_secret_keys(objects)
        if missing:
            first = missing[0]
            source = secret_files.get(first["secret"])
            where = f"{source} has no key {first['key']} (Secret {first['secret']})" if source else \
                f"Secret {first['secret']} has no key {first['key']}"
            more = f"; {len(missing) - 1} more key(s) missing" if len(missing) > 1 else ""
            raise AnsibleActionFail(f"render: {where}, which {first['reader']} reads as {first['variable']}: "
                                    f"add it{more}")

    def act(self, args, task_vars):
        template_dir, return_secrets = args["template_dir"], args["return_secrets"]
        if not os.path.isdir(template_dir):
            raise AnsibleActionFail(f"render: template_dir {template_dir!r} is not a directory")
        app_config, review, masked = self.app_config(args["config"], task_vars)
        # One templar (one Jinja2 environment) for all components, so that what they import
        # (macros.j2) is compiled once; only the variables change.
        templar = self._templar.copy_with_new_env(searchpath=[template_dir])
        objects: dict[str, list] = {}
        secrets: dict[str, list] = {}
        for component in args["components"]:
            path = os.path.join(template_dir, f"{component}.yml.j2")
            if not os.path.isfile(path):
                raise AnsibleActionFail(f"render: {path} does not exist (component {component})")
            text = render_file(templar, self._loader, path, task_vars,
                               {"component": component, "deploy_app_config": app_config},
                               label=f"render: {component}.yml.j2")
            try:
                rendered = docs(yaml.load_all(text.encode(), Loader=Loader))
            except yaml.YAMLError as err:
                raise AnsibleActionFail(f"render: {component}.yml.j2 does not render to YAML: {err}") from err
            secrets[component] = [o for o in rendered if o.get("kind") == "Secret"]
            objects[component] = redact(rendered) if args["redact_secrets"] or not return_secrets else rendered
        self.check_secret_keys([o for found in objects.values() for o in found], args["secret_files"])
        plan = {component: refs(found) for component, found in objects.items()}
        workloads = [ref for found in plan.values() for ref in found if ref["kind"] in WORKLOAD_KINDS]
        result = {"changed": False, "objects": objects, "plan": plan, "workloads": workloads, "config": review}
        if return_secrets:
            result["secrets"] = secrets
            result["masked"] = masked
        return result

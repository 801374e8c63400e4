"""Move an operator's rendered app configuration to values.yml and compare it with the
templates of config/ (plugin_utils/importconfig.py); the documentation is in
plugins/modules/import_config.py."""

from __future__ import annotations

import os

import yaml
from ansible.errors import AnsibleActionFail

from ansible_collections.packit.deployment.plugins.module_utils.appconfig import find_config, secret_leaves
from ansible_collections.packit.deployment.plugins.plugin_utils.importconfig import (
    ConfigImportError, differences, parse, values_from)
from ansible_collections.packit.deployment.plugins.plugin_utils.controller import ControllerAction
from ansible_collections.packit.deployment.plugins.plugin_utils.templating import render_file


class ActionModule(ControllerAction):
    ARGUMENT_SPEC = {
        "source": {"type": "path", "required": True},
        "values_file": {"type": "path", "required": True},
        "names": {"type": "list", "elements": "str", "required": True},
        "dirs": {"type": "list", "elements": "path", "required": True},
        "deployment": {"type": "str", "required": True},
    }

    def act(self, args, task_vars):
        source, target = args["source"], args["values_file"]
        texts = {}
        for name in args["names"]:
            path = os.path.join(source, name)
            if os.path.isfile(path):
                with open(path, encoding="utf-8") as handle:
                    texts[name] = handle.read()
        if "packit-service.yaml" not in texts:
            raise AnsibleActionFail(f"{source}/packit-service.yaml is missing: give the directory of your rendered "
                                    "configuration (FROM=...)")
        if os.path.exists(target):
            raise AnsibleActionFail(f"{target} exists: it is not overwritten; move it away to import again")
        try:
            theirs = {name: parse(name, text) for name, text in texts.items()}
            values = values_from(theirs, args["deployment"])
        except ConfigImportError as err:
            raise AnsibleActionFail(f"{source}/{err}") from err
        templar = self._templar.copy_with_new_env(searchpath=args["dirs"])
        secrets = secret_leaves(values)
        report, same = [], []
        for name, data in theirs.items():
            try:
                template = find_config(args["dirs"], name)
            except ValueError as err:
                raise AnsibleActionFail(f"import: {err}") from err
            ours = parse(name, render_file(templar, self._loader, template, task_vars, {"values": values},
                                           label=f"import: {name}"))
            found = differences(name, data, ours, secrets)
            (report.extend(found) if found else same.append(name))
        if not self._play_context.check_mode:
            os.makedirs(os.path.dirname(target), mode=0o700, exist_ok=True)
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write("---\n# The secret values of the app configuration (config/), imported from "
                             f"{source}.\n")
                yaml.safe_dump(values, handle, default_flow_style=False, sort_keys=True)
        return {"changed": True, "values_file": target, "taken": sorted(values),
                "imported": sorted(texts), "same": same, "differences": report}

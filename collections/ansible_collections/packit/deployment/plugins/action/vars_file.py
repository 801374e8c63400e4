"""Run the vars_file check (module_utils/varsfile.py) on the controller, where the vars file
is; the documentation is in plugins/modules/vars_file.py."""

from __future__ import annotations

from pathlib import Path

from ansible.errors import AnsibleActionFail

from ansible_collections.packit.deployment.plugins.module_utils.varsfile import ARGUMENT_SPEC, HAS_YAML, check
from ansible_collections.packit.deployment.plugins.plugin_utils.controller import ControllerAction


class ActionModule(ControllerAction):
    ARGUMENT_SPEC = ARGUMENT_SPEC

    def act(self, args, task_vars):
        if not HAS_YAML:
            raise AnsibleActionFail("PyYAML is missing")
        path = Path(args["path"])
        names, error = check(path, args["display"] or str(path), Path(args["roles_dir"]), args["missing_hint"] or "")
        if error:
            raise AnsibleActionFail(error)
        return {"changed": False, "names": names}

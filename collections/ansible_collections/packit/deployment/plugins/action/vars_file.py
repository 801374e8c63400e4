"""Run the vars_file check (plugin_utils/varsfile.py) on the controller, where the vars file
is; the documentation is in plugins/modules/vars_file.py."""

from __future__ import annotations

from ansible.errors import AnsibleActionFail

from ansible_collections.packit.deployment.plugins.plugin_utils.varsfile import ARGUMENT_SPEC, HAS_YAML, run
from ansible_collections.packit.deployment.plugins.plugin_utils.controller import ControllerAction


class ActionModule(ControllerAction):
    ARGUMENT_SPEC = ARGUMENT_SPEC

    def act(self, args, task_vars):
        if not HAS_YAML:
            raise AnsibleActionFail("PyYAML is missing")
        result, error, warning = run(args)
        if error:
            raise AnsibleActionFail(error)
        if warning:
            result["warnings"] = [warning]
        return result

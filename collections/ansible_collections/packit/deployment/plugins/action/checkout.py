"""Run the checkout check (plugin_utils/checkout.py) on the controller, where the repository's
checkout is; the documentation is in plugins/modules/checkout.py."""

from __future__ import annotations

from pathlib import Path

from ansible.errors import AnsibleActionFail

from ansible_collections.packit.deployment.plugins.plugin_utils.checkout import ARGUMENT_SPEC, BEHIND, message, status
from ansible_collections.packit.deployment.plugins.plugin_utils.controller import ControllerAction


class ActionModule(ControllerAction):
    ARGUMENT_SPEC = ARGUMENT_SPEC

    def act(self, args, task_vars):
        found = status(Path(args["path"]), args["timeout"])
        refused = found.state == BEHIND and args["on_behind"] == "fail"
        line = message(found, args["setting"], refused=refused)
        if refused:
            raise AnsibleActionFail(line)
        result = {"changed": False, **found.as_dict()}
        if line:
            result["warnings"] = [line]
        return result

"""Run the vars_file check (module_utils/varsfile.py) on the controller, where the vars file
is; the documentation is in plugins/modules/vars_file.py."""

from __future__ import annotations

from pathlib import Path

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.packit.deployment.plugins.module_utils.varsfile import ARGUMENT_SPEC, HAS_YAML, check


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        _, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        if not HAS_YAML:
            raise AnsibleActionFail("PyYAML is missing")
        path = Path(args["path"])
        names, error = check(path, args["display"] or str(path), Path(args["roles_dir"]))
        if error:
            raise AnsibleActionFail(error)
        result.update(changed=False, names=names)
        return result

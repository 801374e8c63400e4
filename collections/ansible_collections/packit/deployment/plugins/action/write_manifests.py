"""Write rendered manifests (module_utils/files.py) on the controller, where make render's
directory is; the documentation is in plugins/modules/write_manifests.py."""

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.packit.deployment.plugins.module_utils.files import ARGUMENT_SPEC, write_files


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        _, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        try:
            written, removed = write_files(args["path"], args["files"], int(args["mode"], 8),
                                           int(args["dir_mode"], 8), args["prune"], bool(self._play_context.check_mode))
        except ValueError as err:
            raise AnsibleActionFail(str(err)) from err
        result.update(changed=bool(written or removed), written=written, removed=removed)
        return result

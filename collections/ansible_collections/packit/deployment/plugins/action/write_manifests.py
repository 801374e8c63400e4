"""Write rendered manifests (plugin_utils/files.py) on the controller, where make render's
directory is; the documentation is in plugins/modules/write_manifests.py."""

from __future__ import annotations

from ansible.errors import AnsibleActionFail

from ansible_collections.packit.deployment.plugins.plugin_utils.files import ARGUMENT_SPEC, write_files
from ansible_collections.packit.deployment.plugins.plugin_utils.controller import ControllerAction


class ActionModule(ControllerAction):
    ARGUMENT_SPEC = ARGUMENT_SPEC

    def act(self, args, task_vars):
        try:
            written, removed = write_files(args["path"], args["files"], int(args["mode"], 8),
                                           int(args["dir_mode"], 8), args["prune"], bool(self._play_context.check_mode))
        except ValueError as err:
            raise AnsibleActionFail(str(err)) from err
        return {"changed": bool(written or removed), "written": written, "removed": removed}

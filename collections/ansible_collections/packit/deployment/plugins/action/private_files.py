"""Create secret files where they are missing and keep them private, on the controller where
the secrets directory is (plugin_utils/files.py); the documentation is in
plugins/modules/private_files.py."""

from __future__ import annotations

import os

from ansible.errors import AnsibleActionFail

from ansible_collections.packit.deployment.plugins.plugin_utils.files import keep_private
from ansible_collections.packit.deployment.plugins.plugin_utils.controller import ControllerAction
from ansible_collections.packit.deployment.plugins.plugin_utils.templating import render_file


class ActionModule(ControllerAction):
    ARGUMENT_SPEC = {
        "path": {"type": "path", "required": True},
        "files": {"type": "dict", "default": {}},
        "templates": {"type": "list", "elements": "str", "default": []},
        "template_dir": {"type": "path"},
        "private": {"type": "list", "elements": "str", "default": []},
        "mode": {"type": "str", "default": "0600"},
        "dir_mode": {"type": "str", "default": "0700"},
    }

    def act(self, args, task_vars):
        path = args["path"]
        create = {name: str(content) for name, content in args["files"].items()}
        template_dir = args["template_dir"]
        if args["templates"] and not template_dir:
            raise AnsibleActionFail("private_files: templates needs template_dir")
        templates = {name: os.path.join(template_dir, f"{name}.j2") for name in args["templates"]
                     if name not in create and not os.path.lexists(os.path.join(path, name))}
        if templates:
            # Only the missing files' templates are rendered, with one templar.
            templar = self._templar.copy_with_new_env(searchpath=[template_dir])
            for name, src in templates.items():
                if not os.path.isfile(src):
                    raise AnsibleActionFail(f"private_files: template {src} does not exist (for {name})")
                create[name] = render_file(templar, self._loader, src, task_vars, label=f"private_files: {src}")
        try:
            created, restricted = keep_private(path, create, args["private"], int(args["mode"], 8),
                                               int(args["dir_mode"], 8), bool(self._play_context.check_mode))
        except (ValueError, OSError) as err:
            raise AnsibleActionFail(str(err)) from err
        return {"changed": bool(created or restricted), "created": created, "restricted": restricted}

"""Check the TLS pairs of a secrets directory (plugin_utils/certs.py) on the controller, where
the secret files are; the documentation is in plugins/modules/check_certs.py."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ansible.errors import AnsibleActionFail
from ansible.module_utils.basic import missing_required_lib

from ansible_collections.packit.deployment.plugins.plugin_utils.certs import (
    HAS_CRYPTOGRAPHY, InputError, Report, check_directory)
from ansible_collections.packit.deployment.plugins.plugin_utils.controller import ControllerAction


class ActionModule(ControllerAction):
    ARGUMENT_SPEC = {"path": {"type": "path", "required": True}, "days": {"type": "int", "default": 0},
                     "hint": {"type": "str"}}

    def act(self, args, task_vars):
        if not HAS_CRYPTOGRAPHY:
            raise AnsibleActionFail(missing_required_lib("cryptography"))
        try:
            report = check_directory(Path(args["path"]), args["days"], dt.datetime.now(dt.timezone.utc))
        except InputError as err:  # unreadable files, half a pair: the same one line
            report = Report(problems=[str(err)])
        result = {"changed": False, "lines": report.lines, "problems": report.problems}
        if report.problems:
            hint = args["hint"]
            result.update(failed=True, msg=f"{report.problems[0]}: {hint}" if hint else report.problems[0])
        return result

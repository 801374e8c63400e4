"""The base of the collection's actions that work on the controller, where the repository's
files are (templates, vars files, secret files, make render's directory)."""

from __future__ import annotations

from typing import Any

from ansible.plugins.action import ActionBase


class ControllerAction(ActionBase):
    """No connection and no file transfer; the task's arguments are checked against
    ARGUMENT_SPEC and handed to act(), whose answer becomes the result."""

    TRANSFERS_FILES = False
    _requires_connection = False
    ARGUMENT_SPEC: dict[str, dict[str, Any]] = {}

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        _validated, args = self.validate_argument_spec(argument_spec=self.ARGUMENT_SPEC)
        result.update(self.act(args, task_vars or {}))
        return result

    def act(self, args: dict[str, Any], task_vars: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

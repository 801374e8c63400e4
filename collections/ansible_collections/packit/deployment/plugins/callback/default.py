"""The default stdout callback, with a short failure for invalid settings.

A failed role argument check (validate_argument_spec, the implicit first task of a role
with meta/argument_specs.yml) is printed by the default callback with the whole argument
spec after the one useful line: hundreds of lines. This callback prints one line per
invalid setting instead and leaves every other result as the default callback prints it.
"""
from __future__ import annotations

DOCUMENTATION = r"""
name: default
type: stdout
short_description: The default callback; a failed argument check is one line per invalid setting
description:
  - >-
    Everything as ansible.builtin.default, except that a failed validate_argument_spec prints
    one line per argument error, C(invalid settings) and the error, without the argument spec.
extends_documentation_fragment:
  - default_callback
  - result_format_callback
requirements:
  - set as stdout callback in ansible.cfg
"""

from ansible import constants as C
from ansible.plugins.callback.default import CallbackModule as DefaultCallback


class CallbackModule(DefaultCallback):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "stdout"
    CALLBACK_NAME = "packit.deployment.default"

    def v2_runner_on_failed(self, result, ignore_errors: bool = False) -> None:
        errors = result.result.get("argument_errors") if result.task.action.endswith("validate_argument_spec") else None
        if not errors or ignore_errors:
            super().v2_runner_on_failed(result, ignore_errors)
            return
        if self._last_task_banner != result.task._uuid:
            self._print_task_banner(result.task)
        for error in errors:
            self._display.display(f"fatal: [{self.host_label(result)}]: invalid settings: {' '.join(str(error).split())}",
                                  color=C.COLOR_ERROR, stderr=self.get_option("display_failed_stderr"))

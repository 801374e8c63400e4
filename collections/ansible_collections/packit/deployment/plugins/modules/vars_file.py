#!/usr/bin/python
"""Check a deployment's vars file before it is loaded: valid YAML, a mapping, known names only."""
from __future__ import annotations

DOCUMENTATION = r"""
module: vars_file
short_description: Refuse a vars file with a YAML error or a variable no role knows
description:
  - Parses the file and fails with the file, line and column of a YAML error, or when the file
    is not a mapping of variable names to values.
  - Fails when a top-level name is not a variable of any role under C(roles_dir) (the keys of
    their C(defaults) and the options of their C(meta/argument_specs.yml)), naming each unknown
    name and the closest known one. A misspelt switch (C(with_redis_comander)) would otherwise be
    ignored and the component deployed.
  - Only reads; Ansible's own tags (C(!vault), C(!unsafe)) are accepted as they are.
  - An action of the same name runs the check on the controller, where the vars file is (no
    module process).
options:
  path: {description: The vars file., type: path, required: true}
  display: {description: How to name the file in messages (e.g. vars/packit/dev.yml)., type: str}
  missing_hint: {description: What to do when the file does not exist; the failure names the file as missing and adds this., type: str}
  roles_dir: {description: The roles whose variables are the known names., type: path, required: true}
"""

EXAMPLES = r"""
- name: Check the deployment's vars file
  packit.deployment.vars_file:
    path: "{{ config_vars_file }}"
    display: "vars/{{ service }}/{{ deployment }}.yml"
    roles_dir: "{{ playbook_dir | dirname }}/roles"
"""

RETURN = r"""
names: {description: The top-level names of the file., type: list, elements: str, returned: success}
"""

from pathlib import Path

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.packit.deployment.plugins.module_utils.varsfile import ARGUMENT_SPEC, HAS_YAML, check


def main() -> None:
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    if not HAS_YAML:
        module.fail_json(msg="PyYAML is missing")
    path = Path(module.params["path"])
    names, error = check(path, module.params["display"] or str(path), Path(module.params["roles_dir"]),
                         module.params["missing_hint"] or "")
    if error:
        module.fail_json(msg=error)
    module.exit_json(changed=False, names=names)


if __name__ == "__main__":
    main()

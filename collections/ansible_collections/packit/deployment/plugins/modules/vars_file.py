"""Documentation of the vars_file action (plugins/action/vars_file.py); it runs on the controller."""

from __future__ import annotations

DOCUMENTATION = r"""
module: vars_file
short_description: Refuse a vars file with a YAML error, a duplicate key or a variable no role knows
author: Packit team (@packit)
description:
  - Parses the file and fails with the file, line and column of a YAML error, or when the file
    is not a mapping of variable names to values.
  - Fails when a mapping of the file has a key twice, naming the key and both lines, never a
    value. YAML keeps the last value silently, and Ansible's loader warns with the source line,
    which may hold a token.
  - Fails when a top-level name is not a variable of any role under C(roles_dir) (the keys of
    their C(defaults) and the options of their C(meta/argument_specs.yml)), naming each unknown
    name and the closest known one. A misspelt switch (C(with_redis_comander)) would otherwise be
    ignored and the component deployed.
  - With O(template), the vars template the file was copied from, names every top-level
    variable of the template that the file lacks (except those in O(template_ignore)), as a
    warning, or with O(on_missing=fail) a failure. Names only, never a value. Nothing is
    compared when the file is the template itself.
  - Only reads; Ansible's own tags (C(!vault), C(!unsafe)) are accepted as they are.
  - An action that runs on the controller, where the vars file is.
options:
  path: {description: The vars file., type: path, required: true}
  display: {description: How to name the file in messages (e.g. vars/packit/dev.yml)., type: str}
  missing_hint: {description: What to do when the file does not exist; the failure names the file as missing and adds this., type: str}
  roles_dir: {description: The roles whose variables are the known names., type: path, required: true}
  template: {description: The vars template the file was copied from; its variables the file lacks are named., type: path}
  template_display: {description: How to name the template in messages (e.g. vars/packit/prod_template.yml)., type: str}
  template_ignore:
    description: Variables of the template the file may leave out (e.g. the connection settings, which are alternatives).
    type: list
    elements: str
    default: []
  on_missing:
    description: What variables of the template that the file lacks do to the run.
    type: str
    choices: [warn, fail]
    default: warn
  setting:
    description: The variable that turns the comparison with the template off (named in the message).
    type: str
    default: check_vars_template_diff
"""

EXAMPLES = r"""
- name: Check the deployment's vars file
  packit.deployment.vars_file:
    path: "{{ config_vars_file }}"
    display: "vars/{{ service }}/{{ deployment }}.yml"
    roles_dir: "{{ playbook_dir | dirname }}/roles"

- name: Refuse a prod vars file that lacks a variable of its template
  packit.deployment.vars_file:
    path: vars/packit/prod.yml
    roles_dir: "{{ playbook_dir | dirname }}/roles"
    template: vars/packit/prod_template.yml
    template_ignore: [host, api_key]
    on_missing: fail
"""

RETURN = r"""
names: {description: The top-level names of the file., type: list, elements: str, returned: success}
missing:
  description: The variables of O(template) the file lacks, in the template's order (empty without a template).
  type: list
  elements: str
  returned: success
"""

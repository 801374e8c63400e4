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
options:
  path: {description: The vars file., type: path, required: true}
  display: {description: How to name the file in messages (e.g. vars/packit/dev.yml)., type: str}
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

import difflib
from pathlib import Path

from ansible.module_utils.basic import AnsibleModule

try:
    import yaml

    class _Loader(yaml.SafeLoader):
        """SafeLoader that takes Ansible's tags (!vault, !unsafe) as plain values."""

    _Loader.add_multi_constructor("!", lambda loader, suffix, node: (
        loader.construct_scalar(node) if isinstance(node, yaml.ScalarNode) else None))
    HAS_YAML = True
except ImportError:  # pragma: no cover - PyYAML comes with ansible-core
    HAS_YAML = False


def known_names(roles_dir: Path) -> set[str]:
    names: set[str] = set()
    for path in [*roles_dir.glob("*/defaults/main.yml"), *roles_dir.glob("*/defaults/main/*.yml")]:
        names.update((yaml.safe_load(path.read_text()) or {}).keys())
    for path in roles_dir.glob("*/meta/argument_specs.yml"):
        for entry in ((yaml.safe_load(path.read_text()) or {}).get("argument_specs") or {}).values():
            names.update((entry or {}).get("options") or {})
    return names


def check(path: Path, display: str, roles_dir: Path) -> tuple[list[str], str]:
    """(names, error): the file's top-level names, or the one line that refuses it."""
    try:
        data = yaml.load(path.read_text(), Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        def at(mark) -> str:
            return f"line {mark.line + 1}, column {mark.column + 1}"

        where = f" {at(exc.problem_mark)}" if exc.problem_mark else ""
        context = (f" ({exc.context} that starts at {at(exc.context_mark)})"
                   if exc.context and exc.context_mark else f" ({exc.context})" if exc.context else "")
        return [], f"{display}{where}: not valid YAML: {exc.problem}{context}; nothing was changed"
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        return [], f"{display}: cannot be read ({' '.join(str(exc).split())}); nothing was changed"
    if data is None:
        return [], ""
    if not isinstance(data, dict):
        return [], (f"{display}: must be a mapping of variable names to values, not a {type(data).__name__}; "
                    "nothing was changed")
    known = known_names(roles_dir)
    unknown = [str(name) for name in data if name not in known]
    if not unknown:
        return [str(name) for name in data], ""
    hints = []
    for name in unknown:
        close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.75)
        hints.append(f"{name} (did you mean {close[0]}?)" if close else name)
    one = len(unknown) == 1
    return [], (f"{display}: unknown variable{'' if one else 's'} {', '.join(hints)}: no role reads "
                f"{'it' if one else 'them'}, so {'it' if one else 'they'} would be ignored; fix or remove "
                f"{'it' if one else 'them'} (the README lists every variable); nothing was changed")


def main() -> None:
    module = AnsibleModule(argument_spec={"path": {"type": "path", "required": True},
                                          "display": {"type": "str"},
                                          "roles_dir": {"type": "path", "required": True}},
                           supports_check_mode=True)
    if not HAS_YAML:
        module.fail_json(msg="PyYAML is missing")
    path = Path(module.params["path"])
    names, error = check(path, module.params["display"] or str(path), Path(module.params["roles_dir"]))
    if error:
        module.fail_json(msg=error)
    module.exit_json(changed=False, names=names)


if __name__ == "__main__":
    main()

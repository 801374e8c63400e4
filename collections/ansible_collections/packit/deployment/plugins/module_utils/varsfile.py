"""The check of a deployment's vars file (modules/vars_file.py; the action of that name runs it
on the controller, where the file is)."""

from __future__ import annotations

import difflib
from pathlib import Path

ARGUMENT_SPEC = {"path": {"type": "path", "required": True},
                 "display": {"type": "str"},
                 "missing_hint": {"type": "str"},
                 "roles_dir": {"type": "path", "required": True}}

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
    load = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the same documents, parsed in C
    names: set[str] = set()
    for path in [*roles_dir.glob("*/defaults/main.yml"), *roles_dir.glob("*/defaults/main/*.yml")]:
        names.update((yaml.load(path.read_text(), Loader=load) or {}).keys())  # noqa: S506 - a safe loader
    for path in roles_dir.glob("*/meta/argument_specs.yml"):
        for entry in ((yaml.load(path.read_text(), Loader=load) or {}).get("argument_specs") or {}).values():  # noqa: S506
            names.update((entry or {}).get("options") or {})
    return names


def check(path: Path, display: str, roles_dir: Path, missing_hint: str = "") -> tuple[list[str], str]:
    """(names, error): the file's top-level names, or the one line that refuses it (with
    missing_hint, what to do when the file does not exist)."""
    if missing_hint and not path.is_file():
        return [], f"{display} is missing: {missing_hint}"
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

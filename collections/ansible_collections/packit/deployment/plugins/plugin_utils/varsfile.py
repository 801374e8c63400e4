"""The check of a deployment's vars file (the vars_file action, on the controller, where the file
is; documented in plugins/modules/vars_file.py)."""

from __future__ import annotations

import difflib
from pathlib import Path

ARGUMENT_SPEC = {"path": {"type": "path", "required": True},
                 "display": {"type": "str"},
                 "missing_hint": {"type": "str"},
                 "roles_dir": {"type": "path", "required": True},
                 "template": {"type": "path"},
                 "template_display": {"type": "str"},
                 "template_ignore": {"type": "list", "elements": "str", "default": []},
                 "on_missing": {"type": "str", "choices": ["warn", "fail"], "default": "warn"},
                 "setting": {"type": "str", "default": "check_vars_template_diff"}}

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


def _duplicate_key(node, within: tuple[str, ...] = (), seen: set[int] | None = None):
    """(key, the mappings it is in, first line, second line) of the first key that a mapping
    of the composed document has twice, or None. Merge keys (<<) are no duplicates."""
    seen = set() if seen is None else seen
    if id(node) in seen:  # an alias of a node already walked
        return None
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        lines: dict[tuple[str, str], int] = {}
        for key, _value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.tag != "tag:yaml.org,2002:merge":
                if (key.tag, key.value) in lines:
                    return key.value, within, lines[(key.tag, key.value)], key.start_mark.line + 1
                lines[(key.tag, key.value)] = key.start_mark.line + 1
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else "?"
            if found := _duplicate_key(value, (*within, name), seen):
                return found
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            if found := _duplicate_key(item, (*within[:-1], f"{within[-1] if within else ''}[{index}]"), seen):
                return found
    return None


def load(path: Path, display: str) -> tuple[object, str]:
    """(data, error): the file's document, or the one line that refuses it. A key a mapping has
    twice is refused by its name and both lines, never its value: the YAML loaders keep the
    last value silently, and Ansible's warns with the source line, which may hold a token."""
    try:
        loader = _Loader(path.read_text())
        try:
            node = loader.get_single_node()
            duplicate = _duplicate_key(node) if node is not None else None
            data = loader.construct_document(node) if node is not None and not duplicate else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        def at(mark) -> str:
            return f"line {mark.line + 1}, column {mark.column + 1}"

        where = f" {at(exc.problem_mark)}" if exc.problem_mark else ""
        context = (f" ({exc.context} that starts at {at(exc.context_mark)})"
                   if exc.context and exc.context_mark else f" ({exc.context})" if exc.context else "")
        return None, f"{display}{where}: not valid YAML: {exc.problem}{context}; nothing was changed"
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        return None, f"{display}: cannot be read ({' '.join(str(exc).split())}); nothing was changed"
    if duplicate:
        key, within, first, second = duplicate
        what = f"key {key} in {'.'.join(within)}" if within else f"variable {key}"
        return None, (f"{display}: duplicate {what} at lines {first} and {second} (YAML would keep only the "
                      "last value): remove one of them; nothing was changed")
    return data, ""


def check(path: Path, display: str, roles_dir: Path, missing_hint: str = "") -> tuple[list[str], str]:
    """(names, error): the file's top-level names, or the one line that refuses it (with
    missing_hint, what to do when the file does not exist)."""
    if missing_hint and not path.is_file():
        return [], f"{display} is missing: {missing_hint}"
    data, error = load(path, display)
    if error:
        return [], error
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


def missing_from_template(path: Path, names: list[str], template: Path, template_display: str,
                          ignore: list[str] | tuple[str, ...] = ()) -> tuple[list[str], str]:
    """(missing, error): the top-level names of the template the file was copied from that the
    file (names) lacks, in the template's order, except those in ignore; none when the file is
    the template itself. error: the line that says the template cannot be read."""
    if path.resolve() == template.resolve():
        return [], ""
    data, error = load(template, template_display)
    if error:
        return [], error
    if not isinstance(data, (dict, type(None))):
        return [], f"{template_display}: must be a mapping of variable names to values, not a {type(data).__name__}"
    have = set(names)
    return [str(name) for name in data or {} if str(name) not in have and str(name) not in ignore], ""


def template_message(display: str, template_display: str, missing: list[str], setting: str = "check_vars_template_diff",
                     refused: bool = False) -> str:
    """The line about variables of the template a vars file lacks: their names only, never a value."""
    one = len(missing) == 1
    applies = ("would apply" if refused else "applies" if one else "apply")
    return (f"{display} lacks {'a variable' if one else f'{len(missing)} variables'} {template_display} sets: "
            f"{', '.join(missing)} (the role default{'' if one else 's'} {applies} instead); copy "
            f"{'it' if one else 'them'} from the template, or set {setting}: false if that is meant"
            f"{'; nothing was changed' if refused else ''}")


def run(params: dict) -> tuple[dict, str, str]:
    """(result, error, warning) of the action's arguments: the check of the file, then with a
    template the comparison with it (on_missing: fail, the variables it lacks are the error;
    warn, the warning)."""
    path = Path(params["path"])
    display = params.get("display") or str(path)
    names, error = check(path, display, Path(params["roles_dir"]), params.get("missing_hint") or "")
    if error:
        return {}, error, ""
    result = {"changed": False, "names": names, "missing": []}
    if not params.get("template"):
        return result, "", ""
    template = Path(params["template"])
    missing, error = missing_from_template(path, names, template, params.get("template_display") or str(template),
                                           params.get("template_ignore") or [])
    if error or not missing:
        return result, error, ""
    result["missing"] = missing
    refused = params.get("on_missing") == "fail"
    line = template_message(display, params.get("template_display") or str(template), missing,
                            params.get("setting") or "check_vars_template_diff", refused)
    return result, line if refused else "", "" if refused else line

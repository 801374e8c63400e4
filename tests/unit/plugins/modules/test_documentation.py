"""The modules' documentation as ansible-doc shows it: every module with examples and return
values; the cluster modules with kubernetes.core's connection options; and the actions (a
module file of the same name holds their documentation only) with the options their
ARGUMENT_SPEC takes."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.support.deploytools import REPO, env
from tests.support.moduletools import load

COLLECTION = REPO / "collections/ansible_collections/packit/deployment"
MODULES = {p.stem: p for p in sorted((COLLECTION / "plugins/modules").glob("*.py"))}
ACTIONS = sorted(p.stem for p in (COLLECTION / "plugins/action").glob("*.py"))


@pytest.fixture(scope="module")
def docs() -> dict[str, dict]:
    """ansible-doc --json of every module, by its short name."""
    names = [f"packit.deployment.{m}" for m in MODULES]
    result = subprocess.run([str(Path(sys.executable).with_name("ansible-doc")), "--json", *names],
                            cwd=REPO, env=env(), capture_output=True, text=True)
    assert result.returncode == 0 and "ERROR" not in result.stderr and "WARNING" not in result.stderr, result.stderr
    found = json.loads(result.stdout)
    assert sorted(found) == sorted(names)
    return {name.rsplit(".", 1)[1]: doc for name, doc in found.items()}


def _documentation(path: Path) -> str:
    """The DOCUMENTATION string of a module file, read without importing it."""
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "DOCUMENTATION":
            return node.value.value
    raise AssertionError(f"{path.name}: no DOCUMENTATION")


def test_ansible_doc_shows_every_module(docs):
    """`ansible-doc` shows every module of the collection with its examples and return values;
    the modules that talk to the cluster (those built on module_utils/k8s.py's run()) are the
    action group packit.deployment.k8s, and take kubernetes.core's connection options through
    its k8s_auth_options fragment, never their own copy."""
    group = [m for m in yaml.safe_load((COLLECTION / "meta/runtime.yml").read_text())["action_groups"]["k8s"]
             if isinstance(m, str)]
    cluster_modules = sorted(m for m, path in MODULES.items() if "module_utils.k8s import" in path.read_text()
                             and " run" in path.read_text())
    assert sorted(group) == cluster_modules
    for short, doc in docs.items():
        assert doc["examples"].strip(), f"{short}: no EXAMPLES"
        assert doc["return"], f"{short}: no RETURN"
        assert all(v.get("description") and v.get("returned") for v in doc["return"].values()), short
        assert doc["doc"]["module"] == short, short
        if short in group:
            fragments = yaml.safe_load(_documentation(MODULES[short]))["extends_documentation_fragment"]
            assert "kubernetes.core.k8s_auth_options" in fragments, short
            assert {"host", "api_key", "ca_cert", "validate_certs", "kubeconfig", "context"} <= set(
                doc["doc"]["options"]), short
            assert "host: {description" not in MODULES[short].read_text(), short


def test_an_action_has_a_module_file_of_documentation_only():
    """The action replaces a module of its name, so that module file would never run: it holds
    the docstring, the __future__ import and DOCUMENTATION, EXAMPLES and RETURN, nothing else."""
    assert set(ACTIONS) <= set(MODULES)
    for name in ACTIONS:
        body = ast.parse(MODULES[name].read_text()).body
        names = [node.targets[0].id for node in body if isinstance(node, ast.Assign)]
        rest = [type(node).__name__ for node in body[1:] if not isinstance(node, ast.Assign)
                and not (isinstance(node, ast.ImportFrom) and node.module == "__future__")]
        assert (names, rest) == (["DOCUMENTATION", "EXAMPLES", "RETURN"], []), name


def _spec_of(options: dict) -> dict:
    """An argument spec as its documentation states it (the defaults of AnsibleModule filled in)."""
    spec = {}
    for name, option in options.items():
        spec[name] = {"type": option.get("type", "str"), "required": bool(option.get("required", False)),
                      "default": option.get("default"), "elements": option.get("elements"),
                      "choices": option.get("choices")}
        if "suboptions" in option:
            spec[name]["options"] = _spec_of(option["suboptions"])
    return spec


def _normal(spec: dict) -> dict:
    return _spec_of({name: {**option, "suboptions": option["options"]} if "options" in option else option
                     for name, option in spec.items()})


@pytest.mark.parametrize("name", ACTIONS)
def test_an_actions_documentation_states_its_argument_spec(docs, name):
    """What validate-modules checks for a module that runs, for the actions: every option of
    the action's ARGUMENT_SPEC documented with its type, default, requiredness, elements and
    choices (suboptions too), and no other."""
    spec = load("action", name).ActionModule.ARGUMENT_SPEC
    assert _spec_of(docs[name]["doc"]["options"]) == _normal(spec)

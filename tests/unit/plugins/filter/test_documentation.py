"""The filters' documentation (plugins/filter/<name>.yml, as kubernetes.core documents its
filter): one file per registered filter and none for a name that is not one, shown by
ansible-doc, and stating each filter's arguments as its function takes them."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.deploytools import REPO, env
from tests.support.moduletools import load

FILTER_DIR = REPO / "collections/ansible_collections/packit/deployment/plugins/filter"
FILTERS = {name: function for path in sorted(FILTER_DIR.glob("*.py"))
           for name, function in load("filter", path.stem).FilterModule().filters().items()}


@pytest.fixture(scope="module")
def docs() -> dict[str, dict]:
    """ansible-doc --json -t filter of every filter, by its short name."""
    names = [f"packit.deployment.{name}" for name in FILTERS]
    result = subprocess.run([str(Path(sys.executable).with_name("ansible-doc")), "--json", "-t", "filter", *names],
                            cwd=REPO, env=env(), capture_output=True, text=True)
    assert result.returncode == 0 and "ERROR" not in result.stderr and "WARNING" not in result.stderr, result.stderr
    return {name.rsplit(".", 1)[1]: doc for name, doc in json.loads(result.stdout).items()}


def test_every_filter_has_its_documentation_file_and_no_other_file_is_there():
    assert sorted(p.stem for p in FILTER_DIR.glob("*.yml")) == sorted(FILTERS)


def test_every_filter_name_is_its_files_topic_and_the_function_name():
    """The naming scheme: packit.deployment.<topic>_<what>, topic being the filter file."""
    for path in FILTER_DIR.glob("*.py"):
        for name, function in load("filter", path.stem).FilterModule().filters().items():
            assert name.startswith(f"{path.stem}_") and function.__name__ == name, name


@pytest.mark.parametrize("name", sorted(FILTERS))
def test_ansible_doc_states_the_filters_arguments(docs, name):
    doc = docs[name]["doc"]
    assert doc["name"] == name and doc["short_description"] and docs[name]["examples"].strip()
    assert docs[name]["return"]["_value"]["description"], name
    parameters = list(inspect.signature(FILTERS[name]).parameters.values())
    assert [p.strip() for p in doc["positional"].split(",")] == ["_input", *(p.name for p in parameters[1:])]
    options = doc["options"]
    assert sorted(options) == sorted(["_input", *(p.name for p in parameters[1:])])
    for parameter in parameters[1:]:
        option = options[parameter.name]
        required = parameter.default is inspect.Parameter.empty
        assert bool(option.get("required")) is required, f"{name}: {parameter.name}"
        if not required and parameter.default is not None:
            assert option.get("default") == parameter.default, f"{name}: {parameter.name}"

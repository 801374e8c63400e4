"""The role argument specs document every variable: its default as in the role's defaults,
and a description that says what it does (ansible-doc -t role shows them)."""

from __future__ import annotations


import pytest
import yaml

from tests.support.deploytools import REPO

ROLES = ("model", "config", "deploy")


def defaults(role: str) -> dict:
    found: dict = {}
    base = REPO / "roles" / role / "defaults"
    for path in [base / "main.yml", *sorted((base / "main").glob("*.yml"))]:
        if path.exists():
            found.update(yaml.safe_load(path.read_text()) or {})
    return found


def options(role: str) -> dict:
    """The options of all the role's entry points (model: settings and tags)."""
    spec = yaml.safe_load((REPO / "roles" / role / "meta" / "argument_specs.yml").read_text())
    return {k: v for entry in spec["argument_specs"].values() for k, v in entry.get("options", {}).items()}


@pytest.mark.parametrize("role", ROLES)
def test_every_default_is_an_option_with_that_default(role):
    opts = options(role)
    missing = [k for k in defaults(role) if k not in opts]
    assert missing == [], f"roles/{role}/defaults set variables the argument spec does not document: {missing}"
    wrong = {k: (opts[k].get("default", "<none>"), v) for k, v in defaults(role).items()
             if not opts[k].get("required") and opts[k].get("default", "<none>") != v}
    assert wrong == {}, f"roles/{role}/meta/argument_specs.yml: default differs from the defaults file: {wrong}"


@pytest.mark.parametrize("role", ROLES)
def test_every_option_says_what_it_does(role):
    """At least five words: the placeholders (`redis memory`, `render dir`) were two."""
    short = {k: v.get("description") for k, v in options(role).items()
             if len(" ".join(v.get("description", "")).split() if isinstance(v.get("description"), list)
                    else str(v.get("description", "")).split()) < 5}
    assert short == {}, f"roles/{role}/meta/argument_specs.yml: descriptions too short to say anything: {short}"


def test_the_readme_variable_tables_are_the_generated_ones():
    """docs/variables.md's tables come from the defaults and the argument specs: after a
    change, run tools/variables_doc.py --write."""
    from tools import variables_doc

    assert variables_doc.tables() in (REPO / variables_doc.DOC).read_text()

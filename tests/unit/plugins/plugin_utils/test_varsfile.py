"""plugin_utils/varsfile.py: the check of a deployment's vars file (the vars_file action)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.deploytools import REPO
from tests.support.moduletools import load

varsfile = load("plugin_utils", "varsfile")
ROLES = REPO / "roles"


@pytest.mark.parametrize(("text", "error"), [
    ("a: 1\nb: [1\n", "v.yml line 3, column 1: not valid YAML: expected ',' or ']', but got '<stream end>' "
                      "(while parsing a flow sequence that starts at line 2, column 4); nothing was changed"),
    ("- a\n- b\n", "v.yml: must be a mapping of variable names to values, not a list; nothing was changed"),
    ("with_flowr: true\n", "v.yml: unknown variable with_flowr (did you mean with_flower?): no role reads it, so it "
                           "would be ignored; fix or remove it (the README lists every variable); nothing was changed"),
    ("api_key: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  6162\nwith_flower: true\n", ""),
    ("", ""),
])
def test_the_vars_file_check(tmp_path, text, error):
    path = tmp_path / "v.yml"
    path.write_text(text)
    assert varsfile.check(path, "v.yml", ROLES)[1] == error


@pytest.fixture()
def roles(tmp_path) -> Path:
    """Roles whose variables are a, b (defaults, one as a directory of files) and c (an argument spec)."""
    (tmp_path / "roles/one/defaults").mkdir(parents=True)
    (tmp_path / "roles/one/defaults/main.yml").write_text("a: 1\n")
    (tmp_path / "roles/two/defaults/main").mkdir(parents=True)
    (tmp_path / "roles/two/defaults/main/more.yml").write_text("b: x\n")
    (tmp_path / "roles/two/meta").mkdir()
    (tmp_path / "roles/two/meta/argument_specs.yml").write_text(
        "argument_specs:\n  main:\n    options:\n      c: {type: str}\n  other:\n")
    return tmp_path / "roles"


def test_the_known_names_are_the_roles_defaults_and_argument_specs(roles):
    assert varsfile.known_names(roles) == {"a", "b", "c"}


@pytest.mark.parametrize(("text", "error"), [
    ("a: 1\nb: 2\na: 3\n", "duplicate variable a at lines 1 and 3"),
    ("a: 1\nb:\n  c: 1\n  c: 2\n", "duplicate key c in b at lines 3 and 4"),
    ("l:\n  - x: 1\n    x: 2\n", "duplicate key x in l[0] at lines 2 and 3"),
])
def test_a_key_twice_is_refused_by_its_name_and_lines_never_its_value(tmp_path, text, error):
    path = tmp_path / "v.yml"
    path.write_text(text)
    assert varsfile.load(path, "v.yml") == (None, f"v.yml: {error} (YAML would keep only the last value): remove one "
                                                  "of them; nothing was changed")


def test_merge_keys_and_ansible_tags_are_no_error(tmp_path):
    path = tmp_path / "v.yml"
    path.write_text("base: &b {x: 1}\nother:\n  <<: *b\n  <<: *b\n  y: 2\ntoken: !unsafe '{{ x }}'\n")
    assert varsfile.load(path, "v.yml") == ({"base": {"x": 1}, "other": {"x": 1, "y": 2}, "token": "{{ x }}"}, "")


def test_a_file_that_is_no_text_or_missing_is_one_line(tmp_path, roles):
    path = tmp_path / "v.yml"
    path.write_bytes(b"\xff\xfe")
    assert varsfile.load(path, "v.yml") == (None, "v.yml: cannot be read ('utf-8' codec can't decode byte 0xff in "
                                                  "position 0: invalid start byte); nothing was changed")
    assert varsfile.check(tmp_path / "none.yml", "vars/packit/dev.yml", roles, "copy vars/packit/dev_template.yml") == (
        [], "vars/packit/dev.yml is missing: copy vars/packit/dev_template.yml")


def test_several_unknown_names_are_named_together(tmp_path, roles):
    path = tmp_path / "v.yml"
    path.write_text("a: 1\nbb: 2\nzzz: 3\n")
    assert varsfile.check(path, "v.yml", roles) == ([], (
        "v.yml: unknown variables bb, zzz: no role reads them, so they would be ignored; fix or remove them (the README "
        "lists every variable); nothing was changed"))
    path.write_text("a: 1\nc: 2\n")
    assert varsfile.check(path, "v.yml", roles) == (["a", "c"], "")


def test_the_variables_of_the_template_the_file_lacks(tmp_path):
    template = tmp_path / "prod_template.yml"
    template.write_text("host: h\napi_key: k\nwith_redis: true\nreplicas: 2\n")
    vars_file = tmp_path / "prod.yml"
    assert varsfile.missing_from_template(vars_file, ["host", "replicas"], template, "t.yml", ["api_key"]) == (
        ["with_redis"], "")
    assert varsfile.missing_from_template(template, [], template, "t.yml") == ([], "")
    template.write_text("- a\n")
    assert varsfile.missing_from_template(vars_file, [], template, "t.yml") == (
        [], "t.yml: must be a mapping of variable names to values, not a list")


def test_the_line_about_missing_variables_names_them_never_a_value():
    assert varsfile.template_message("prod.yml", "prod_template.yml", ["with_redis"]) == (
        "prod.yml lacks a variable prod_template.yml sets: with_redis (the role default applies instead); copy it "
        "from the template, or set check_vars_template_diff: false if that is meant")
    assert varsfile.template_message("prod.yml", "prod_template.yml", ["a", "b"], "check_it", refused=True) == (
        "prod.yml lacks 2 variables prod_template.yml sets: a, b (the role defaults would apply instead); copy them "
        "from the template, or set check_it: false if that is meant; nothing was changed")


@pytest.mark.parametrize(("on_missing", "error", "warning"), [("warn", False, True), ("fail", True, False)])
def test_run_warns_or_fails_on_what_the_file_lacks(tmp_path, roles, on_missing, error, warning):
    """The vars_file action's answer: (result, error, warning)."""
    path = tmp_path / "dev.yml"
    path.write_text("a: 1\n")
    template = tmp_path / "dev_template.yml"
    template.write_text("a: 0\nb: y\n")
    params = {"path": str(path), "display": "vars/dev.yml", "roles_dir": str(roles), "template": str(template),
              "template_display": "vars/dev_template.yml", "on_missing": on_missing}
    result, refused, warned = varsfile.run(params)
    line = varsfile.template_message("vars/dev.yml", "vars/dev_template.yml", ["b"], refused=error)
    assert (result, refused, warned) == ({"changed": False, "names": ["a"], "missing": ["b"]},
                                         line if error else "", line if warning else "")
    assert varsfile.run(dict(params, template=None)) == ({"changed": False, "names": ["a"], "missing": []}, "", "")
    path.write_text("a: 1\nb: 2\n")
    assert varsfile.run(params) == ({"changed": False, "names": ["a", "b"], "missing": []}, "", "")

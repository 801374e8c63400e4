"""The component registry (model_registry) is the one place a component's facts live: the
tags, templates, switches, image list, settings, Secret users and the README table agree
with it. (What each component renders is checked against it in test_render.py.)"""

from __future__ import annotations

import re

import yaml

from scripts import components
from tests.support.deploytools import REPO

# The data layer: the settings' defaults and the registry.
ROLE = REPO / "roles" / "model"


def defaults_by_file() -> dict[str, dict]:
    return {f.stem: yaml.safe_load(f.read_text()) for f in sorted((ROLE / "defaults/main").glob("*.yml"))}


def test_the_readme_table_is_the_registry():
    text = (REPO / "README.md").read_text()
    between = text.split(components.BEGIN + "\n", 1)[1].split(components.END, 1)[0]
    assert between == components.readme_table(), "run python -m scripts.components --write"


def test_one_template_and_one_switch_per_record_in_apply_order():
    tags = components.components()
    assert len(tags) == len(set(tags))
    templates = sorted(p.name[: -len(".yml.j2")] for p in (REPO / "openshift").glob("*.yml.j2"))
    assert templates == sorted(tags)
    switches = list(defaults_by_file()["components"])
    assert switches == [components.switch(t) for t in tags], "defaults/main/components.yml: one switch per record, same order"
    role_vars = yaml.safe_load((ROLE / "vars/main.yml").read_text())
    assert role_vars["model_components"] == "{{ model_registry | map(attribute='tag') | list }}"


def test_every_image_belongs_to_exactly_one_component():
    images = defaults_by_file()["images"]["images"]
    owners = {name: [r["tag"] for r in components.registry() if name in r["images"]] for name in images}
    assert {name: len(tags) for name, tags in owners.items()} == {name: 1 for name in images}
    assert {i for r in components.registry() for i in r["images"]} <= set(images)


def test_settings_are_variables_and_a_template_uses_only_its_own_sizing_variables():
    files = defaults_by_file()
    # The place of the deployment (project, sandbox, platform) is the config role's, every play's.
    known = {k for data in files.values() for k in data} | set(
        yaml.safe_load((REPO / "roles/config/defaults/main/config.yml").read_text()))
    sizing = set(files["resources"]) | set(files["data"])
    for record in components.registry():
        assert set(record["settings"]) <= known, record["tag"]
        text = (REPO / components.template(record["tag"])).read_text()
        used = {v for v in sizing if re.search(rf"\b{v}\b", text)}
        assert used <= set(record["settings"]), f"{record['tag']}: list {sorted(used - set(record['settings']))}"
    claimed = {s for r in components.registry() for s in r["settings"]}
    assert set(files["resources"]) <= claimed, "every resources.yml variable sizes some component"


def test_the_secret_table_names_only_registered_components():
    tags = set(components.components())
    for secret in yaml.safe_load((ROLE / "vars/main.yml").read_text())["model_secrets"]:
        assert secret["component"] in tags, secret["name"]
        assert set(secret["used_by"]) <= tags, secret["name"]
        for key in secret.get("keys", []):
            assert set(key.get("components", [])) <= tags, (secret["name"], key["key"])

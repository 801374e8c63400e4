"""The component_* filters: the switch of each component, and the components it turns on."""

from __future__ import annotations

import pytest

from tests.support.moduletools import load

component = load("filter", "component")


def test_the_switch_of_a_component_is_with_its_name():
    assert component.component_switches(["packit-service", "redis-commander", "flower"]) == [
        "with_packit_service", "with_redis_commander", "with_flower"]


@pytest.mark.parametrize(("value", "on"), [
    (True, True), (False, False), ("yes", True), (" On ", True), ("y", True), ("1", True), ("true", True),
    ("no", False), ("false", False), ("", False), (None, False), (1, True), (0, False),
])
def test_a_switch_is_on_as_ansible_reads_a_boolean(value, on):
    assert component.component_enabled(["redis"], [value]) == (["redis"] if on else [])


def test_the_enabled_components_keep_their_order():
    assert component.component_enabled(["a", "b", "c"], [True, False, "yes"]) == ["a", "c"]

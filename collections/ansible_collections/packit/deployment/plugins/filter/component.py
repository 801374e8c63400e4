"""Filters that pick the components of a run by their switches: packit.deployment.component_*."""

from __future__ import annotations

from typing import Any


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on", "y")
    return bool(value)


def component_switches(components: list[str]) -> list[str]:
    """The with_<name> switch of each component."""
    return ["with_" + c.replace("-", "_") for c in components]


def component_enabled(components: list[str], switch_values: list[Any]) -> list[str]:
    """Components whose switch (same order) is on."""
    return [c for c, v in zip(components, switch_values) if _truthy(v)]


class FilterModule:
    def filters(self) -> dict:
        return {
            "component_switches": component_switches,
            "component_enabled": component_enabled,
        }

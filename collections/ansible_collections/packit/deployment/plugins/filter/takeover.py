"""Filters that word the takeover's plan and measurement (packit.deployment.takeover's results):
packit.deployment.takeover_*."""

from __future__ import annotations


def takeover_line(entry: dict) -> str:
    """One line of the takeover plan (packit.deployment.takeover's foreign list)."""
    return f"{entry['action']} {entry['kind']}/{entry['name']} in {entry['namespace']}: {entry['why']}"


def takeover_hosts(entries: list[dict]) -> list[str]:
    """One line per public host of the plan: the Route that serves it after the switch, and how."""
    lines = []
    for e in entries:
        if e["kind"] == "Route" and e.get("host") and e["action"] in ("create", "adopt", "ours"):
            before = next((f"Route/{o['name']}" for o in entries if o["kind"] == "Route" and o.get("host") == e["host"]
                           and o["action"] == "delete"), "")
            how = (f"moves from {before} to Route/{e['name']}" if before else
                   f"stays on Route/{e['name']}, taken over in place" if e["action"] == "adopt" else
                   f"served by Route/{e['name']}")
            lines.append(f"host {e['host']}: {how}")
    return lines


def takeover_gap(item: dict) -> str:
    """One line of the switch's measurement: a host or Service and its seconds without a ready backend."""
    if item["key"].startswith(("host ", "Service ")):
        return f"{item['key']}: {item['value']:.2f}s without a ready backend"
    return f"{item['key']}: stopped {item['value']:.2f}s before its successor was ready"


class FilterModule:
    def filters(self) -> dict:
        return {
            "takeover_line": takeover_line,
            "takeover_hosts": takeover_hosts,
            "takeover_gap": takeover_gap,
        }

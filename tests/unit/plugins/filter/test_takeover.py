"""The takeover_* filters: the lines of the takeover's plan and measurement."""

from __future__ import annotations

from tests.support.moduletools import load

takeover = load("filter", "takeover")


def test_takeover_line():
    entry = {"action": "delete", "kind": "Deployment", "name": "postgres-15", "namespace": "p",
             "why": "mounts claim postgres-15: deleted before the new workload mounts it"}
    assert takeover.takeover_line(entry) == (
        "delete Deployment/postgres-15 in p: mounts claim postgres-15: deleted before the new workload mounts it")


def test_each_public_host_is_named_with_the_route_that_serves_it_after_the_switch():
    entries = [
        {"kind": "Route", "name": "web-old", "action": "delete", "host": "web.example"},
        {"kind": "Route", "name": "web", "action": "create", "host": "web.example"},
        {"kind": "Route", "name": "api", "action": "adopt", "host": "api.example"},
        {"kind": "Route", "name": "dash", "action": "ours", "host": "dash.example"},
        {"kind": "Route", "name": "internal", "action": "create"},
        {"kind": "Service", "name": "web", "action": "delete"},
    ]
    assert takeover.takeover_hosts(entries) == [
        "host web.example: moves from Route/web-old to Route/web",
        "host api.example: stays on Route/api, taken over in place",
        "host dash.example: served by Route/dash"]


def test_a_gap_of_the_switch_is_a_host_or_service_without_backend_or_a_stopped_workload():
    assert takeover.takeover_gap({"key": "host web.example", "value": 1.5}) == (
        "host web.example: 1.50s without a ready backend")
    assert takeover.takeover_gap({"key": "Service redis", "value": 0}) == "Service redis: 0.00s without a ready backend"
    assert takeover.takeover_gap({"key": "Deployment/web", "value": 0.254}) == (
        "Deployment/web: stopped 0.25s before its successor was ready")

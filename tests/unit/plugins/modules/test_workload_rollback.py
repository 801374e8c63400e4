"""The workload_rollback module's choice of the stream tags a revision pins."""

from __future__ import annotations

from tests.support.moduletools import load

rollback = load("modules", "workload_rollback")


def test_a_revision_from_before_a_sidecar_pins_only_the_containers_it_ran():
    triggers = [{"stream": "packit-service", "tag": "prod", "container": "packit-service"},
                {"stream": "fluentd", "tag": "prod", "container": "fluentd-sidecar"}]
    before_sidecar = {"revision": 3, "images": {"packit-service": "registry/p/packit-service@sha256:aa"}}
    with_sidecar = {"revision": 4, "images": {"packit-service": "registry/p/packit-service@sha256:bb",
                                              "fluentd-sidecar": "registry/p/fluentd@sha256:cc"}}
    unresolved = {"revision": 1, "images": {"packit-service": "packit-service:prod"}}
    assert [t["container"] for t in rollback.pinnable(before_sidecar, triggers)] == ["packit-service"]
    assert [t["container"] for t in rollback.pinnable(with_sidecar, triggers)] == ["packit-service", "fluentd-sidecar"]
    assert rollback.pinnable(unresolved, triggers) == []

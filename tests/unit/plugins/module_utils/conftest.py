"""Fixtures of the module_utils tests that reach for an API server that is not there."""

from __future__ import annotations

import os
import socket

import pytest

from tests.support.moduletools import load


@pytest.fixture()
def connection(monkeypatch) -> dict:
    """The connection options of a cluster module with none set, and none from the
    environment (K8S_AUTH_*): what a test sets is all the client gets."""
    for name in [n for n in os.environ if n.startswith("K8S_AUTH_")]:
        monkeypatch.delenv(name)
    return {name: None for name in load("module_utils", "k8s").CONNECTION_ARGS}


@pytest.fixture()
def closed_url() -> str:
    """https://127.0.0.1:<a port nothing listens on>."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"https://127.0.0.1:{probe.getsockname()[1]}"

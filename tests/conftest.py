"""Shared fixtures: the local control plane plugin and the renderer."""

from __future__ import annotations

from pathlib import Path

import pytest

from deploytools import Renderer, write_secret_files

pytest_plugins = ["plugins.local_cluster"]


@pytest.fixture(scope="session")
def secrets_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory with every secret file any component reads (placeholder content)."""
    path = tmp_path_factory.mktemp("secrets")
    write_secret_files(path)
    return path


@pytest.fixture(scope="session")
def renderer(tmp_path_factory: pytest.TempPathFactory, secrets_dir: Path) -> Renderer:
    return Renderer(tmp_path_factory.mktemp("render"), secrets_dir)


@pytest.fixture(scope="session")
def admin(local_cluster):
    """A dynamic client of the local control plane's admin (cluster tests)."""
    from kubernetes import dynamic

    return dynamic.DynamicClient(local_cluster.admin_client())

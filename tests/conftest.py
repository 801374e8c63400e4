"""Shared fixtures: the local control plane plugin and the renderer."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.deploytools import Renderer, write_secret_files

pytest_plugins = ["tests.support.local_cluster"]


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


@pytest.fixture(scope="module", autouse=True)
def projects_emptied_after_the_module(request):
    """A cluster test module that names EMPTIED_AFTER (namespaces) leaves them empty: the stacks
    its tests deployed would otherwise keep their image streams importing on the local
    cluster's schedule (every 10 s) for the rest of the session, on the CPU the later tests use."""
    namespaces = getattr(request.module, "EMPTIED_AFTER", ())
    if not namespaces:
        yield
        return
    from tests.support.deploytools import empty_project_namespaces

    admin, local_cluster = request.getfixturevalue("admin"), request.getfixturevalue("local_cluster")
    yield
    empty_project_namespaces(admin, local_cluster, tuple(namespaces))

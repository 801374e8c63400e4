"""Import the packit.deployment collection's plugins in tests as Ansible does: ansible-core's
collection loader, given the repository's collections/ directory, serves the
`ansible_collections` namespace (ours and the pinned ansible package's), so
`ansible_collections.packit.deployment.plugins.<kind>.<name>` imports like any module."""

from __future__ import annotations

import importlib
from functools import cache
from types import ModuleType

from ansible.plugins.loader import init_plugin_loader

from tests.support.deploytools import REPO

COLLECTIONS = str(REPO / "collections")


def load(kind: str, name: str) -> ModuleType:
    """plugins/<kind>/<name>.py of packit.deployment (kind: modules, module_utils, plugin_utils, filter,
    action, doc_fragments)."""
    _collection_loader()
    return importlib.import_module(f"ansible_collections.packit.deployment.plugins.{kind}.{name}")


@cache
def _collection_loader() -> None:
    init_plugin_loader([COLLECTIONS])

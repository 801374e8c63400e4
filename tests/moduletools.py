"""Import the packit.deployment collection's plugins in tests as Ansible does: the repository's
collections/ directory joins the `ansible_collections` namespace of the pinned ansible package,
so `ansible_collections.packit.deployment.plugins.<kind>.<name>` imports like any module."""

from __future__ import annotations

import importlib
import sys
from types import ModuleType

from deploytools import REPO

COLLECTIONS = str(REPO / "collections")


def load(kind: str, name: str) -> ModuleType:
    """plugins/<kind>/<name>.py of packit.deployment (kind: modules, module_utils or filter)."""
    if COLLECTIONS not in sys.path:
        sys.path.append(COLLECTIONS)
    return importlib.import_module(f"ansible_collections.packit.deployment.plugins.{kind}.{name}")

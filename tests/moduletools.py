"""Import the roles' modules and module_utils in tests, without a collection: a role's
module_utils/<name>.py is what `ansible.module_utils.<name>` means to its modules."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

from deploytools import REPO


def load(role: str, kind: str, name: str) -> ModuleType:
    """roles/<role>/<kind>/<name>.py (kind: library or module_utils) as a module."""
    import ansible.module_utils  # noqa: F401 - the package the shared code lives in

    for path in sorted((REPO / "roles").glob("*/module_utils/*.py")):
        full = f"ansible.module_utils.{path.stem}"
        if full not in sys.modules:
            spec = importlib.util.spec_from_file_location(full, path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[full] = module
            spec.loader.exec_module(module)
    if kind == "module_utils":
        return sys.modules[f"ansible.module_utils.{name}"]
    spec = importlib.util.spec_from_file_location(f"{role}_{name}", REPO / "roles" / role / kind / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
